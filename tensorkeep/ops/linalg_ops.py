"""Linear algebra and diagonal ops: Cholesky, MatrixInverse, MatrixDeterminant,
LogMatrixDeterminant, MatrixSolve, MatrixTriangularSolve, MatrixSolveLs, Qr, Svd,
SelfAdjointEigV2, MatrixBandPart, the MatrixDiag / MatrixDiagPart / MatrixSetDiag families (V1,
V2, V3), Diag and DiagPart; and TensorFlow's Python builders composed of them (trace, eye,
cholesky_solve, matrix_solve_ls, logdet, adjoint).

Every matrix op works on the innermost two dimensions and batches over the leading ones, as
TensorFlow does. The decompositions run in NumPy's LAPACK; float16 goes through float32 there
(LAPACK has no half precision) and comes back as float16.
"""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_gradient, register_op
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops import math_ops

_LINALG_TYPES = "{double, float, half, complex64, complex128}"
_DETERMINANT_TYPES = "{half, float, double, complex64, complex128}"
_TRIANGULAR_TYPES = "{bfloat16, double, float, half, complex64, complex128}"
_DIAG_TYPES = "{bfloat16, half, float, double, int32, int64, complex64, complex128}"
_ALIGN = "align: {'LEFT_RIGHT', 'RIGHT_LEFT', 'LEFT_LEFT', 'RIGHT_RIGHT'} = 'RIGHT_LEFT'"


# --- shared helpers ------------------------------------------------------------------------------

def _lapack_dtype(dtype):
    """The dtype NumPy's LAPACK computes `dtype` in (half is not a LAPACK type)."""
    return np.dtype(np.float32) if dtype in (np.float16, dtypes.bfloat16.as_numpy) else dtype


def _as_lapack(x):
    return x.astype(_lapack_dtype(x.dtype), copy=False)


def _adjoint(x):
    return np.conj(np.swapaxes(x, -1, -2))


def _check_square(op, x):
    if x.ndim < 2:
        raise errors.InvalidArgumentError(
            None, op, "Input tensor 0 must have rank >= 2, got %d" % x.ndim)
    if x.shape[-1] != x.shape[-2]:
        raise errors.InvalidArgumentError(None, op, "Input matrix must be square.")


def _shape(tensor):
    return tensor._shape_val


def _matrix_rank_at_least_2(op, shape):
    if shape.ndims is not None and shape.ndims < 2:
        raise array_ops.shape_error(
            op, "Shape must be at least rank 2 but is rank %d" % shape.ndims)


def _dims_equal(op, a, b):
    if a is not None and b is not None and a != b:
        raise array_ops.shape_error(op, "Dimensions must be equal, but are %d and %d" % (a, b))


def _square_matrix_shape(op):
    """[..., M, M] in, the same shape out (Cholesky, MatrixInverse)."""
    shape = _shape(op._inputs[0])
    _matrix_rank_at_least_2(op, shape)
    if shape.ndims is None:
        return [shape] * len(op._outputs)
    dims = shape.as_list()
    _dims_equal(op, dims[-2], dims[-1])
    size = dims[-2] if dims[-2] is not None else dims[-1]
    return [tensor_shape.TensorShape(dims[:-2] + [size, size])] * len(op._outputs)


def _batch_of_square_shape(op):
    """[..., M, M] in, [...] out (MatrixDeterminant, LogMatrixDeterminant)."""
    shape = _shape(op._inputs[0])
    _matrix_rank_at_least_2(op, shape)
    if shape.ndims is None:
        return [shape] * len(op._outputs)
    dims = shape.as_list()
    _dims_equal(op, dims[-2], dims[-1])
    return [tensor_shape.TensorShape(dims[:-2])] * len(op._outputs)


def _merge_dim(a, b):
    return a if a is not None else b


# --- Cholesky, MatrixInverse, determinants ------------------------------------------------------

def _cholesky_kernel(op, ctx):
    def run(x):
        _check_square(op, x)
        a = _as_lapack(x)
        try:
            lower = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            # TensorFlow reports no error: a matrix that is not positive definite comes out as
            # NaN (lower triangle; the strict upper triangle stays zero).
            lower = np.empty_like(a)
            for index in np.ndindex(*a.shape[:-2]):
                try:
                    lower[index] = np.linalg.cholesky(a[index])
                except np.linalg.LinAlgError:
                    lower[index] = np.tril(np.full(a.shape[-2:], np.nan, a.dtype))
        return lower.astype(x.dtype, copy=False)
    return run


register_op("Cholesky", inputs=["input: T"], outputs=["output: T"], attrs=["T: " + _LINALG_TYPES],
            kernel=_cholesky_kernel, shape=_square_matrix_shape)


def _matrix_inverse_kernel(op, ctx):
    adjoint = op._attrs["adjoint"]

    def run(x):
        _check_square(op, x)
        a = _as_lapack(x)
        if adjoint:
            a = _adjoint(a)
        try:
            inverse = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise errors.InvalidArgumentError(None, op, "Input is not invertible.") from None
        return inverse.astype(x.dtype, copy=False)
    return run


register_op("MatrixInverse", inputs=["input: T"], outputs=["output: T"],
            attrs=["adjoint: bool = false", "T: " + _LINALG_TYPES],
            kernel=_matrix_inverse_kernel, shape=_square_matrix_shape)


def _determinant_kernel(op, ctx):
    def run(x):
        _check_square(op, x)
        return np.asarray(np.linalg.det(_as_lapack(x))).astype(x.dtype, copy=False)
    return run


register_op("MatrixDeterminant", inputs=["input: T"], outputs=["output: T"],
            attrs=["T: " + _DETERMINANT_TYPES], kernel=_determinant_kernel,
            shape=_batch_of_square_shape)


def _log_determinant_kernel(op, ctx):
    def run(x):
        _check_square(op, x)
        sign, log_abs = np.linalg.slogdet(_as_lapack(x))
        return [np.asarray(sign).astype(x.dtype, copy=False),
                np.asarray(log_abs).astype(x.dtype, copy=False)]
    return run


register_op("LogMatrixDeterminant", inputs=["input: T"],
            outputs=["sign: T", "log_abs_determinant: T"], attrs=["T: " + _DETERMINANT_TYPES],
            kernel=_log_determinant_kernel, shape=_batch_of_square_shape)


# --- solvers -------------------------------------------------------------------------------------

def _solve_shape(op, broadcast_batch):
    matrix, rhs = _shape(op._inputs[0]), _shape(op._inputs[1])
    _matrix_rank_at_least_2(op, matrix)
    _matrix_rank_at_least_2(op, rhs)
    if matrix.ndims is None or rhs.ndims is None:
        return [tensor_shape.unknown_shape()]
    m, r = matrix.as_list(), rhs.as_list()
    _dims_equal(op, m[-2], m[-1])
    _dims_equal(op, m[-2], r[-2])
    if broadcast_batch:
        from tensorkeep.ops import _helpers
        batch = _helpers.broadcast_static_shapes(tensor_shape.TensorShape(m[:-2]),
                                                 tensor_shape.TensorShape(r[:-2]))
        batch = batch.as_list() if batch.ndims is not None else None
    else:
        if len(m) != len(r):
            raise array_ops.shape_error(
                op, "Shape must be rank %d but is rank %d" % (len(m), len(r)))
        batch = [_merge_dim(a, b) for a, b in zip(m[:-2], r[:-2])]
    if batch is None:
        return [tensor_shape.unknown_shape()]
    return [tensor_shape.TensorShape(batch + [_merge_dim(m[-1], r[-2]), r[-1]])]


def _matrix_solve_kernel(op, ctx):
    adjoint = op._attrs["adjoint"]

    def run(matrix, rhs):
        _check_square(op, matrix)
        if matrix.shape[:-2] != rhs.shape[:-2] or matrix.shape[-1] != rhs.shape[-2]:
            raise errors.InvalidArgumentError(
                None, op, "Input matrix and right-hand side must have the same number of rows.")
        a = _as_lapack(matrix)
        if adjoint:
            a = _adjoint(a)
        try:
            solution = np.linalg.solve(a, _as_lapack(rhs))
        except np.linalg.LinAlgError:
            raise errors.InvalidArgumentError(None, op, "Input matrix is not invertible.") \
                from None
        return solution.astype(matrix.dtype, copy=False)
    return run


