"""Fuzzing (hypothesis): the table reader, bundle entries, the `checkpoint` state file parser
and GraphDef import, fed generated and mutated input. Each must return exactly what an
honest file says or raise TensorFlow's error class (ValueError where TensorFlow's Python
import raises it); nothing else, and no allocation the input cannot back.

Budget: TENSORKEEP_RELIABILITY_FUZZ_EXAMPLES examples per property (default 60, full 2000);
hypothesis' database is off so that every run is the same fixed budget
(derandomized). See docs/RELIABILITY.md.
"""

import collections
import os
import tracemalloc

import numpy as np
import pytest
from google.protobuf import text_format

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import tensorkeep as tf  # noqa: E402
from reliability import loaders  # noqa: E402
from reliability.budget import budget, report  # noqa: E402
from reliability.sandbox import Sandbox  # noqa: E402
from tensorkeep.io import bundle, checkpoint_state, crc32c, protos, table  # noqa: E402

EXAMPLES = budget("TENSORKEEP_RELIABILITY_FUZZ_EXAMPLES", 60, 2000)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:google.protobuf")  # escapes in fuzzed text

TALLY = collections.Counter()  # examples per property and outcome


@pytest.fixture(scope="module", autouse=True)
def figures(request):
    yield
    report(request.config, "fuzzing", dict(sorted(TALLY.items())), note=f"{EXAMPLES} examples per property")


keys = st.binary(min_size=0, max_size=24)
values = st.binary(min_size=0, max_size=200)


# ------------------------------------------------------------------------ table reader

def _read_table(data):
    reader = table.TableReader(table.BytesSource(data, "fuzzed.index"))
    return list(reader)


@FUZZ
@given(st.binary(max_size=400))
def test_table_reader_on_arbitrary_bytes(data):
    try:
        _read_table(data)
        TALLY["table bytes read"] += 1
    except tf.errors.DataLossError as error:
        assert "fuzzed.index" in error.message
        TALLY["table bytes refused"] += 1


@FUZZ
@given(st.dictionaries(keys, values, max_size=40), st.data())
def test_table_reader_on_mutated_tables(items, data):
    items = sorted(items.items())
    original = table.build_table(items, block_size=data.draw(st.sampled_from([64, 256, 4096])))
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["flip", "truncate", "insert"]))
        position = data.draw(st.integers(0, max(0, len(mutated) - 1)))
        if kind == "flip" and mutated:
            mutated[position] ^= data.draw(st.integers(1, 255))
        elif kind == "truncate":
            del mutated[position:]
        else:
            mutated[position:position] = data.draw(st.binary(min_size=1, max_size=8))
    try:
        read = _read_table(bytes(mutated))
    except tf.errors.DataLossError:
        TALLY["mutated tables refused"] += 1
        return
    assert read == items, "a damaged table was read as different content"
    TALLY["mutated tables read exactly"] += 1


# ---------------------------------------------------------------------- bundle entries

DATA = np.arange(64, dtype="<f4").tobytes() + b"\x03abc" + b"trailing"
datatypes = st.sampled_from([protos.DT_FLOAT, protos.DT_DOUBLE, protos.DT_INT32, protos.DT_INT8, protos.DT_STRING,
                             protos.DT_BOOL, protos.DT_HALF, protos.DT_VARIANT, protos.DT_RESOURCE, 0, 77, -3])
sizes = st.one_of(st.integers(-4, 300), st.integers(-(1 << 62), 1 << 62))
dims = st.lists(st.one_of(st.integers(-2, 70), st.integers(1, 1 << 40)), max_size=4)


@st.composite
def bundle_entries(draw):
    """Honest entries for float32 runs of DATA with a few fields spoilt, or arbitrary ones."""
    if draw(st.booleans()):
        count = draw(st.integers(0, 16))
        offset = draw(st.integers(0, 64 - count)) * 4
        entry = protos.BundleEntryProto(dtype=protos.DT_FLOAT, offset=offset, size=4 * count,
                                        crc32c=crc32c.mask(crc32c.value(DATA[offset:offset + 4 * count])))
        entry.shape.dim.add().size = count
        spoil = draw(st.sampled_from(["nothing", "dtype", "shape", "offset", "size", "shard"]))
        if spoil == "dtype":
            entry.dtype = draw(datatypes)
        elif spoil == "shape":
            entry.shape.dim[0].size = draw(st.integers(-1, 1 << 40))
        elif spoil in ("offset", "size"):
            setattr(entry, spoil, draw(sizes))
        elif spoil == "shard":
            entry.shard_id = draw(st.integers(-1, 3))
        return entry
    entry = protos.BundleEntryProto(dtype=draw(datatypes), shard_id=draw(st.integers(-1, 2)),
                                    offset=draw(sizes), size=draw(sizes))
    if draw(st.booleans()):
        entry.shape.SetInParent()
        for size in draw(dims):
            entry.shape.dim.add().size = size
    entry.shape.unknown_rank = draw(st.booleans()) and draw(st.booleans())
    if draw(st.booleans()):  # the checksum of what it points at, so reads get further
        start, stop = max(0, entry.offset), max(0, entry.offset + entry.size)
        entry.crc32c = crc32c.mask(crc32c.value(DATA[start:stop]))
    for _ in range(draw(st.integers(0, 2))):
        slice_proto = entry.slices.add()
        for _ in range(len(entry.shape.dim)):
            extent = slice_proto.extent.add()
            extent.start = draw(st.integers(-1, 40))
            if draw(st.booleans()):
                extent.length = draw(st.integers(-1, 40))
    return entry


