"""Hostile files: made to lie about sizes, offsets, order or structure. Loading one must
fail with TensorFlow's error class (or ValueError/IOError where TensorFlow's Python API
raises those), naming the problem, without crashing, hanging, allocating memory the file
cannot back, touching files outside the model, or running code.

Every load runs in a sandboxed worker (timeout, address-space limit) with memory traced:
a reader must check each size against the real file before allocating. See
docs/RELIABILITY.md.
"""

import collections
import os

import numpy as np
import pytest

import tensorkeep as tf
from reliability import hostile, loaders
from reliability.budget import report
from reliability.sandbox import Outcome, Sandbox
from tensorkeep.io import bundle, crc32c, protos, tensor_slices

TERABYTE_SHAPE = [1 << 20, 1 << 18]  # 2**38 float32 elements: a terabyte
GIGABYTE_SHAPE = [1 << 14, 1 << 14]  # 2**28 float32 elements: a gigabyte, below the sandbox's limit
MEMORY_ALLOWANCE = 16 << 20  # what a load may allocate beyond the files' sizes...
OBJECT_OVERHEAD = 64  # ... plus this many bytes per byte of file (parsed index entries are Python objects)


REFUSED = collections.Counter()  # hostile files refused as expected, per kind


@pytest.fixture(scope="module", autouse=True)
def figures(request):
    yield
    report(request.config, "hostile files", {f"{kind} refused": count for kind, count in sorted(REFUSED.items())})


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(timeout=60) as worker:
        yield worker


def _expect_error(outcome, error_classes, *message_parts, kind=None):
    assert outcome.kind == "raised", f"expected {error_classes}, got {outcome!r}"
    assert issubclass(outcome.error_type, error_classes), f"{outcome!r}\n{outcome.trace}"
    for part in message_parts:
        assert part in outcome.message, f"{part!r} not in: {outcome.message}"
    if kind:
        REFUSED[kind] += 1


def _measured_call(sandbox, function, *args):
    """The Outcome of function(*args) in the sandbox, with `peak`: the memory it allocated."""
    outcome = sandbox.call(loaders.measured, function, *args)
    assert outcome.kind == "returned", f"{outcome!r}\n{outcome.trace}"
    (kind, *details), peak = outcome.value
    if kind == "returned":
        outcome = Outcome("returned", details[0])
    else:
        outcome = Outcome("raised", error_type=details[0], message=details[1])
    outcome.peak = peak
    return outcome


# ------------------------------------------------------------------ checkpoint bundles