register_op("MatrixSolve", inputs=["matrix: T", "rhs: T"], outputs=["output: T"],
            attrs=["adjoint: bool = false", "T: " + _LINALG_TYPES],
            kernel=_matrix_solve_kernel, shape=lambda op: _solve_shape(op, False))


def _triangular_solve(a, b, lower):
    """Solves a x = b by substitution, reading only a's `lower` (or upper) triangle; batch
    dimensions broadcast. A zero on the diagonal gives inf/NaN, as in TensorFlow."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    n = a.shape[-1]
    x = np.zeros(b.shape, np.result_type(a, b))
    rows = range(n) if lower else range(n - 1, -1, -1)
    with np.errstate(all="ignore"):
        for i in rows:
            known = slice(0, i) if lower else slice(i + 1, n)
            partial = np.matmul(a[..., i:i + 1, known], x[..., known, :])[..., 0, :]
            x[..., i, :] = (b[..., i, :] - partial) / a[..., i, i][..., None]
    return x


def _matrix_triangular_solve_kernel(op, ctx):
    lower, adjoint = op._attrs["lower"], op._attrs["adjoint"]

    def run(matrix, rhs):
        _check_square(op, matrix)
        if matrix.shape[-1] != rhs.shape[-2]:
            raise errors.InvalidArgumentError(
                None, op, "Input matrix and right-hand side must have the same number of rows.")
        a = _as_lapack(matrix)
        solve_lower = lower
        if adjoint:
            a, solve_lower = _adjoint(a), not lower
        return _triangular_solve(a, _as_lapack(rhs), solve_lower).astype(matrix.dtype,
                                                                          copy=False)
    return run


register_op("MatrixTriangularSolve", inputs=["matrix: T", "rhs: T"], outputs=["output: T"],
            attrs=["lower: bool = true", "adjoint: bool = false", "T: " + _TRIANGULAR_TYPES],
            kernel=_matrix_triangular_solve_kernel, shape=lambda op: _solve_shape(op, True))


def _matrix_solve_ls_kernel(op, ctx):
    fast = op._attrs["fast"]

    def run(matrix, rhs, l2_regularizer):
        if matrix.shape[:-2] != rhs.shape[:-2] or matrix.shape[-2] != rhs.shape[-2]:
            raise errors.InvalidArgumentError(
                None, op, "Input matrix and right-hand side must have the same number of rows.")
        a, b = _as_lapack(matrix), _as_lapack(rhs)
        rows, cols = a.shape[-2:]
        if fast:
            # The regularized normal equations, solved through their Cholesky factor.
            l2 = float(l2_regularizer)
            if rows >= cols:
                gram = np.matmul(_adjoint(a), a) + l2 * np.eye(cols, dtype=a.dtype)
                x = np.linalg.solve(gram, np.matmul(_adjoint(a), b))
            else:
                gram = np.matmul(a, _adjoint(a)) + l2 * np.eye(rows, dtype=a.dtype)
                x = np.matmul(_adjoint(a), np.linalg.solve(gram, b))
        else:
            x = np.empty(a.shape[:-2] + (cols, b.shape[-1]), np.result_type(a, b))
            for index in np.ndindex(*a.shape[:-2]):
                x[index] = np.linalg.lstsq(a[index], b[index], rcond=None)[0]
        return x.astype(matrix.dtype, copy=False)
    return run


def _matrix_solve_ls_shape(op):
    matrix, rhs = _shape(op._inputs[0]), _shape(op._inputs[1])
    _matrix_rank_at_least_2(op, matrix)
    _matrix_rank_at_least_2(op, rhs)
    if matrix.ndims is None or rhs.ndims is None:
        return [tensor_shape.unknown_shape()]
    m, r = matrix.as_list(), rhs.as_list()
    _dims_equal(op, m[-2], r[-2])
    batch = [_merge_dim(a, b) for a, b in zip(m[:-2], r[:-2])]
    return [tensor_shape.TensorShape(batch + [m[-1], r[-1]])]


register_op("MatrixSolveLs", inputs=["matrix: T", "rhs: T", "l2_regularizer: double"],
            outputs=["output: T"], attrs=["T: " + _LINALG_TYPES, "fast: bool = true"],
            kernel=_matrix_solve_ls_kernel, shape=_matrix_solve_ls_shape)


# --- decompositions ------------------------------------------------------------------------------

def _qr_kernel(op, ctx):
    mode = "complete" if op._attrs["full_matrices"] else "reduced"

    def run(x):
        if x.ndim < 2:
            raise errors.InvalidArgumentError(
                None, op, "Input tensor 0 must have rank >= 2, got %d" % x.ndim)
        q, r = np.linalg.qr(_as_lapack(x), mode=mode)
        return [q.astype(x.dtype, copy=False), r.astype(x.dtype, copy=False)]
    return run


def _qr_shape(op):
    shape = _shape(op._inputs[0])
    _matrix_rank_at_least_2(op, shape)
    if shape.ndims is None:
        return [shape, shape]
    dims = shape.as_list()
    batch, m, n = dims[:-2], dims[-2], dims[-1]
    if op._attrs["full_matrices"]:
        return [tensor_shape.TensorShape(batch + [m, m]), tensor_shape.TensorShape(batch + [m, n])]
    p = None if m is None or n is None else min(m, n)
    return [tensor_shape.TensorShape(batch + [m, p]), tensor_shape.TensorShape(batch + [p, n])]


register_op("Qr", inputs=["input: T"], outputs=["q: T", "r: T"],
            attrs=["full_matrices: bool = false", "T: " + _LINALG_TYPES],
            kernel=_qr_kernel, shape=_qr_shape)


def _svd_kernel(op, ctx):
    compute_uv, full_matrices = op._attrs["compute_uv"], op._attrs["full_matrices"]

    def decompose(a):
        if compute_uv:
            u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
            return s, u, _adjoint(vh)
        return np.linalg.svd(a, compute_uv=False), None, None

    def run(x):
        if x.ndim < 2:
            raise errors.InvalidArgumentError(
                None, op, "Input tensor 0 must have rank >= 2, got %d" % x.ndim)
        a = _as_lapack(x)
        try:
            s, u, v = decompose(a)
        except np.linalg.LinAlgError:
            # TensorFlow returns NaN for a matrix its SVD cannot decompose (NaN or inf inside).
            s, u, v = _nan_on_failure(a, decompose)
        s = s.astype(x.dtype)
        if not compute_uv:
            empty = np.zeros([0], x.dtype)
            return [s, empty, empty]
        return [s, u.astype(x.dtype, copy=False), v.astype(x.dtype, copy=False)]
    return run


def _nan_on_failure(a, decompose):
    """decompose(a) matrix by matrix, with NaN outputs for the matrices that fail."""
    parts = []
    for index in np.ndindex(*a.shape[:-2]):
        try:
            parts.append(decompose(a[index]))
        except np.linalg.LinAlgError:
            shapes = decompose(np.zeros(a.shape[-2:], a.dtype))
            parts.append(tuple(None if p is None else np.full(p.shape, np.nan, p.dtype)
                               for p in shapes))
    outputs = []
    for k in range(len(parts[0])):
        if parts[0][k] is None:
            outputs.append(None)
        else:
            stacked = np.stack([p[k] for p in parts])
            outputs.append(stacked.reshape(a.shape[:-2] + stacked.shape[1:]))
    return outputs


def _svd_shape(op):
    shape = _shape(op._inputs[0])
    _matrix_rank_at_least_2(op, shape)
    if shape.ndims is None:
        unknown = tensor_shape.unknown_shape()
        return [unknown] * 3
    dims = shape.as_list()
    batch, m, n = dims[:-2], dims[-2], dims[-1]
    p = None if m is None or n is None else min(m, n)
    s = tensor_shape.TensorShape(batch + [p])
    if not op._attrs["compute_uv"]:
        return [s, tensor_shape.TensorShape([0]), tensor_shape.TensorShape([0])]
    if op._attrs["full_matrices"]:
        return [s, tensor_shape.TensorShape(batch + [m, m]),
                tensor_shape.TensorShape(batch + [n, n])]
    return [s, tensor_shape.TensorShape(batch + [m, p]), tensor_shape.TensorShape(batch + [n, p])]


register_op("Svd", inputs=["input: T"], outputs=["s: T", "u: T", "v: T"],
            attrs=["compute_uv: bool = true", "full_matrices: bool = false",
                   "T: " + _LINALG_TYPES],
            kernel=_svd_kernel, shape=_svd_shape)


def _self_adjoint_eig_kernel(op, ctx):
    compute_v = op._attrs["compute_v"]

    def run(x):
        _check_square(op, x)
        a = _as_lapack(x)
        try:
            if not np.all(np.isfinite(a)):
                raise np.linalg.LinAlgError()
            # The lower triangle only, as TensorFlow's solver reads it.
            if compute_v:
                e, v = np.linalg.eigh(a, UPLO="L")
            else:
                e, v = np.linalg.eigvalsh(a, UPLO="L"), None
        except np.linalg.LinAlgError:
            raise errors.InvalidArgumentError(
                None, op, "Self-adjoint eigen decomposition was not successful. The input "
                "might not be valid.") from None
        e = e.astype(x.dtype)
        if not compute_v:
            return [e, np.zeros([0], x.dtype)]
        return [e, v.astype(x.dtype, copy=False)]
    return run


def _self_adjoint_eig_shape(op):
    shape = _shape(op._inputs[0])
    _matrix_rank_at_least_2(op, shape)
    if shape.ndims is None:
        return [shape, shape]
    dims = shape.as_list()
    _dims_equal(op, dims[-2], dims[-1])
    n = _merge_dim(dims[-2], dims[-1])
    e = tensor_shape.TensorShape(dims[:-2] + [n])
    if not op._attrs["compute_v"]:
        return [e, tensor_shape.TensorShape([0])]
    return [e, tensor_shape.TensorShape(dims[:-2] + [n, n])]


register_op("SelfAdjointEigV2", inputs=["input: T"], outputs=["e: T", "v: T"],
            attrs=["compute_v: bool = true", "T: " + _LINALG_TYPES],
            kernel=_self_adjoint_eig_kernel, shape=_self_adjoint_eig_shape)


# --- MatrixBandPart ------------------------------------------------------------------------------

def _band_part_kernel(op, ctx):
    def run(x, num_lower, num_upper):
        if x.ndim < 2:
            raise errors.InvalidArgumentError(
                None, op, "input must be at least 2-dim, received shape: %s"
                % list(x.shape))
        rows, cols = x.shape[-2:]
        num_lower, num_upper = int(num_lower), int(num_upper)
        if num_lower > rows:
            raise errors.InvalidArgumentError(
                None, op, "num_lower must be negative or less or equal to number of rows (%d) "
                "got: %d" % (rows, num_lower))
        if num_upper > cols:
            raise errors.InvalidArgumentError(
                None, op, "num_upper must be negative or less or equal to number of columns "
                "(%d) got: %d" % (cols, num_upper))
        offset = np.arange(cols)[None, :] - np.arange(rows)[:, None]  # column - row
        keep = np.ones((rows, cols), bool)
        if num_lower >= 0:
            keep &= offset >= -num_lower
        if num_upper >= 0:
            keep &= offset <= num_upper
        return np.where(keep, x, np.zeros((), x.dtype))
    return run


def _band_part_shape(op):
    shape = _shape(op._inputs[0])
    _matrix_rank_at_least_2(op, shape)
    return [shape]


register_op("MatrixBandPart", inputs=["input: T", "num_lower: Tindex", "num_upper: Tindex"],
            outputs=["band: T"], attrs=["T: type", "Tindex: {int32, int64} = DT_INT64"],
            kernel=_band_part_kernel, shape=_band_part_shape)


# --- MatrixDiag / MatrixDiagPart / MatrixSetDiag ------------------------------------------------

def _diag_range(op, k):
    k = np.asarray(k).reshape([-1])
    if k.size not in (1, 2):
        raise errors.InvalidArgumentError(
            None, op, "diag_index must have only one or two elements, received %d elements."
            % k.size)
    lower, upper = int(k[0]), int(k[-1])
    if lower > upper:
        raise errors.InvalidArgumentError(
            None, op, "lower_diag_index must not be larger than upper_diag_index: %d > %d"
            % (lower, upper))
    return lower, upper


def _max_diag_len(rows, cols, lower, upper):
    return min(rows + min(upper, 0), cols - max(lower, 0))


def _band_positions(rows, cols, lower, upper, align):
    """Index arrays pairing matrix elements with packed-diagonal elements for diagonals
    lower..upper: (row, col) in the matrix, (index, position) in the packed form, where
    index 0 holds the highest diagonal and shorter diagonals are aligned by `align`."""
    max_len = _max_diag_len(rows, cols, lower, upper)
    left_super = align in ("LEFT_RIGHT", "LEFT_LEFT")
    left_sub = align in ("LEFT_LEFT", "RIGHT_LEFT")
    parts = ([], [], [], [])
    for d in range(upper, lower - 1, -1):
        length = _max_diag_len(rows, cols, d, d)
        if length <= 0:
            continue
        left = (d >= 0 and left_super) or (d <= 0 and left_sub)
        offset = 0 if left else max_len - length
        n = np.arange(length)
        parts[0].append(max(0, -d) + n)
        parts[1].append(max(0, d) + n)
        parts[2].append(np.full(length, upper - d))
        parts[3].append(offset + n)
    if not parts[0]:
        return max_len, tuple(np.zeros([0], np.int64) for _ in parts)
    return max_len, tuple(np.concatenate(p) for p in parts)


def _check_diag_range_fits(op, rows, cols, lower, upper):
    if not (-rows < lower < cols or (lower == 0 and rows * cols == 0)):
        raise errors.InvalidArgumentError(
            None, op, "lower_diag_index is out of bound: %d. It must be between %d and %d"
            % (lower, -rows, cols))
    if not (-rows < upper < cols or (upper == 0 and rows * cols == 0)):
        raise errors.InvalidArgumentError(
            None, op, "upper_diag_index is out of bound: %d It must be between %d and %d"
            % (upper, -rows, cols))


def _diag_part(op, x, k, padding, align):
    if x.ndim < 2:
        raise errors.InvalidArgumentError(
            None, op, "input must be at least 2-dim, received shape: %s" % list(x.shape))
    lower, upper = _diag_range(op, k)
    rows, cols = x.shape[-2:]
    _check_diag_range_fits(op, rows, cols, lower, upper)
    max_len, (row, col, index, position) = _band_positions(rows, cols, lower, upper, align)
    out = np.full(x.shape[:-2] + (upper - lower + 1, max_len), padding, x.dtype)
    out[..., index, position] = x[..., row, col]
    return out if lower < upper else out[..., 0, :]


def _packed(op, diagonal, lower, upper):
    """`diagonal` with its diagonals axis (a single diagonal has none)."""
    if lower == upper:
        return diagonal[..., None, :]
    if diagonal.ndim < 2 or diagonal.shape[-2] != upper - lower + 1:
        raise errors.InvalidArgumentError(
            None, op, "The number of diagonals provided in the input does not match the "
            "lower_diag_index and upper_diag_index range.")
    return diagonal


def _matrix_diag(op, diagonal, k, num_rows, num_cols, padding, align):
    lower, upper = _diag_range(op, k)
    if diagonal.ndim < (1 if lower == upper else 2):
        raise errors.InvalidArgumentError(
            None, op, "diagonal must be at least 1-dim, received shape: %s"
            % list(diagonal.shape))
    packed = _packed(op, diagonal, lower, upper)
    max_len = packed.shape[-1]
    min_rows, min_cols = max_len - min(upper, 0), max_len + max(lower, 0)
    num_rows, num_cols = int(num_rows), int(num_cols)
    if num_rows == -1 and num_cols == -1:
        num_rows = num_cols = max(min_rows, min_cols)
    elif num_rows == -1:
        num_rows = min_rows
    elif num_cols == -1:
        num_cols = min_cols
    if num_rows < min_rows or num_cols < min_cols or (
            num_rows != min_rows and num_cols != min_cols):
        raise errors.InvalidArgumentError(
            None, op, "The number of rows or columns is not consistent with the specified "
            "d_lower, d_upper, and diagonal.")
    _, (row, col, index, position) = _band_positions(num_rows, num_cols, lower, upper, align)
    out = np.full(packed.shape[:-2] + (num_rows, num_cols), padding, diagonal.dtype)
    out[..., row, col] = packed[..., index, position]
    return out


def _matrix_set_diag(op, x, diagonal, k, align):
    if x.ndim < 2:
        raise errors.InvalidArgumentError(
            None, op, "input must be at least 2-dim, received shape: %s" % list(x.shape))
    lower, upper = _diag_range(op, k)
    rows, cols = x.shape[-2:]
    _check_diag_range_fits(op, rows, cols, lower, upper)
    max_len, (row, col, index, position) = _band_positions(rows, cols, lower, upper, align)
    expected = x.shape[:-2] + ((max_len,) if lower == upper else (upper - lower + 1, max_len))
    if diagonal.shape != expected:
        raise errors.InvalidArgumentError(
            None, op, "Either first dimensions of diagonal don't match input.shape[:-2], or "
            "diagonal.shape[:-1] is not equal to the longests diagonal in range "
            "[lower_diag_index:upper_diag_index].\nInput shape: %s\nDiagonal shape: %s\n"
            "Expected diagonal shape: %s" % (_dims_text(x.shape), _dims_text(diagonal.shape),
                                             _dims_text(expected)))
    packed = _packed(op, diagonal, lower, upper)
    out = np.array(x, copy=True)
    out[..., row, col] = packed[..., index, position]
    return out


def _dims_text(shape):
    return "[%s]" % ",".join(str(d) for d in shape)


def _align_attr(op, default="LEFT_LEFT"):
    """The op's alignment: V2 ops have no attr and pack LEFT_LEFT. TensorFlow's gradients of
    V2 ops build V3 ops with the builders' default (default="RIGHT_LEFT")."""
    align = op._attrs.get("align", default)
    return align.decode() if isinstance(align, bytes) else align


