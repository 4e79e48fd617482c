"""Checkpoint ops: SaveV2/RestoreV2 (tensor bundles), MergeV2Checkpoints, the sharded file
names, the string ops the sharded Saver needs (StringJoin, StaticRegexFullMatch), and the
legacy V1 ops (Save, SaveSlices, Restore, RestoreSlice).

The kernels run inside Session.run like any op and leave the file formats to tensorkeep.io:
a save writes under temporary names and renames them into place; a restore opens the index
only, then reads each requested tensor straight into a fresh array, or, when Saver.restore
runs it and the variable's current array is referenced by nothing else, into that array once
every tensor of the checkpoint has been verified (see `_read_bundle`).
"""

import contextlib
import contextvars
import os
import sys

import numpy as np

from tensorkeep import io as tkio
from tensorkeep.framework import errors
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.io import bundle
from tensorkeep.io import gfile
from tensorkeep.io import numpy_codec
from tensorkeep.io import protos
from tensorkeep.io import tensor_slices
from tensorkeep.ops import _helpers
from tensorkeep.ops import kernel_threads


# --- kernel helpers -----------------------------------------------------------------------------

def _as_text(value):
    if isinstance(value, np.ndarray):
        value = value.item() if value.ndim == 0 else value
    if isinstance(value, bytes):
        return os.fsdecode(value)
    return str(value)


_FS_ENCODING = sys.getfilesystemencoding()


def _as_bytes(value):
    value = value.item() if isinstance(value, np.ndarray) else value
    return value if isinstance(value, bytes) else os.fsencode(value)


def _scalar_text(value, what):
    if isinstance(value, np.ndarray) and value.ndim != 0:
        raise errors.InvalidArgumentError(
            None, None, "Input %s must be a scalar string, got shape %s"
            % (what, _dims(value.shape)))
    return _as_text(value)


def _text_list(value, what):
    array = np.asarray(value, dtype=object)
    if array.ndim != 1:
        raise errors.InvalidArgumentError(
            None, None, "Input %s must be a 1-D string tensor, got shape %s"
            % (what, _dims(array.shape)))
    # bytes.decode as os.fsdecode does it, without its per-call overhead (10,000 names).
    return [item.decode(_FS_ENCODING, "surrogateescape") if type(item) is bytes else _as_text(item)
            for item in array.tolist()]


def _dims(shape):
    return "[%s]" % ",".join(str(int(d)) for d in shape)


def _datatype_string(datatype):
    """TensorFlow's DataTypeString: DT_FLOAT -> "float"."""
    return protos.DataType.Name(int(datatype))[3:].lower()


def _in_node(op, run):
    """Kernel errors name the node, as TensorFlow's do."""
    def run_in_node(*args):
        try:
            return run(*args)
        except errors.OpError as error:
            raise type(error)(error.node_def, op, "%s\n\t [[{{node %s}}]]"
                              % (error.message, op.name)) from None
    return run_in_node


def _fresh(array):
    """Marks a freshly read array immutable: nothing else references it, so a consumer (such
    as Assign) may keep it without copying."""
    if isinstance(array, np.ndarray):
        array.flags.writeable = False
    return array


# --- SaveV2 ---------------------------------------------------------------------------------------

def _add_to_bundle(writer, name, spec, value, dtype):
    datatype = dtype.base_dtype.as_datatype_enum
    if not spec:
        writer.add(name, value, datatype=datatype)
        return
    full_shape, extents = tensor_slices.parse_shape_and_slice(spec)
    bounds = tensor_slices.resolve(extents, full_shape, spec)
    slice_shape = tuple(stop - start for start, stop in bounds)
    if tuple(np.shape(value)) != slice_shape:
        raise errors.InvalidArgumentError(
            None, None, "Slice in shape_and_slice specification does not match the shape of "
            "the tensor to save: %s, tensor: %s (tensor %s)" % (spec, _dims(np.shape(value)), name))
    writer.add_slice(name, full_shape, extents, value, datatype=datatype)


