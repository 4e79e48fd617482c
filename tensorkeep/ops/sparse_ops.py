"""Sparse-tensor ops (TensorFlow's gen_sparse_ops family) and the tf.sparse_* builders over
SparseTensor: products and sums with dense tensors, sparse+sparse sums, reordering, reshaping,
reductions, softmax, slicing, splitting, concatenation, filling empty rows."""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util
from tensorkeep.framework.indexed_slices import IndexedSlices
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.framework.sparse_tensor import SparseTensor, SparseTensorValue
from tensorkeep.ops import array_ops
from tensorkeep.ops import math_ops

# TensorFlow's type lists, in its order.
_NUMBER_TYPES = ("{float, double, int32, uint8, int16, int8, complex64, int64, qint8, quint8, "
                 "qint32, bfloat16, qint16, quint16, uint16, complex128, half, uint32, uint64}")
_REAL_NUMBER_TYPES = ("{float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, "
                      "uint32, uint64}")

_UNKNOWN_MATRIX = tensor_shape.TensorShape([None, None])
_UNKNOWN_VECTOR = tensor_shape.TensorShape([None])


def _invalid(op, message):
    return errors.InvalidArgumentError(None, op, message)


def _shape_text(dims):
    return "[" + ",".join(str(int(d)) for d in dims) + "]"


def _check_rank(op, array, rank, message):
    """InvalidArgumentError `message` followed by array's shape unless it has `rank` dims."""
    if array.ndim != rank:
        raise _invalid(op, message + _shape_text(array.shape))


def _rank_of(shape_tensor):
    """The static length of a 1-D dense-shape tensor, or None."""
    dims = shape_tensor._shape_val
    return dims.as_list()[0] if dims.ndims == 1 else None


def _row_major_order(indices):
    """The stable permutation sorting index rows lexicographically."""
    if len(indices) == 0 or indices.shape[1] == 0:
        return np.arange(len(indices))
    return np.lexsort(indices.T[::-1])


def _compare_index(a, b):
    """-1, 0, 1 as lexicographic comparison of two index rows (TensorFlow's merge order)."""
    for x, y in zip(a, b):
        if x < y:
            return -1
        if x > y:
            return 1
    return 0


def _merge(a_indices, b_indices):
    """Walks two index lists like TensorFlow's sorted merge: yields (i or None, j or None)."""
    i = j = 0
    while i < len(a_indices) and j < len(b_indices):
        order = _compare_index(a_indices[i], b_indices[j])
        if order < 0:
            yield i, None
            i += 1
        elif order > 0:
            yield None, j
            j += 1
        else:
            yield i, j
            i += 1
            j += 1
    for rest in range(i, len(a_indices)):
        yield rest, None
    for rest in range(j, len(b_indices)):
        yield None, rest


def _check_same_shapes(op, a_shape, b_shape):
    if len(a_shape) != len(b_shape):
        raise _invalid(op, "Operands do not have the same ranks; got shapes: %s and %s"
                       % (_shape_text(a_shape), _shape_text(b_shape)))
    for dim, (x, y) in enumerate(zip(a_shape, b_shape)):
        if x != y:
            raise _invalid(op, "Operands' shapes do not match: got %d and %d for dimension %d"
                           % (x, y, dim))


# --- SparseTensorDenseMatMul ---------------------------------------------------------------------

def _sparse_dense_matmul_kernel(op, ctx):
    adjoint_a = op._attrs["adjoint_a"]
    adjoint_b = op._attrs["adjoint_b"]

    def run(a_indices, a_values, a_shape, b):
        if b.ndim != 2:
            raise _invalid(op, "Tensor 'b' is not a matrix")
        if a_shape.shape != (2,):
            raise _invalid(op, "Tensor 'a_shape' is not a vector")
        if a_values.ndim != 1 or a_indices.ndim != 2 or a_indices.shape[0] != a_values.shape[0]:
            raise _invalid(op, "Number of rows of a_indices does not match number of entries in "
                           "a_values")
        if a_indices.shape[1] != a_shape.shape[0]:
            raise _invalid(op, "Number of columns of a_indices does not match number of entries "
                           "in a_shape")
        rows_a, cols_a = (int(a_shape[1]), int(a_shape[0])) if adjoint_a else \
            (int(a_shape[0]), int(a_shape[1]))
        dense = np.conj(b.T) if adjoint_b else b
        if dense.shape[0] != cols_a:
            raise _invalid(op, "Cannot multiply A and B because inner dimension does not match: "
                           "%d vs. %d.  Did you forget a transpose?  Dimensions of A: [%d, %d).  "
                           "Dimensions of B: %s" % (cols_a, dense.shape[0], rows_a, cols_a,
                                                    _shape_text(b.shape)))
        values = np.conj(a_values) if adjoint_a else a_values
        rows = a_indices[:, 1] if adjoint_a else a_indices[:, 0]
        cols = a_indices[:, 0] if adjoint_a else a_indices[:, 1]
        bad_cols = np.flatnonzero((cols < 0) | (cols >= cols_a))
        bad_rows = np.flatnonzero((rows < 0) | (rows >= rows_a))
        # The kernel reports the first bad entry, its column index before its row index.
        first_col = bad_cols[0] if len(bad_cols) else len(rows)
        first_row = bad_rows[0] if len(bad_rows) else len(rows)
        if first_col <= first_row and first_col < len(rows):
            raise _invalid(op, "k (%d) from index[%d,%d] out of bounds (>=%d)"
                           % (cols[first_col], first_col, 0 if adjoint_a else 1, cols_a))
        if first_row < len(rows):
            raise _invalid(op, "m (%d) from index[%d,%d] out of bounds (>=%d)"
                           % (rows[first_row], first_row, 1 if adjoint_a else 0, rows_a))
        out = np.zeros((rows_a, dense.shape[1]), dtype=b.dtype)
        np.add.at(out, rows, values[:, None] * dense[cols])
        return out.astype(b.dtype, copy=False)
    return run


def _sparse_dense_matmul_shape(op):
    b = op._inputs[3]._shape_val
    rows = None
    shape_value = tensor_util.constant_value(op._inputs[2])
    if shape_value is not None:
        rows = int(shape_value[1] if op._attrs["adjoint_a"] else shape_value[0])
    cols = None
    if b.ndims == 2:
        cols = b.as_list()[0 if op._attrs["adjoint_b"] else 1]
        inner_b = b.as_list()[1 if op._attrs["adjoint_b"] else 0]
        if shape_value is not None and inner_b is not None:
            inner_a = int(shape_value[0] if op._attrs["adjoint_a"] else shape_value[1])
            if inner_a != inner_b:
                raise ValueError("Dimensions must be equal, but are %d and %d for '%s' (op: "
                                 "'SparseTensorDenseMatMul')" % (inner_a, inner_b, op.name))
    return [tensor_shape.TensorShape([rows, cols])]


register_op("SparseTensorDenseMatMul",
            inputs=["a_indices: Tindices", "a_values: T", "a_shape: int64", "b: T"],
            outputs=["product: T"],
            attrs=["T: type", "Tindices: {int32, int64} = DT_INT64", "adjoint_a: bool = false",
                   "adjoint_b: bool = false"],
            kernel=_sparse_dense_matmul_kernel, shape=_sparse_dense_matmul_shape)


def _sparse_dense_matmul_grad(op, grad):
    a_indices, a_values, a_shape, b = op._inputs
    adjoint_a = op._attrs["adjoint_a"]
    adjoint_b = op._attrs["adjoint_b"]
    if a_values.dtype.base_dtype != b.dtype.base_dtype:
        raise TypeError("SparseTensorDenseMatMul op received operands with different types: "
                        "`%s` and `%s`." % (a_values.dtype.base_dtype, b.dtype.base_dtype))
    b_grad = apply_op("SparseTensorDenseMatMul", a_indices=a_indices, a_values=a_values,
                      a_shape=a_shape, b=grad, adjoint_a=not adjoint_a)
    if adjoint_b:
        b_grad = array_ops.matrix_transpose(b_grad, conjugate=True)
    rows = a_indices[:, 0]
    cols = a_indices[:, 1]
    parts_a = array_ops.gather(grad, cols if adjoint_a else rows)
    parts_b = array_ops.gather(array_ops.transpose(b) if adjoint_b else b,
                               rows if adjoint_a else cols)
    # Each value's gradient is one row of grad dotted with one row of b (per adjoint case).
    a_axis = -1 if adjoint_a else -2
    b_axis = -2 if adjoint_a == adjoint_b else -1
    a_values_grad = math_ops.matmul(array_ops.expand_dims(parts_a, a_axis),
                                    array_ops.expand_dims(parts_b, b_axis),
                                    adjoint_a=adjoint_a, adjoint_b=adjoint_a == adjoint_b)
    return [None, array_ops.squeeze(a_values_grad, axis=[-2, -1]), None, b_grad]