def _matrix_diag_kernel(op, ctx):
    if op.type == "MatrixDiag":
        return lambda diagonal: _matrix_diag(op, diagonal, 0, -1, -1, 0, "LEFT_LEFT")
    align = _align_attr(op)
    return lambda diagonal, k, num_rows, num_cols, padding: _matrix_diag(
        op, diagonal, k, num_rows, num_cols, padding, align)


def _matrix_diag_part_kernel(op, ctx):
    if op.type == "MatrixDiagPart":
        return lambda x: _diag_part(op, x, 0, 0, "LEFT_LEFT")
    align = _align_attr(op)
    return lambda x, k, padding: _diag_part(op, x, k, padding, align)


def _matrix_set_diag_kernel(op, ctx):
    if op.type == "MatrixSetDiag":
        return lambda x, diagonal: _matrix_set_diag(op, x, diagonal, 0, "LEFT_LEFT")
    align = _align_attr(op)
    return lambda x, diagonal, k: _matrix_set_diag(op, x, diagonal, k, align)


def _static_diag_range(op, index):
    """(lower, upper) when input `index` (k) is known statically, else None."""
    if index is None:
        return 0, 0
    k = array_ops.static_value(op._inputs[index])
    if k is None:
        return None
    k = np.asarray(k).reshape([-1])
    return (int(k[0]), int(k[-1])) if k.size in (1, 2) else None