@FUZZ
@given(bundle_entries(), st.booleans())
def test_bundle_reader_on_arbitrary_entries(tmp_path_factory, entry, with_slice_entry):
    directory = tmp_path_factory.mktemp("bundle")
    prefix = str(directory / "model")
    with open(bundle.data_filename(prefix, 0, 1), "wb") as handle:
        handle.write(DATA)
    items = [(bundle.HEADER_KEY, bundle._header_bytes(1)), (b"t", entry.SerializeToString())]
    if with_slice_entry and entry.slices:
        from tensorkeep.io import tensor_slices
        try:
            slice_key = tensor_slices.encode_tensor_name_slice(b"t", tensor_slices.extents_from_proto(entry.slices[0]))
            items.insert(1, (slice_key, entry.SerializeToString()))
        except (tf.errors.OpError, ValueError):
            pass
    bundle.write_index(bundle.index_filename(prefix), items)
    tracemalloc.start()
    try:
        with bundle.BundleReader(prefix) as reader:
            value = reader.read("t")
    except tf.errors.OpError:
        TALLY["bundle entries refused"] += 1
        return
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 64 * len(DATA) + (1 << 20), f"reading a {len(DATA)} byte file allocated {peak} bytes"
    assert isinstance(value, np.ndarray)
    if not entry.slices and entry.dtype != protos.DT_STRING:
        # A read that passed its checks returns exactly the bytes the entry points at.
        assert value.astype(value.dtype.newbyteorder("<")).tobytes() == DATA[entry.offset:entry.offset + entry.size]
    TALLY["bundle entries read"] += 1


# ------------------------------------------------------------------ state file parser

paths = st.one_of(st.text(max_size=30), st.sampled_from(["model-1", "../model-1", "/abs/model", "model[1]", "ü/x"]))


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_state_file_parser_on_arbitrary_text(text):
    try:
        state = checkpoint_state.parse_checkpoint_state(text)
    except (text_format.ParseError, UnicodeDecodeError):
        TALLY["state texts refused"] += 1
        return
    assert isinstance(state, protos.CheckpointState)
    TALLY["state texts parsed"] += 1


@FUZZ
@given(paths, st.lists(paths, max_size=4), st.data())
def test_state_file_round_trip_and_damage(tmp_path_factory, latest, older, data):
    directory = str(tmp_path_factory.mktemp("state"))
    state = checkpoint_state.generate_checkpoint_state_proto(directory, latest, older + [latest])
    written = text_format.MessageToString(state).encode("utf-8")
    assert checkpoint_state.parse_checkpoint_state(written) == state
    damaged = bytearray(written)
    if damaged:
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] ^= data.draw(st.integers(1, 255))
    with open(os.path.join(directory, "checkpoint"), "wb") as handle:
        handle.write(bytes(damaged))
    try:
        found = checkpoint_state.get_checkpoint_state(directory)
        checkpoint_state.latest_checkpoint(directory)
    except ValueError as error:  # parses, but names no checkpoint: TensorFlow's error
        assert directory in str(error)
        TALLY["damaged state files refused"] += 1
        return
    assert found is None or isinstance(found, protos.CheckpointState)
    TALLY["damaged state files read" if found else "damaged state files ignored (None)"] += 1


# --------------------------------------------------------------------- GraphDef import

OP_TYPES = ["Const", "Identity", "Add", "NoOp", "Placeholder", "Merge", "NextIteration", "Switch", "Enter",
            "PyFunc", "NotAnOp", "VariableV2", "Assign", "Shape", "Reshape"]
DTYPES = ["DT_FLOAT", "DT_INT32", "DT_STRING", "DT_BOOL", "DT_RESOURCE", "DT_FLOAT_REF"]