def _save_v2_kernel(op, ctx):
    tensor_dtypes = op._attrs["dtypes"]
    datatypes = [dtype.base_dtype.as_datatype_enum for dtype in tensor_dtypes]

    def run(prefix, tensor_names, shape_and_slices, *tensors):
        prefix = _scalar_text(prefix, "prefix")
        names = _text_list(tensor_names, "tensor_names")
        specs = _text_list(shape_and_slices, "shape_and_slices")
        if not len(names) == len(specs) == len(tensors):
            raise errors.InvalidArgumentError(
                None, op, "Got %d tensor names, %d shape_and_slices and %d tensors to save; "
                "they must match" % (len(names), len(specs), len(tensors)))
        writer = bundle.BundleWriter(prefix)
        try:
            for name, spec, value, dtype, datatype in zip(names, specs, tensors, tensor_dtypes, datatypes):
                if spec:
                    _add_to_bundle(writer, name, spec, value, dtype)
                else:
                    writer.add(name, value, datatype)
        except BaseException:
            writer.abort()
            raise
        writer.finish()
    return _in_node(op, run)


register_op("SaveV2", inputs=["prefix: string", "tensor_names: string",
                              "shape_and_slices: string", "tensors: dtypes"],
            attrs=["dtypes: list(type) >= 1"], stateful=True, kernel=_save_v2_kernel)


def _string_list_input(values):
    """A list of Python strings as an object array of their UTF-8 bytes (the same constant),
    which becomes a tensor without the element-by-element scan a list of 10,000 names gets
    (looking for tensors inside it); other values as a list."""
    values = list(values)
    if all(type(value) is str for value in values):
        return np.array([value.encode("utf-8") for value in values], dtype=object)
    return values


def save_v2(prefix, tensor_names, shape_and_slices, tensors, name=None):
    """Writes `tensors` as a V2 checkpoint (tensor bundle) at `prefix`."""
    return apply_op("SaveV2", prefix=prefix, tensor_names=_string_list_input(tensor_names),
                    shape_and_slices=_string_list_input(shape_and_slices), tensors=list(tensors),
                    name=name)


# --- RestoreV2 ------------------------------------------------------------------------------------

def _read_tensor(reader, name, spec, dtype):
    """One tensor (or slice of it) of the checkpoint, checked against the expected dtype."""
    datatype, stored_shape = reader.dtype_and_shape(name)
    expected = dtype.base_dtype.as_datatype_enum
    if datatype != expected:
        raise errors.InvalidArgumentError(
            None, None, "tensor_name = %s; expected dtype %s does not equal original dtype %s"
            % (name, _datatype_string(expected), _datatype_string(datatype)))
    if not spec:
        return reader.read(name)
    full_shape, extents = tensor_slices.parse_shape_and_slice(spec)
    if tuple(full_shape) != tuple(stored_shape):
        raise errors.InvalidArgumentError(
            None, None, "tensor_name = %s; shape in shape_and_slice spec %s does not match the "
            "shape stored in checkpoint: %s" % (name, _dims(full_shape), _dims(stored_shape)))
    if tensor_slices.is_full(extents, full_shape):
        return reader.read(name)
    if isinstance(reader, bundle.BundleReader):
        # A slice saved with the same partitioning is stored under its own key.
        slice_key = tensor_slices.encode_tensor_name_slice(name, extents)
        if reader.has(slice_key):
            return reader.read(slice_key)
    bounds = tensor_slices.resolve(extents, full_shape, spec)
    region = tuple(slice(start, stop) for start, stop in bounds)
    return np.ascontiguousarray(reader.read(name)[region])


# Set by Saver.restore while it runs its restore op: the Assign ops that run in that run.
_ASSIGNS_RUNNING = contextvars.ContextVar("tensorkeep_assigns_running", default=frozenset())
_REF_VARIABLE_TYPES = ("VariableV2", "Variable")


@contextlib.contextmanager
def assigns_running(assign_ops):
    """Declares that the Session.run inside the block runs every op of `assign_ops` (a
    frozenset): RestoreV2 may then read the tensor each of them assigns straight into its
    variable's buffer (see `_restore_v2_kernel`)."""
    token = _ASSIGNS_RUNNING.set(assign_ops)
    try:
        yield
    finally:
        _ASSIGNS_RUNNING.reset(token)