def _static_int(op, index):
    value = array_ops.static_value(op._inputs[index])
    return None if value is None else int(value)


def _matrix_diag_shape(op):
    diagonal = _shape(op._inputs[0])
    band = _static_diag_range(op, 1 if op.type != "MatrixDiag" else None)
    if band is None or diagonal.ndims is None:
        return [tensor_shape.unknown_shape()]
    lower, upper = band
    dims = diagonal.as_list()
    batch = dims[:-1] if lower == upper else dims[:-2]
    if op.type == "MatrixDiag":
        return [tensor_shape.TensorShape(dims + dims[-1:])]
    num_rows, num_cols = _static_int(op, 2), _static_int(op, 3)
    max_len = dims[-1]
    if num_rows is None or num_cols is None or max_len is None:
        return [tensor_shape.TensorShape(batch + [None, None])]
    min_rows, min_cols = max_len - min(upper, 0), max_len + max(lower, 0)
    if num_rows == -1 and num_cols == -1:
        num_rows = num_cols = max(min_rows, min_cols)
    elif num_rows == -1:
        num_rows = min_rows
    elif num_cols == -1:
        num_cols = min_cols
    return [tensor_shape.TensorShape(batch + [num_rows, num_cols])]


def _matrix_diag_part_shape(op):
    shape = _shape(op._inputs[0])
    _matrix_rank_at_least_2(op, shape)
    band = _static_diag_range(op, 1 if op.type != "MatrixDiagPart" else None)
    if band is None or shape.ndims is None:
        return [tensor_shape.unknown_shape()]
    lower, upper = band
    dims = shape.as_list()
    rows, cols = dims[-2:]
    max_len = None
    if rows is not None and cols is not None:
        max_len = _max_diag_len(rows, cols, lower, upper)
    elif lower == upper == 0:
        max_len = rows if cols is None else cols
    diags = [] if lower == upper else [upper - lower + 1]
    return [tensor_shape.TensorShape(dims[:-2] + diags + [max_len])]


def _matrix_set_diag_shape(op):
    shape = _shape(op._inputs[0])
    _matrix_rank_at_least_2(op, shape)
    diagonal = _shape(op._inputs[1])
    band = _static_diag_range(op, 2 if op.type != "MatrixSetDiag" else None)
    if shape.ndims is None and diagonal.ndims is not None and band is not None:
        # The diagonal's batch dimensions give the output's rank.
        batch = diagonal.as_list()[:-1 if band[0] == band[1] else -2]
        return [tensor_shape.TensorShape(batch + [None, None])]
    return [shape]


register_op("MatrixDiag", inputs=["diagonal: T"], outputs=["output: T"], attrs=["T: type"],
            kernel=_matrix_diag_kernel, shape=_matrix_diag_shape)
register_op("MatrixDiagV2",
            inputs=["diagonal: T", "k: int32", "num_rows: int32", "num_cols: int32",
                    "padding_value: T"],
            outputs=["output: T"], attrs=["T: type"],
            kernel=_matrix_diag_kernel, shape=_matrix_diag_shape)
register_op("MatrixDiagV3",
            inputs=["diagonal: T", "k: int32", "num_rows: int32", "num_cols: int32",
                    "padding_value: T"],
            outputs=["output: T"], attrs=["T: type", _ALIGN],
            kernel=_matrix_diag_kernel, shape=_matrix_diag_shape)
register_op("MatrixDiagPart", inputs=["input: T"], outputs=["diagonal: T"], attrs=["T: type"],
            kernel=_matrix_diag_part_kernel, shape=_matrix_diag_part_shape)
register_op("MatrixDiagPartV2", inputs=["input: T", "k: int32", "padding_value: T"],
            outputs=["diagonal: T"], attrs=["T: type"],
            kernel=_matrix_diag_part_kernel, shape=_matrix_diag_part_shape)
register_op("MatrixDiagPartV3", inputs=["input: T", "k: int32", "padding_value: T"],
            outputs=["diagonal: T"], attrs=["T: type", _ALIGN],
            kernel=_matrix_diag_part_kernel, shape=_matrix_diag_part_shape)
