"""Reading checkpoints without a graph (tf.train.NewCheckpointReader, load_checkpoint,
load_variable, list_variables), waiting for new checkpoints, and initializing variables from a
checkpoint (tf.train.init_from_checkpoint)."""

import collections.abc
import os
import time

import numpy as np

from tensorkeep import io as tkio
from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.io import bundle
from tensorkeep.io import gfile
from tensorkeep.io import protos
from tensorkeep.io import tensor_slices
from tensorkeep.ops import io_ops
from tensorkeep.ops import resource_variable_ops
from tensorkeep.ops import variables
from tensorkeep.training import checkpoint_management
from tensorkeep.training import saveable_object
from tensorkeep.training import variable_scope
from tensorkeep.training.saver import set_cpu0


class CheckpointReader:
    """The tensors of one V2 or V1 checkpoint, read on demand (TensorFlow's CheckpointReader).

    Closing is optional (the files are released when the reader is garbage collected); use
    `with` or close() to release them earlier.
    """

    def __init__(self, filepattern):
        self._reader = tkio.open_checkpoint_reader(_as_str(filepattern))

    def get_variable_to_shape_map(self):
        """{tensor name: shape as a list}; a partitioned tensor appears under its full name."""
        return {name: list(self._reader.dtype_and_shape(name)[1])
                for name in self._reader.keys()}

    def get_variable_to_dtype_map(self):
        """{tensor name: DType}."""
        return {name: dtypes.as_dtype(self._reader.dtype_and_shape(name)[0])
                for name in self._reader.keys()}

    def has_tensor(self, tensor_str):
        return self._reader.has(_as_str(tensor_str))

    def get_tensor(self, tensor_str):
        """The value of a tensor: an ndarray, or a numpy scalar (bytes for strings) for a
        scalar, as TensorFlow returns it."""
        value = self._reader.read(_as_str(tensor_str))
        return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value

    def debug_string(self):
        """One line "name (DT_TYPE) [dims]" per stored entry, as TensorFlow prints it. For a V2
        checkpoint the slices of partitioned tensors are listed under their binary keys and the
        partitioned tensors themselves are not; a V1 checkpoint lists each tensor, with
        ", N slices" when it is partitioned (TensorFlow lists V1 tensors in hash order, here
        they are sorted)."""
        lines = []
        for key, datatype, shape, suffix in self._stored_entries():
            lines.append(b"%s (%s) [%s]%s\n" % (
                key, protos.DataType.Name(datatype).encode(),
                ",".join(str(d) for d in shape).encode(), suffix))
        return b"".join(lines)

    def _stored_entries(self):
        """(key bytes, DataType, shape, line suffix) of every entry, in key order."""
        entries = []
        for name in self._reader.keys():
            datatype, shape = self._reader.dtype_and_shape(name)
            key = name.encode("utf-8", "surrogateescape")
            if not isinstance(self._reader, bundle.BundleReader):
                slice_count = len(self._reader.entry(name).slice)
                entries.append((key, datatype, shape,
                                b", %d slices" % slice_count if slice_count > 1 else b""))
                continue
            slices = self._reader.entry(name).slices
            if not slices:
                entries.append((key, datatype, shape, b""))
            for slice_proto in slices:
                slice_key = tensor_slices.encode_tensor_name_slice(
                    name, tensor_slices.extents_from_proto(slice_proto))
                entries.append((slice_key, datatype, self._reader.dtype_and_shape(slice_key)[1],
                                b""))
        return sorted(entries, key=lambda entry: entry[0])

    def close(self):
        self._reader.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.close()


def NewCheckpointReader(filepattern):  # noqa: N802 (TensorFlow's name)
    """A CheckpointReader for the checkpoint with prefix (or V1 file pattern) `filepattern`."""
    return CheckpointReader(filepattern)