def _assign_targets(op, ctx):
    """{output index: (Assign op, VarRef, declared shape or None)} for the outputs of restore
    op `op` whose only consumer is an Assign into a ref variable of this session."""
    targets = {}
    if ctx is None:
        return targets
    for index, tensor in enumerate(op._outputs):
        consumers = tensor.consumers()
        if len(consumers) != 1:
            continue
        assign = consumers[0]
        if assign._type != "Assign" or assign._inputs[1] is not tensor:
            continue
        variable = assign._inputs[0].op
        if variable._type in _REF_VARIABLE_TYPES:
            ref = ctx.variable(variable)
            declared = None if ref.shape is None else ref.shape.as_list()
            targets[index] = (assign, ref, None if declared is None else tuple(declared))
    return targets


def _reusable_buffer(target, dtype, shape):
    """The current array of `target`'s variable if the restored tensor may be read into it:
    same dtype and shape as stored and as declared, its own memory, and referenced by nothing
    but the variable (values are immutable once handed out: an array someone else holds,
    such as a Const's value adopted by Assign or a view a kernel returned, must not change)."""
    _, ref, declared = target
    if declared is not None and declared != shape:
        return None
    return _helpers.sole_owner_buffer(ref, dtype, shape)


def _restore_v2_kernel(op, ctx):
    tensor_dtypes = op._attrs["dtypes"]
    datatypes = [dtype.base_dtype.as_datatype_enum for dtype in tensor_dtypes]
    targets = _assign_targets(op, ctx)

    def run(prefix, tensor_names, shape_and_slices):
        prefix = _scalar_text(prefix, "prefix")
        names = _text_list(tensor_names, "tensor_names")
        specs = _text_list(shape_and_slices, "shape_and_slices")
        if not len(names) == len(specs) == len(tensor_dtypes):
            raise errors.InvalidArgumentError(
                None, op, "Got %d tensor names and %d shape_and_slices to restore into %d "
                "dtypes; they must match" % (len(names), len(specs), len(tensor_dtypes)))
        with tkio.open_checkpoint_reader(prefix) as reader:
            if isinstance(reader, bundle.BundleReader):
                values = _read_bundle(reader, names, specs, tensor_dtypes, datatypes, targets)
            else:
                values = [_fresh(_read_tensor(reader, name, spec, dtype))
                          for name, spec, dtype in zip(names, specs, tensor_dtypes)]
        # The executor takes a single output as the value itself.
        return values[0] if len(values) == 1 else values
    return _in_node(op, run)


def _read_bundle(reader, names, specs, tensor_dtypes, datatypes, targets):
    """The restored values. Whole numeric tensors are read in runs (one system call for
    neighbours). Those assigned to a variable whose buffer may be reused (see
    `_reusable_buffer`) are first only verified, through a small scratch buffer, the others
    read into fresh arrays; only once every tensor has passed its checks are the first ones
    read into their variables' buffers. So a corrupt checkpoint leaves every variable as it
    was, and the process holds no more than the scratch buffer beside the model."""
    running = _ASSIGNS_RUNNING.get()
    keys = [name.encode(_FS_ENCODING, "surrogateescape") for name in names]
    values = [None] * len(names)
    in_place, fresh = [], []
    for index, key in enumerate(keys):
        if specs[index] or not reader.has(key):
            continue
        plain = reader.plain_entry(key)
        if plain is None or plain[0] != datatypes[index]:
            continue
        target = targets.get(index)
        if target is not None and target[0] in running and \
                _reusable_buffer(target, plain[1], plain[2]) is not None:
            in_place.append(index)
        else:
            fresh.append(index)
    verified = None
    if in_place:
        verified = reader.verify_many([keys[index] for index in in_place],
                                      **_read_workers(reader, keys, in_place))
    fresh_keys = [keys[index] for index in fresh]
    for index, value in zip(fresh, reader.read_many(fresh_keys, **_read_workers(reader, keys, fresh))):
        values[index] = _fresh(value)
    chosen = set(in_place).union(fresh)
    for index, (name, spec, dtype) in enumerate(zip(names, specs, tensor_dtypes)):
        if index not in chosen:
            values[index] = _fresh(_read_tensor(reader, name, spec, dtype))
    if in_place:
        _read_into_variables(reader, keys, targets, in_place, verified, values)
    return values


