"""Array, segment and scatter ops beyond the core families: CountUpTo, Roll, ReverseSequence, the
sorted and unsorted segment reductions other than sums, the N-d scatters on ref and resource
variables and on plain tensors (TensorScatter*), SpaceToBatchND/BatchToSpaceND (and the 4-D V1
forms), Bincount/DenseBincount, Cross, UniqueWithCounts, UnravelIndex, EnsureShape,
CheckNumerics and HistogramFixedWidth.

Each op: schema (TensorFlow's OpDef spelling), NumPy kernel, shape function, builder and gradient
side by side. Gradients build the ops TensorFlow's gradient functions build, with the same names.
"""

import ml_dtypes
import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.ops import _helpers
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops import math_ops

# TensorFlow's type lists, in its order (the order is part of the OpDef).
_REAL_NUMBER_TYPES = math_ops._REAL_NUMBER_TYPES
_NUMBER_TYPES = math_ops._NUMBER_TYPES
_INDEX = "{int32, int64}"


def _dims(shape):
    return "[%s]" % ",".join(str(d) for d in shape)


def _literal_dtype(value):
    """The type TensorFlow's wrappers give an index literal, whatever the attr's default: a NumPy
    array keeps its dtype, Python ints are int32 (int64 when one does not fit); None for
    tensors."""
    if isinstance(value, ops.Tensor) or hasattr(value, "_as_graph_element"):
        return None
    if isinstance(value, np.ndarray):
        return dtypes.as_dtype(value.dtype)
    try:
        array = np.asarray(value)
    except ValueError:
        return None
    if array.dtype.kind not in "iu" or array.size == 0:
        return None
    fits = np.iinfo(np.int32).min <= array.min() and array.max() <= np.iinfo(np.int32).max
    return dtypes.int32 if fits else dtypes.int64


def _unknown_or(op, fn):
    """fn() when every input's rank is known, else an unknown shape per output."""
    if any(t._shape_val.ndims is None for t in op._inputs):
        return [tensor_shape.unknown_shape() for _ in op._outputs]
    return fn()


# --- CountUpTo / ResourceCountUpTo --------------------------------------------------------------

def _count_up_to_kernel(op, ctx):
    limit = op._attrs["limit"]

    def run(ref):
        current = ref.get(op.name)
        if current.shape != ():
            raise ValueError("input is not a scalar: %s" % _dims(current.shape))
        if int(current) >= limit:
            raise errors.OutOfRangeError(None, op, "Reached limit of %d\n\t [[{{node %s}}]]"
                                         % (limit, op.name))
        new = np.array(current + 1, dtype=current.dtype)
        new.flags.writeable = False
        ref.value = new
        return np.array(current, copy=True)
    return run


register_op("CountUpTo", inputs=["ref: Ref(T)"], outputs=["output: T"],
            attrs=["limit: int", "T: " + _INDEX], kernel=_count_up_to_kernel,
            shape=_helpers.unchanged_shape)
register_op("ResourceCountUpTo", inputs=["resource: resource"], outputs=["output: T"],
            attrs=["limit: int", "T: " + _INDEX], stateful=True, kernel=_count_up_to_kernel,
            shape=_helpers.scalar_shape)
register_gradient("CountUpTo", None)
register_gradient("ResourceCountUpTo", None)


def count_up_to(ref, limit, name=None):
    """tf.count_up_to: increments the int variable `ref` until it reaches `limit`, returning
    its value before the increment; OutOfRangeError once the limit is reached."""
    if getattr(ref, "_IS_RESOURCE", False):
        return apply_op("ResourceCountUpTo", resource=ref._handle, limit=limit, T=ref.dtype,
                        name=name)
    return apply_op("CountUpTo", ref=ref, limit=limit, name=name)


# --- Roll ----------------------------------------------------------------------------------------

def _roll(x, shift, axis):
    if x.ndim < 1:
        raise ValueError("input must be 1-D or higher")
    if shift.ndim > 1:
        raise ValueError("shift must be a scalar or a 1-D vector. Found: %s" % _dims(shift.shape))
    if axis.ndim > 1:
        raise ValueError("axis must be a scalar or a 1-D vector. Found: %s" % _dims(axis.shape))
    if shift.shape != axis.shape:
        raise ValueError("shift and axis must have the same size")
    shifts = [int(s) for s in np.ravel(shift)]
    axes = []
    for a in np.ravel(axis).tolist():
        canonical = a + x.ndim if a < 0 else a
        if not 0 <= canonical < x.ndim:
            raise ValueError("axis %d is out of range" % a)
        axes.append(canonical)
    if not axes or x.size == 0:
        return np.array(x, copy=True)
    return np.roll(x, shifts, axes)


register_op("Roll", inputs=["input: T", "shift: Tshift", "axis: Taxis"], outputs=["output: T"],
            attrs=["T: type", "Tshift: " + _INDEX, "Taxis: " + _INDEX], compute=_roll,
            shape=_helpers.unchanged_shape)


def roll(input, shift, axis, name=None):  # noqa: A002 (TF's argument name)
    return apply_op("Roll", input=input, shift=shift, axis=axis, name=name)


register_gradient("Roll", lambda op, grad: [roll(grad, -op._inputs[1], op._inputs[2]), None, None])


# --- ReverseSequence -----------------------------------------------------------------------------

def _reverse_sequence_kernel(op, ctx):
    seq_dim = op._attrs["seq_dim"]
    batch_dim = op._attrs["batch_dim"]

    def run(x, seq_lengths):
        if batch_dim >= x.ndim:
            raise ValueError("batch_dim must be < input rank: %d vs. %d" % (batch_dim, x.ndim))
        if seq_dim >= x.ndim:
            raise ValueError("seq_dim must be < input rank: %d vs. %d" % (seq_dim, x.ndim))
        if seq_lengths.ndim != 1:
            raise ValueError("seq_lengths must be 1-dim, not %d" % seq_lengths.ndim)
        if seq_lengths.shape[0] != x.shape[batch_dim]:
            raise ValueError("Length of seq_lengths != input.dims(%d), (%d vs. %d)"
                             % (batch_dim, seq_lengths.shape[0], x.shape[batch_dim]))
        lengths = seq_lengths.tolist()
        for b, length in enumerate(lengths):
            if length < 0:
                raise ValueError("seq_lens(%d) < 0" % b)
            if length > x.shape[seq_dim]:
                raise ValueError("seq_lens(%d) > input.dims(%d)" % (b, seq_dim))
        out = np.array(x, copy=True)
        for b, length in enumerate(lengths):
            index = [slice(None)] * x.ndim
            index[batch_dim] = b
            index[seq_dim] = slice(0, length)
            source = list(index)
            source[seq_dim] = slice(length - 1, None, -1) if length else slice(0, 0)
            out[tuple(index)] = x[tuple(source)]
        return out
    return run


def _reverse_sequence_shape(op):
    shape = op._inputs[0]._shape_val
    seq_dim, batch_dim = op._attrs["seq_dim"], op._attrs["batch_dim"]
    if shape.ndims is None:
        return [shape]
    if batch_dim == seq_dim:
        raise ValueError("batch_dim == seq_dim == %d" % seq_dim)
    if batch_dim >= shape.ndims or seq_dim >= shape.ndims:
        raise ValueError("batch_dim and seq_dim must be < input rank %d" % shape.ndims)
    lengths = op._inputs[1]._shape_val.with_rank(1)
    dims = shape.as_list()
    dims[batch_dim] = tensor_shape.Dimension(dims[batch_dim]).merge_with(lengths[0]).value
    return [tensor_shape.TensorShape(dims)]