register_op("MatrixSetDiag", inputs=["input: T", "diagonal: T"], outputs=["output: T"],
            attrs=["T: type"], kernel=_matrix_set_diag_kernel, shape=_matrix_set_diag_shape)
register_op("MatrixSetDiagV2", inputs=["input: T", "diagonal: T", "k: int32"],
            outputs=["output: T"], attrs=["T: type"],
            kernel=_matrix_set_diag_kernel, shape=_matrix_set_diag_shape)
register_op("MatrixSetDiagV3", inputs=["input: T", "diagonal: T", "k: int32"],
            outputs=["output: T"], attrs=["T: type", _ALIGN],
            kernel=_matrix_set_diag_kernel, shape=_matrix_set_diag_shape)


# --- Diag / DiagPart (the tensor diagonal: rank k <-> rank 2k) ----------------------------------

def _diag_compute(diagonal):
    if diagonal.ndim < 1:
        raise ValueError("Input must be at least rank 1, got 0")
    size = diagonal.size
    out = np.zeros((size, size), diagonal.dtype)
    out[np.arange(size), np.arange(size)] = diagonal.reshape([-1])
    return out.reshape(diagonal.shape + diagonal.shape)


def _diag_part_kernel(op, ctx):
    def run(x):
        half = x.ndim // 2
        if x.ndim == 0 or x.ndim % 2:
            raise errors.InvalidArgumentError(
                None, op, "The rank of the tensor should be even and positive, got shape %s"
                % _dims_text(x.shape))
        for i in range(half):
            if x.shape[i] != x.shape[i + half]:
                raise errors.InvalidArgumentError(
                    None, op, "Invalid shape %s: dimensions %d and %d do not match."
                    % (_dims_text(x.shape), i, i + half))
        size = int(np.prod(x.shape[:half], dtype=np.int64))
        flat = x.reshape(size, size)
        return flat[np.arange(size), np.arange(size)].reshape(x.shape[:half])
    return run


def _diag_shape(op):
    shape = _shape(op._inputs[0])
    if shape.ndims is None:
        return [shape]
    if shape.ndims < 1:
        raise array_ops.shape_error(op, "Shape must be at least rank 1 but is rank 0")
    return [shape.concatenate(shape)]


def _diag_part_shape(op):
    shape = _shape(op._inputs[0])
    if shape.ndims is None:
        return [shape]
    if shape.ndims % 2 or shape.ndims == 0:
        raise array_ops.shape_error(
            op, "Input must have even rank <= 6, input rank is %d" % shape.ndims)
    dims = shape.as_list()
    half = len(dims) // 2
    for i in range(half):
        _dims_equal(op, dims[i], dims[i + half])
    return [tensor_shape.TensorShape([_merge_dim(a, b)
                                      for a, b in zip(dims[:half], dims[half:])])]


register_op("Diag", inputs=["diagonal: T"], outputs=["output: T"], attrs=["T: " + _DIAG_TYPES],
            compute=_diag_compute, shape=_diag_shape)
register_op("DiagPart", inputs=["input: T"], outputs=["diagonal: T"],
            attrs=["T: " + _DIAG_TYPES], kernel=_diag_part_kernel, shape=_diag_part_shape)


# --- public builders -----------------------------------------------------------------------------

def cholesky(input, name=None):  # noqa: A002 (TensorFlow's argument name)
    return apply_op("Cholesky", input=input, name=name)


def matrix_inverse(input, adjoint=False, name=None):  # noqa: A002
    return apply_op("MatrixInverse", input=input, adjoint=adjoint, name=name)


def matrix_determinant(input, name=None):  # noqa: A002
    return apply_op("MatrixDeterminant", input=input, name=name)


def slogdet(input, name=None):  # noqa: A002
    """(sign, log_abs_determinant) of each matrix."""
    return tuple(apply_op("LogMatrixDeterminant", input=input, name=name))


def matrix_solve(matrix, rhs, adjoint=False, name=None):
    return apply_op("MatrixSolve", matrix=matrix, rhs=rhs, adjoint=adjoint, name=name)


def matrix_triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    with ops.name_scope(name, "triangular_solve", [matrix, rhs]):
        return apply_op("MatrixTriangularSolve", matrix=matrix, rhs=rhs, lower=lower,
                        adjoint=adjoint)


def cholesky_solve(chol, rhs, name=None):
    """Solves A x = rhs given A's Cholesky factor: two triangular solves."""
    with ops.name_scope(name, "cholesky_solve", [chol, rhs]):
        y = apply_op("MatrixTriangularSolve", matrix=chol, rhs=rhs, adjoint=False, lower=True)
        return apply_op("MatrixTriangularSolve", matrix=chol, rhs=y, adjoint=True, lower=True)


def _regularized_gramian_cholesky(matrix, l2_regularizer, first_kind):
    """Cholesky factor of A^H A + l2 I (first kind) or A A^H + l2 I (second kind)."""
    gramian = math_ops.matmul(matrix, matrix, adjoint_a=first_kind, adjoint_b=not first_kind)
    if isinstance(l2_regularizer, ops.Tensor) or l2_regularizer != 0:
        matrix_shape = array_ops.shape(matrix)
        batch_shape = matrix_shape[:-2]
        small_dim = matrix_shape[-1] if first_kind else matrix_shape[-2]
        identity = eye(small_dim, batch_shape=batch_shape, dtype=matrix.dtype)
        small_dim_static = matrix.shape[-1 if first_kind else -2]
        identity.set_shape(matrix.shape[:-2].concatenate([small_dim_static, small_dim_static]))
        gramian += l2_regularizer * identity
    return apply_op("Cholesky", input=gramian)


# Tensors above this many bytes with more matrices than the smaller matrix side are solved by
# the MatrixSolveLs kernel; smaller ones by the composite graph (TensorFlow's rule).
_L2_CACHE_SIZE_GUESS = 256000


def matrix_solve_ls(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """Least-squares solutions of matrix x = rhs (regularized by l2_regularizer when fast)."""
    matrix = ops.convert_to_tensor(matrix, name="matrix")
    if matrix.dtype == dtypes.complex128 and l2_regularizer != 0:
        raise NotImplementedError("matrix_solve_ls is currently disabled for complex128 and "
                                  "l2_regularizer != 0 due to poor accuracy.")
    shape = matrix.shape
    use_composite = fast is not False
    if use_composite and shape.is_fully_defined():
        dims = shape.as_list()
        batch_size = int(np.prod(dims[:-2], dtype=np.int64))
        size = int(np.prod(dims, dtype=np.int64)) * matrix.dtype.size
        use_composite = not (size > _L2_CACHE_SIZE_GUESS and batch_size > min(dims[-2:]))
    if not use_composite:
        return apply_op("MatrixSolveLs", matrix=matrix, rhs=rhs, l2_regularizer=l2_regularizer,
                        fast=fast, name=name)

    def overdetermined():
        chol = _regularized_gramian_cholesky(matrix, l2_regularizer, first_kind=True)
        return cholesky_solve(chol, math_ops.matmul(matrix, rhs, adjoint_a=True))

    def underdetermined():
        chol = _regularized_gramian_cholesky(matrix, l2_regularizer, first_kind=False)
        return math_ops.matmul(matrix, cholesky_solve(chol, rhs), adjoint_a=True)

    with ops.name_scope(name, "matrix_solve_ls", [matrix, rhs, l2_regularizer]):
        matrix_shape = matrix.shape[-2:]
        if matrix_shape.is_fully_defined():
            rows, cols = matrix_shape.as_list()
            return overdetermined() if rows >= cols else underdetermined()
        dynamic = array_ops.shape(matrix)[-2:]
        return control_flow_ops.cond(dynamic[-2] >= dynamic[-1], overdetermined,
                                     underdetermined)


def qr(input, full_matrices=False, name=None):  # noqa: A002
    return tuple(apply_op("Qr", input=input, full_matrices=full_matrices, name=name))


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """(s, u, v) with tensor = u diag(s) v^H; only s when compute_uv is False."""
    dtype = getattr(tensor, "dtype", None)
    if dtype.is_complex if isinstance(dtype, dtypes.DType) else np.iscomplexobj(tensor):
        # TensorFlow returns real(s): tensorkeep has no Real op yet.
        raise NotImplementedError("tensorkeep's svd builder needs a Real op for complex "
                                  "inputs; build the Svd op with apply_op instead")
    s, u, v = apply_op("Svd", input=tensor, compute_uv=compute_uv, full_matrices=full_matrices,
                       name=name)
    return (s, u, v) if compute_uv else s


def self_adjoint_eig(tensor, name=None):
    e, v = apply_op("SelfAdjointEigV2", input=tensor, compute_v=True, name=name)
    return e, v


def self_adjoint_eigvals(tensor, name=None):
    return apply_op("SelfAdjointEigV2", input=tensor, compute_v=False, name=name)[0]


def matrix_band_part(input, num_lower, num_upper, name=None):  # noqa: A002
    # TensorFlow's wrapper makes int32 constants of literal band sizes (not Tindex's int64
    # default).
    literals = not isinstance(num_lower, ops.Tensor) and not isinstance(num_upper, ops.Tensor)
    return apply_op("MatrixBandPart", input=input, num_lower=num_lower, num_upper=num_upper,
                    Tindex=dtypes.int32 if literals else None, name=name)


def matrix_diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
                align="RIGHT_LEFT"):
    if getattr(diagonal, "dtype", None) == dtypes.bool_:
        padding_value = bool(padding_value)
    return apply_op("MatrixDiagV3", diagonal=diagonal, k=k, num_rows=num_rows,
                    num_cols=num_cols, padding_value=padding_value, align=align, name=name)