def _read_workers(reader, keys, indices):
    """The bundle reader's worker arguments for reading tensors `indices` of `keys`: the
    session's kernel threads share big reads (each read and checksum releases the GIL)."""
    size = reader.stored_size([keys[index] for index in indices])
    return {"run_parts": kernel_threads.run_parts,
            "parts": kernel_threads.parts_for(size * kernel_threads.WORK_PER_BYTE_READ)}


def _read_into_variables(reader, keys, targets, in_place, verified, values):
    """Reads the tensors `in_place` (indices; `verified` by the reader) into their variables'
    buffers, or into fresh arrays where something took hold of a buffer since it was
    checked; the Assign consuming each then adopts the array it gets."""
    buffers = []
    for index in in_place:
        _, dtype, shape = reader.plain_entry(keys[index])
        buffer = _reusable_buffer(targets[index], dtype, shape)
        if buffer is not None:
            buffer.flags.writeable = True
        buffers.append(buffer)
    try:
        read = reader.read_verified(verified, buffers, **_read_workers(reader, keys, in_place))
    except BaseException as error:
        # A read failing now (an I/O error) may leave buffers partly overwritten: better no
        # value than a wrong one. The others hold their old or their new value, whole.
        for position in getattr(error, "partly_read", range(len(in_place))):
            if buffers[position] is not None:
                targets[in_place[position]][1].value = None
        raise
    finally:
        for buffer in buffers:
            if buffer is not None:
                buffer.flags.writeable = False
    for index, value in zip(in_place, read):
        values[index] = _fresh(value)


def _slice_shapes_from_specs(op, spec_input_index, count):
    """Output shapes of a restore op: the slice shapes of a constant shape_and_slices input,
    unknown where a spec is empty or not known when the graph is built."""
    specs = tensor_util.constant_value(op._inputs[spec_input_index])
    if specs is None:
        return [tensor_shape.unknown_shape() for _ in range(count)]
    shapes = []
    for spec in np.asarray(specs, dtype=object).reshape(-1):
        spec = _as_text(spec)
        if not spec:
            shapes.append(tensor_shape.unknown_shape())
            continue
        full_shape, extents = tensor_slices.parse_shape_and_slice(spec)
        bounds = tensor_slices.resolve(extents, full_shape, spec)
        shapes.append(tensor_shape.TensorShape([stop - start for start, stop in bounds]))
    if len(shapes) != count:
        raise ValueError("shape_and_slices has %d elements but %s restores %d tensors"
                         % (len(shapes), op.name, count))
    return shapes


register_op("RestoreV2", inputs=["prefix: string", "tensor_names: string",
                                 "shape_and_slices: string"],
            outputs=["tensors: dtypes"], attrs=["dtypes: list(type) >= 1"], stateful=True,
            kernel=_restore_v2_kernel,
            shape=lambda op: _slice_shapes_from_specs(op, 2, len(op._attrs["dtypes"])))


def restore_v2(prefix, tensor_names, shape_and_slices, dtypes, name=None):  # noqa: A002
    """Reads `tensor_names` (of `dtypes`) from the checkpoint at `prefix`; a list of tensors."""
    return apply_op("RestoreV2", prefix=prefix, tensor_names=_string_list_input(tensor_names),
                    shape_and_slices=_string_list_input(shape_and_slices), dtypes=list(dtypes),
                    name=name)[0]


# --- MergeV2Checkpoints and sharded names ---------------------------------------------------------