register_op("ReverseSequence", inputs=["input: T", "seq_lengths: Tlen"], outputs=["output: T"],
            attrs=["seq_dim: int", "batch_dim: int = 0", "T: type",
                   "Tlen: {int32, int64} = DT_INT64"],
            kernel=_reverse_sequence_kernel, shape=_reverse_sequence_shape)


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None,  # noqa: A002
                     seq_dim=None, batch_dim=None):
    if seq_axis is not None and seq_dim is not None:
        raise ValueError("Cannot specify both 'seq_axis' and 'seq_dim'")
    if batch_axis is not None and batch_dim is not None:
        raise ValueError("Cannot specify both 'batch_axis' and 'batch_dim'")
    seq_axis = seq_dim if seq_axis is None else seq_axis
    batch_axis = batch_dim if batch_axis is None else batch_axis
    return apply_op("ReverseSequence", input=input, seq_lengths=seq_lengths, seq_dim=seq_axis,
                    batch_dim=0 if batch_axis is None else batch_axis,
                    Tlen=_literal_dtype(seq_lengths), name=name)


register_gradient("ReverseSequence", lambda op, grad: [
    reverse_sequence(grad, op._inputs[1], batch_axis=op._attrs["batch_dim"],
                     seq_axis=op._attrs["seq_dim"]), None])


# --- segment reductions --------------------------------------------------------------------------

def _limits(dtype):
    # bfloat16 (an ml_dtypes type, kind "V") has its limits in ml_dtypes.finfo.
    if dtype.kind in "iu":
        return np.iinfo(dtype)
    return ml_dtypes.finfo(dtype)


def _lowest(dtype):
    """std::numeric_limits<T>::lowest(): finite for floating-point types."""
    return _limits(dtype).min


def _highest(dtype):
    return _limits(dtype).max


def _truncated_mean(total, count):
    """total / count in total's dtype; integers truncate toward zero (C++'s /)."""
    if total.dtype.kind in "iu":
        magnitude = np.abs(total) // count.astype(total.dtype)
        return np.where(total < 0, -magnitude, magnitude).astype(total.dtype)
    return (total / count.astype(total.dtype)).astype(total.dtype)


def _reduce_rows(mode, data, ids, rows):
    """Reduces the rows of `data` (one per id) into `rows` segments; empty segments hold the
    reduction's identity (the lowest value for max, the highest for min)."""
    inner = data.shape[1:]
    with np.errstate(all="ignore"):
        if mode in ("sum", "mean"):
            out = np.zeros((rows,) + inner, dtype=data.dtype)
            np.add.at(out, ids, data)
            if mode == "mean":
                count = np.bincount(ids, minlength=rows).reshape((rows,) + (1,) * len(inner))
                out = _truncated_mean(out, np.maximum(count, 1))
            return out
        if mode == "prod":
            out = np.ones((rows,) + inner, dtype=data.dtype)
            np.multiply.at(out, ids, data)
            return out
        fill = _lowest(data.dtype) if mode == "max" else _highest(data.dtype)
        out = np.full((rows,) + inner, fill, dtype=data.dtype)
        (np.maximum if mode == "max" else np.minimum).at(out, ids, data)
        return out


def _sorted_segment(mode):
    def compute(data, segment_ids):
        if segment_ids.ndim != 1:
            raise ValueError("segment_ids should be a vector.")
        if data.ndim < 1 or segment_ids.shape[0] != data.shape[0]:
            raise ValueError("segment_ids should be the same size as dimension 0 of input.")
        ids = segment_ids.astype(np.int64)
        rows = int(ids[-1]) + 1 if ids.size else 0
        if ids.size and np.any(np.diff(ids) < 0):
            raise ValueError("segment ids are not increasing")
        if ids.size and ids[0] < 0:
            raise ValueError("Segment id %d out of range [0, %d), possibly because "
                             "'segment_ids' input is not sorted." % (ids[0], rows))
        out = _reduce_rows(mode, data, ids, rows)
        if mode in ("max", "min") and ids.size:
            # TensorFlow's sorted max/min give 0 for the segments no id names.
            empty = np.bincount(ids, minlength=rows) == 0
            out[empty] = 0
        return out
    return compute


def _unsorted_segment(mode):
    def factory(op, ctx):
        def run(data, segment_ids, num_segments):
            if num_segments.ndim != 0:
                raise ValueError("num_segments should be a scalar, not shape %s"
                                 % _dims(num_segments.shape))
            rows = int(num_segments)
            if rows < 0:
                raise ValueError("Input num_segments == %d must not be negative." % rows)
            if data.shape[:segment_ids.ndim] != segment_ids.shape:
                raise ValueError("data.shape = %s does not start with segment_ids.shape = %s"
                                 % (_dims(data.shape), _dims(segment_ids.shape)))
            if np.any(segment_ids >= rows):
                bad = np.argwhere(segment_ids >= rows)[0]
                raise ValueError("segment_ids[%s] = %d is out of range [0, %d)"
                                 % (",".join(str(i) for i in bad), segment_ids[tuple(bad)], rows))
            inner = data.shape[segment_ids.ndim:]
            ids = segment_ids.reshape(-1).astype(np.int64)
            flat = data.reshape((ids.size,) + inner)
            keep = ids >= 0  # negative ids drop their rows
            return _reduce_rows(mode, flat[keep], ids[keep], rows)
        return run
    return factory


def _segment_shape(op):
    def infer():
        data = op._inputs[0]._shape_val
        op._inputs[1]._shape_val.with_rank(1)
        return [tensor_shape.TensorShape([None]).concatenate(data[1:])]
    return _unknown_or(op, infer)


def _unsorted_segment_shape(op):
    def infer():
        data = op._inputs[0]._shape_val
        ids_rank = op._inputs[1]._shape_val.ndims
        num = array_ops.constant_input(op, 2)
        return [tensor_shape.TensorShape([None if num is None else int(num)]).concatenate(
            data[ids_rank:])]
    return _unknown_or(op, infer)


for _op_type, _mode, _types in (("SegmentMax", "max", _REAL_NUMBER_TYPES),
                                ("SegmentMin", "min", _REAL_NUMBER_TYPES),
                                ("SegmentMean", "mean", _NUMBER_TYPES),
                                ("SegmentProd", "prod", _NUMBER_TYPES)):
    register_op(_op_type, inputs=["data: T", "segment_ids: Tindices"], outputs=["output: T"],
                attrs=["T: " + _types, "Tindices: " + _INDEX],
                compute=_sorted_segment(_mode), shape=_segment_shape)
for _op_type, _mode, _types in (("UnsortedSegmentMax", "max", _REAL_NUMBER_TYPES),
                                ("UnsortedSegmentMin", "min", _REAL_NUMBER_TYPES),
                                ("UnsortedSegmentProd", "prod", _NUMBER_TYPES)):
    register_op(_op_type, inputs=["data: T", "segment_ids: Tindices",
                                  "num_segments: Tnumsegments"],
                outputs=["output: T"],
                attrs=["T: " + _types, "Tindices: " + _INDEX,
                       "Tnumsegments: {int32, int64} = DT_INT32"],
                kernel=_unsorted_segment(_mode), shape=_unsorted_segment_shape)