register_gradient("SparseTensorDenseMatMul", _sparse_dense_matmul_grad)


def _convert_to_sparse_tensor(sp_input):
    if isinstance(sp_input, SparseTensorValue):
        return SparseTensor(sp_input.indices, sp_input.values, sp_input.dense_shape)
    if not isinstance(sp_input, SparseTensor):
        raise TypeError("Input must be a SparseTensor.")
    return sp_input


def sparse_tensor_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None):
    if isinstance(b, (SparseTensor, SparseTensorValue)):
        # (A B) = (B' A')': swap the operands and transpose the product.
        if adjoint_a != adjoint_b:
            return array_ops.transpose(sparse_tensor_dense_matmul(b, sp_a, adjoint_a, adjoint_b))
        return array_ops.transpose(sparse_tensor_dense_matmul(
            b, sp_a, adjoint_a=not adjoint_a, adjoint_b=not adjoint_b))
    sp_a = _convert_to_sparse_tensor(sp_a)
    # The op gets its default name inside the scope ("SparseTensorDenseMatMul/<op type>").
    with ops.name_scope(name, "SparseTensorDenseMatMul", [sp_a.indices, sp_a.values, b]):
        b = ops.convert_to_tensor(b, name="b")
        return apply_op("SparseTensorDenseMatMul", a_indices=sp_a.indices, a_values=sp_a.values,
                        a_shape=sp_a.dense_shape, b=b, adjoint_a=adjoint_a, adjoint_b=adjoint_b)


# --- SparseAdd / SparseAddGrad / SparseTensorDenseAdd --------------------------------------------

def _sparse_add_kernel(op, ctx):
    def run(a_indices, a_values, a_shape, b_indices, b_values, b_shape, thresh):
        for label, indices, values in (("a", a_indices, a_values), ("b", b_indices, b_values)):
            _check_rank(op, indices, 2, "Input indices should be a matrix but received shape: ")
            _check_rank(op, values, 1, "Input values should be a vector but received shape: ")
            if indices.shape[0] != values.shape[0]:
                raise _invalid(op, "Expected %d non-empty input values, got %d"
                               % (indices.shape[0], values.shape[0]))
        if a_indices.shape[1] != b_indices.shape[1]:
            raise _invalid(op, "Input indices must have the same dimension, got %d and %d"
                           % (a_indices.shape[1], b_indices.shape[1]))
        _check_same_shapes(op, a_shape, b_shape)
        out_indices, out_values = [], []
        for i, j in _merge(a_indices, b_indices):
            if j is None:
                out_indices.append(a_indices[i])
                out_values.append(a_values[i])
            elif i is None:
                out_indices.append(b_indices[j])
                out_values.append(b_values[j])
            else:
                total = a_values[i] + b_values[j]
                if thresh <= np.abs(total):
                    out_indices.append(a_indices[i])
                    out_values.append(total)
        indices = np.array(out_indices, dtype=np.int64).reshape(-1, len(a_shape))
        return [indices, np.array(out_values, dtype=a_values.dtype).reshape(-1),
                np.array(a_shape, dtype=np.int64)]
    return run


register_op("SparseAdd",
            inputs=["a_indices: int64", "a_values: T", "a_shape: int64", "b_indices: int64",
                    "b_values: T", "b_shape: int64", "thresh: Treal"],
            outputs=["sum_indices: int64", "sum_values: T", "sum_shape: int64"],
            attrs=["T: " + _NUMBER_TYPES, "Treal: " + _REAL_NUMBER_TYPES],
            kernel=_sparse_add_kernel,
            shape=lambda op: [tensor_shape.TensorShape([None, _rank_of(op._inputs[2])]),
                              _UNKNOWN_VECTOR, op._inputs[2]._shape_val])


def _sparse_add_grad_kernel(op, ctx):
    def run(backprop_val_grad, a_indices, b_indices, sum_indices):
        a_grad = np.zeros(len(a_indices), dtype=backprop_val_grad.dtype)
        b_grad = np.zeros(len(b_indices), dtype=backprop_val_grad.dtype)
        k = 0
        # The sum's entries appear in merge order; a merged entry may have been dropped by
        # the threshold, so only take the gradient when the next sum index is this one.
        for i, j in _merge(a_indices, b_indices):
            index = a_indices[i] if i is not None else b_indices[j]
            if k < len(sum_indices) and _compare_index(sum_indices[k], index) == 0:
                if i is not None:
                    a_grad[i] = backprop_val_grad[k]
                if j is not None:
                    b_grad[j] = backprop_val_grad[k]
                k += 1
        return [a_grad, b_grad]
    return run


register_op("SparseAddGrad",
            inputs=["backprop_val_grad: T", "a_indices: int64", "b_indices: int64",
                    "sum_indices: int64"],
            outputs=["a_val_grad: T", "b_val_grad: T"],
            attrs=["T: " + _NUMBER_TYPES],
            kernel=_sparse_add_grad_kernel,
            shape=lambda op: [tensor_shape.TensorShape([op._inputs[1]._shape_val.dims[0]
                                                        if op._inputs[1]._shape_val.ndims
                                                        else None]),
                              tensor_shape.TensorShape([op._inputs[2]._shape_val.dims[0]
                                                        if op._inputs[2]._shape_val.ndims
                                                        else None])])
register_gradient("SparseAddGrad", None)


def _sparse_add_grad(op, *grads):
    a_val_grad, b_val_grad = apply_op("SparseAddGrad", backprop_val_grad=grads[1],
                                      a_indices=op._inputs[0], b_indices=op._inputs[3],
                                      sum_indices=op.outputs[0])
    a_val_grad.set_shape(op._inputs[1].shape)
    b_val_grad.set_shape(op._inputs[4].shape)
    return [None, a_val_grad, None, None, b_val_grad, None, None]


register_gradient("SparseAdd", _sparse_add_grad)


def _sparse_dense_add_kernel(op, ctx):
    def run(a_indices, a_values, a_shape, b):
        _check_rank(op, a_indices, 2, "Input a_indices should be a matrix but received shape: ")
        if a_values.ndim != 1 or a_shape.ndim != 1:
            raise _invalid(op, "Inputs a_values and a_shape should be vectors but received "
                           "shapes: %s and %s" % (_shape_text(a_values.shape),
                                                  _shape_text(a_shape.shape)))
        if len(a_shape) != b.ndim:
            raise _invalid(op, "Two operands have different ranks; received: %d and %d"
                           % (len(a_shape), b.ndim))
        for dim in range(b.ndim):
            if a_shape[dim] != b.shape[dim]:
                raise _invalid(op, "Dimension %d does not equal (no broadcasting is supported): "
                               "sparse side %d vs dense side %d" % (dim, a_shape[dim],
                                                                    b.shape[dim]))
        bad = (a_indices < 0) | (a_indices >= np.array(b.shape, dtype=a_indices.dtype))
        if np.any(bad):
            i, dim = (int(x) for x in np.argwhere(bad)[0])
            raise _invalid(op, "Sparse tensor has an invalid index on dimension %d: "
                           "a_indices(%d,%d) = %d, dense tensor shape: %s"
                           % (dim, i, dim, a_indices[i, dim], " ".join(str(d) for d in b.shape)))
        out = np.array(b, copy=True)
        np.add.at(out, tuple(a_indices.T), a_values)
        return out
    return run


register_op("SparseTensorDenseAdd",
            inputs=["a_indices: Tindices", "a_values: T", "a_shape: Tindices", "b: T"],
            outputs=["output: T"],
            attrs=["T: " + _NUMBER_TYPES, "Tindices: {int32, int64}"],
            kernel=_sparse_dense_add_kernel,
            shape=lambda op: [op._inputs[3]._shape_val])