def _merge_kernel(op, ctx):
    delete_old_dirs = op._attrs["delete_old_dirs"]
    allow_missing_files = op._attrs["allow_missing_files"]

    def run(checkpoint_prefixes, destination_prefix):
        prefixes = [_as_text(p) for p in np.asarray(checkpoint_prefixes, dtype=object).reshape(-1)]
        destination = _scalar_text(destination_prefix, "destination_prefix")
        if allow_missing_files:
            prefixes = [p for p in prefixes if gfile.exists(bundle.index_filename(p))]
            if not prefixes:
                raise errors.InvalidArgumentError(
                    None, op, "None of the checkpoints to merge into %s exist" % destination)
        bundle.merge_bundles(prefixes, destination, delete_inputs=True)
        if delete_old_dirs:
            _remove_empty_parents(prefixes, destination)
    return _in_node(op, run)


def _remove_empty_parents(prefixes, destination):
    """Removes the (now empty) temporary directories the merged prefixes lived in."""
    keep = os.path.dirname(destination)
    for directory in sorted({os.path.dirname(p) for p in prefixes}):
        if directory and directory != keep and gfile.isdir(directory) \
                and not gfile.listdir(directory):
            gfile.rmtree(directory)


register_op("MergeV2Checkpoints", inputs=["checkpoint_prefixes: string",
                                          "destination_prefix: string"],
            attrs=["delete_old_dirs: bool = true", "allow_missing_files: bool = false"],
            stateful=True, kernel=_merge_kernel)


def merge_v2_checkpoints(checkpoint_prefixes, destination_prefix, delete_old_dirs=True,
                         allow_missing_files=False, name=None):
    return apply_op("MergeV2Checkpoints", checkpoint_prefixes=checkpoint_prefixes,
                    destination_prefix=destination_prefix, delete_old_dirs=delete_old_dirs,
                    allow_missing_files=allow_missing_files, name=name)


def _sharded_filename(basename, shard, num_shards):
    return np.array(b"%s-%05d-of-%05d" % (_as_bytes(basename), int(shard), int(num_shards)),
                    dtype=object)


def _sharded_filespec(basename, num_shards):
    return np.array(b"%s-?????-of-%05d" % (_as_bytes(basename), int(num_shards)), dtype=object)


register_op("ShardedFilename", inputs=["basename: string", "shard: int32", "num_shards: int32"],
            outputs=["filename: string"],
            compute=_sharded_filename,
            shape=_helpers.scalar_shape)
register_op("ShardedFilespec", inputs=["basename: string", "num_shards: int32"],
            outputs=["filename: string"],
            compute=_sharded_filespec,
            shape=_helpers.scalar_shape)


def sharded_filename(basename, shard, num_shards, name=None):
    return apply_op("ShardedFilename", basename=basename, shard=shard, num_shards=num_shards,
                    name=name)


def sharded_filespec(basename, num_shards, name=None):
    return apply_op("ShardedFilespec", basename=basename, num_shards=num_shards, name=name)


# --- string ops used by the sharded Saver ---------------------------------------------------------

def _string_join_kernel(op, ctx):
    separator = op._attrs["separator"]

    def run(*inputs):
        arrays = np.broadcast_arrays(*[np.asarray(i, dtype=object) for i in inputs])
        out = np.empty(arrays[0].shape, dtype=object)
        for index in np.ndindex(out.shape):
            out[index] = separator.join(bytes(a[index]) for a in arrays)
        return out
    return run


def _string_join_shape(op):
    shape = tensor_shape.TensorShape([])
    for tensor in op._inputs:
        if tensor._shape_val.ndims != 0:
            shape = _helpers.broadcast_static_shapes(shape, tensor._shape_val)
    return [shape]


register_op("StringJoin", inputs=["inputs: N * string"], outputs=["output: string"],
            attrs=["N: int >= 0", "separator: string = ''"],
            kernel=_string_join_kernel, shape=_string_join_shape)


def string_join(inputs, separator="", name=None):
    return apply_op("StringJoin", inputs=list(inputs), separator=separator, name=name)


