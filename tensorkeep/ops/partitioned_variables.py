"""Partitioned variables: a variable stored as slices `v/part_0`, `v/part_1`, ... along one
axis (each slice a Variable with SaveSliceInfo, so checkpoints hold the full tensor `v`), and
the partitioners that choose the slicing (tf.fixed_size_partitioner, ...).

tf.get_variable(..., partitioner=...) builds them (training/variable_scope.py).
"""

import math

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.ops import array_ops


class PartitionedVariable:
    """The slices of one logical variable, ordered by offset; converts to their concatenation."""

    def __init__(self, name, shape, dtype, variable_list, partitions):
        if not isinstance(variable_list, (list, tuple)):
            raise TypeError("variable_list is not a list or tuple: %s" % variable_list)
        if not isinstance(partitions, (list, tuple)):
            raise TypeError("partitions is not a list or tuple: %s" % partitions)
        if not all(p >= 1 for p in partitions):
            raise ValueError("partition values must be positive: %s" % partitions)
        if not variable_list:
            raise ValueError("variable_list may not be empty")
        if any(v._get_save_slice_info() is None for v in variable_list):
            raise ValueError("All variables must have a save_slice_info available: %s"
                             % [v.name for v in variable_list])
        if len(shape) != len(partitions):
            raise ValueError("len(shape) != len(partitions): %s vs. %s" % (shape, partitions))
        full_shapes = [v._get_save_slice_info().full_shape for v in variable_list]
        if any(list(full) != list(shape) for full in full_shapes):
            raise ValueError("All variables' full shapes must match shape: %s; but full shapes "
                             "were: %s" % (shape, full_shapes))
        self._variable_list = sorted(variable_list,
                                     key=lambda v: v._get_save_slice_info().var_offset)
        self._name = name
        self._shape = shape
        self._dtype = dtype
        self._partitions = partitions

    def __iter__(self):
        return iter(self._variable_list)

    def __len__(self):
        axes = self._partition_axes()
        if len(axes) > 1:
            raise ValueError("Cannot get a length for %d > 1 partition axes" % len(axes))
        return len(self._variable_list)

    def _partition_axes(self):
        if all(p == 1 for p in self._partitions):
            return [0]
        return [i for i, p in enumerate(self._partitions) if p > 1]

    def _concat(self):
        if len(self._variable_list) == 1:
            with ops.name_scope(None):
                return array_ops.identity(self._variable_list[0], name=self._name)
        axes = self._partition_axes()
        if len(axes) > 1:
            raise NotImplementedError("Cannot concatenate along more than one dimension: %s.  "
                                      "Multi-axis partition concat is not supported" % axes)
        with ops.name_scope(self._name + "/ConcatPartitions/"):
            concatenated = array_ops.concat(self._variable_list, axes[0])
        with ops.name_scope(None):
            return array_ops.identity(concatenated, name=self._name)

    def as_tensor(self):
        """The full value: `name/ConcatPartitions/concat` then an Identity named `name`."""
        with ops.control_dependencies(None):
            return self._concat()

    @property
    def name(self):
        return self._name

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    def _get_variable_list(self):
        return self._variable_list

    def _get_partitions(self):
        return self._partitions

    def _apply_assign_fn(self, assign_fn, value):
        axes = self._partition_axes()
        if len(axes) > 1:
            raise NotImplementedError("Cannot do assign action along more than one dimension: "
                                      "%s.  Multi-axis partition assign action is not "
                                      "supported " % axes)
        if isinstance(value, list):
            if len(value) != len(self._variable_list):
                raise ValueError("Expected %d values, one per partition, got %d"
                                 % (len(self._variable_list), len(value)))
            values = value
        elif isinstance(value, PartitionedVariable):
            values = list(value)
        else:
            sizes = [var.shape[axes[0]].value for var in self._variable_list]
            values = array_ops.split(value, sizes, axis=axes[0])
        return [assign_fn(var, part) for var, part in zip(self._variable_list, values)]

    def assign(self, value, use_locking=False, name=None, read_value=True):
        return self._apply_assign_fn(
            lambda var, part: var.assign(part, use_locking=use_locking, name=name,
                                         read_value=read_value), value)

    def assign_add(self, value, use_locking=False, name=None, read_value=True):
        return self._apply_assign_fn(
            lambda var, part: var.assign_add(part, use_locking=use_locking, name=name,
                                             read_value=read_value), value)

    def assign_sub(self, value, use_locking=False, name=None, read_value=True):
        return self._apply_assign_fn(
            lambda var, part: var.assign_sub(part, use_locking=use_locking, name=name,
                                             read_value=read_value), value)

    def __repr__(self):
        return "<tf.PartitionedVariable '%s' shape=%s dtype=%s parts=%d>" % (
            self._name, self._shape, self._dtype.name, len(self._variable_list))