register_gradient("SparseTensorDenseAdd",
                  lambda op, grad: [None, array_ops.gather_nd(grad, op._inputs[0]), None, grad])


def sparse_add(a, b, threshold=None, thresh=None):
    if threshold is not None and thresh is not None:
        raise ValueError("Cannot specify both 'threshold' and 'thresh'")
    threshold = thresh if threshold is None else threshold
    return sparse_add_v2(a, b, 0 if threshold is None else threshold)


def sparse_add_v2(a, b, threshold=0):
    sparse_classes = (SparseTensor, SparseTensorValue)
    if not any(isinstance(x, sparse_classes) for x in (a, b)):
        raise TypeError("At least one input should be SparseTensor; do you mean to use tf.add()?")
    if all(isinstance(x, sparse_classes) for x in (a, b)):
        a = _convert_to_sparse_tensor(a)
        b = _convert_to_sparse_tensor(b)
        threshold = ops.convert_to_tensor(threshold, dtype=a.values.dtype.real_dtype.base_dtype,
                                          name="threshold")
        indices, values, shape = apply_op(
            "SparseAdd", a_indices=a.indices, a_values=a.values, a_shape=a.dense_shape,
            b_indices=b.indices, b_values=b.values, b_shape=b.dense_shape, thresh=threshold)
        a.get_shape().assert_is_compatible_with(b.get_shape())
        static_shape = a.get_shape().merge_with(b.get_shape())
        if static_shape.is_fully_defined():
            shape = static_shape.as_list()
        return SparseTensor(indices, values, shape)
    if isinstance(b, sparse_classes):
        a, b = b, a
    return apply_op("SparseTensorDenseAdd", a_indices=a.indices, a_values=a.values,
                    a_shape=a.dense_shape, b=b)


# --- SparseReorder / SparseReshape ---------------------------------------------------------------

def _check_sparse_input(op, indices, values, shape):
    _check_rank(op, indices, 2, "Input indices should be a matrix but received shape ")
    _check_rank(op, values, 1, "Input values should be a vector but received shape ")
    _check_rank(op, shape, 1, "Input shape should be a vector but received shape ")


def _sparse_reorder_kernel(op, ctx):
    def run(input_indices, input_values, input_shape):
        _check_sparse_input(op, input_indices, input_values, input_shape)
        order = _row_major_order(input_indices)
        return [input_indices[order], input_values[order]]
    return run


register_op("SparseReorder",
            inputs=["input_indices: int64", "input_values: T", "input_shape: int64"],
            outputs=["output_indices: int64", "output_values: T"],
            attrs=["T: type"], kernel=_sparse_reorder_kernel,
            shape=lambda op: [op._inputs[0]._shape_val, op._inputs[1]._shape_val])


def _sparse_reorder_grad(op, unused_indices_grad, values_grad):
    input_indices, _, input_shape = op._inputs
    num_entries = array_ops.shape(input_indices)[0]
    entry_indices = math_ops.range(num_entries)
    reordered = sparse_reorder(SparseTensor(input_indices, entry_indices, input_shape))
    inverted_permutation = array_ops.invert_permutation(reordered.values)
    return [None, array_ops.gather(values_grad, inverted_permutation), None]


register_gradient("SparseReorder", _sparse_reorder_grad)


def sparse_reorder(sp_input, name=None):
    sp_input = _convert_to_sparse_tensor(sp_input)
    indices, values = apply_op("SparseReorder", input_indices=sp_input.indices,
                               input_values=sp_input.values, input_shape=sp_input.dense_shape,
                               name=name)
    if sp_input.get_shape().is_fully_defined():
        return SparseTensor(indices, values, sp_input.get_shape().as_list())
    return SparseTensor(indices, values, array_ops.identity(sp_input.dense_shape))


def _sparse_reshape_kernel(op, ctx):
    def run(input_indices, input_shape, new_shape):
        _check_rank(op, input_indices, 2, "Input indices should be a matrix but received shape ")
        _check_rank(op, input_shape, 1, "Input shape should be a vector but received shape ")
        _check_rank(op, new_shape, 1, "Target shape should be a vector but received shape ")
        dense_size = int(np.prod(input_shape))
        output_shape = np.array(new_shape, dtype=np.int64)
        unknown = -1
        product = 1
        for dim, size in enumerate(new_shape):
            if size == -1:
                if unknown != -1:
                    raise _invalid(op, "only one output dimension may be -1, not both %d and %d"
                                   % (unknown, dim))
                unknown = dim
            elif size < 0:
                raise _invalid(op, "size %d must be non-negative, not %d" % (dim, size))
            else:
                product *= int(size)
        if unknown != -1:
            if product <= 0:
                raise _invalid(op, "reshape cannot infer the missing input size for an empty "
                               "tensor unless all specified input sizes are non-zero")
            missing = dense_size // product
            if product * missing != dense_size:
                raise _invalid(op, "Input to reshape is a SparseTensor with %d dense values, but "
                               "the requested shape requires a multiple of %d. input_shape=%s "
                               "output_shape=%s" % (dense_size, product,
                                                    _shape_text(input_shape),
                                                    _shape_text(output_shape)))
            output_shape[unknown] = missing
        if int(np.prod(output_shape)) != dense_size:
            raise _invalid(op, "Input to reshape is a tensor with %d dense values, but the "
                           "requested shape has %d. input_shape=%s output_shape=%s"
                           % (dense_size, int(np.prod(output_shape)), _shape_text(input_shape),
                              _shape_text(output_shape)))
        if len(input_indices) == 0:
            return [np.zeros((0, len(output_shape)), np.int64), output_shape]
        linear = np.ravel_multi_index(tuple(input_indices.T), tuple(int(d) for d in input_shape))
        new_indices = np.stack(np.unravel_index(linear, tuple(int(d) for d in output_shape)),
                               axis=1).astype(np.int64)
        return [new_indices.reshape(-1, len(output_shape)), output_shape]
    return run


def _sparse_reshape_shape(op):
    rank = op._inputs[2]._shape_val
    rank = rank.as_list()[0] if rank.ndims == 1 else None
    return [tensor_shape.TensorShape([op._inputs[0]._shape_val.dims[0]
                                      if op._inputs[0]._shape_val.ndims else None, rank]),
            tensor_shape.TensorShape([rank])]


register_op("SparseReshape",
            inputs=["input_indices: int64", "input_shape: int64", "new_shape: int64"],
            outputs=["output_indices: int64", "output_shape: int64"],
            kernel=_sparse_reshape_kernel, shape=_sparse_reshape_shape)