def _full_match(op, pattern, values):
    from tensorkeep.ops import string_ops  # RE2's UTF-8 semantics on Python's re

    compiled = string_ops.compile_pattern(op, pattern)
    array = np.asarray(values, dtype=object)
    out = np.empty(array.shape, dtype=bool)
    for index in np.ndindex(array.shape):
        out[index] = compiled.fullmatch(string_ops.as_text(bytes(array[index]))) is not None
    return out


def _static_regex_kernel(op, ctx):
    pattern = op._attrs["pattern"]
    return lambda values: _full_match(op, pattern, values)


def _regex_kernel(op, ctx):
    return lambda values, pattern: _full_match(op, bytes(np.asarray(pattern).item()), values)


register_op("StaticRegexFullMatch", inputs=["input: string"], outputs=["output: bool"],
            attrs=["pattern: string"], kernel=_static_regex_kernel,
            shape=_helpers.unchanged_shape)
register_op("RegexFullMatch", inputs=["input: string", "pattern: string"],
            outputs=["output: bool"], kernel=_regex_kernel, shape=_helpers.unchanged_shape)


def regex_full_match(input, pattern, name=None):  # noqa: A002 (TF's argument name)
    """True where `input` matches `pattern` entirely; a python pattern builds the static op."""
    if isinstance(pattern, (str, bytes)):
        return apply_op("StaticRegexFullMatch", input=input, pattern=pattern, name=name)
    return apply_op("RegexFullMatch", input=input, pattern=pattern, name=name)


# --- legacy V1 checkpoints (SaverDef.V1) ----------------------------------------------------------

def _save_slices_kernel(op, ctx):
    tensor_dtypes = op._attrs["T"]
    with_specs = op.type == "SaveSlices"

    def run(filename, tensor_names, *rest):
        if with_specs:
            specs = _text_list(rest[0], "shapes_and_slices")
            data = rest[1:]
        else:
            data = rest
            specs = [""] * len(data)
        names = _text_list(tensor_names, "tensor_names")
        if not len(names) == len(specs) == len(data):
            raise errors.InvalidArgumentError(
                None, op, "Got %d tensor names and %d tensors to save; they must match"
                % (len(names), len(data)))
        tensors = []
        for name, spec, value, dtype in zip(names, specs, data, tensor_dtypes):
            value = np.asarray(value)
            if spec:
                full_shape, extents = tensor_slices.parse_shape_and_slice(spec)
            else:
                full_shape, extents = value.shape, [(0, None)] * value.ndim
            tensors.append((name, dtype.base_dtype.as_datatype_enum, full_shape, extents, value))
        write_v1_checkpoint(_scalar_text(filename, "filename"), tensors)
    return _in_node(op, run)


register_op("Save", inputs=["filename: string", "tensor_names: string", "data: T"],
            attrs=["T: list(type) >= 1"], stateful=True, kernel=_save_slices_kernel)
register_op("SaveSlices", inputs=["filename: string", "tensor_names: string",
                                  "shapes_and_slices: string", "data: T"],
            attrs=["T: list(type) >= 1"], stateful=True, kernel=_save_slices_kernel)


def save(filename, tensor_names, data, name=None):
    return apply_op("Save", filename=filename, tensor_names=list(tensor_names), data=list(data),
                    name=name)


def save_slices(filename, tensor_names, shapes_and_slices, data, name=None):
    return apply_op("SaveSlices", filename=filename, tensor_names=list(tensor_names),
                    shapes_and_slices=list(shapes_and_slices), data=list(data), name=name)


def write_v1_checkpoint(filename, tensors):
    """Writes a V1 checkpoint file: `tensors` is a list of (name, DataType enum, full shape,
    extents, slice value). The file appears under its final name only when complete."""
    meta = protos.SavedTensorSliceMeta()
    meta.versions.producer = 1
    by_name = {}
    for name, datatype, full_shape, extents, value in tensors:
        tensor_meta = by_name.get(name)
        if tensor_meta is None:
            tensor_meta = by_name[name] = meta.tensor.add(name=name, type=datatype)
            tensor_meta.shape.SetInParent()
            for size in full_shape:
                tensor_meta.shape.dim.add().size = int(size)
        tensor_slices.fill_proto(tensor_meta.slice.add(), extents)
    items = [(b"", protos.SavedTensorSlices(meta=meta).SerializeToString(deterministic=True))]
    for name, datatype, full_shape, extents, value in tensors:
        stored = protos.SavedTensorSlices()
        stored.data.name = name
        tensor_slices.fill_proto(stored.data.slice, extents)
        stored.data.data.CopyFrom(_typed_tensor_proto(value, datatype))
        items.append((tensor_slices.encode_tensor_name_slice(name, extents),
                      stored.SerializeToString(deterministic=True)))
    items.sort(key=lambda item: item[0])
    bundle.write_index(filename, items)