def segment_max(data, segment_ids, name=None):
    return apply_op("SegmentMax", data=data, segment_ids=segment_ids, name=name)


def segment_min(data, segment_ids, name=None):
    return apply_op("SegmentMin", data=data, segment_ids=segment_ids, name=name)


def segment_mean(data, segment_ids, name=None):
    return apply_op("SegmentMean", data=data, segment_ids=segment_ids, name=name)


def segment_prod(data, segment_ids, name=None):
    return apply_op("SegmentProd", data=data, segment_ids=segment_ids, name=name)


def unsorted_segment_max(data, segment_ids, num_segments, name=None):
    return apply_op("UnsortedSegmentMax", data=data, segment_ids=segment_ids,
                    num_segments=num_segments, name=name)


def unsorted_segment_min(data, segment_ids, num_segments, name=None):
    return apply_op("UnsortedSegmentMin", data=data, segment_ids=segment_ids,
                    num_segments=num_segments, name=name)


def unsorted_segment_prod(data, segment_ids, num_segments, name=None):
    return apply_op("UnsortedSegmentProd", data=data, segment_ids=segment_ids,
                    num_segments=num_segments, name=name)


def _segment_counts(data, segment_ids, num_segments):
    """How many rows each segment gathers (at least 1), shaped to broadcast against the
    segment sums."""
    num_segments = ops.convert_to_tensor(num_segments)
    ones_tensor = array_ops.ones(array_ops.shape_internal(segment_ids), dtype=data.dtype)
    n = math_ops.unsorted_segment_sum(ones_tensor, segment_ids, num_segments)
    broadcastable_shape = array_ops.concat(
        [num_segments[array_ops.newaxis],
         array_ops.ones([array_ops.rank(data) - array_ops.rank(segment_ids)],
                        dtype=num_segments.dtype)], axis=0)
    n = array_ops.reshape(n, broadcastable_shape)
    return math_ops.maximum(n, 1)


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    with ops.name_scope(name, "UnsortedSegmentMean"):
        data = ops.convert_to_tensor(data)
        segment_ids = ops.convert_to_tensor(segment_ids)
        n = _segment_counts(data, segment_ids, num_segments)
        summed = math_ops.unsorted_segment_sum(data, segment_ids, num_segments)
        return summed / n


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    with ops.name_scope(name, "UnsortedSegmentSqrtN"):
        data = ops.convert_to_tensor(data)
        segment_ids = ops.convert_to_tensor(segment_ids)
        n = _segment_counts(data, segment_ids, num_segments)
        summed = math_ops.unsorted_segment_sum(data, segment_ids, num_segments)
        return summed / math_ops.sqrt(n)


def _segment_mean_grad(op, grad):
    data_rank = array_ops.rank(op._inputs[0])
    segment_ids_shape = array_ops.shape(op._inputs[1])
    remaining_shape = array_ops.ones(array_ops.expand_dims(data_rank - 1, 0),
                                     dtype=segment_ids_shape.dtype)
    ones_shape = array_ops.concat([segment_ids_shape, remaining_shape], 0)
    ones = array_ops.ones(ones_shape, dtype=grad.dtype)
    scaled_grad = math_ops.divide(grad, math_ops.segment_sum(ones, op._inputs[1]))
    return [array_ops.gather(scaled_grad, op._inputs[1]), None]


def _segment_min_or_max_grad(op, grad):
    data, ids = op._inputs[0], op._inputs[1]
    zeros = array_ops.zeros_like(data, dtype=data.dtype)
    gathered_outputs = array_ops.gather(op._outputs[0], ids)
    is_selected = math_ops.equal(data, gathered_outputs)
    num_selected = math_ops.segment_sum(math_ops.cast(is_selected, grad.dtype), ids)
    weighted_grads = math_ops.divide(grad, num_selected)
    gathered_grads = array_ops.gather(weighted_grads, ids)
    return [array_ops.where_v2(is_selected, gathered_grads, zeros), None]


def _segment_prod_grad(op, grad):
    data, ids = op._inputs[0], op._inputs[1]
    is_zero = math_ops.equal(data, 0)
    num_zeros = math_ops.segment_sum(math_ops.cast(is_zero, dtype=dtypes.int32), ids)
    grad = array_ops.where_v2(math_ops.greater(num_zeros, 1), array_ops.zeros_like(grad), grad)
    non_zero_data = array_ops.where_v2(is_zero, array_ops.ones_like(data), data)
    non_zero_prod = segment_prod(non_zero_data, ids)
    gathered_prod = array_ops.gather(op._outputs[0], ids)
    gathered_non_zero_prod = array_ops.gather(non_zero_prod, ids)
    prod_divided_by_el = gathered_prod / non_zero_data
    partial_derivative = array_ops.where_v2(is_zero, gathered_non_zero_prod, prod_divided_by_el)
    gathered_grad = array_ops.gather(grad, ids)
    return [gathered_grad * partial_derivative, None]


def _gather_drop_negatives(params, ids, zero_clipped_indices=None, is_positive=None):
    """Gathers params at ids with zeros where an id is negative; also returns the clipped ids
    and the mask of kept positions, for reuse."""
    if zero_clipped_indices is None:
        zero_clipped_indices = math_ops.maximum(ids, array_ops.zeros_like(ids))
    gathered = array_ops.gather(params, zero_clipped_indices)
    if is_positive is None:
        is_positive = math_ops.greater_equal(ids, 0)
        is_positive_shape = array_ops.shape(is_positive)
        broadcastable_shape = array_ops.concat(
            [is_positive_shape,
             array_ops.ones([array_ops.rank(gathered) - array_ops.rank(is_positive)],
                            dtype=is_positive_shape.dtype)], axis=0)
        is_positive = array_ops.reshape(is_positive, broadcastable_shape)
        is_positive = is_positive & array_ops.ones_like(gathered, dtype=dtypes.bool_)
    zero_slice = array_ops.zeros_like(gathered)
    return (array_ops.where_v2(is_positive, gathered, zero_slice), zero_clipped_indices,
            is_positive)


def _unsorted_segment_min_or_max_grad(op, grad):
    gathered_outputs, zero_clipped_indices, is_positive = _gather_drop_negatives(
        op._outputs[0], op._inputs[1])
    is_selected = math_ops.equal(op._inputs[0], gathered_outputs)
    is_selected = math_ops.logical_and(is_selected, is_positive)
    num_selected = math_ops.unsorted_segment_sum(
        math_ops.cast(is_selected, grad.dtype), op._inputs[1], op._inputs[2])
    weighted_grads = math_ops.divide(grad, num_selected)
    gathered_grads = _gather_drop_negatives(weighted_grads, None, zero_clipped_indices,
                                            is_positive)[0]
    zeros = array_ops.zeros_like(gathered_grads)
    return [array_ops.where_v2(is_selected, gathered_grads, zeros), None, None]