def sparse_reshape(sp_input, shape, name=None):
    sp_input = _convert_to_sparse_tensor(sp_input)
    shape = math_ops.cast(shape, dtype=dtypes.int64)
    with ops.name_scope(name, "SparseReshape", [sp_input]) as scope:
        indices, reshaped_shape = apply_op("SparseReshape", input_indices=sp_input.indices,
                                           input_shape=sp_input.dense_shape, new_shape=shape,
                                           name=scope)
        user_shape = tensor_util.constant_value(shape)
        if user_shape is not None and sp_input.shape.is_fully_defined():
            user_shape = [int(d) for d in user_shape]
            if sum(d == -1 for d in user_shape) > 1:
                raise ValueError("At most one dimension can be inferred (-1). Found: %s"
                                 % np.asarray(user_shape))
            in_size = int(np.prod(sp_input.shape.as_list()))
            static = [None if d == -1 else d for d in user_shape]
            implied = static.count(None)
            if implied == 1 and 0 not in static:
                known = [d for d in static if d is not None]
                static[static.index(None)] = int(in_size // np.prod(known))
            if implied == 0 or (implied == 1 and 0 not in static):
                size = int(np.prod(static))
                if size != in_size:
                    raise ValueError("Cannot reshape a tensor with %d elements to shape %s "
                                     "(%d elements)." % (in_size, [None if d == -1 else d
                                                                   for d in user_shape], size))
                reshaped_shape = array_ops.constant(static, dtype=dtypes.int64)
        return SparseTensor(indices, array_ops.identity(sp_input.values), reshaped_shape)


# --- SparseReduceSum / SparseReduceMax (dense and sparse outputs) --------------------------------

def _reduce_groups(op, indices, values, shape, axes, keep_dims):
    """Groups the entries by their non-reduced coordinates: (kept dims, output shape, sorted
    unique group keys, group id per entry)."""
    rank = len(shape)
    axes = np.ravel(axes).astype(np.int64)
    for axis in axes:
        if not -rank <= axis < rank:
            raise _invalid(op, "Invalid reduction dimension %d, for input with %d dimensions."
                           % (axis, rank))
    reduced = sorted(set(int(a) % rank for a in axes)) if rank else []
    kept = [d for d in range(rank) if d not in reduced]
    if keep_dims:
        out_shape = [1 if d in reduced else int(shape[d]) for d in range(rank)]
    else:
        out_shape = [int(shape[d]) for d in kept]
    keys = indices[:, kept] if len(indices) else np.zeros((0, len(kept)), np.int64)
    unique_keys, group_of = np.unique(keys, axis=0, return_inverse=True) if len(keys) else \
        (np.zeros((0, len(kept)), np.int64), np.zeros(0, np.int64))
    return reduced, kept, out_shape, unique_keys, np.ravel(group_of)


def _reduce_values(values, group_of, num_groups, is_max):
    if is_max:
        out = np.full(num_groups, _lowest(values.dtype), dtype=values.dtype)
        np.maximum.at(out, group_of, values)
    else:
        out = np.zeros(num_groups, dtype=values.dtype)
        np.add.at(out, group_of, values)
    return out


def _lowest(dtype):
    if np.issubdtype(dtype, np.floating):
        return -np.inf
    return np.iinfo(dtype).min


def _check_reduce_input(op, indices, values, shape):
    _check_sparse_input(op, indices, values, shape)
    bad = np.flatnonzero(np.any((indices < 0) | (indices >= shape), axis=1))
    if len(bad):
        raise _invalid(op, "indices[%d] = %s is out of bounds: need 0 <= index < %s"
                       % (bad[0], _shape_text(indices[bad[0]]), _shape_text(shape)))


def _sparse_reduce_kernel(is_max, sparse_output):
    def factory(op, ctx):
        keep_dims = op._attrs["keep_dims"]

        def run(input_indices, input_values, input_shape, reduction_axes):
            _check_reduce_input(op, input_indices, input_values, input_shape)
            reduced, kept, out_shape, keys, group_of = _reduce_groups(
                op, input_indices, input_values, input_shape, reduction_axes, keep_dims)
            sums = _reduce_values(input_values, group_of, len(keys), is_max)
            if sparse_output:
                if keep_dims:
                    out_indices = np.zeros((len(keys), len(input_shape)), np.int64)
                    out_indices[:, kept] = keys
                else:
                    out_indices = keys.astype(np.int64).reshape(len(keys), len(kept))
                return [out_indices, sums, np.array(out_shape, np.int64)]
            kept_shape = [int(input_shape[d]) for d in kept]
            # Groups without entries are 0 in the dense output, for max as for sum.
            dense = np.zeros(kept_shape, dtype=input_values.dtype)
            if not kept:
                dense = sums.reshape(()) if len(sums) else dense
            elif len(keys):
                dense[tuple(keys.T)] = sums
            dense = dense.reshape(out_shape)
            return dense
        return run
    return factory


def _sparse_reduce_shape(op, sparse_output):
    if sparse_output:
        return [_UNKNOWN_MATRIX, _UNKNOWN_VECTOR, _UNKNOWN_VECTOR]
    shape_value = tensor_util.constant_value(op._inputs[2])
    axes_value = tensor_util.constant_value(op._inputs[3])
    if shape_value is None or axes_value is None:
        return [tensor_shape.unknown_shape()]
    rank = len(shape_value)
    reduced = set(int(a) % rank for a in np.ravel(axes_value)) if rank else set()
    if op._attrs["keep_dims"]:
        return [tensor_shape.TensorShape([1 if d in reduced else int(shape_value[d])
                                          for d in range(rank)])]
    return [tensor_shape.TensorShape([int(shape_value[d]) for d in range(rank)
                                      if d not in reduced])]


for _op_type, _is_max, _sparse_output, _types in (
        ("SparseReduceSum", False, False, _NUMBER_TYPES),
        ("SparseReduceSumSparse", False, True, _NUMBER_TYPES),
        ("SparseReduceMax", True, False, _REAL_NUMBER_TYPES),
        ("SparseReduceMaxSparse", True, True, _REAL_NUMBER_TYPES)):
    register_op(_op_type,
                inputs=["input_indices: int64", "input_values: T", "input_shape: int64",
                        "reduction_axes: int32"],
                outputs=(["output_indices: int64", "output_values: T", "output_shape: int64"]
                         if _sparse_output else ["output: T"]),
                attrs=["keep_dims: bool = false", "T: " + _types],
                kernel=_sparse_reduce_kernel(_is_max, _sparse_output),
                shape=lambda op, _sparse=_sparse_output: _sparse_reduce_shape(op, _sparse))


def _sparse_reduce_sum_grad(op, out_grad):
    sp_indices, _, sp_shape, axes = op._inputs
    kept_shape = math_ops.reduced_shape(sp_shape, axes)
    out_grad_reshaped = array_ops.reshape(out_grad, kept_shape)
    scale = sp_shape // math_ops.cast(kept_shape, dtypes.int64)
    return [None, array_ops.gather_nd(out_grad_reshaped, sp_indices // scale), None, None]


register_gradient("SparseReduceSum", _sparse_reduce_sum_grad)


def _sparse_rank(sp_input):
    """The rank of a SparseTensor as a graph value: Size of its dense shape."""
    return array_ops.size(sp_input.dense_shape, name="Rank")


def _reduction_dims(sp_input, axis):
    if axis is not None:
        return axis
    rank = sp_input.shape.ndims
    if rank:
        return array_ops.constant(np.arange(rank, dtype=np.int32))
    return math_ops.range(0, _sparse_rank(sp_input))


def _sparse_reduce_builder(op_type, sparse_output, python_name):
    def build(sp_input, axis=None, keepdims=None, reduction_axes=None, keep_dims=None):
        if keepdims is not None and keep_dims is not None:
            raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'")
        if axis is not None and reduction_axes is not None:
            raise ValueError("Cannot specify both 'axis' and 'reduction_axes'")
        keepdims = bool(keep_dims if keepdims is None else keepdims)
        axis = reduction_axes if axis is None else axis
        result = apply_op(op_type, input_indices=sp_input.indices,
                          input_values=sp_input.values, input_shape=sp_input.dense_shape,
                          reduction_axes=_reduction_dims(sp_input, axis),
                          keep_dims=keepdims)
        return SparseTensor(*result) if sparse_output else result
    build.__name__ = python_name
    return build


sparse_reduce_sum = _sparse_reduce_builder("SparseReduceSum", False, "sparse_reduce_sum")
sparse_reduce_sum_sparse = _sparse_reduce_builder("SparseReduceSumSparse", True,
                                                  "sparse_reduce_sum_sparse")
sparse_reduce_max = _sparse_reduce_builder("SparseReduceMax", False, "sparse_reduce_max")
sparse_reduce_max_sparse = _sparse_reduce_builder("SparseReduceMaxSparse", True,
                                                  "sparse_reduce_max_sparse")


# --- SparseDenseCwiseMul / Div / Add -------------------------------------------------------------

def _cwise_kernel(combine):
    def factory(op, ctx):
        def run(sp_indices, sp_values, sp_shape, dense):
            _check_sparse_input(op, sp_indices, sp_values, sp_shape)
            rank = len(sp_shape)
            if dense.ndim > rank:
                raise _invalid(op, "SparseDenseBinaryOpShared broadcasts dense to sparse only; "
                               "got incompatible shapes: [%s] vs. [%s]"
                               % (",".join(str(int(d)) for d in sp_shape),
                                  ",".join(str(d) for d in dense.shape)))
            full = (1,) * (rank - dense.ndim) + dense.shape
            for dense_dim, sparse_dim in zip(full, sp_shape):
                if dense_dim != 1 and dense_dim != sparse_dim:
                    raise _invalid(op, "SparseDenseBinaryOpShared broadcasts dense to sparse "
                                   "only; got incompatible shapes: [%s] vs. [%s]"
                                   % (",".join(str(int(d)) for d in sp_shape),
                                      ",".join(str(d) for d in dense.shape)))
            broadcast = np.broadcast_to(dense.reshape(full), tuple(int(d) for d in sp_shape))
            if np.any((sp_indices < 0) | (sp_indices >= sp_shape)):
                raise _invalid(op, "Provided indices are out-of-bounds w.r.t. dense side with "
                               "broadcasted shape")
            picked = broadcast[tuple(sp_indices.T)] if len(sp_indices) else \
                np.zeros(0, dense.dtype)
            with np.errstate(all="ignore"):
                return np.asarray(combine(sp_values, picked)).astype(sp_values.dtype, copy=False)
        return run
    return factory


def _divide(x, y):
    if np.issubdtype(x.dtype, np.integer):
        # C++ integer division truncates toward zero; NumPy's // floors.
        floored = x // y
        return np.where((x % y != 0) & ((x < 0) != (y < 0)), floored + 1, floored)
    return np.true_divide(x, y)


for _op_type, _combine in (("SparseDenseCwiseMul", np.multiply),
                           ("SparseDenseCwiseDiv", _divide),
                           ("SparseDenseCwiseAdd", np.add)):
    register_op(_op_type,
                inputs=["sp_indices: int64", "sp_values: T", "sp_shape: int64", "dense: T"],
                outputs=["output: T"], attrs=["T: " + _NUMBER_TYPES],
                kernel=_cwise_kernel(_combine),
                shape=lambda op: [tensor_shape.TensorShape([op._inputs[0]._shape_val.dims[0]
                                                            if op._inputs[0]._shape_val.ndims
                                                            else None])])


def _cwise_add_grad(op, grad):
    raise NotImplementedError("Gradient for SparseDenseCwiseAdd is not implemented.")


def _cwise_mul_or_div_grad(op, grad, is_mul):
    x_indices, x_values, x_shape, y = op._inputs
    y_shape = math_ops.cast(array_ops.shape(y), dtypes.int64)
    num_added_dims = array_ops.expand_dims(array_ops.size(x_shape) - array_ops.size(y_shape), 0)
    augmented_y_shape = array_ops.concat(
        [array_ops.ones(num_added_dims, dtypes.int64), y_shape], 0)
    scaling = x_shape // augmented_y_shape
    scaled_indices = x_indices // scaling
    scaled_indices = array_ops.slice(scaled_indices, array_ops.concat([[0], num_added_dims], 0),
                                     [-1, -1])
    dense_vals = array_ops.gather_nd(y, scaled_indices)
    if is_mul:
        dx = grad * dense_vals
        dy_val = grad * x_values
    else:
        dx = grad / dense_vals
        dy_val = grad * (-x_values / math_ops.square(dense_vals))
    dy = sparse_add(array_ops.zeros_like(y), SparseTensor(scaled_indices, dy_val, y_shape))
    return [None, dx, None, dy]


register_gradient("SparseDenseCwiseAdd", _cwise_add_grad)
register_gradient("SparseDenseCwiseMul", lambda op, grad: _cwise_mul_or_div_grad(op, grad, True))
register_gradient("SparseDenseCwiseDiv",
                  lambda op, grad: _cwise_mul_or_div_grad(op, grad, False))


def sparse_dense_cwise_add(sp_t, dense_t):
    result = apply_op("SparseDenseCwiseAdd", sp_indices=sp_t.indices, sp_values=sp_t.values,
                      sp_shape=sp_t.dense_shape, dense=dense_t)
    return SparseTensor(sp_t.indices, result, sp_t.dense_shape)


def _cwise_operator(op_type, op_name, true_division=False):
    """SparseTensor * / dense: the SparseDenseCwise op on the sparse side's values (Python-3
    division first casts integer operands to floating point, as for dense tensors)."""
    def operator(sp_x, y):
        with ops.name_scope(None, op_name, [sp_x, y]) as scope:
            y = ops.convert_to_tensor(y, dtype=sp_x.dtype.base_dtype, name="y")
            sp_values = sp_x.values
            if true_division:
                sp_values, y = math_ops._truediv_cast(sp_values, y, "truediv")
            values = apply_op(op_type, sp_indices=sp_x.indices, sp_values=sp_values,
                              sp_shape=sp_x.dense_shape, dense=y, name=scope)
            return SparseTensor(sp_x.indices, values, sp_x.dense_shape)
    return operator


SparseTensor.__mul__ = _cwise_operator("SparseDenseCwiseMul", "mul")
SparseTensor.__truediv__ = _cwise_operator("SparseDenseCwiseDiv", "truediv",
                                           true_division=True)
SparseTensor.__div__ = _cwise_operator("SparseDenseCwiseDiv", "div")


# --- SparseSoftmax -------------------------------------------------------------------------------

def _sparse_softmax_kernel(op, ctx):
    def run(sp_indices, sp_values, sp_shape):
        _check_rank(op, sp_indices, 2, "Input should be a matrix but received shape ")
        _check_rank(op, sp_values, 1, "Input should be a vector but received shape ")
        if len(sp_shape) < 2:
            raise _invalid(op, "Input should have rank >= 2, but received shape: %s"
                           % " ".join(str(int(d)) for d in sp_shape))
        out = np.empty_like(sp_values)
        # Consecutive entries sharing all but the last coordinate form one softmax group.
        start = 0
        n = len(sp_values)
        while start < n:
            end = start + 1
            while end < n and np.array_equal(sp_indices[end, :-1], sp_indices[start, :-1]):
                end += 1
            group = sp_values[start:end]
            exp = np.exp(group - np.max(group))
            out[start:end] = exp / np.sum(exp)
            start = end
        return out
    return run


register_op("SparseSoftmax",
            inputs=["sp_indices: int64", "sp_values: T", "sp_shape: int64"],
            outputs=["output: T"], attrs=["T: {half, float, double}"],
            kernel=_sparse_softmax_kernel,
            shape=lambda op: [op._inputs[1]._shape_val])


def _sparse_softmax_grad(op, grad):
    indices, shape = op._inputs[0], op._inputs[2]
    sp_output = SparseTensor(indices, op.outputs[0], shape)
    sp_grad = SparseTensor(indices, grad, shape)
    sp_product = SparseTensor(indices, sp_output.values * sp_grad.values, shape)
    sum_reduced = -sparse_reduce_sum(sp_product, [-1], keepdims=True)
    sp_sum = sparse_dense_cwise_add(sp_grad, sum_reduced)
    return [None, sp_sum.values * sp_output.values, None]


register_gradient("SparseSoftmax", _sparse_softmax_grad)


def sparse_softmax(sp_input, name=None):
    with ops.name_scope(name, "SparseSoftmax", [sp_input.indices, sp_input.values]):
        values = apply_op("SparseSoftmax", sp_indices=sp_input.indices,
                          sp_values=sp_input.values, sp_shape=sp_input.dense_shape)
        return SparseTensor(sp_input.indices, values, sp_input.dense_shape)


# --- SparseSparseMaximum / Minimum ---------------------------------------------------------------

def _sparse_sparse_extreme_kernel(pick):
    def factory(op, ctx):
        def run(a_indices, a_values, a_shape, b_indices, b_values, b_shape):
            _check_sparse_input(op, a_indices, a_values, a_shape)
            _check_sparse_input(op, b_indices, b_values, b_shape)
            _check_same_shapes(op, a_shape, b_shape)
            out_indices, out_values = [], []
            zero = np.zeros((), a_values.dtype)
            # An entry missing on one side meets that side's implicit zero.
            for i, j in _merge(a_indices, b_indices):
                a = a_values[i] if i is not None else zero
                b = b_values[j] if j is not None else zero
                out_indices.append(a_indices[i] if i is not None else b_indices[j])
                out_values.append(pick(a, b))
            return [np.array(out_indices, np.int64).reshape(-1, len(a_shape)),
                    np.array(out_values, dtype=a_values.dtype).reshape(-1)]
        return run
    return factory


for _op_type, _pick, _types in (("SparseSparseMaximum", np.maximum, _REAL_NUMBER_TYPES),
                                ("SparseSparseMinimum", np.minimum, _NUMBER_TYPES)):
    register_op(_op_type,
                inputs=["a_indices: int64", "a_values: T", "a_shape: int64", "b_indices: int64",
                        "b_values: T", "b_shape: int64"],
                outputs=["output_indices: int64", "output_values: T"],
                attrs=["T: " + _types], kernel=_sparse_sparse_extreme_kernel(_pick),
                shape=lambda op: [_UNKNOWN_MATRIX, _UNKNOWN_VECTOR])


def _not_implemented_grad(op_type):
    def grad(op, unused_grad):
        raise NotImplementedError("Gradient for %s is not implemented." % op_type)
    return grad


register_gradient("SparseSparseMaximum", _not_implemented_grad("SparseSparseMaximum"))
register_gradient("SparseSparseMinimum", _not_implemented_grad("SparseSparseMinimum"))


def _sparse_extreme_builder(op_type):
    def build(sp_a, sp_b, name=None):
        with ops.name_scope(name, op_type, [sp_a.indices, sp_a.values, sp_b.indices,
                                            sp_b.values]) as scope:
            indices, values = apply_op(op_type, a_indices=sp_a.indices, a_values=sp_a.values,
                                       a_shape=sp_a.dense_shape, b_indices=sp_b.indices,
                                       b_values=sp_b.values, b_shape=sp_b.dense_shape,
                                       name=scope)
        return SparseTensor(indices, values, sp_a.dense_shape)
    build.__name__ = "sparse_" + op_type[len("SparseSparse"):].lower()
    return build


sparse_maximum = _sparse_extreme_builder("SparseSparseMaximum")
sparse_minimum = _sparse_extreme_builder("SparseSparseMinimum")


# --- SparseTensor builders built from other ops --------------------------------------------------

def sparse_tensor_to_dense(sp_input, default_value=None, validate_indices=True, name=None):
    sp_input = _convert_to_sparse_tensor(sp_input)
    if default_value is None:
        default_value = array_ops.zeros([], dtype=sp_input.dtype)
    return apply_op("SparseToDense", sparse_indices=sp_input.indices,
                    output_shape=sp_input.dense_shape, sparse_values=sp_input.values,
                    default_value=default_value, validate_indices=validate_indices, name=name)


def sparse_retain(sp_input, to_retain):
    sp_input = _convert_to_sparse_tensor(sp_input)
    to_retain = ops.convert_to_tensor(to_retain)
    retain_shape = to_retain.get_shape()
    retain_shape.assert_has_rank(1)
    if sp_input.values.get_shape().dims is not None:
        sp_input.values.get_shape().dims[0].assert_is_compatible_with(
            retain_shape.dims[0] if retain_shape.dims is not None else None)
    where_true = array_ops.reshape(array_ops.where_v2(to_retain), [-1])
    new_indices = array_ops.gather(sp_input.indices, where_true)
    new_values = array_ops.gather(sp_input.values, where_true)
    return SparseTensor(new_indices, new_values, array_ops.identity(sp_input.dense_shape))


def sparse_transpose(sp_input, perm=None, name=None):
    with ops.name_scope(name, "SparseTranspose", [sp_input]):
        if perm is None:
            rank = sp_input.shape.ndims
            if rank is not None:
                perm = rank - 1 - np.arange(0, rank, 1)
            else:
                rank = _sparse_rank(sp_input)
                perm = rank - 1 - math_ops.range(0, rank, 1)
        transposed_indices = array_ops.transpose(
            array_ops.gather(array_ops.transpose(sp_input.indices), perm))
        static_perm = tensor_util.constant_value(ops.convert_to_tensor(perm))
        if static_perm is not None and sp_input.get_shape().is_fully_defined():
            old_shape = sp_input.get_shape().as_list()
            transposed_shape = [old_shape[p] for p in static_perm]
        else:
            transposed_shape = array_ops.gather(sp_input.dense_shape, perm)
        return sparse_reorder(SparseTensor(transposed_indices, sp_input.values,
                                           transposed_shape))


def sparse_placeholder(dtype, shape=None, name=None):
    shape_name = None if name is None else name + "/shape"
    if shape is None:
        rank = None
        dense_shape = array_ops.placeholder(dtypes.int64, shape=[rank], name=shape_name)
        static_shape = tensor_util.constant_value_as_shape(dense_shape)
    else:
        if isinstance(shape, ops.Tensor):
            rank = shape.get_shape().dims[0]
            static_shape = tensor_util.constant_value_as_shape(shape)
        else:
            rank = len(shape)
            static_shape = tensor_shape.TensorShape(
                [None if dim is None or dim == -1 else dim for dim in shape])
            shape = tuple(-1 if dim is None else int(dim) for dim in shape)
            shape = ops.convert_to_tensor(shape, dtype=dtypes.int64, name=(
                None if name is None else name + "/shape_default"))
        dense_shape = array_ops.placeholder_with_default(shape, shape=shape.shape,
                                                         name=shape_name)
    result = SparseTensor(
        values=array_ops.placeholder(dtype, shape=[None],
                                     name=None if name is None else name + "/values"),
        indices=array_ops.placeholder(dtypes.int64, shape=[None, rank],
                                      name=None if name is None else name + "/indices"),
        dense_shape=dense_shape)
    result.set_shape(static_shape)
    return result


# --- SparseConcat --------------------------------------------------------------------------------

def _sparse_concat_kernel(op, ctx):
    concat_dim = op._attrs["concat_dim"]
    count = op._attrs["N"]

    def run(*parts):
        all_indices, all_values, shapes = parts[:count], parts[count:2 * count], \
            parts[2 * count:]
        for i in range(count):
            if all_indices[i].ndim != 2:
                raise _invalid(op, "Input indices should be a matrix but received shape %s at "
                               "position %d" % (_shape_text(all_indices[i].shape), i))
            if all_values[i].ndim != 1:
                raise _invalid(op, "Input values should be a vector but received shape %s at "
                               "position %d" % (_shape_text(all_values[i].shape), i))
            if shapes[i].ndim != 1:
                raise _invalid(op, "Input shapes should be a vector but received shape %s at "
                               "position %d" % (_shape_text(shapes[i].shape), i))
        rank = len(shapes[0])
        if not -rank <= concat_dim < rank:
            raise _invalid(op, "Concat dimension must be in range [%d, %d), got %d"
                           % (-rank, rank, concat_dim))
        dim = concat_dim % rank
        for i in range(1, count):
            if len(shapes[i]) != rank:
                raise _invalid(op, "Ranks of all input tensors must match: expected %d but got "
                               "%d at position %d" % (rank, len(shapes[i]), i))
            for d in range(rank):
                if d != dim and shapes[i][d] != shapes[0][d]:
                    raise _invalid(op, "Input shapes must match: expected %d for dimension %d "
                                   "but got %d at position %d"
                                   % (shapes[0][d], d, shapes[i][d], i))
        # Each input's entries move along `dim` by the sizes before it; the result is in
        # row-major order, ties kept in input order.
        offsets = np.cumsum([0] + [int(shape[dim]) for shape in shapes])
        shifted = []
        for i, indices in enumerate(all_indices):
            moved = np.array(indices, dtype=np.int64, copy=True).reshape(-1, rank)
            moved[:, dim] += offsets[i]
            shifted.append(moved)
        indices = np.concatenate(shifted, axis=0)
        values = np.concatenate(all_values)
        order = _row_major_order(indices)
        out_shape = np.array(shapes[0], dtype=np.int64, copy=True)
        out_shape[dim] = offsets[-1]
        return [indices[order], values[order], out_shape]
    return run


def _sparse_concat_shape(op):
    count = op._attrs["N"]
    rank = None
    for shape_input in op._inputs[2 * count:]:
        rank = rank if rank is not None else _rank_of(shape_input)
    return [tensor_shape.TensorShape([None, rank]), _UNKNOWN_VECTOR,
            tensor_shape.TensorShape([rank])]


register_op("SparseConcat",
            inputs=["indices: N * int64", "values: N * T", "shapes: N * int64"],
            outputs=["output_indices: int64", "output_values: T", "output_shape: int64"],
            attrs=["concat_dim: int", "N: int >= 2", "T: type"],
            kernel=_sparse_concat_kernel, shape=_sparse_concat_shape)
register_gradient("SparseConcat", None)


def sparse_concat(axis, sp_inputs, name=None, expand_nonconcat_dim=False, concat_dim=None,
                  expand_nonconcat_dims=None):
    if expand_nonconcat_dims is not None:
        expand_nonconcat_dim = expand_nonconcat_dims
    if concat_dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'concat_dim'")
        axis = concat_dim
    return sparse_concat_v2(axis, sp_inputs, expand_nonconcat_dim, name)


def sparse_concat_v2(axis, sp_inputs, expand_nonconcat_dims=False, name=None):
    if not isinstance(sp_inputs, (list, tuple)):
        raise TypeError("Inputs must be a list")
    sp_inputs = [_convert_to_sparse_tensor(sp_input) for sp_input in sp_inputs]
    if len(sp_inputs) == 1:
        return sp_inputs[0]
    all_indices = [sp_input.indices for sp_input in sp_inputs]
    all_values = [sp_input.values for sp_input in sp_inputs]
    shapes = [sp_input.dense_shape for sp_input in sp_inputs]
    if expand_nonconcat_dims:
        max_shape = math_ops.reduce_max(
            array_ops.concat([array_ops.reshape(shape, [1, -1]) for shape in shapes], 0), 0)
        shapes = [array_ops.concat([max_shape[:axis],
                                    shape[-1:] if axis == -1 else shape[axis:axis + 1],
                                    [] if axis == -1 else max_shape[axis + 1:]], 0)
                  for shape in shapes]
    indices, values, output_shape = apply_op("SparseConcat", indices=all_indices,
                                             values=all_values, shapes=shapes,
                                             concat_dim=axis, name=name)
    input_shapes = [sp_input.shape for sp_input in sp_inputs]
    if all(shape.ndims is not None for shape in input_shapes):
        dims = [shape.as_list() for shape in input_shapes]
        if expand_nonconcat_dims:
            static = [_known_or_none(max, [d[i] for d in dims]) for i in range(len(dims[0]))]
        else:
            static = list(dims[0])
        static[axis] = _known_or_none(sum, [d[axis] for d in dims])
        static = tensor_shape.TensorShape(static)
    else:
        static = tensor_shape.unknown_shape()
    if all(shape.is_fully_defined() for shape in input_shapes):
        return SparseTensor(indices, values,
                            ops.convert_to_tensor(static.as_list(), dtype=dtypes.int64))
    output = SparseTensor(indices, values, output_shape)
    output.set_shape(static)
    return output


def _known_or_none(combine, sizes):
    return None if None in sizes else combine(sizes)


# --- SparseSlice / SparseSliceGrad ---------------------------------------------------------------

def _sparse_slice_kernel(op, ctx):
    def run(indices, values, shape, start, size):
        _check_sparse_input(op, indices, values, shape)
        _check_rank(op, start, 1, "Input start should be a vector but received shape ")
        _check_rank(op, size, 1, "Input size should be a vector but received shape ")
        rank = len(shape)
        if len(start) != rank:
            raise _invalid(op, "Expected start to be a vector of length %d but got length %d"
                           % (rank, len(start)))
        if len(size) != rank:
            raise _invalid(op, "Expected size to be a vector of length %d but got length %d"
                           % (rank, len(size)))
        end = np.minimum(start + size, shape)
        inside = np.all((indices >= start) & (indices < end), axis=1) if len(indices) else \
            np.zeros(0, bool)
        out_shape = np.maximum(end - start, 0).astype(np.int64)
        return [(indices[inside] - start).reshape(-1, rank).astype(np.int64), values[inside],
                out_shape]
    return run


register_op("SparseSlice",
            inputs=["indices: int64", "values: T", "shape: int64", "start: int64",
                    "size: int64"],
            outputs=["output_indices: int64", "output_values: T", "output_shape: int64"],
            attrs=["T: type"], kernel=_sparse_slice_kernel,
            shape=lambda op: [tensor_shape.TensorShape([None, _rank_of(op._inputs[2])]),
                              _UNKNOWN_VECTOR,
                              tensor_shape.TensorShape([_rank_of(op._inputs[2])])])


def _sparse_slice_grad_kernel(op, ctx):
    def run(backprop_val_grad, input_indices, input_start, output_indices):
        val_grad = np.zeros(len(input_indices), dtype=backprop_val_grad.dtype)
        # The slice kept the input order: walk both lists together.
        j = 0
        shifted = output_indices + input_start
        for i, index in enumerate(input_indices):
            if j < len(shifted) and np.array_equal(index, shifted[j]):
                val_grad[i] = backprop_val_grad[j]
                j += 1
        if j != len(shifted):
            raise _invalid(op, "Elements of output_indices not found in input_indices")
        return val_grad
    return run


register_op("SparseSliceGrad",
            inputs=["backprop_val_grad: T", "input_indices: int64", "input_start: int64",
                    "output_indices: int64"],
            outputs=["val_grad: T"], attrs=["T: " + _NUMBER_TYPES],
            kernel=_sparse_slice_grad_kernel,
            shape=lambda op: [tensor_shape.TensorShape([op._inputs[1]._shape_val.dims[0]
                                                        if op._inputs[1]._shape_val.ndims
                                                        else None])])


def _sparse_slice_grad(op, *grads):
    val_grad = apply_op("SparseSliceGrad", backprop_val_grad=grads[1],
                        input_indices=op._inputs[0], input_start=op._inputs[3],
                        output_indices=op.outputs[0])
    val_grad.set_shape(op._inputs[1].shape)
    return [None, val_grad, None, None, None]


register_gradient("SparseSlice", _sparse_slice_grad)


def sparse_slice(sp_input, start, size, name=None):
    sp_input = _convert_to_sparse_tensor(sp_input)
    start = ops.convert_to_tensor(start, dtypes.int64)
    size = ops.convert_to_tensor(size, dtypes.int64)
    with ops.name_scope(name, "SparseSlice", [sp_input]) as scope:
        indices, values, shape = apply_op("SparseSlice", indices=sp_input.indices,
                                          values=sp_input.values, shape=sp_input.dense_shape,
                                          start=start, size=size, name=scope)
        return SparseTensor(indices, values, shape)


# --- SparseSplit ---------------------------------------------------------------------------------

def _sparse_split_kernel(op, ctx):
    num_split = op._attrs["num_split"]

    def run(split_dim, indices, values, shape):
        _check_sparse_input(op, indices, values, shape)
        rank = len(shape)
        dim = int(split_dim)
        if not -rank <= dim < rank:
            raise _invalid(op, "Input axis should be in range [%d, %d), got %d"
                           % (-rank, rank, dim))
        dim %= rank
        if not 1 <= num_split <= shape[dim]:
            raise _invalid(op, "Input num_split should be between 1 and %d, got %d"
                           % (shape[dim], num_split))
        # The first (size % num_split) pieces are one longer than the others.
        base, longer = divmod(int(shape[dim]), num_split)
        sizes = [base + 1 if i < longer else base for i in range(num_split)]
        starts = np.cumsum([0] + sizes)
        out_indices, out_values, out_shapes = [], [], []
        for i in range(num_split):
            inside = (indices[:, dim] >= starts[i]) & (indices[:, dim] < starts[i + 1])
            piece = np.array(indices[inside], dtype=np.int64, copy=True).reshape(-1, rank)
            piece[:, dim] -= starts[i]
            piece_shape = np.array(shape, dtype=np.int64, copy=True)
            piece_shape[dim] = sizes[i]
            out_indices.append(piece)
            out_values.append(values[inside])
            out_shapes.append(piece_shape)
        return out_indices + out_values + out_shapes
    return run


def _sparse_split_shape(op):
    rank = _rank_of(op._inputs[3])
    count = op._attrs["num_split"]
    return ([tensor_shape.TensorShape([None, rank])] * count + [_UNKNOWN_VECTOR] * count
            + [tensor_shape.TensorShape([rank])] * count)


register_op("SparseSplit",
            inputs=["split_dim: int64", "indices: int64", "values: T", "shape: int64"],
            outputs=["output_indices: num_split * int64", "output_values: num_split * T",
                     "output_shape: num_split * int64"],
            attrs=["num_split: int >= 1", "T: type"], kernel=_sparse_split_kernel,
            shape=_sparse_split_shape)


def sparse_split(keyword_required=None, sp_input=None, num_split=None, axis=None, name=None,
                 split_dim=None):
    if keyword_required is not None:
        raise ValueError("Keyword arguments are required for this function.")
    if sp_input is None:
        raise ValueError("sp_input is required")
    if num_split is None:
        raise ValueError("num_split is required")
    if split_dim is not None:
        axis = split_dim if axis is None else axis
    if axis is None:
        raise ValueError("axis is required")
    sp_input = _convert_to_sparse_tensor(sp_input)
    indices, values, shapes = apply_op(
        "SparseSplit", split_dim=axis,
        indices=sp_input.indices, values=sp_input.values, shape=sp_input.dense_shape,
        num_split=num_split, name=name)
    return [SparseTensor(indices[i], values[i], shapes[i]) for i in range(num_split)]


# --- SparseFillEmptyRows / SparseFillEmptyRowsGrad -----------------------------------------------

def _num_rows_shape(dense_shape):
    """[dense_shape[0]] as far as it is statically known."""
    dims = tensor_util.constant_value_as_shape(dense_shape)
    return tensor_shape.TensorShape([dims.dims[0] if dims.ndims else None])


def _fill_empty_rows_kernel(op, ctx):
    def run(indices, values, dense_shape, default_value):
        _check_sparse_input(op, indices, values, dense_shape)
        _check_rank(op, default_value, 0, "default_value must be a scalar, saw: ")
        if len(dense_shape) == 0:
            raise _invalid(op, "Dense shape cannot be empty.")
        rank = len(dense_shape)
        num_rows = int(dense_shape[0])
        rows = indices[:, 0] if len(indices) else np.zeros(0, np.int64)
        bad = np.flatnonzero((rows < 0) | (rows >= num_rows))
        if len(bad):
            i, row = int(bad[0]), int(rows[bad[0]])
            raise _invalid(op, "indices(%d, 0) is invalid: %d >= %d" % (i, row, num_rows)
                           if row >= 0 else "indices(%d, 0) is invalid: %d < 0" % (i, row))
        counts = np.bincount(rows, minlength=num_rows) if num_rows else np.zeros(0, np.int64)
        empty = counts == 0
        # Each row takes its entries (in input order) or one default entry at column 0.
        row_sizes = np.where(empty, 1, counts)
        row_starts = np.concatenate([[0], np.cumsum(row_sizes)[:-1]]).astype(np.int64) \
            if num_rows else np.zeros(0, np.int64)
        total = int(np.sum(row_sizes))
        out_indices = np.zeros((total, rank), np.int64)
        out_values = np.empty(total, values.dtype)
        filled = row_starts[empty]
        out_indices[filled, 0] = np.flatnonzero(empty)
        out_values[filled] = default_value
        # Entry i goes to its row's start plus the number of earlier entries in that row.
        by_row = np.argsort(rows, kind="stable")
        rank_in_row = np.empty(len(rows), np.int64)
        rank_in_row[by_row] = np.arange(len(rows)) - np.repeat(
            np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64), counts)
        reverse_index_map = (row_starts[rows] + rank_in_row).astype(np.int64)
        out_indices[reverse_index_map] = indices
        out_values[reverse_index_map] = values
        return [out_indices, out_values, empty, reverse_index_map]
    return run


register_op("SparseFillEmptyRows",
            inputs=["indices: int64", "values: T", "dense_shape: int64", "default_value: T"],
            outputs=["output_indices: int64", "output_values: T", "empty_row_indicator: bool",
                     "reverse_index_map: int64"],
            attrs=["T: type"], kernel=_fill_empty_rows_kernel,
            shape=lambda op: [tensor_shape.TensorShape([None, _rank_of(op._inputs[2])]),
                              _UNKNOWN_VECTOR, _num_rows_shape(op._inputs[2]),
                              op._inputs[1]._shape_val])


def _fill_empty_rows_grad_kernel(op, ctx):
    def run(reverse_index_map, grad_values):
        d_values = grad_values[reverse_index_map]
        unused = np.ones(len(grad_values), bool)
        unused[reverse_index_map] = False
        return [d_values, np.sum(grad_values[unused], dtype=grad_values.dtype)]
    return run


register_op("SparseFillEmptyRowsGrad",
            inputs=["reverse_index_map: int64", "grad_values: T"],
            outputs=["d_values: T", "d_default_value: T"],
            attrs=["T: type"], kernel=_fill_empty_rows_grad_kernel,
            shape=lambda op: [op._inputs[0]._shape_val, tensor_shape.TensorShape([])])


def _fill_empty_rows_grad(op, unused_indices_grad, values_grad, unused_indicator_grad,
                          unused_map_grad):
    d_values, d_default_value = apply_op("SparseFillEmptyRowsGrad",
                                         reverse_index_map=op.outputs[3],
                                         grad_values=values_grad)
    return [None, d_values, None, d_default_value]


register_gradient("SparseFillEmptyRows", _fill_empty_rows_grad)


def sparse_fill_empty_rows(sp_input, default_value, name=None):
    sp_input = _convert_to_sparse_tensor(sp_input)
    with ops.name_scope(name, "SparseFillEmptyRows", [sp_input]):
        default_value = ops.convert_to_tensor(default_value, dtype=sp_input.values.dtype)
        indices, values, empty_row_indicator, _ = apply_op(
            "SparseFillEmptyRows", indices=sp_input.indices, values=sp_input.values,
            dense_shape=sp_input.dense_shape, default_value=default_value)
        return SparseTensor(indices, values, sp_input.dense_shape), empty_row_indicator


# --- sparse_mask, sparse_merge, sparse_to_indicator (built from other ops) -----------------------

def sparse_mask(a, mask_indices, name=None):
    """The IndexedSlices `a` without the slices whose indices are in `mask_indices`."""
    with ops.name_scope(name, "sparse_mask", [a, mask_indices]) as scope:
        out_indices, to_gather = apply_op("ListDiff", x=a.indices, y=mask_indices)
        out_values = array_ops.gather(a.values, to_gather, name=scope)
        return IndexedSlices(out_values, out_indices, a.dense_shape)


def sparse_merge(sp_ids, sp_values, vocab_size, name=None, already_sorted=False):
    if isinstance(sp_ids, (SparseTensor, SparseTensorValue)):
        sp_ids = [sp_ids]
        vocab_size = [vocab_size]
    if len(sp_ids) != len(vocab_size):
        raise ValueError("sp_ids and vocab_size have to have equal lengths.")
    with ops.name_scope(name, "SparseMerge", [sp_ids, sp_values]):
        sp_ids = [_convert_to_sparse_tensor(ids) for ids in sp_ids]
        sp_values = _convert_to_sparse_tensor(sp_values)
        ids = []
        for ids_dim in sp_ids:
            values = ids_dim.values
            if ids_dim.dtype != dtypes.int64:
                values = math_ops.cast(values, dtypes.int64)
            ids.append(array_ops.expand_dims(values, axis=1))
        vocab_size = [math_ops.cast(size, dtypes.int64) for size in vocab_size]
        new_indices = array_ops.concat([sp_ids[0].indices[:, :-1]] + ids, 1)
        new_shape = array_ops.concat([sp_ids[0].dense_shape[:-1], vocab_size], 0)
        result = SparseTensor(new_indices, sp_values.values, new_shape)
        if already_sorted:
            return result
        ordered = sparse_reorder(result)
        return SparseTensor(ordered.indices, ordered.values, new_shape)


def sparse_to_indicator(sp_input, vocab_size, name=None):
    sp_input = _convert_to_sparse_tensor(sp_input)
    with ops.name_scope(name, "SparseToIndicator", [sp_input]) as scope:
        num_entries = array_ops.shape(sp_input.indices)[0]
        new_values = array_ops.fill(array_ops.expand_dims(num_entries, 0), True)
        sp_values = SparseTensor(sp_input.indices, new_values, sp_input.dense_shape)
        merged = sparse_merge(sp_input, sp_values, vocab_size, scope)
        return sparse_tensor_to_dense(merged, default_value=False, validate_indices=False,
                                      name=scope)