def _partitioned_variable_conversion(value, dtype=None, name=None, as_ref=False):
    if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(value.dtype):
        raise ValueError("Incompatible type conversion requested to type '%s' for variable of "
                         "type '%s'" % (dtypes.as_dtype(dtype).name, value.dtype.name))
    if as_ref:
        raise NotImplementedError("PartitionedVariable doesn't support being used as a "
                                  "reference.")
    return value.as_tensor()


ops.register_tensor_conversion_function(PartitionedVariable, _partitioned_variable_conversion)


# --- partitioners: fn(shape=TensorShape, dtype=DType) -> number of slices per axis --------------

def variable_axis_size_partitioner(max_shard_bytes, axis=0, bytes_per_string_element=16,
                                   max_shards=None):
    """Slices along `axis` so that each shard holds at most `max_shard_bytes` (at least one
    slice of the axis per shard)."""
    if max_shard_bytes < 1 or bytes_per_string_element < 1:
        raise ValueError("Both max_shard_bytes and bytes_per_string_element must be positive. "
                         "Currently, max_shard_bytes is %s andbytes_per_string_element is %s"
                         % (max_shard_bytes, bytes_per_string_element))
    if max_shards and max_shards < 1:
        raise ValueError("max_shards must be positive.")

    def partitioner(shape, dtype):
        if not isinstance(shape, tensor_shape.TensorShape):
            raise ValueError("shape is not a TensorShape: %s" % shape)
        if not shape.is_fully_defined():
            raise ValueError("shape is not fully defined: %s" % shape)
        element_size = _element_size(dtype, bytes_per_string_element)
        axis_len = shape.dims[axis].value
        bytes_per_slice = 1.0 * (shape.num_elements() / axis_len) * element_size
        slices_per_shard = max(1, math.floor(max_shard_bytes / bytes_per_slice))
        shards = int(math.ceil(1.0 * axis_len / slices_per_shard))
        if max_shards:
            shards = min(max_shards, shards)
        partitions = [1] * shape.ndims
        partitions[axis] = shards
        return partitions
    return partitioner


def min_max_variable_partitioner(max_partitions=1, axis=0, min_slice_size=256 << 10,
                                 bytes_per_string_element=16):
    """As many slices as keep each at least `min_slice_size` bytes, at most max_partitions."""
    def partitioner(shape, dtype):
        if axis >= len(shape):
            raise ValueError("Cannot partition variable along axis %d when shape is only %s"
                             % (axis, shape))
        total_bytes = shape.num_elements() * _element_size(dtype, bytes_per_string_element)
        partitions = [1] * len(shape)
        partitions[axis] = max(1, min(shape.dims[axis].value, max_partitions,
                                      int(math.ceil(total_bytes / min_slice_size))))
        return partitions
    return partitioner


def fixed_size_partitioner(num_shards, axis=0):
    """`num_shards` slices along `axis` (fewer when the axis is shorter)."""
    def partitioner(shape, **unused_args):
        partitions = [1] * len(shape)
        partitions[axis] = min(num_shards, shape.dims[axis].value)
        return partitions
    return partitioner


def _element_size(dtype, bytes_per_string_element):
    dtype = dtypes.as_dtype(dtype)
    if dtype.base_dtype is dtypes.string:
        return bytes_per_string_element
    return dtype.size