def matrix_diag_part(input, name="diag_part", k=0, padding_value=0,  # noqa: A002
                     align="RIGHT_LEFT"):
    if getattr(input, "dtype", None) == dtypes.bool_:
        padding_value = bool(padding_value)
    return apply_op("MatrixDiagPartV3", input=input, k=k, padding_value=padding_value,
                    align=align, name=name)


def matrix_set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT"):  # noqa: A002
    return apply_op("MatrixSetDiagV3", input=input, diagonal=diagonal, k=k, align=align,
                    name=name)


def diag(diagonal, name=None):
    return apply_op("Diag", diagonal=diagonal, name=name)


def diag_part(input, name=None):  # noqa: A002
    return apply_op("DiagPart", input=input, name=name)


def trace(x, name=None):
    """Sum of the main diagonal of each innermost matrix."""
    with ops.name_scope(name, "Trace", [x]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        return math_ops.reduce_sum(matrix_diag_part(x), [-1], name=scope)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None):
    """Identity matrices [*batch_shape, num_rows, num_columns]."""
    with ops.name_scope(name, "eye", [num_rows, num_columns, batch_shape]):
        is_square = num_columns is None
        batch_shape = [] if batch_shape is None else batch_shape
        num_columns = num_rows if num_columns is None else num_columns
        if isinstance(num_rows, ops.Tensor) or isinstance(num_columns, ops.Tensor):
            diag_size = math_ops.minimum(num_rows, num_columns)
        else:
            if not isinstance(num_rows, (int, np.integer)) or \
                    not isinstance(num_columns, (int, np.integer)):
                raise TypeError("Arguments `num_rows` and `num_columns` must be positive "
                                "integer values. Received: num_rows=%s, num_columns=%s"
                                % (num_rows, num_columns))
            is_square = num_rows == num_columns
            diag_size = min(num_rows, num_columns)
        if isinstance(batch_shape, ops.Tensor) or isinstance(diag_size, ops.Tensor):
            batch_shape = ops.convert_to_tensor(batch_shape, name="shape", dtype=dtypes.int32)
            diag_shape = array_ops.concat((batch_shape, [diag_size]), axis=0)
            if not is_square:
                shape = array_ops.concat((batch_shape, [num_rows, num_columns]), axis=0)
        else:
            batch_shape = list(batch_shape)
            diag_shape = batch_shape + [diag_size]
            if not is_square:
                shape = batch_shape + [num_rows, num_columns]
        diag_ones = array_ops.ones(diag_shape, dtype=dtype)
        if is_square:
            return matrix_diag(diag_ones)
        return matrix_set_diag(array_ops.zeros(shape, dtype=dtype), diag_ones)


def adjoint(matrix, name=None):
    """The conjugate transpose of each innermost matrix."""
    with ops.name_scope(name, "adjoint", [matrix]):
        matrix = ops.convert_to_tensor(matrix, name="matrix")
        return array_ops.matrix_transpose(matrix, conjugate=True)


def logdet(matrix, name=None):
    """log(det(matrix)) of Hermitian positive definite matrices, through their Cholesky
    factor."""
    with ops.name_scope(name, "logdet", [matrix]):
        chol = apply_op("Cholesky", input=matrix)
        if chol.dtype.is_complex:
            raise NotImplementedError("tensorkeep's logdet needs a Real op for complex inputs")
        return 2.0 * math_ops.reduce_sum(math_ops.log(matrix_diag_part(chol)), axis=[-1])


# --- gradients (the graphs TensorFlow's gradient functions build) ---------------------------------

def _matrix_inverse_grad(op, grad):
    inverse = op._outputs[0]
    adjoint_attr = op._attrs["adjoint"]
    return [-math_ops.matmul(inverse, math_ops.matmul(grad, inverse, adjoint_a=adjoint_attr,
                                                      adjoint_b=not adjoint_attr),
                             adjoint_a=not adjoint_attr)]


def _determinant_grad(op, grad):
    a, determinant = op._inputs[0], op._outputs[0]
    a_adj_inv = matrix_inverse(a, adjoint=True)
    multipliers = array_ops.reshape(
        grad * determinant, array_ops.concat([array_ops.shape(determinant), [1, 1]], 0))
    return [multipliers * a_adj_inv]


def _log_determinant_grad(op, _, grad):
    a, log_abs = op._inputs[0], op._outputs[1]
    a_adj_inv = matrix_inverse(a, adjoint=True)
    multipliers = array_ops.reshape(grad, array_ops.concat([array_ops.shape(log_abs), [1, 1]], 0))
    return [multipliers * a_adj_inv]


def _cholesky_grad(op, grad):
    # grad_a = sym(L^-H ((L^H grad) masked to its lower triangle, half diagonal) L^-1)
    lower = op._outputs[0]
    num_rows = array_ops.shape(lower)[-1]
    batch_shape = array_ops.shape(lower)[:-2]
    lower_inverse = matrix_triangular_solve(
        lower, eye(num_rows, batch_shape=batch_shape, dtype=lower.dtype))
    middle = math_ops.matmul(lower, grad, adjoint_a=True)
    middle = matrix_set_diag(middle, 0.5 * matrix_diag_part(middle))
    middle = matrix_band_part(middle, -1, 0)
    grad_a = math_ops.matmul(math_ops.matmul(lower_inverse, middle, adjoint_a=True),
                             lower_inverse)
    grad_a += adjoint(grad_a)
    return [grad_a * 0.5]


def _matrix_solve_grad(op, grad):
    a = op._inputs[0]
    adjoint_attr = op._attrs["adjoint"]
    solution = op._outputs[0]
    grad_b = matrix_solve(a, grad, adjoint=not adjoint_attr)
    if adjoint_attr:
        grad_a = -math_ops.matmul(solution, grad_b, adjoint_b=True)
    else:
        grad_a = -math_ops.matmul(grad_b, solution, adjoint_b=True)
    return [grad_a, grad_b]


