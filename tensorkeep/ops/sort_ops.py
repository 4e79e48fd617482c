"""Sorting and searching: tf.sort and tf.argsort (built from TopKV2 as TensorFlow builds them),
the LowerBound/UpperBound ops behind tf.searchsorted, and tf.repeat."""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_util
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.ops import array_ops
from tensorkeep.ops import math_ops


# --- sort / argsort ------------------------------------------------------------------------------

def _descending_sort(values, axis, return_argsort):
    k = array_ops.shape(values)[axis]
    array_ops.rank(values)  # unused, but TensorFlow builds it too
    static_rank = values.shape.ndims
    if axis == -1 or axis + 1 == static_rank:
        top_k_input = values
        transposition = None
    else:
        if static_rank is None:
            raise ValueError("tf.sort along an axis other than the last needs a known rank")
        if axis < 0:
            axis += static_rank
        # Swap `axis` with the last dimension (TopKV2 works on the last one).
        transposition = array_ops.constant(
            np.r_[np.arange(axis), [static_rank - 1], np.arange(axis + 1, static_rank - 1),
                  [axis]], name="transposition")
        top_k_input = array_ops.transpose(values, transposition)
    sorted_values, indices = math_ops.top_k(top_k_input, k)
    result = indices if return_argsort else sorted_values
    if transposition is not None:
        result = array_ops.transpose(result, transposition)
    return result


def _ascending_sort(values, axis, return_argsort):
    # Sort the negation descending; integers use -x - 1 (no overflow at the minimum) and
    # unsigned integers max - x.
    dtype = values.dtype
    if dtype.is_unsigned:
        offset = dtype.max
        result = _descending_sort(offset - values, axis, return_argsort)
        return result if return_argsort else offset - result
    if dtype.is_integer:
        result = _descending_sort(-values - 1, axis, return_argsort)
        return result if return_argsort else -result - 1
    result = _descending_sort(-values, axis, return_argsort)
    return result if return_argsort else -result


_SORTS = {"ASCENDING": _ascending_sort, "DESCENDING": _descending_sort}


def _sort_or_argsort(values, axis, direction, return_argsort):
    if direction not in _SORTS:
        raise ValueError("Argument `direction` should be one of %s. Received: direction=%s"
                         % (", ".join(sorted(_SORTS)), direction))
    axis = ops.convert_to_tensor(axis, name="axis")
    axis_static = tensor_util.constant_value(axis)
    if axis.shape.ndims not in (None, 0) or axis_static is None:
        raise ValueError("Argument `axis` must be a constant scalar. Received: axis=%s." % axis)
    values = ops.convert_to_tensor(values, name="values")
    return _SORTS[direction](values, int(axis_static), return_argsort)


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """Sorted values along `axis` (TopKV2 over the whole axis)."""
    with ops.name_scope(name, "sort"):
        return _sort_or_argsort(values, axis, direction, return_argsort=False)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """Indices that sort `values` along `axis`; ties keep their order as in TensorFlow."""
    del stable  # TopKV2 is stable already.
    with ops.name_scope(name, "argsort"):
        return _sort_or_argsort(values, axis, direction, return_argsort=True)


# --- LowerBound / UpperBound ---------------------------------------------------------------------

def _bound_kernel(side):
    def factory(op, ctx):
        out_type = op._attrs["out_type"].as_numpy

        def run(sorted_inputs, values):
            if sorted_inputs.ndim != 2 or values.ndim != 2:
                raise errors.InvalidArgumentError(
                    None, op, "Input sorted_inputs and values must be 2-D")
            if sorted_inputs.shape[0] != values.shape[0]:
                raise errors.InvalidArgumentError(
                    None, op, "Leading dim_size of both tensors must match.")
            if values.size >= np.iinfo(out_type).max:
                raise errors.InvalidArgumentError(
                    None, op, "values tensor size must less than INT_MAX")
            result = np.empty(values.shape, dtype=out_type)
            for row in range(values.shape[0]):
                result[row] = np.searchsorted(sorted_inputs[row], values[row], side=side)
            return result
        return run
    return factory


def _bound_shape(op):
    sorted_shape = op._inputs[0]._shape_val.with_rank(2)
    values_shape = op._inputs[1]._shape_val.with_rank(2)
    sorted_shape[:1].merge_with(values_shape[:1])
    return [values_shape]


for _op_type, _side in (("LowerBound", "left"), ("UpperBound", "right")):
    register_op(_op_type, inputs=["sorted_inputs: T", "values: T"], outputs=["output: out_type"],
                attrs=["T: type", "out_type: {int32, int64} = DT_INT32"],
                kernel=_bound_kernel(_side), shape=_bound_shape)
    register_gradient(_op_type, None)


def searchsorted(sorted_sequence, values, side="left", out_type=dtypes.int32, name=None):
    """Insertion points of `values` in the innermost dimension of `sorted_sequence`."""
    sequence_size = array_ops.shape_internal(sorted_sequence)[-1]
    values_size = array_ops.shape_internal(values)[-1]
    sorted_sequence_2d = array_ops.reshape(sorted_sequence, [-1, sequence_size])
    values_2d = array_ops.reshape(values, [-1, values_size])
    if side == "right":
        op_type = "UpperBound"
    elif side == "left":
        op_type = "LowerBound"
    else:
        raise ValueError("Argument `side` must be either 'right' or 'left'. Received: `side` = "
                         "'%s'." % side)
    output = apply_op(op_type, sorted_inputs=sorted_sequence_2d, values=values_2d,
                      out_type=out_type, name=name)
    return array_ops.reshape(output, array_ops.shape_internal(values))