# The TensorProto field a V1 checkpoint keeps values in, by their numpy storage type
# (int_val for the other integer types).
_V1_VALUE_FIELDS = {
    "float32": "float_val", "float64": "double_val", "int64": "int64_val",
    "uint32": "uint32_val", "uint64": "uint64_val", "bool": "bool_val", "object": "string_val",
    "float16": "half_val", "bfloat16": "half_val", "complex64": "scomplex_val",
    "complex128": "dcomplex_val",
}


def _typed_tensor_proto(value, datatype):
    """A TensorProto holding `value` in its typed repeated field, as V1 checkpoints store it
    (no dtype or shape: the slice metadata has them)."""
    storage = numpy_codec.numpy_dtype(datatype)
    field = _V1_VALUE_FIELDS.get(storage.name, "int_val")
    proto = protos.TensorProto()
    if field == "string_val":
        proto.string_val.extend(numpy_codec.to_bytes_array(value).reshape(-1).tolist())
        return proto
    flat = np.ascontiguousarray(value, dtype=storage).reshape(-1)
    if field == "half_val":
        flat = flat.view(np.uint16)
    elif field in ("scomplex_val", "dcomplex_val"):
        flat = flat.view(flat.real.dtype)
    getattr(proto, field).extend(flat.tolist())
    return proto


def _restore_kernel(op, ctx):
    dtype = op._attrs["dt"]
    with_spec = op.type == "RestoreSlice"

    def run(file_pattern, tensor_name, *spec):
        pattern = _scalar_text(file_pattern, "file_pattern")
        name = _scalar_text(tensor_name, "tensor_name")
        shape_and_slice = _scalar_text(spec[0], "shape_and_slice") if with_spec else ""
        with tkio.open_checkpoint_reader(pattern) as reader:
            return _fresh(_read_tensor(reader, name, shape_and_slice, dtype))
    return _in_node(op, run)


register_op("Restore", inputs=["file_pattern: string", "tensor_name: string"],
            outputs=["tensor: dt"], attrs=["dt: type", "preferred_shard: int = -1"],
            stateful=True, kernel=_restore_kernel, shape=_helpers.unknown_shapes)
register_op("RestoreSlice", inputs=["file_pattern: string", "tensor_name: string",
                                    "shape_and_slice: string"],
            outputs=["tensor: dt"], attrs=["dt: type", "preferred_shard: int = -1"],
            stateful=True, kernel=_restore_kernel,
            shape=lambda op: _slice_shapes_from_specs(op, 2, 1))


def restore(file_pattern, tensor_name, dt, preferred_shard=-1, name=None):
    return apply_op("Restore", file_pattern=file_pattern, tensor_name=tensor_name, dt=dt,
                    preferred_shard=preferred_shard, name=name)


def restore_slice(file_pattern, tensor_name, shape_and_slice, dt, preferred_shard=-1,
                  name=None):
    return apply_op("RestoreSlice", file_pattern=file_pattern, tensor_name=tensor_name,
                    shape_and_slice=shape_and_slice, dt=dt, preferred_shard=preferred_shard,
                    name=name)


for _op_type in ("SaveV2", "RestoreV2", "MergeV2Checkpoints", "ShardedFilename",
                 "ShardedFilespec", "StringJoin", "StaticRegexFullMatch", "RegexFullMatch",
                 "Save", "SaveSlices", "Restore", "RestoreSlice"):
    register_gradient(_op_type, None)