def _matrix_triangular_solve_grad(op, grad):
    a, b = op._inputs
    adjoint_attr, lower = op._attrs["adjoint"], op._attrs["lower"]
    solution = op._outputs[0]
    grad_b = matrix_triangular_solve(a, grad, lower=lower, adjoint=not adjoint_attr)
    if adjoint_attr:
        grad_a = -math_ops.matmul(solution, grad_b, adjoint_b=True)
    else:
        grad_a = -math_ops.matmul(grad_b, solution, adjoint_b=True)
    grad_a = matrix_band_part(grad_a, -1, 0) if lower else matrix_band_part(grad_a, 0, -1)
    if a.shape.is_fully_defined() and b.shape.is_fully_defined() and a.shape[:-2] == b.shape[:-2]:
        return [grad_a, grad_b]
    # Batch dimensions broadcast: sum each gradient over the dimensions its input lacked.
    a_shape, b_shape = array_ops.shape(a), array_ops.shape(b)
    reduce_a, reduce_b = array_ops.broadcast_gradient_args(a_shape[:-2], b_shape[:-2])
    grad_a = array_ops.reshape(math_ops.reduce_sum(grad_a, axis=reduce_a), a_shape)
    grad_b = array_ops.reshape(math_ops.reduce_sum(grad_b, axis=reduce_b), b_shape)
    return [grad_a, grad_b]


def _matrix_solve_ls_grad(op, grad):
    a, b = op._inputs[0], op._inputs[1]
    l2_regularizer = math_ops.cast(op._inputs[2], a.dtype.base_dtype)

    def overdetermined():
        # Backprop through x = (A^H A + l2 I)^-1 A^H b.
        x = op._outputs[0]
        chol = _regularized_gramian_cholesky(a, l2_regularizer, first_kind=True)
        z = cholesky_solve(chol, grad)
        xzt = math_ops.matmul(x, z, adjoint_b=True)
        zx_sym = xzt + array_ops.matrix_transpose(xzt)
        grad_a = -math_ops.matmul(a, zx_sym) + math_ops.matmul(b, z, adjoint_b=True)
        return [grad_a, math_ops.matmul(a, z), None]

    def underdetermined():
        # Backprop through x = A^H (A A^H + l2 I)^-1 b.
        chol = _regularized_gramian_cholesky(a, l2_regularizer, first_kind=False)
        grad_b = cholesky_solve(chol, math_ops.matmul(a, grad))
        tmp = cholesky_solve(chol, b)
        a1 = -math_ops.matmul(grad_b, math_ops.matmul(tmp, a, adjoint_a=True))
        a2 = math_ops.matmul(tmp, grad - math_ops.matmul(a, grad_b, adjoint_a=True),
                             adjoint_b=True)
        return [a1 + a2, grad_b, None]

    if op._attrs["fast"] is False:
        raise ValueError("Gradient not defined for fast=False")
    matrix_shape = a.shape[-2:]
    if not matrix_shape.is_fully_defined():
        raise NotImplementedError("tensorkeep builds MatrixSolveLs's gradient for matrices of "
                                  "static shape only")
    rows, cols = matrix_shape.as_list()
    return overdetermined() if rows >= cols else underdetermined()


def _safe_reciprocal(x, epsilon=1e-20):
    # A Lorentz-broadened 1/x: finite where eigen/singular values coincide.
    return x * math_ops.reciprocal(x * x + epsilon)


def _self_adjoint_eig_grad(op, grad_e, grad_v):
    e = op._outputs[0]
    with ops.control_dependencies([grad_e, grad_v]):
        if op._attrs["compute_v"]:
            v = op._outputs[1]
            # f[i, j] = 1 / (e_j - e_i) off the diagonal, 0 on it.
            f = matrix_set_diag(
                _safe_reciprocal(array_ops.expand_dims(e, -2) - array_ops.expand_dims(e, -1)),
                array_ops.zeros_like(e))
            grad_a = math_ops.matmul(
                v, math_ops.matmul(matrix_diag(grad_e) +
                                   f * math_ops.matmul(v, grad_v, adjoint_a=True),
                                   v, adjoint_b=True))
        else:
            _, v = self_adjoint_eig(op._inputs[0])
            grad_a = math_ops.matmul(v, math_ops.matmul(matrix_diag(grad_e), v,
                                                        adjoint_b=True))
        # The op reads only the lower triangle of its input.
        grad_a = matrix_band_part(grad_a + adjoint(grad_a), -1, 0)
        grad_a = matrix_set_diag(grad_a, 0.5 * matrix_diag_part(grad_a))
        return [grad_a]


def _svd_grad(op, grad_s, grad_u, grad_v):
    a = op._inputs[0]
    a_shape = a.shape.with_rank_at_least(2)
    grad_s = math_ops.cast(grad_s, a.dtype)
    grad_s_mat = matrix_diag(grad_s)
    if not op._attrs["compute_uv"]:
        s, u, v = svd(a, compute_uv=True)
        grad_a = math_ops.matmul(u, math_ops.matmul(grad_s_mat, v, adjoint_b=True))
        grad_a.set_shape(a_shape)
        return [grad_a]
    if a.dtype.is_complex:
        raise NotImplementedError("tensorkeep builds Svd's gradient for real inputs only")
    full_matrices = op._attrs["full_matrices"]
    grad_u_shape = grad_u.shape.with_rank_at_least(2)
    grad_v_shape = grad_v.shape.with_rank_at_least(2)
    m = a_shape.dims[-2].merge_with(grad_u_shape.dims[-2])
    n = a_shape.dims[-1].merge_with(grad_v_shape.dims[-2])
    batch_shape = a_shape[:-2].merge_with(grad_u_shape[:-2]).merge_with(grad_v_shape[:-2])
    a_shape = batch_shape.concatenate([m, n])
    m, n = a_shape.dims[-2].value, a_shape.dims[-1].value
    if m is None or n is None:
        raise NotImplementedError("SVD gradient has not been implemented for input with unknown "
                                  "inner matrix shape.")
    s, u, v = op._outputs
    s = math_ops.cast(s, a.dtype)
    use_adjoint = m > n
    if use_adjoint:
        # Differentiate A^H = V S U^H instead, and take the adjoint of the result.
        m, n = n, m
        u, v = v, u
        grad_u, grad_v = grad_v, grad_u
    with ops.control_dependencies([grad_s, grad_u, grad_v]):
        if full_matrices and abs(m - n) > 1:
            raise NotImplementedError(
                "svd gradient is not implemented for abs(m - n) > 1 when full_matrices is "
                "True. Received: m=%d and n=%d from op input=%s with shape=%s."
                % (m, n, a, a_shape))
        s_mat = matrix_diag(s)
        s2 = math_ops.square(s)
        # TensorFlow builds s's shape here whatever the dtype (its complex branch uses it).
        array_ops.shape(s)
        f = matrix_set_diag(
            _safe_reciprocal(array_ops.expand_dims(s2, -2) - array_ops.expand_dims(s2, -1)),
            array_ops.zeros_like(s))
        s_inv_mat = matrix_diag(_safe_reciprocal(s))
        v1 = v[..., :, :m]
        grad_v1 = grad_v[..., :, :m]
        u_gu = math_ops.matmul(u, grad_u, adjoint_a=True)
        v_gv = math_ops.matmul(v1, grad_v1, adjoint_a=True)
        f_u = f * u_gu
        f_v = f * v_gv
        term1_nouv = (grad_s_mat + math_ops.matmul(f_u + adjoint(f_u), s_mat) +
                      math_ops.matmul(s_mat, f_v + adjoint(f_v)))
        term1 = math_ops.matmul(u, math_ops.matmul(term1_nouv, v1, adjoint_b=True))
        if m == n:
            grad_a_before_transpose = term1
        else:
            gv1t = array_ops.matrix_transpose(grad_v1, conjugate=True)
            gv1t_v1 = math_ops.matmul(gv1t, v1)
            term2_nous = gv1t - math_ops.matmul(gv1t_v1, v1, adjoint_b=True)
            if full_matrices:
                v2 = v[..., :, m:n]
                grad_v2 = grad_v[..., :, m:n]
                v1t_gv2 = math_ops.matmul(v1, grad_v2, adjoint_a=True)
                term2_nous -= math_ops.matmul(v1t_gv2, v2, adjoint_b=True)
            u_s_inv = math_ops.matmul(u, s_inv_mat)
            term2 = math_ops.matmul(u_s_inv, term2_nous)
            grad_a_before_transpose = term1 + term2
        if use_adjoint:
            grad_a = array_ops.matrix_transpose(grad_a_before_transpose, conjugate=True)
        else:
            grad_a = grad_a_before_transpose
        grad_a.set_shape(a_shape)
        return [grad_a]