# --- repeat --------------------------------------------------------------------------------------

def _tile_one_dimension(data, axis, multiple):
    if data.shape.ndims is not None:
        multiples = [1] * data.shape.ndims
        multiples[axis] = multiple
    else:
        ones_value = array_ops.ones(array_ops.rank(data), dtypes.int32)
        multiples = array_ops.concat([ones_value[:axis], [multiple], ones_value[axis + 1:]],
                                     axis=0)
    return array_ops.tile(data, multiples)


def _with_nonzero_rank(data):
    if data.shape.ndims is not None:
        return array_ops.stack([data]) if data.shape.ndims == 0 else data
    data_shape = array_ops.shape(data)
    data_ndims = array_ops.rank(data)
    return array_ops.reshape(data, array_ops.concat([[1], data_shape], axis=0)[-data_ndims:])


def _positive_axis(axis, ndims):
    if ndims is not None:
        if 0 <= axis < ndims:
            return axis
        if -ndims <= axis < 0:
            return axis + ndims
        raise ValueError("axis=%d out of bounds: expected %d<=axis<%d" % (axis, -ndims, ndims))
    if axis < 0:
        raise ValueError("axis=%d may only be negative if rank(data) is statically known."
                         % axis)
    return axis


def _repeat_with_axis(data, repeats, axis, name=None):
    if not isinstance(axis, int):
        raise TypeError("Argument `axis` must be an int. Received `axis` = %s of type %s"
                        % (axis, type(axis).__name__))
    with ops.name_scope(name, "Repeat", [data, repeats]):
        data = ops.convert_to_tensor(data, name="data")
        repeats = ops.convert_to_tensor(repeats, name="repeats", preferred_dtype=dtypes.int32)
        if not repeats.dtype.is_integer:
            raise TypeError("Argument `tensor` (name: repeats) must be of type integer. Received "
                            "`tensor` = %s of dtype: %s" % (repeats, repeats.dtype))
        repeats = apply_op("Cast", x=repeats, DstT=dtypes.int32)
        if repeats.shape.ndims is not None and repeats.shape.ndims > 1:
            raise ValueError("Shape %s must have rank at most 1" % repeats.shape)
        data = _with_nonzero_rank(data)
        data_shape = array_ops.shape(data, out_type=repeats.dtype)
        axis = _positive_axis(axis, data.shape.ndims)

        if repeats.shape.num_elements() == 1:
            repeats = array_ops.reshape(repeats, [])
            expanded = array_ops.expand_dims(data, axis + 1)
            tiled = _tile_one_dimension(expanded, axis + 1, repeats)
            result_shape = array_ops.concat(
                [data_shape[:axis], [repeats * data_shape[axis]], data_shape[axis + 1:]], axis=0)
            return array_ops.reshape(tiled, result_shape)

        if repeats.shape.ndims == 1:
            data.shape.dims[axis].assert_is_compatible_with(repeats.shape[0])
        repeats = array_ops.broadcast_to(repeats, [data_shape[axis]])
        repeats_original = repeats
        if repeats.shape.ndims != axis + 1:
            repeats_shape = array_ops.shape(repeats)
            repeats_ndims = array_ops.rank(repeats)
            broadcast_shape = array_ops.concat(
                [data_shape[:axis + 1 - repeats_ndims], repeats_shape], axis=0)
            repeats = array_ops.broadcast_to(repeats, broadcast_shape)
            repeats.set_shape([None] * (axis + 1))
        max_repeat = apply_op("Max", input=repeats, reduction_indices=array_ops.constant(
            np.arange(repeats.shape.ndims), dtype=dtypes.int32), keep_dims=False)
        max_repeat = math_ops.maximum(
            ops.convert_to_tensor(0, name="zero", dtype=max_repeat.dtype), max_repeat)
        mask = array_ops.sequence_mask(repeats, max_repeat)
        expanded = array_ops.expand_dims(data, axis + 1)
        tiled = _tile_one_dimension(expanded, axis + 1, max_repeat)
        masked = array_ops.boolean_mask(tiled, mask)
        if axis == 0:
            result = masked
        else:
            repeated_dim_size = apply_op(
                "Sum", input=repeats_original,
                reduction_indices=apply_op("Range", start=0,
                                           limit=array_ops.rank(repeats_original), delta=1),
                keep_dims=False)
            result_shape = array_ops.concat(
                [data_shape[:axis], [repeated_dim_size], data_shape[axis + 1:]], axis=0)
            result = array_ops.reshape(masked, result_shape)
        if data.shape.ndims is not None:
            new_axis_size = 0 if repeats.shape.dims[0].value == 0 else None
            result.set_shape(data.shape[:axis].concatenate([new_axis_size]).concatenate(
                data.shape[axis + 1:]))
        return result


def repeat(input, repeats, axis=None, name=None):  # noqa: A002
    """Repeats each element of `input` `repeats` times along `axis` (flattened when None)."""
    if axis is None:
        input = array_ops.reshape(input, [-1])  # noqa: A001
        axis = 0
    return _repeat_with_axis(input, repeats, axis, name)