def _bundle_cases():
    """(case id, function(prefix) writing the bundle, expected message parts)."""
    cases = []

    def terabyte_shape(prefix):
        hostile.write_bundle(prefix, {"w": hostile.entry(protos.DT_FLOAT, TERABYTE_SHAPE, size=16)}, bytes(16))
    cases.append(("terabyte shape, small size", terabyte_shape, ["Invalid size in bundle entry", "w"]))

    def terabyte_shape_and_size(prefix):
        size = 4 * TERABYTE_SHAPE[0] * TERABYTE_SHAPE[1]
        hostile.write_bundle(prefix, {"w": hostile.entry(protos.DT_FLOAT, TERABYTE_SHAPE, size=size)}, bytes(16))
        os.truncate(bundle.data_filename(prefix, 0, 1), 16)
    cases.append(("terabyte shape and size", terabyte_shape_and_size, ["which has only 16 bytes"]))

    def gigabyte_shape_and_size(prefix):
        size = 4 * GIGABYTE_SHAPE[0] * GIGABYTE_SHAPE[1]
        hostile.write_bundle(prefix, {"w": hostile.entry(protos.DT_FLOAT, GIGABYTE_SHAPE, size=size)}, bytes(16))
    cases.append(("gigabyte shape and size", gigabyte_shape_and_size, ["which has only 16 bytes"]))

    def terabyte_strings(prefix):
        hostile.write_bundle(prefix, {"s": hostile.entry(protos.DT_STRING, TERABYTE_SHAPE, size=64)}, bytes(64))
    cases.append(("terabyte string count", terabyte_strings, ["Invalid size in bundle entry", "s"]))

    def gigabyte_strings(prefix):
        count = GIGABYTE_SHAPE[0] * GIGABYTE_SHAPE[1]
        hostile.write_bundle(prefix, {"s": hostile.entry(protos.DT_STRING, GIGABYTE_SHAPE, size=count + 4)}, bytes(64))
    cases.append(("gigabyte string count and size", gigabyte_strings, ["which has only 64 bytes"]))

    def partitioned(shape, slice_size):
        # The full entry's two slices cover it; each slice entry claims `slice_size` bytes.
        def build(prefix):
            halves = [[(0, shape[0] // 2), (0, None)], [(shape[0] // 2, shape[0] // 2), (0, None)]]
            entries = {b"p": hostile.entry(protos.DT_FLOAT, shape, slices=halves)}
            for extents in halves:
                key = tensor_slices.encode_tensor_name_slice(b"p", extents)
                entries[key] = hostile.entry(protos.DT_FLOAT, [shape[0] // 2, shape[1]], size=slice_size)
            hostile.write_bundle(prefix, entries, bytes(16))
        return build
    cases.append(("partitioned tensor claiming a terabyte", partitioned(TERABYTE_SHAPE, 16),
                  ["Invalid size in bundle entry", "p"]))
    cases.append(("partitioned tensor claiming a gigabyte", partitioned(GIGABYTE_SHAPE, 2 << 28),
                  ["which has only 16 bytes"]))

    def many_slices(prefix):
        # A hundred thousand one-element slices (a 1 MB index): checking them must stay linear.
        count = 100000
        full = hostile.entry(protos.DT_FLOAT, [count], slices=[[(index, 1)] for index in range(count)])
        hostile.write_bundle(prefix, {"p": full}, b"")
    cases.append(("a hundred thousand slices", many_slices, ["not found in checkpoint"]))

    def slices_sharing_bytes(prefix):
        # 64 slices of 16 floats, all stored in the same 64 bytes: 4 KB claimed from a 64 byte file.
        data = np.arange(16, dtype="<f4").tobytes()
        extents = [[(16 * index, 16)] for index in range(64)]
        entries = {b"p": hostile.entry(protos.DT_FLOAT, [1024], slices=extents)}
        for slice_extents in extents:
            key = tensor_slices.encode_tensor_name_slice(b"p", slice_extents)
            entries[key] = hostile.entry(protos.DT_FLOAT, [16], size=64, checksum=crc32c.value(data))
        hostile.write_bundle(prefix, entries, data)
    cases.append(("slices sharing their bytes", slices_sharing_bytes, ["claim more bytes than its data files hold"]))

    def offset_past_end(prefix):
        entry, data = hostile.float_entry_and_data(np.arange(4))
        entry.offset = 1 << 40
        hostile.write_bundle(prefix, {"w": entry}, data)
    cases.append(("offset past the end", offset_past_end, ["is recorded at bytes", "which has only 16 bytes"]))

    def negative_size(prefix):
        entry, data = hostile.float_entry_and_data(np.arange(4))
        entry.size = -16
        hostile.write_bundle(prefix, {"w": entry}, data)
    cases.append(("negative size", negative_size, ["w"]))

    def string_lengths_past_end(prefix):
        # Two strings whose varint lengths claim a megabyte each; 12 bytes are stored.
        lengths = bytes([0x80, 0x80, 0x40]) * 2
        data = lengths + bytes(4) + b"abcdef"
        hostile.write_bundle(prefix, {"s": hostile.entry(protos.DT_STRING, [2], size=len(data))}, data)
    cases.append(("string lengths past the end", string_lengths_past_end, ["String lengths of tensor s"]))

    def string_length_varint_overflow(prefix):
        data = bytes([0xFF] * 10 + [0x7F]) + bytes(4)
        hostile.write_bundle(prefix, {"s": hostile.entry(protos.DT_STRING, [1], size=len(data))}, data)
    cases.append(("string length varint too long", string_length_varint_overflow, ["String lengths of tensor s"]))

    def shard_out_of_range(prefix):
        entry, data = hostile.float_entry_and_data(np.arange(4))
        entry.shard_id = 7
        hostile.write_bundle(prefix, {"w": entry}, data)
    cases.append(("shard id out of range", shard_out_of_range, ["names data shard 7"]))

    def keys_out_of_order(prefix):
        first, data = hostile.float_entry_and_data(np.arange(4))
        second = hostile.entry(protos.DT_FLOAT, [4], offset=0, size=16, checksum=crc32c.value(data))
        hostile.write_unordered_index(prefix, [(b"z", first.SerializeToString()), (b"a", second.SerializeToString())],
                                      data)
    cases.append(("index keys out of order", keys_out_of_order, ["out of order"]))

    def duplicate_keys(prefix):
        first, data = hostile.float_entry_and_data(np.arange(4))
        hostile.write_unordered_index(prefix, [(b"w", first.SerializeToString()), (b"w", first.SerializeToString())],
                                      data)
    cases.append(("duplicate index keys", duplicate_keys, ["out of order"]))

    def unknown_dtype(prefix):
        entry, data = hostile.float_entry_and_data(np.arange(4))
        entry.dtype = 4242
        hostile.write_bundle(prefix, {"w": entry}, data)
    cases.append(("unknown dtype", unknown_dtype, ["unknown DataType 4242"]))

    def missing_shard(prefix):
        entry, data = hostile.float_entry_and_data(np.arange(4))
        entry.shard_id = 123456789
        hostile.write_bundle(prefix, {"w": entry}, data, num_shards=1 << 30)
    cases.append(("a billion shards declared", missing_shard, ["data-123456789-of-1073741824"]))

    def index_block_past_end(prefix):
        entry, data = hostile.float_entry_and_data(np.arange(4))
        hostile.write_bundle(prefix, {"w": entry}, data)
        path = bundle.index_filename(prefix)
        with open(path, "rb") as handle:
            content = bytearray(handle.read())
        footer = len(content) - 48  # metaindex handle, index handle (varints), padding, magic
        content[footer:footer + 40] = bytes([0, 1]) + bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xFF, 0xFF, 0x03]) + \
            bytes(30)
        with open(path, "wb") as handle:
            handle.write(content)
    cases.append(("index block handle past the end", index_block_past_end, ["lies beyond the end of the file"]))
    return cases


BUNDLE_CASES = _bundle_cases()


@pytest.mark.parametrize("build, message_parts", [case[1:] for case in BUNDLE_CASES],
                         ids=[case[0] for case in BUNDLE_CASES])
def test_hostile_bundle_is_refused_before_allocating(sandbox, tmp_path, build, message_parts):
    prefix = str(tmp_path / "model")
    build(prefix)
    outcome = _measured_call(sandbox, loaders.read_every_tensor, prefix)
    _expect_error(outcome, (tf.errors.DataLossError, tf.errors.NotFoundError), *message_parts, kind="checkpoint bundles")
    assert prefix in outcome.message, f"the error does not name the file: {outcome.message}"
    _check_memory(outcome, tmp_path)


def _check_memory(outcome, directory):
    size = _files_size(directory)
    assert outcome.peak < MEMORY_ALLOWANCE + OBJECT_OVERHEAD * size, f"allocated {outcome.peak} bytes for {size} bytes of files"


def _files_size(directory):
    return sum(os.path.getsize(os.path.join(directory, name)) for name in os.listdir(directory))


def test_reads_of_honest_bundles_allocate_what_the_tensors_need(sandbox, tmp_path):
    """The memory tracing used above does see what a read allocates."""
    prefix = str(tmp_path / "model")
    from tensorkeep import io as tkio
    tkio.write_checkpoint(prefix, {"w": np.ones(1 << 22, np.float32)})  # 16 MB
    outcome = _measured_call(sandbox, loaders.read_every_tensor, prefix)
    assert outcome.kind == "returned", outcome
    assert 16 << 20 <= outcome.peak < (16 << 20) + MEMORY_ALLOWANCE


# ------------------------------------------------------------------------ graphs

def _graph_def(text):
    from google.protobuf import text_format
    return text_format.Parse(text, protos.GraphDef())


def _write_graph(tmp_path, graph_def, name="graph.pb"):
    return hostile.write(str(tmp_path / name), graph_def.SerializeToString())


CONST = 'node { name: "c" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } } ' \
        'attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape {} float_val: 1 } } } }'
IDENTITY = 'node { name: "%s" op: "Identity" input: "%s" attr { key: "T" value { type: DT_FLOAT } } }'

GRAPH_CASES = [
    ("two-node cycle", CONST + IDENTITY % ("a", "b") + IDENTITY % ("b", "a"), (ValueError,), ["cycle"]),
    ("self-reference", CONST + IDENTITY % ("a", "a"), (ValueError,), ["cycle"]),
    ("control-input cycle", CONST + 'node { name: "a" op: "NoOp" input: "^b" } node { name: "b" op: "NoOp" input: "^a" }',
     (ValueError,), ["cycle"]),
    ("input from a missing node", IDENTITY % ("a", "nowhere:3"), (ValueError,), ["nowhere"]),
    ("output index past the end", CONST + IDENTITY % ("a", "c:7"), (ValueError,), ["invalid output 7"]),
    ("absolute node name", CONST.replace('name: "c"', 'name: "/etc/passwd"'), (ValueError,), ["/etc/passwd"]),
    ("unknown DataType in an attr", (IDENTITY % ("a", "c")).replace("DT_FLOAT", "98") + CONST, (ValueError,), ["98"]),
    ("colocation attr not a list", CONST.replace('} } } }', '} } } attr { key: "_class" value { s: "loc:@c" } } }'),
     (ValueError,), ["_class"]),
]
for _op in ("PyFunc", "PyFuncStateless", "EagerPyFunc"):
    GRAPH_CASES.append((
        f"{_op} node",
        CONST + f'node {{ name: "f" op: "{_op}" input: "c" attr {{ key: "token" value {{ s: "pyfunc_0" }} }} '
                'attr { key: "Tin" value { list { type: DT_FLOAT } } } '
                'attr { key: "Tout" value { list { type: DT_FLOAT } } } }',
        (tf.errors.OpError, ValueError), [_op, "code"]))


@pytest.mark.parametrize("text, error_classes, message_parts", [case[1:] for case in GRAPH_CASES],
                         ids=[case[0] for case in GRAPH_CASES])
def test_hostile_graph_def_is_refused_on_import(sandbox, tmp_path, text, error_classes, message_parts):
    path = _write_graph(tmp_path, _graph_def(text))
    outcome = sandbox.call(loaders.import_graph_file, path)
    _expect_error(outcome, error_classes, *message_parts, kind="graphs")


@pytest.mark.parametrize("op_type", ["PyFunc", "PyFuncStateless", "EagerPyFunc"])
def test_meta_graph_with_python_function_ops_is_refused(sandbox, tmp_path, op_type):
    case = next(case for case in GRAPH_CASES if case[0] == f"{op_type} node")
    meta_graph_def = protos.MetaGraphDef()
    meta_graph_def.graph_def.CopyFrom(_graph_def(case[1]))
    path = hostile.write(str(tmp_path / "model.meta"), meta_graph_def.SerializeToString())
    _expect_error(sandbox.call(loaders.import_meta_graph_file, path), case[2], op_type, "code", kind="meta graphs with Python function ops")


def test_python_function_ops_inside_unused_library_functions_still_import(sandbox, tmp_path):
    """tf.data graphs keep PyFunc in function bodies that are never run (real-world files do)."""
    graph_def = _graph_def(CONST)
    function = graph_def.library.function.add()
    function.signature.name = "generator_fn"
    function.node_def.add(name="PyFunc", op="PyFunc").attr["token"].s = b"pyfunc_0"
    path = _write_graph(tmp_path, graph_def)
    outcome = sandbox.call(loaders.import_graph_file, path)
    assert outcome.kind == "returned" and outcome.value == 1, f"{outcome!r}\n{outcome.trace}"


@pytest.mark.parametrize("depth", [20, 200, 100000])
def test_deeply_nested_graph_def_binary(sandbox, tmp_path, depth):
    graph_def = hostile.nested_attr_graph_def(min(depth, 1000))
    data = graph_def.SerializeToString()
    if depth > 1000:  # too deep to build as a message: nest the bytes by hand
        from reliability.hostile import nested_attr_bytes
        data = nested_attr_bytes(depth)
    path = hostile.write(str(tmp_path / "graph.pb"), data)
    outcome = sandbox.call(loaders.import_graph_file, path)
    if depth <= 20:  # 60 message levels: within protobuf's limit of 100 (TensorFlow's too)
        assert outcome.kind == "returned", f"{outcome!r}\n{outcome.trace}"
    else:
        _expect_error(outcome, (OSError, ValueError, tf.errors.OpError), path, kind="deeply nested graphs")


@pytest.mark.parametrize("depth", [20, 5000])
def test_deeply_nested_graph_def_text(sandbox, tmp_path, depth):
    path = hostile.write(str(tmp_path / "graph.pbtxt"), hostile.nested_attr_text(depth))
    outcome = sandbox.call(loaders.import_graph_file, path)
    if depth <= 20:
        assert outcome.kind == "returned", f"{outcome!r}\n{outcome.trace}"
    else:
        _expect_error(outcome, (OSError, ValueError, tf.errors.OpError), path, kind="deeply nested graphs")


def test_deeply_nested_meta_graph_text(sandbox, tmp_path):
    text = "graph_def { " + hostile.nested_attr_text(5000) + " }"
    path = hostile.write(str(tmp_path / "model.meta"), text)
    _expect_error(sandbox.call(loaders.import_meta_graph_file, path), (OSError, ValueError, tf.errors.OpError), path, kind="deeply nested graphs")


def test_loop_without_exit_does_not_hang(sandbox, tmp_path):
    """Merge fed back by NextIteration with nothing to stop it: running it must end."""
    text = CONST + ('node { name: "m" op: "Merge" input: "c" input: "n" attr { key: "T" value { type: DT_FLOAT } } '
                    'attr { key: "N" value { i: 2 } } } '
                    'node { name: "n" op: "NextIteration" input: "m" attr { key: "T" value { type: DT_FLOAT } } }')
    path = _write_graph(tmp_path, _graph_def(text))
    outcome = sandbox.call(loaders.run_graph_file, path, "m:0")
    assert outcome.kind in ("returned", "raised"), outcome
    if outcome.kind == "raised":
        assert issubclass(outcome.error_type, (tf.errors.OpError, ValueError)), f"{outcome!r}\n{outcome.trace}"


@pytest.mark.parametrize("replace, replacement", [
    pytest.param("tensor { dtype: DT_FLOAT", "tensor { dtype: 113", id="unknown DataType"),
    pytest.param("tensor { dtype: DT_FLOAT", "tensor { dtype: DT_RESOURCE", id="value dtype differs from attr"),
    pytest.param("tensor_shape {}", "tensor_shape { dim { size: 1099511627776 } }", id="terabyte splat"),
])
def test_hostile_constant_fails_cleanly_when_run(sandbox, tmp_path, replace, replacement):
    """A Const's value is only decoded when the graph runs (as in TensorFlow)."""
    path = _write_graph(tmp_path, _graph_def(CONST.replace(replace, replacement)))
    outcome = sandbox.call(loaders.run_graph_file, path, "c:0")
    _expect_error(outcome, tf.errors.OpError, "c", kind="constants at run time")


# ------------------------------------------------------------------- paths in files

def _fake_checkpoint(prefix):
    """Files that look like a V2 checkpoint at `prefix` (recover_last_checkpoints takes them)."""
    for suffix in (".index", ".data-00000-of-00001", ".meta"):
        hostile.write(prefix + suffix, b"precious")


def test_rotation_never_deletes_checkpoints_a_state_file_lists_outside_its_directory(tmp_path):
    from reliability.model import StepModel

    train, outside = tmp_path / "train", tmp_path / "outside"
    victims = [str(outside / "model-1"), str(tmp_path / "elsewhere" / "model-7")]
    for prefix in victims:
        _fake_checkpoint(prefix)
    _fake_checkpoint(str(train / "model-5"))  # inside: rotates out like any recovered checkpoint
    hostile.write(str(outside / "target.index"), b"precious")
    os.symlink(outside / "target.index", train / "model-6.index")  # inside, pointing out
    state = protos.CheckpointState(
        model_checkpoint_path="model-6",
        all_model_checkpoint_paths=["../outside/model-1", victims[1], "model-5/../../outside/model-1",
                                    "model-5", "model-6"])
    hostile.write(str(train / "checkpoint"), str(state))
    model = StepModel(tf, 0.01, max_to_keep=2)
    listed = tf.train.get_checkpoint_state(str(train)).all_model_checkpoint_paths
    model.saver.recover_last_checkpoints(list(listed))
    for step in range(10, 16):
        model.set_step(step)
        model.saver.save(model.session, str(train / "model"), global_step=step)
    for prefix in victims:
        assert all(os.path.exists(prefix + suffix) for suffix in (".index", ".data-00000-of-00001", ".meta")), prefix
    assert (outside / "target.index").read_bytes() == b"precious"
    assert not os.path.exists(train / "model-5.index")  # inside the directory: rotated out as usual
    assert tf.train.latest_checkpoint(str(train)) == str(train / "model-15")
    REFUSED["state files listing paths outside (rotation)"] += 1


def _saved_model_with_asset(export_dir, asset_source):
    with tf.Graph().as_default() as graph:
        asset = tf.constant(asset_source, name="asset_path")
        tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, asset)
        tf.Variable(1.0, name="v")
        with tf.Session(graph=graph) as session:
            session.run(tf.global_variables_initializer())
            builder = tf.saved_model.builder.SavedModelBuilder(export_dir)
            builder.add_meta_graph_and_variables(session, ["serve"],
                                                 assets_collection=tf.get_collection(tf.GraphKeys.ASSET_FILEPATHS))
            builder.save()


def _load_saved_model(export_dir):
    with tf.Graph().as_default() as graph:
        with tf.Session(graph=graph) as session:
            tf.saved_model.loader.load(session, ["serve"], export_dir)


@pytest.mark.parametrize("asset_name", ["../../secret.txt", "/etc/passwd", "sub/../../secret.txt"])
def test_saved_model_assets_outside_the_assets_directory_are_refused(tmp_path, asset_name):
    source = hostile.write(str(tmp_path / "vocab.txt"), "a\nb\n")
    export_dir = str(tmp_path / "export")
    _saved_model_with_asset(export_dir, source)
    _load_saved_model(export_dir)  # the honest model loads
    path = os.path.join(export_dir, "saved_model.pb")
    saved_model = protos.SavedModel()
    with open(path, "rb") as handle:
        saved_model.ParseFromString(handle.read())
    meta_graph = saved_model.meta_graphs[0]
    if meta_graph.asset_file_def:
        meta_graph.asset_file_def[0].filename = asset_name
    else:  # TF1 builders keep them in a collection of Any-wrapped AssetFileDefs
        (wrapped,) = meta_graph.collection_def["saved_model_assets"].any_list.value
        asset = protos.AssetFileDef()
        wrapped.Unpack(asset)
        asset.filename = asset_name
        wrapped.Pack(asset)
    with open(path, "wb") as handle:
        handle.write(saved_model.SerializeToString())
    with pytest.raises(ValueError, match="outside"):
        _load_saved_model(export_dir)
    REFUSED["SavedModel asset paths"] += 1


# ---------------------------------------------------------------- V1 checkpoints

@pytest.mark.parametrize("shape", [TERABYTE_SHAPE, GIGABYTE_SHAPE], ids=["terabyte", "gigabyte"])
def test_hostile_v1_checkpoint_is_refused_before_allocating(sandbox, tmp_path, shape):
    path = str(tmp_path / "model.ckpt")
    hostile.write_v1_checkpoint(path, "w", shape, [1.0, 2.0])
    outcome = _measured_call(sandbox, loaders.read_every_tensor, path)
    _expect_error(outcome, tf.errors.DataLossError, path, "w", kind="V1 checkpoints")
    _check_memory(outcome, tmp_path)


def test_honest_v1_checkpoint_still_reads(sandbox, tmp_path):
    path = str(tmp_path / "model.ckpt")
    hostile.write_v1_checkpoint(path, "w", [2, 2], [1.0, 2.0, 3.0, 4.0])
    outcome = _measured_call(sandbox, loaders.read_every_tensor, path)
    assert outcome.kind == "returned", outcome
    np.testing.assert_array_equal(outcome.value["w"], np.array([[1, 2], [3, 4]], np.float32))