def _unsorted_segment_prod_grad(op, grad):
    data, ids, num = op._inputs
    is_zero = math_ops.equal(data, 0)
    num_zeros = math_ops.unsorted_segment_sum(math_ops.cast(is_zero, dtype=dtypes.int32), ids,
                                              num)
    grad = array_ops.where_v2(math_ops.greater(num_zeros, 1), array_ops.zeros_like(grad), grad)
    non_zero_data = array_ops.where_v2(is_zero, array_ops.ones_like(data), data)
    non_zero_prod = unsorted_segment_prod(non_zero_data, ids, num)
    zero_clipped_indices = math_ops.maximum(ids, array_ops.zeros_like(ids))
    gathered_prod = array_ops.gather(op._outputs[0], zero_clipped_indices)
    gathered_non_zero_prod = array_ops.gather(non_zero_prod, zero_clipped_indices)
    prod_divided_by_el = gathered_prod / data
    partial_derivative = array_ops.where_v2(is_zero, gathered_non_zero_prod, prod_divided_by_el)
    gathered_grad = _gather_drop_negatives(grad, ids, zero_clipped_indices)[0]
    return [gathered_grad * partial_derivative, None, None]


register_gradient("SegmentMean", _segment_mean_grad)
register_gradient("SegmentMax", _segment_min_or_max_grad)
register_gradient("SegmentMin", _segment_min_or_max_grad)
register_gradient("SegmentProd", _segment_prod_grad)
register_gradient("UnsortedSegmentMax", _unsorted_segment_min_or_max_grad)
register_gradient("UnsortedSegmentMin", _unsorted_segment_min_or_max_grad)
register_gradient("UnsortedSegmentProd", _unsorted_segment_prod_grad)


# --- N-d scatters: ScatterNd{Update,Add,Sub} (ref), ResourceScatterNd*, TensorScatter* ----------

_BAD_INDICES_POLICIES = (b"", b"DEFAULT", b"ERROR", b"IGNORE")


def _bad_indices_policy(op):
    """The op's bad_indices_policy; an unknown one fails every run, as in TensorFlow."""
    policy = op._attrs.get("bad_indices_policy", b"")
    policy = policy.encode() if isinstance(policy, str) else policy
    if policy not in _BAD_INDICES_POLICIES:
        raise ValueError("Unknown bad indices handling attribute: %s" % policy.decode())
    return policy


def _scatter_nd_slices(op_type, shape, indices, updates, ignore_bad_indices=False):
    """Validates a scatter of `updates` into a tensor of `shape` at N-d `indices` (TensorFlow's
    checks and messages); returns (index tuple for NumPy, updates as one row per index).
    Out-of-range indices fail, or are skipped when `ignore_bad_indices`."""
    is_tensor_scatter = op_type.startswith("TensorScatter")
    if is_tensor_scatter:
        if indices.ndim < 1:
            raise ValueError("Indices shape must have rank at least one. Found:%s"
                             % _dims(indices.shape))
        depth = indices.shape[-1]
        outer = indices.shape[:-1]
        if updates.shape[:len(outer)] != outer:
            raise ValueError("Outer dimensions of indices and update must match. Indices shape: "
                             "%s, updates shape:%s" % (_dims(indices.shape),
                                                       _dims(updates.shape)))
        if len(shape) - depth != updates.ndim - len(outer):
            raise ValueError("Inner dimensions of output shape must match inner dimensions of "
                             "updates shape. Output: %s updates: %s"
                             % (_dims(shape), _dims(updates.shape)))
        if tuple(shape[depth:]) != updates.shape[len(outer):]:
            raise ValueError("The inner %d dimensions of output.shape=%s must match the inner %d "
                             "dimensions of updates.shape=%s"
                             % (len(shape) - depth, _dims(shape), updates.ndim - len(outer),
                                _dims(updates.shape)))
    else:
        if len(shape) < 1:
            raise ValueError("Output must be at least 1-D, got shape: %s" % _dims(shape))
        depth = indices.shape[-1] if indices.ndim else 0
        outer = indices.shape[:-1]
        batch = max(indices.ndim - 1, 0)
        if updates.shape[:batch] != outer:
            raise ValueError("Dimensions [0,%d) of indices[shape=%s] = %s must match dimensions "
                             "[0,%d) of updates[shape=%s] = %s"
                             % (batch, _dims(indices.shape), "x".join(str(d) for d in outer),
                                batch, _dims(updates.shape),
                                "x".join(str(d) for d in updates.shape[:batch])))
        if depth > len(shape) or tuple(shape[depth:]) != updates.shape[batch:]:
            raise ValueError("Dimensions [%d,%d) of input[shape=%s] = %s must match dimensions "
                             "[%d,%d) of updates[shape=%s] = %s"
                             % (depth, len(shape), _dims(shape),
                                "x".join(str(d) for d in shape[depth:]), batch, updates.ndim,
                                _dims(updates.shape),
                                "x".join(str(d) for d in updates.shape[batch:])))
    rows = indices.reshape(-1, depth).astype(np.int64)
    limits = np.asarray(shape[:depth], dtype=np.int64)
    bad = np.any((rows < 0) | (rows >= limits), axis=1)
    flat_updates = updates.reshape((rows.shape[0],) + tuple(shape[depth:]))
    if np.any(bad):
        if not ignore_bad_indices:
            first = int(np.argmax(bad))
            raise ValueError("indices[%d] = [%s] does not index into shape %s"
                             % (first, ", ".join(str(i) for i in rows[first]), _dims(shape)))
        rows, flat_updates = rows[~bad], flat_updates[~bad]
    return tuple(rows.T), flat_updates


def _scatter_nd_update(target, where, rows):
    target[where] = rows


_COMBINE = {"update": _scatter_nd_update, "add": np.add.at, "sub": np.subtract.at,
            "max": np.maximum.at, "min": np.minimum.at}


def _scatter_nd_into(op, mode, current, indices, updates):
    """A new array: `current` with the scatter applied."""
    ignore = _bad_indices_policy(op) == b"IGNORE"
    updates = np.asarray(updates, dtype=current.dtype)
    where, rows = _scatter_nd_slices(op.type, current.shape, np.asarray(indices), updates,
                                     ignore)
    out = np.array(current, copy=True)
    with np.errstate(all="ignore"):
        _COMBINE[mode](out, where, rows)
    return out


def _variable_scatter_nd_kernel(mode):
    def factory(op, ctx):
        def run(ref, indices, updates):
            new = _scatter_nd_into(op, mode, ref.get(op.name), indices, updates)
            new.flags.writeable = False
            ref.value = new
            return ref
        return run
    return factory


def _resource_scatter_nd_kernel(mode):
    write = _variable_scatter_nd_kernel(mode)

    def factory(op, ctx):
        update = write(op, ctx)

        def run(handle, indices, updates):  # no outputs
            update(handle, indices, updates)
        return run
    return factory


def _tensor_scatter_kernel(mode):
    def factory(op, ctx):
        return lambda tensor, indices, updates: _scatter_nd_into(op, mode, tensor, indices,
                                                                 updates)
    return factory


_BAD_INDICES = "bad_indices_policy: string = ''"
for _mode, _types, _locking in (("Update", "type", "true"), ("Add", _NUMBER_TYPES, "false"),
                                ("Sub", _NUMBER_TYPES, "false")):
    register_op("ScatterNd" + _mode, inputs=["ref: Ref(T)", "indices: Tindices", "updates: T"],
                outputs=["output_ref: Ref(T)"],
                attrs=["T: " + _types, "Tindices: " + _INDEX,
                       "use_locking: bool = " + _locking, _BAD_INDICES],
                kernel=_variable_scatter_nd_kernel(_mode.lower()),
                shape=_helpers.unchanged_shape)
    register_op("ResourceScatterNd" + _mode,
                inputs=["ref: resource", "indices: Tindices", "updates: T"],
                attrs=["T: type", "Tindices: " + _INDEX, "use_locking: bool = true",
                       _BAD_INDICES], stateful=True,
                kernel=_resource_scatter_nd_kernel(_mode.lower()))
    register_gradient("ScatterNd" + _mode, None)
    register_gradient("ResourceScatterNd" + _mode, None)