def _qr_grad(op, dq, dr):
    q, r = op._outputs
    r_dims = r.shape.as_list() if r.shape.ndims is not None else None
    if r_dims is None or r_dims[-2] is None or r_dims[-1] is None:
        raise NotImplementedError("QrGrad not implemented with dynamic shapes. Received "
                                  "r.shape: %s" % r.shape)
    q_dims = q.shape.as_list()
    if r_dims[-2] > r_dims[-1] and q_dims[-2] == q_dims[-1]:
        raise NotImplementedError("QrGrad not implemented when nrows > ncols and "
                                  "full_matrices is true. Received r.shape=%s with nrows=%s"
                                  "and ncols=%s." % (r.shape, r_dims[-2], r_dims[-1]))
    if q.dtype.is_complex:
        raise NotImplementedError("tensorkeep builds Qr's gradient for real inputs only")

    def triangular_solve(x, upper):
        # x times the inverse of upper's adjoint, upper being upper triangular.
        return adjoint(matrix_triangular_solve(upper, adjoint(x), lower=False, adjoint=False))

    def square_and_deep(q, r, dq, dr):
        qdq = math_ops.matmul(q, dq, adjoint_a=True)
        qdq_ = qdq - adjoint(qdq)
        rdr = math_ops.matmul(r, dr, adjoint_b=True)
        rdr_ = rdr - adjoint(rdr)
        tril = matrix_band_part(qdq_ + rdr_, -1, 0)
        grad_a = math_ops.matmul(q, dr + triangular_solve(tril, r))
        grad_b = triangular_solve(dq - math_ops.matmul(q, qdq), r)
        return grad_a + grad_b

    num_rows, num_cols = q_dims[-2], r_dims[-1]
    if num_rows >= num_cols:
        return [square_and_deep(q, r, dq, dr)]
    # Wide matrices: a = [x, y], r = [u, v]; the square part carries y's contribution.
    a = op._inputs[0]
    y = a[..., :, num_rows:]
    u = r[..., :, :num_rows]
    dv = dr[..., :, num_rows:]
    du = dr[..., :, :num_rows]
    dy = math_ops.matmul(q, dv)
    dx = square_and_deep(q, u, dq + math_ops.matmul(y, dv, adjoint_b=True), du)
    return [array_ops.concat([dx, dy], axis=-1)]


def _matrix_diag_part_v2_v3_grad(op, grad):
    matrix_shape = op._inputs[0].shape[-2:]
    align = _align_attr(op, "RIGHT_LEFT")
    if matrix_shape.is_fully_defined():
        rows, cols = matrix_shape.as_list()
        return [matrix_diag(grad, k=op._inputs[1], num_rows=rows, num_cols=cols,
                            align=align), None, None]
    return [matrix_set_diag(array_ops.zeros_like(op._inputs[0]), grad, k=op._inputs[1],
                            align=align), None, None]


def _matrix_diag_part_v1_grad(op, grad):
    matrix_shape = op._inputs[0].shape[-2:]
    if matrix_shape.is_fully_defined() and matrix_shape[0] == matrix_shape[1]:
        return [matrix_diag(grad)]
    return [matrix_set_diag(array_ops.zeros_like(op._inputs[0]), grad)]


def _matrix_set_diag_v1_grad(op, grad):
    input_shape = op._inputs[0].shape.merge_with(grad.shape)
    diag_shape = op._inputs[1].shape
    batch_shape = input_shape[:-2].merge_with(diag_shape[:-1])
    matrix_shape = input_shape[-2:]
    if batch_shape.is_fully_defined() and matrix_shape.is_fully_defined():
        diag_shape = batch_shape.as_list() + [min(matrix_shape.as_list())]
    else:
        with ops.colocate_with(grad):
            grad_shape = array_ops.shape(grad)
            grad_rank = array_ops.rank(grad)
            batch_shape = array_ops.slice(grad_shape, [0], [grad_rank - 2])
            matrix_shape = array_ops.slice(grad_shape, [grad_rank - 2], [2])
            min_dim = math_ops.reduce_min(matrix_shape)
            diag_shape = array_ops.concat([batch_shape, [min_dim]], 0)
    grad_input = matrix_set_diag(grad, array_ops.zeros(diag_shape, dtype=grad.dtype))
    return [grad_input, matrix_diag_part(grad)]


def _matrix_set_diag_v2_v3_grad(op, grad):
    diag_shape = op._inputs[1].shape
    align = _align_attr(op, "RIGHT_LEFT")
    if not diag_shape.is_fully_defined():
        # The diagonal's shape from k and the gradient's shape, computed in the graph.
        grad_shape = array_ops.shape(grad)
        batch_shape = grad_shape[:-2]
        matrix_shape = grad_shape[-2:]
        diag_index = array_ops.reshape(op._inputs[2], [-1])
        d_lower = diag_index[0]
        d_upper = diag_index[-1]
        y_offset = control_flow_ops.cond(math_ops.less(d_upper, 0), lambda: d_upper, lambda: 0)
        x_offset = control_flow_ops.cond(math_ops.greater(d_lower, 0), lambda: -d_lower,
                                         lambda: 0)
        max_diag_len = math_ops.minimum(matrix_shape[0] + y_offset,
                                        matrix_shape[1] + x_offset)
        postfix = control_flow_ops.cond(
            math_ops.equal(d_lower, d_upper),
            lambda: ops.convert_to_tensor([max_diag_len]),
            lambda: ops.convert_to_tensor([d_upper - d_lower + 1, max_diag_len]))
        diag_shape = array_ops.concat([batch_shape, postfix], 0)
    grad_input = matrix_set_diag(grad, array_ops.zeros(diag_shape, dtype=grad.dtype),
                                 k=op._inputs[2], align=align)
    grad_diag = matrix_diag_part(grad, k=op._inputs[2], align=align)
    return [grad_input, grad_diag, None]


register_gradient("MatrixInverse", _matrix_inverse_grad)
register_gradient("MatrixDeterminant", _determinant_grad)
register_gradient("LogMatrixDeterminant", _log_determinant_grad)
register_gradient("Cholesky", _cholesky_grad)
register_gradient("MatrixSolve", _matrix_solve_grad)
register_gradient("MatrixTriangularSolve", _matrix_triangular_solve_grad)
register_gradient("MatrixSolveLs", _matrix_solve_ls_grad)
register_gradient("SelfAdjointEigV2", _self_adjoint_eig_grad)
register_gradient("Svd", _svd_grad)
register_gradient("Qr", _qr_grad)
register_gradient("MatrixBandPart", lambda op, grad: [
    matrix_band_part(grad, op._inputs[1], op._inputs[2]), None, None])
register_gradient("Diag", lambda op, grad: [diag_part(grad)])
register_gradient("DiagPart", lambda op, grad: [diag(grad)])
register_gradient("MatrixDiag", lambda op, grad: [matrix_diag_part(grad)])
register_gradient("MatrixDiagV2", lambda op, grad: [
    matrix_diag_part(grad, k=op._inputs[1]), None, None, None, None])
register_gradient("MatrixDiagV3", lambda op, grad: [
    matrix_diag_part(grad, k=op._inputs[1], align=_align_attr(op)), None, None, None, None])
register_gradient("MatrixDiagPartV2", _matrix_diag_part_v2_v3_grad)
register_gradient("MatrixSetDiagV2", _matrix_set_diag_v2_v3_grad)
register_gradient("MatrixDiagPart", _matrix_diag_part_v1_grad)
register_gradient("MatrixDiagPartV3", _matrix_diag_part_v2_v3_grad)
register_gradient("MatrixSetDiag", _matrix_set_diag_v1_grad)
register_gradient("MatrixSetDiagV3", _matrix_set_diag_v2_v3_grad)