def _as_str(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return os.fspath(value)


def _checkpoint_filename(ckpt_dir_or_file):
    ckpt_dir_or_file = _as_str(ckpt_dir_or_file)
    if gfile.isdir(ckpt_dir_or_file):
        return checkpoint_management.latest_checkpoint(ckpt_dir_or_file)
    return ckpt_dir_or_file


def load_checkpoint(ckpt_dir_or_file):
    """A CheckpointReader for a checkpoint prefix, or for the latest checkpoint of a directory."""
    filename = _checkpoint_filename(ckpt_dir_or_file)
    if filename is None:
        raise ValueError("Couldn't find 'checkpoint' file or checkpoints in given directory %s"
                         % (ckpt_dir_or_file,))
    return NewCheckpointReader(filename)


def load_variable(ckpt_dir_or_file, name):
    """The value of variable `name` (a trailing ":0" is ignored) in the checkpoint."""
    if name.endswith(":0"):
        name = name[:-2]
    with load_checkpoint(ckpt_dir_or_file) as reader:
        return reader.get_tensor(name)


def list_variables(ckpt_dir_or_file):
    """[(name, shape)] of the checkpoint's variables, sorted by name."""
    with load_checkpoint(ckpt_dir_or_file) as reader:
        variable_map = reader.get_variable_to_shape_map()
    return [(name, variable_map[name]) for name in sorted(variable_map)]


def wait_for_new_checkpoint(checkpoint_dir, last_checkpoint=None, seconds_to_sleep=1,
                            timeout=None):
    """Polls until the latest checkpoint of `checkpoint_dir` is not `last_checkpoint`; returns
    it, or None when `timeout` seconds pass first."""
    stop_time = time.time() + timeout if timeout is not None else None
    while True:
        checkpoint_path = checkpoint_management.latest_checkpoint(checkpoint_dir)
        if checkpoint_path is not None and checkpoint_path != last_checkpoint:
            return checkpoint_path
        if stop_time is not None and time.time() + seconds_to_sleep > stop_time:
            return None
        time.sleep(seconds_to_sleep)


def checkpoints_iterator(checkpoint_dir, min_interval_secs=0, timeout=None, timeout_fn=None):
    """Yields each new checkpoint of `checkpoint_dir` as it appears, at most one per
    `min_interval_secs`; stops after `timeout` seconds without one unless `timeout_fn()`
    returns False."""
    checkpoint_path = None
    while True:
        new_checkpoint_path = wait_for_new_checkpoint(checkpoint_dir, checkpoint_path,
                                                      timeout=timeout)
        if new_checkpoint_path is None:
            if not timeout_fn or timeout_fn():
                return
            continue
        start = time.time()
        checkpoint_path = new_checkpoint_path
        yield checkpoint_path
        time_to_next_eval = start + min_interval_secs - time.time()
        if time_to_next_eval > 0:
            time.sleep(time_to_next_eval)



# --- init_from_checkpoint -------------------------------------------------------------------------

def init_from_checkpoint(ckpt_dir_or_file, assignment_map):
    """Makes the initializers of variables load their values from a checkpoint.

    `assignment_map` (a dict or a list of pairs, checkpoint side first):
      "ckpt_scope/": "scope/"         every variable under scope/ from the same names under
                                      ckpt_scope/ ("/" on the left is the checkpoint's root);
      "ckpt_scope/name": "scope/var"  one variable (a partitioned one by its full name);
      "name": variable                a Variable, or the list of a partitioned one's parts.
    Values load when the initializers run (tf.global_variables_initializer()).
    """
    ckpt_file = _checkpoint_filename(ckpt_dir_or_file)
    with load_checkpoint(ckpt_dir_or_file) as reader:
        variable_map = reader.get_variable_to_shape_map()
    if isinstance(assignment_map, collections.abc.Mapping):
        assignment_map = assignment_map.items()
    store_vars = variable_scope._get_default_variable_store()._vars
    for tensor_name, current in sorted(assignment_map, key=lambda pair: pair[0]):
        if _is_variable(current) or (isinstance(current, list) and
                                     all(_is_variable(v) for v in current)):
            var = current
        else:
            var = store_vars.get(current)
            if var is None:
                var = _partitioned_parts(current, store_vars)
        if var is not None:
            if tensor_name not in variable_map:
                raise ValueError("Tensor %s is not found in %s checkpoint %s"
                                 % (tensor_name, ckpt_dir_or_file, variable_map))
            if _is_variable(var) and \
                    not var.get_shape().is_compatible_with(variable_map[tensor_name]):
                raise ValueError("Shape of variable %s (%s) doesn't match with shape of tensor "
                                 "%s (%s) from checkpoint reader."
                                 % (var.name, var.get_shape(), tensor_name,
                                    variable_map[tensor_name]))
            _set_variable_or_list_initializer(var, ckpt_file, tensor_name)
            continue
        _init_scope_from_checkpoint(ckpt_dir_or_file, ckpt_file, variable_map, store_vars,
                                    tensor_name, current)


def _init_scope_from_checkpoint(ckpt_dir_or_file, ckpt_file, variable_map, store_vars,
                                tensor_scope, current_scope):
    """Every variable of the store under `current_scope` from `tensor_scope` in the checkpoint."""
    scope = current_scope[:current_scope.rindex("/")] if "/" in current_scope else ""
    if not tensor_scope.endswith("/"):
        raise ValueError("Assignment map with scope only name {} should map to scope only {}. "
                         "Should be 'scope/': 'other_scope/'.".format(scope, tensor_scope))
    names = set()
    for var_name in store_vars:
        if not scope or var_name.startswith(scope + "/"):
            names.add(var_name[:var_name.index("/part_")] if "/part_" in var_name else var_name)
    for var_name in sorted(names):
        full_tensor_name = var_name[len(scope):]
        if current_scope != "/":
            full_tensor_name = full_tensor_name[1:]
        if tensor_scope != "/":
            full_tensor_name = tensor_scope + full_tensor_name
        if full_tensor_name.endswith("/"):
            full_tensor_name = full_tensor_name[:-1]
        if full_tensor_name not in variable_map:
            raise ValueError("Tensor %s (%s in %s) is not found in %s checkpoint"
                             % (full_tensor_name, var_name[len(scope) + 1:], tensor_scope,
                                ckpt_dir_or_file))
        var = store_vars.get(var_name)
        if var is None:
            var = _partitioned_parts(var_name, store_vars)
        _set_variable_or_list_initializer(var, ckpt_file, full_tensor_name)


def _is_variable(value):
    return isinstance(value, variables.Variable) or \
        resource_variable_ops.is_resource_variable(value)


def _partitioned_parts(name, store_vars):
    """The parts `name/part_0`, `name/part_1`, ... of a partitioned variable, or None."""
    parts = []
    while "%s/part_%d" % (name, len(parts)) in store_vars:
        parts.append(store_vars["%s/part_%d" % (name, len(parts))])
    return parts or None


def _set_variable_or_list_initializer(variable_or_list, ckpt_file, tensor_name):
    if not isinstance(variable_or_list, (list, tuple)):
        _set_checkpoint_initializer(variable_or_list, ckpt_file, tensor_name, "")
        return
    slice_name = None
    for part in variable_or_list:
        slice_info = part._get_save_slice_info()
        if slice_name is None:
            slice_name = slice_info.full_name
        elif slice_name != slice_info.full_name:
            raise ValueError("Slices must all be from the same tensor: %s != %s"
                             % (slice_name, slice_info.full_name))
        _set_checkpoint_initializer(part, ckpt_file, tensor_name, slice_info.spec)


def _set_checkpoint_initializer(variable, ckpt_file, tensor_name, slice_spec,
                                name="checkpoint_initializer"):
    """Replaces the variable's initializer with a restore of `tensor_name` (its slice
    `slice_spec`) from `ckpt_file`."""
    with ops.device(set_cpu0(variable.device)):
        restored = io_ops.restore_v2(ckpt_file, [tensor_name], [slice_spec],
                                     [variable.dtype.base_dtype], name=name)[0]
        names_to_saveables = saveable_object.op_list_to_dict([variable])
        saveables = [saveable for key, op in names_to_saveables.items()
                     for saveable in saveable_object.saveable_objects_for_op(op, key)]
    init_op = saveables[0].restore([restored], restored_shapes=None)
    variable._initializer_op = init_op
    restored.set_shape(variable.shape)
    variable._initial_value = restored