for _mode in ("Update", "Add", "Sub", "Max", "Min"):
    register_op("TensorScatter" + _mode,
                inputs=["tensor: T", "indices: Tindices", "updates: T"], outputs=["output: T"],
                attrs=["T: type", "Tindices: " + ("{int16, int32, int64, uint16}"
                                                  if _mode == "Update" else _INDEX),
                       _BAD_INDICES],
                kernel=_tensor_scatter_kernel(_mode.lower()),
                shape=_helpers.unchanged_shape)


def _variable_scatter_nd(mode, ref, indices, updates, use_locking, name):
    if getattr(ref, "_IS_RESOURCE", False):  # the resource op, then a lazy read
        updates = ops.convert_to_tensor(updates, dtype=ref.dtype)
        return ref._maybe_read(apply_op("ResourceScatterNd" + mode, ref=ref._handle,
                                        indices=indices, updates=updates, name=name), True)
    # TensorFlow 1.x's builders hand `name` positionally to the generated wrapper, whose next
    # parameter is bad_indices_policy: the op keeps its default name and the attr gets the name.
    return apply_op("ScatterNd" + mode, ref=ref, indices=indices, updates=updates,
                    use_locking=use_locking, bad_indices_policy=name or "")


def scatter_nd_update(ref, indices, updates, use_locking=True, name=None):
    return _variable_scatter_nd("Update", ref, indices, updates, use_locking, name)


def scatter_nd_add(ref, indices, updates, use_locking=False, name=None):
    return _variable_scatter_nd("Add", ref, indices, updates, use_locking, name)


def scatter_nd_sub(ref, indices, updates, use_locking=False, name=None):
    return _variable_scatter_nd("Sub", ref, indices, updates, use_locking, name)


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    return apply_op("TensorScatterUpdate", tensor=tensor, indices=indices, updates=updates,
                    name=name)


def tensor_scatter_nd_add(tensor, indices, updates, name=None):
    return apply_op("TensorScatterAdd", tensor=tensor, indices=indices, updates=updates,
                    name=name)


def tensor_scatter_nd_sub(tensor, indices, updates, name=None):
    return apply_op("TensorScatterSub", tensor=tensor, indices=indices, updates=updates,
                    name=name)


def tensor_scatter_nd_max(tensor, indices, updates, name=None):
    return apply_op("TensorScatterMax", tensor=tensor, indices=indices, updates=updates,
                    name=name)


def tensor_scatter_nd_min(tensor, indices, updates, name=None):
    return apply_op("TensorScatterMin", tensor=tensor, indices=indices, updates=updates,
                    name=name)


def _tensor_scatter_update_grad(op, grad):
    indices = op._inputs[1]
    updates_grad = array_ops.gather_nd(grad, indices)
    tensor_grad = tensor_scatter_nd_update(array_ops.identity(grad), indices,
                                           array_ops.zeros_like(op._inputs[2], dtype=grad.dtype))
    return [tensor_grad, None, updates_grad]


def _tensor_scatter_add_grad(op, grad):
    updates_grad = array_ops.gather_nd(grad, op._inputs[1])
    return [array_ops.identity(grad), None, updates_grad]


def _tensor_scatter_sub_grad(op, grad):
    updates_grad = array_ops.gather_nd(grad, op._inputs[1])
    return [array_ops.identity(grad), None, -updates_grad]


def _tensor_scatter_min_or_max_grad(op, grad):
    x, indices, y = op._inputs
    output = op._outputs[0]
    x_indicators = math_ops.cast(math_ops.equal(x, output), grad.dtype)
    y_output = array_ops.gather_nd(output, indices)
    y_indicators = math_ops.cast(math_ops.equal(y, y_output), grad.dtype)
    ys_indicators = array_ops.scatter_nd(indices, y_indicators,
                                         array_ops.shape(x, out_type=indices.dtype))
    indicators = x_indicators + ys_indicators
    x_grad = grad * x_indicators / indicators
    y_grad = array_ops.gather_nd(grad / indicators, indices) * y_indicators
    return [x_grad, None, y_grad]


register_gradient("TensorScatterUpdate", _tensor_scatter_update_grad)
register_gradient("TensorScatterAdd", _tensor_scatter_add_grad)
register_gradient("TensorScatterSub", _tensor_scatter_sub_grad)
register_gradient("TensorScatterMax", _tensor_scatter_min_or_max_grad)
register_gradient("TensorScatterMin", _tensor_scatter_min_or_max_grad)


# --- SpaceToBatchND / BatchToSpaceND (and the 4-D V1 forms) -------------------------------------

def _block_args(x, block_shape, pairs, pairs_name):
    block = np.asarray(block_shape).reshape(-1).astype(np.int64)
    pairs = np.asarray(pairs).astype(np.int64)
    if np.ndim(block_shape) != 1:
        raise ValueError("block_shape must be 1-D, not %s" % _dims(np.shape(block_shape)))
    if pairs.shape != (block.size, 2):
        raise ValueError("%s should have shape [%d, 2] instead of %s"
                         % (pairs_name, block.size, _dims(pairs.shape)))
    if x.ndim < 1 + block.size:
        raise ValueError("input rank should be >= %d instead of %d" % (1 + block.size, x.ndim))
    for i, b in enumerate(block.tolist()):
        if b < 1:
            raise ValueError("All values in block_shape must be positive, got value, %d at "
                             "index %d." % (b, i))
    return block, pairs