@st.composite
def graph_defs(draw):
    """An honest chain of Const -> Identity/Add nodes with one thing spoilt, or anything."""
    if draw(st.booleans()):
        return draw(spoilt_chains())
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "d/e", "f_1", "g.h", "x>y", "/abs", "", "a/b/c"]),
                          min_size=1, max_size=7))
    graph_def = protos.GraphDef()
    for name in names:
        node = graph_def.node.add(name=name, op=draw(st.sampled_from(OP_TYPES)))
        for _ in range(draw(st.integers(0, 3))):
            source = draw(st.sampled_from(names + ["missing"]))
            node.input.append(draw(st.sampled_from(["", "^"])) + source +
                              draw(st.sampled_from(["", ":0", ":1", ":9"])))
        for key in draw(st.lists(st.sampled_from(["T", "dtype", "value", "N", "shape", "_class", "Tin", "Tout"]),
                                 max_size=3)):
            attr = node.attr[key]
            kind = draw(st.sampled_from(["type", "i", "tensor", "shape", "list", "s", "bad type"]))
            if kind == "type":
                attr.type = getattr(protos, draw(st.sampled_from(DTYPES)))
            elif kind == "bad type":
                attr.type = draw(st.integers(0, 200))
            elif kind == "i":
                attr.i = draw(st.integers(-3, 5))
            elif kind == "s":
                attr.s = draw(st.sampled_from([b"loc:@a", b"", b"\xff"]))
            elif kind == "shape":
                for size in draw(st.lists(st.integers(-2, 4), max_size=3)):
                    attr.shape.dim.add().size = size
            elif kind == "list":
                attr.list.s.append(b"loc:@" + draw(st.sampled_from(names)).encode())
            else:
                attr.tensor.dtype = draw(st.sampled_from([protos.DT_FLOAT, protos.DT_INT32, protos.DT_STRING, 99]))
                for size in draw(st.lists(st.integers(0, 3), max_size=2)):
                    attr.tensor.tensor_shape.dim.add().size = size
                attr.tensor.float_val.extend(draw(st.lists(st.floats(allow_nan=False), max_size=3)))
                attr.tensor.tensor_content = draw(st.binary(max_size=12))
    return graph_def


@st.composite
def spoilt_chains(draw):
    graph_def = protos.GraphDef()
    constant = graph_def.node.add(name="c0", op="Const")
    constant.attr["dtype"].type = protos.DT_FLOAT
    constant.attr["value"].tensor.dtype = protos.DT_FLOAT
    constant.attr["value"].tensor.tensor_shape.SetInParent()
    constant.attr["value"].tensor.float_val.append(1.0)
    for index in range(1, draw(st.integers(1, 6))):
        earlier = [node.name for node in graph_def.node]
        if draw(st.booleans()):
            node = graph_def.node.add(name=f"n{index}", op="Identity", input=[draw(st.sampled_from(earlier))])
        else:
            node = graph_def.node.add(name=f"n{index}", op="Add", input=draw(st.lists(st.sampled_from(earlier),
                                                                                     min_size=2, max_size=2)))
        node.attr["T"].type = protos.DT_FLOAT
    node = draw(st.sampled_from(list(graph_def.node)))
    spoil = draw(st.sampled_from(["nothing", "op", "attr", "input", "cycle", "name", "device", "shapes"]))
    if spoil == "op":
        node.op = draw(st.sampled_from(OP_TYPES))
    elif spoil == "attr":
        del node.attr[draw(st.sampled_from(sorted(node.attr)))]
    elif spoil == "input":
        node.input.append(draw(st.sampled_from(["c0:1", "missing", "^c0", "n1:0", "^"])))
    elif spoil == "cycle":
        graph_def.node[0].input.append(graph_def.node[-1].name)
    elif spoil == "name":
        node.name = draw(st.sampled_from(["", "/abs", "c0", "a..b", "x" * 300]))
    elif spoil == "device":
        node.device = draw(st.sampled_from(["/device:GPU:7", "garbage", "/job:x/task:-1"]))
    elif spoil == "shapes":
        node.attr["_output_shapes"].list.shape.add().dim.add().size = draw(st.integers(-2, 3))
    return graph_def


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(timeout=30) as worker:
        yield worker


@FUZZ
@given(graph_defs())
def test_import_graph_def_on_generated_graphs(sandbox, graph_def):
    outcome = sandbox.call(loaders.import_graph_def_bytes, graph_def.SerializeToString())
    assert outcome.kind in ("returned", "raised"), f"{outcome!r} importing\n{graph_def}"
    if outcome.kind == "raised":
        assert issubclass(outcome.error_type, (ValueError, tf.errors.OpError)), \
            f"{outcome!r}\n{outcome.trace}\nimporting\n{graph_def}"
    TALLY["graphs imported" if outcome.kind == "returned" else "graphs refused"] += 1