def _space_to_batch(x, block_shape, paddings):
    block, paddings = _block_args(x, block_shape, paddings, "paddings")
    if np.any(paddings < 0):
        raise ValueError("Paddings must be non-negative")
    m = block.size
    padded = np.pad(x, [(0, 0)] + [tuple(p) for p in paddings.tolist()]
                    + [(0, 0)] * (x.ndim - 1 - m))
    for i in range(m):
        if padded.shape[1 + i] % block[i]:
            raise ValueError("padded_shape[%d]=%d is not divisible by block_shape[%d]=%d"
                             % (i, padded.shape[1 + i], i, block[i]))
    batch = x.shape[0]
    rest = padded.shape[1 + m:]
    split = [batch]
    for i in range(m):
        split += [padded.shape[1 + i] // block[i], block[i]]
    blocks = padded.reshape(split + list(rest))
    # [batch, s0, b0, s1, b1, ..., rest] -> [b0, b1, ..., batch, s0, s1, ..., rest]
    order = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + \
        list(range(1 + 2 * m, blocks.ndim))
    out_shape = [batch * int(np.prod(block))] + [padded.shape[1 + i] // block[i]
                                                 for i in range(m)] + list(rest)
    return np.ascontiguousarray(blocks.transpose(order)).reshape(out_shape)


def _batch_to_space(x, block_shape, crops):
    block, crops = _block_args(x, block_shape, crops, "crops")
    if np.any(crops < 0):
        raise ValueError("Crops must be non-negative")
    m = block.size
    block_count = int(np.prod(block))
    if x.shape[0] % block_count:
        raise ValueError("Input batch dimension (%d) is not divisible by product of block sizes "
                         "(%d)" % (x.shape[0], block_count))
    for i in range(m):
        cropped = x.shape[1 + i] * block[i] - crops[i, 0] - crops[i, 1]
        if cropped < 0:
            raise ValueError("cropped_shape[%d]=%d must be non-negative" % (i, cropped))
    batch = x.shape[0] // block_count
    spatial = x.shape[1:1 + m]
    rest = x.shape[1 + m:]
    blocks = x.reshape(list(block) + [batch] + list(spatial) + list(rest))
    # [b0, ..., batch, s0, s1, ..., rest] -> [batch, s0, b0, s1, b1, ..., rest]
    order = [m]
    for i in range(m):
        order += [m + 1 + i, i]
    order += list(range(2 * m + 1, blocks.ndim))
    full = np.ascontiguousarray(blocks.transpose(order)).reshape(
        [batch] + [spatial[i] * block[i] for i in range(m)] + list(rest))
    index = [slice(None)] + [slice(crops[i, 0], full.shape[1 + i] - crops[i, 1])
                             for i in range(m)]
    return np.array(full[tuple(index)], copy=True)


def _block_shape_fn(forward):
    def infer(op):
        x = op._inputs[0]._shape_val
        block = array_ops.constant_input(op, 1)
        pairs = array_ops.constant_input(op, 2)
        block_tensor = op._inputs[1]._shape_val.with_rank(1)
        op._inputs[2]._shape_val.with_rank(2)
        m = block_tensor[0].value if block is None else np.size(block)
        if x.ndims is None:
            return [tensor_shape.unknown_shape()]
        if m is not None and x.ndims < 1 + m:
            raise ValueError("input rank should be >= %d instead of %d" % (1 + m, x.ndims))
        if block is None or pairs is None:
            return [tensor_shape.TensorShape([None] * x.ndims)]
        block = np.asarray(block).reshape(-1)
        pairs = np.asarray(pairs).reshape(-1, 2)
        dims = x.as_list()
        count = int(np.prod(block))
        out = list(dims)
        out[0] = None if dims[0] is None else (dims[0] * count if forward else dims[0] // count)
        for i in range(m):
            size = dims[1 + i]
            if size is None:
                continue
            if forward:
                padded = size + int(pairs[i].sum())
                if padded % block[i]:
                    raise ValueError("padded_shape[%d]=%d is not divisible by block_shape[%d]=%d"
                                     % (i, padded, i, block[i]))
                out[1 + i] = padded // int(block[i])
            else:
                out[1 + i] = size * int(block[i]) - int(pairs[i].sum())
        return [tensor_shape.TensorShape(out)]
    return infer


register_op("SpaceToBatchND", inputs=["input: T", "block_shape: Tblock_shape",
                                      "paddings: Tpaddings"], outputs=["output: T"],
            attrs=["T: type", "Tblock_shape: {int32, int64} = DT_INT32",
                   "Tpaddings: {int32, int64} = DT_INT32"],
            compute=_space_to_batch, shape=_block_shape_fn(True))
register_op("BatchToSpaceND", inputs=["input: T", "block_shape: Tblock_shape", "crops: Tcrops"],
            outputs=["output: T"],
            attrs=["T: type", "Tblock_shape: {int32, int64} = DT_INT32",
                   "Tcrops: {int32, int64} = DT_INT32"],
            compute=_batch_to_space, shape=_block_shape_fn(False))


def _v1_block_kernel(fn):
    def factory(op, ctx):
        block = np.array([op._attrs["block_size"]] * 2, dtype=np.int64)

        def run(x, pairs):
            if x.ndim != 4:
                raise ValueError("input rank should be 4 instead of %d" % x.ndim)
            return fn(x, block, pairs)
        return run
    return factory


def _v1_block_shape(op):
    x = op._inputs[0]._shape_val.with_rank(4)
    pairs = array_ops.constant_input(op, 1)
    block = op._attrs["block_size"]
    if pairs is None:
        return [tensor_shape.TensorShape([None] * 4)]
    pairs = np.asarray(pairs).reshape(2, 2)
    dims = x.as_list()
    forward = op.type == "SpaceToBatch"
    out = [None if dims[0] is None else (dims[0] * block * block if forward
                                         else dims[0] // (block * block))]
    for i in range(2):
        size = dims[1 + i]
        out.append(None if size is None else
                   ((size + int(pairs[i].sum())) // block if forward
                    else size * block - int(pairs[i].sum())))
    return [tensor_shape.TensorShape(out + [dims[3]])]


register_op("SpaceToBatch", inputs=["input: T", "paddings: Tpaddings"], outputs=["output: T"],
            attrs=["T: type", "Tpaddings: {int32, int64} = DT_INT32", "block_size: int >= 2"],
            kernel=_v1_block_kernel(_space_to_batch), shape=_v1_block_shape)
register_op("BatchToSpace", inputs=["input: T", "crops: Tidx"], outputs=["output: T"],
            attrs=["T: type", "block_size: int >= 2", "Tidx: {int32, int64} = DT_INT32"],
            kernel=_v1_block_kernel(_batch_to_space), shape=_v1_block_shape)


def space_to_batch_nd(input, block_shape, paddings, name=None):  # noqa: A002
    return apply_op("SpaceToBatchND", input=input, block_shape=block_shape, paddings=paddings,
                    Tblock_shape=_literal_dtype(block_shape), Tpaddings=_literal_dtype(paddings),
                    name=name)


def batch_to_space_nd(input, block_shape, crops, name=None):  # noqa: A002
    return apply_op("BatchToSpaceND", input=input, block_shape=block_shape, crops=crops,
                    Tblock_shape=_literal_dtype(block_shape), Tcrops=_literal_dtype(crops),
                    name=name)


def space_to_batch(input, paddings, block_size=None, name=None, block_shape=None):  # noqa: A002
    """tf.space_to_batch (TF1): a SpaceToBatchND with an int64 [block_size, block_size]."""
    block_size = block_shape if block_size is None else block_size
    result = space_to_batch_nd(input, paddings=paddings, name=name,
                               block_shape=np.array([block_size, block_size], dtype=np.int64))
    result.set_shape(result.get_shape().with_rank(4))
    return result


def batch_to_space(input, crops, block_size, name=None, block_shape=None):  # noqa: A002
    """tf.batch_to_space (TF1): a BatchToSpaceND with an int64 [block_size, block_size]."""
    block_size = block_shape if block_size is None else block_size
    result = batch_to_space_nd(input, crops=crops, name=name,
                               block_shape=np.array([block_size, block_size], dtype=np.int64))
    result.set_shape(result.get_shape().with_rank(4))
    return result


register_gradient("SpaceToBatchND", lambda op, grad: [
    batch_to_space_nd(grad, op._inputs[1], op._inputs[2]), None, None])
register_gradient("BatchToSpaceND", lambda op, grad: [
    space_to_batch_nd(grad, op._inputs[1], op._inputs[2]), None, None])
register_gradient("SpaceToBatch", lambda op, grad: [
    batch_to_space(grad, op._inputs[1], block_size=op._attrs["block_size"]), None])
register_gradient("BatchToSpace", lambda op, grad: [
    space_to_batch(grad, op._inputs[1], block_size=op._attrs["block_size"]), None])


# --- Cross ---------------------------------------------------------------------------------------

def _cross_kernel(op, ctx):
    def run(a, b):
        if a.shape != b.shape:
            raise ValueError("Both inputs must be of same shape: %s vs. %s"
                             % (_dims(a.shape), _dims(b.shape)))
        if a.ndim < 1:
            raise ValueError("Input must be at least 1D%s" % _dims(a.shape))
        if a.shape[-1] != 3:
            raise errors.FailedPreconditionError(
                None, op, "Cross-products are only defined for 3-element vectors.\n\t "
                "[[{{node %s}}]]" % op.name)
        with np.errstate(all="ignore"):
            return np.cross(a, b).astype(a.dtype, copy=False)
    return run


def _cross_shape(op):
    a, b = op._inputs[0]._shape_val, op._inputs[1]._shape_val
    merged = a.merge_with(b)
    if merged.ndims is not None:
        last = merged.with_rank_at_least(1).as_list()[-1]
        if last is not None and last != 3:
            raise ValueError("Dimension must be 3 but is %d" % last)
    return [merged]


register_op("Cross", inputs=["a: T", "b: T"], outputs=["product: T"],
            attrs=["T: " + _REAL_NUMBER_TYPES], kernel=_cross_kernel, shape=_cross_shape)


def cross(a, b, name=None):
    return apply_op("Cross", a=a, b=b, name=name)


register_gradient("Cross", lambda op, grad: [cross(op._inputs[1], grad),
                                             cross(grad, op._inputs[0])])


# --- UniqueWithCounts ----------------------------------------------------------------------------

def _unique_with_counts_kernel(op, ctx):
    index_dtype = op._attrs["out_idx"].as_numpy

    def run(x):
        if x.ndim != 1:
            raise ValueError("unique expects a 1D vector.")
        values, first, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                                   return_counts=True)
        order = np.argsort(first, kind="stable")  # first-occurrence order, as TensorFlow
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return [values[order].astype(x.dtype), rank[inverse.reshape(-1)].astype(index_dtype),
                counts[order].astype(index_dtype)]
    return run


def _unique_with_counts_shape(op):
    op._inputs[0]._shape_val.with_rank(1)
    return [tensor_shape.TensorShape([None]), op._inputs[0]._shape_val,
            tensor_shape.TensorShape([None])]


register_op("UniqueWithCounts", inputs=["x: T"], outputs=["y: T", "idx: out_idx",
                                                           "count: out_idx"],
            attrs=["T: type", "out_idx: {int32, int64} = DT_INT32"],
            kernel=_unique_with_counts_kernel, shape=_unique_with_counts_shape)
register_gradient("UniqueWithCounts", None)


def unique_with_counts(x, out_idx=dtypes.int32, name=None):
    return apply_op("UniqueWithCounts", x=x, out_idx=out_idx, name=name)


# --- UnravelIndex --------------------------------------------------------------------------------

def _unravel_index(indices, dims):
    if dims.ndim != 1:
        raise ValueError("The indices can only be 1-D, got \"%s\"" % _dims(dims.shape))
    if indices.ndim > 1:
        raise ValueError("The indices can only be scalar or vector, got \"%s\""
                         % _dims(indices.shape))
    zero = np.flatnonzero(dims == 0)
    if zero.size:
        raise ValueError("Input dims cannot contain a dim of zero, but dims contains zero at "
                         "index %d" % zero[0])
    total = int(np.prod(dims.astype(np.int64)))
    flat = indices.reshape(-1).astype(np.int64)
    if np.any(flat >= total):
        raise ValueError("index is out of bound as with dims")
    # C++ integer arithmetic: division truncates, the remainder keeps the dividend's sign.
    strides = np.array([int(np.prod(dims[i + 1:].astype(np.int64))) for i in range(dims.size)],
                       dtype=np.int64)
    quotient = np.sign(flat)[None, :] * (np.abs(flat)[None, :] // strides[:, None])
    out = np.fmod(quotient, dims.astype(np.int64)[:, None]).astype(indices.dtype)
    return out.reshape(dims.size) if indices.ndim == 0 else out


def _unravel_index_shape(op):
    indices = op._inputs[0]._shape_val
    dims = op._inputs[1]._shape_val.with_rank(1)
    if indices.ndims is None:
        return [tensor_shape.unknown_shape()]
    if indices.ndims == 0:
        return [dims]
    return [tensor_shape.TensorShape([dims[0], indices.with_rank(1)[0]])]


register_op("UnravelIndex", inputs=["indices: Tidx", "dims: Tidx"], outputs=["output: Tidx"],
            attrs=["Tidx: {int32, int64} = DT_INT32"], compute=_unravel_index,
            shape=_unravel_index_shape)
register_gradient("UnravelIndex", None)


def unravel_index(indices, dims, name=None):
    return apply_op("UnravelIndex", indices=indices, dims=dims, name=name)


# --- EnsureShape ---------------------------------------------------------------------------------

def _ensure_shape_kernel(op, ctx):
    expected = op._attrs["shape"]
    source = op._inputs[0]

    def run(x):
        if not expected.is_compatible_with(tensor_shape.TensorShape(x.shape)):
            raise ValueError("Shape of tensor %s %s is not compatible with expected shape %s."
                             % (source.op.name, _dims(x.shape), _shape_text(expected)))
        return x
    return run


def _shape_text(shape):
    if shape.ndims is None:
        return "<unknown>"
    return _dims("?" if d is None else d for d in shape.as_list())


def _ensure_shape_shape(op):
    return [op._inputs[0]._shape_val.merge_with(op._attrs["shape"])]


register_op("EnsureShape", inputs=["input: T"], outputs=["output: T"],
            attrs=["shape: shape", "T: type"], kernel=_ensure_shape_kernel,
            shape=_ensure_shape_shape)
register_gradient("EnsureShape", lambda op, grad: [grad])


def ensure_shape(x, shape, name=None):
    return apply_op("EnsureShape", input=x, shape=tensor_shape.as_shape(shape), name=name)


# --- CheckNumerics -------------------------------------------------------------------------------

def _check_numerics_kernel(op, ctx):
    message = op._attrs["message"]
    message = message.decode() if isinstance(message, bytes) else message

    def run(x):
        with np.errstate(all="ignore"):
            has_nan = bool(np.isnan(x).any())
            has_inf = bool(np.isinf(x).any())
        if has_nan or has_inf:
            found = " and ".join(kind for kind, present in (("Inf", has_inf), ("NaN", has_nan))
                                 if present)
            raise ValueError("%s : Tensor had %s values" % (message, found))
        return x
    return run


register_op("CheckNumerics", inputs=["tensor: T"], outputs=["output: T"],
            attrs=["T: {bfloat16, half, float, double}", "message: string"], stateful=True,
            kernel=_check_numerics_kernel, shape=_helpers.unchanged_shape)


def check_numerics(tensor, message, name=None):
    return apply_op("CheckNumerics", tensor=tensor, message=message, name=name)


def verify_tensor_all_finite(t=None, msg=None, name=None, x=None, message=None):
    """tf.verify_tensor_all_finite: `t`, available once CheckNumerics found it finite."""
    t = x if t is None else t
    msg = message if msg is None else msg
    with ops.name_scope(name, "VerifyFinite", [t]):
        t = ops.convert_to_tensor(t, name="t")
        with ops.colocate_with(t):
            verify_input = check_numerics(t, message=msg)
            return control_flow_ops.with_dependencies([verify_input], t)


def _check_numerics_grad(op, grad):
    # TensorFlow formats the attr's bytes as they are: "... gradient. b'message'".
    return [check_numerics(grad, "Not a number (NaN) or infinity (Inf) values detected in "
                                 "gradient. %s" % (op._attrs["message"],))]


register_gradient("CheckNumerics", _check_numerics_grad)


# --- HistogramFixedWidth -------------------------------------------------------------------------

def _histogram_kernel(op, ctx):
    out_dtype = op._attrs["dtype"].as_numpy

    def run(values, value_range, nbins):
        if value_range.shape != (2,):
            raise ValueError("value_range should be a vector of 2 elements.")
        if nbins.ndim != 0:
            raise ValueError("nbins should be a scalar.")
        bins = int(nbins)
        low, high = value_range.tolist()
        if not low < high:
            raise ValueError("value_range should satisfy value_range[0] < value_range[1], but "
                             "got '[%s]'" % ", ".join(_number_text(v) for v in (low, high)))
        if bins <= 0:
            raise ValueError("nbins should be a positive number, but got '%d'" % bins)
        # As TensorFlow: the offset in the values' type, the bin in double precision.
        with np.errstate(all="ignore"):
            offset = (np.maximum(values, value_range[0]) - value_range[0]).astype(np.float64)
            step = float(np.float64(high) - np.float64(low)) / bins
            index = np.minimum(offset / step, bins - 1).astype(np.int32)
        return np.bincount(index.reshape(-1), minlength=bins).astype(out_dtype)
    return run


def _number_text(value):
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _histogram_shape(op):
    op._inputs[1]._shape_val.with_rank(1)
    op._inputs[2]._shape_val.with_rank(0)
    bins = array_ops.constant_input(op, 2)
    return [tensor_shape.TensorShape([None if bins is None else int(bins)])]


register_op("HistogramFixedWidth", inputs=["values: T", "value_range: T", "nbins: int32"],
            outputs=["out: dtype"],
            attrs=["T: {int32, int64, float, double}", "dtype: {int32, int64} = DT_INT32"],
            kernel=_histogram_kernel, shape=_histogram_shape)
register_gradient("HistogramFixedWidth", None)


def histogram_fixed_width(values, value_range, nbins=100, dtype=dtypes.int32, name=None):
    with ops.name_scope(name, "histogram_fixed_width", [values, value_range, nbins]) as scope:
        return apply_op("HistogramFixedWidth", values=values, value_range=value_range,
                        nbins=nbins, dtype=dtype, name=scope)


# --- Bincount / DenseBincount --------------------------------------------------------------------

def _count_bins(values, size, weights, binary_output, out_dtype):
    """Counts (or sums `weights` of) values < size in each bin of the last axis."""
    if np.any(values < 0):
        raise ValueError("Input arr must be non-negative!")
    rows = values.reshape(-1, values.shape[-1]) if values.ndim == 2 else values.reshape(1, -1)
    weight_rows = None if weights.size == 0 else weights.reshape(rows.shape)
    out = np.zeros((rows.shape[0], size), dtype=out_dtype)
    for r in range(rows.shape[0]):
        keep = rows[r] < size
        picked = rows[r][keep].astype(np.int64)
        if binary_output:
            out[r, picked] = 1
        elif weight_rows is None:
            np.add.at(out[r], picked, 1)
        else:
            np.add.at(out[r], picked, weight_rows[r][keep])
    return out if values.ndim == 2 else out.reshape(size)


def _bincount_kernel(op, ctx):
    out_dtype = op._attrs["T"].as_numpy

    def run(arr, size, weights):
        size = int(size)
        if size < 0:
            raise ValueError("Input size should be non-negative but got %d" % size)
        if weights.size and weights.size != arr.size:
            raise ValueError("Input indices and weights must have the same size.")
        return _count_bins(arr.reshape(-1), size, weights.reshape(-1), False, out_dtype)
    return run


def _dense_bincount_kernel(op, ctx):
    out_dtype = op._attrs["T"].as_numpy
    binary_output = op._attrs["binary_output"]

    def run(values, size, weights):
        size = int(size)
        if size < 0:
            raise ValueError("size (%d) must be non-negative" % size)
        if values.ndim > 2:
            raise ValueError("Shape must be at most rank 2 but is rank %d" % values.ndim)
        if weights.size and weights.shape != values.shape:
            raise ValueError("`weights` must be the same shape as `arr` or a length-0 `Tensor`, "
                             "in which case it acts as all weights equal to 1. Received %s"
                             % _dims(weights.shape))
        return _count_bins(values, size, weights, binary_output, out_dtype)
    return run


def _static_size(op):
    size = array_ops.constant_input(op, 1)
    if size is not None and int(size) < 0:
        raise ValueError("size (%d) must be non-negative" % int(size))
    return None if size is None else int(size)


def _bincount_shape(op):
    return [tensor_shape.TensorShape([_static_size(op)])]


def _dense_bincount_shape(op):
    values = op._inputs[0]._shape_val
    size = _static_size(op)
    if values.ndims is None:
        return [tensor_shape.unknown_shape()]
    if values.ndims == 2:
        return [tensor_shape.TensorShape([values.as_list()[0], size])]
    return [tensor_shape.TensorShape([size])]


register_op("Bincount", inputs=["arr: int32", "size: int32", "weights: T"], outputs=["bins: T"],
            attrs=["T: {int32, int64, float, double}"], kernel=_bincount_kernel,
            shape=_bincount_shape)
register_op("DenseBincount", inputs=["input: Tidx", "size: Tidx", "weights: T"],
            outputs=["output: T"],
            attrs=["Tidx: {int32, int64}", "T: {int32, int64, float, double}",
                   "binary_output: bool = false"],
            kernel=_dense_bincount_kernel, shape=_dense_bincount_shape)
register_gradient("Bincount", None)
register_gradient("DenseBincount", None)


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32, name=None,
             axis=None, binary_output=False):
    """tf.math.bincount as TensorFlow builds it: the output size from the values, then one
    DenseBincount."""
    with ops.name_scope("bincount" if name is None else name):
        arr = ops.convert_to_tensor(arr, name="arr")
        if weights is not None:
            weights = ops.convert_to_tensor(weights, name="weights")
        if weights is not None and binary_output:
            raise ValueError("Arguments `binary_output` and `weights` are mutually exclusive. "
                             "Please specify only one.")
        if not arr.dtype.is_integer:
            arr = math_ops.cast(arr, dtypes.int32)
        axis = 0 if axis is None else axis
        if axis not in (0, -1):
            raise ValueError("Unsupported value for argument axis=%s. Only 0 and -1 are "
                             "currently supported." % axis)
        array_is_nonempty = array_ops.size(arr) > 0
        output_size = math_ops.cast(array_is_nonempty, arr.dtype) * (
            math_ops.reduce_max(arr) + 1)
        if minlength is not None:
            minlength = ops.convert_to_tensor(minlength, name="minlength", dtype=arr.dtype)
            output_size = math_ops.maximum(minlength, output_size)
        if maxlength is not None:
            maxlength = ops.convert_to_tensor(maxlength, name="maxlength", dtype=arr.dtype)
            output_size = math_ops.minimum(maxlength, output_size)
        if axis == 0:
            if weights is not None:
                weights = array_ops.reshape(weights, [-1])
            arr = array_ops.reshape(arr, [-1])
        if weights is None:
            weights = array_ops.constant([], dtype=dtype)
        return apply_op("DenseBincount", input=arr, size=output_size, weights=weights,
                        binary_output=binary_output)


def bincount_v1(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32):
    """tf.bincount (TF1)."""
    return bincount(arr, weights, minlength, maxlength, dtype)
