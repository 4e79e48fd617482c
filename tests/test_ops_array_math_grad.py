"""Every registered gradient of array_ops.py and math_ops.py against central finite differences
in float64 (no TensorFlow needed).

Each case builds y = f(inputs) on float64 placeholders; tf.gradients of sum(y * w), with a fixed
random w, must match (loss(x + eps) - loss(x - eps)) / 2eps element by element.
"""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework.op_builder import apply_op


def _r(seed, *shape, low=-2.0, high=2.0):
    return np.random.RandomState(seed).uniform(low, high, shape)


def _away_from(values, points, margin=0.1):
    """Moves values off kinks so the finite differences do not straddle them."""
    values = np.array(values, dtype=np.float64)
    for p in points:
        close = np.abs(values - p) < margin
        values[close] = p + np.where(values[close] >= p, 2 * margin, -2 * margin)
    return values


def _distinct(seed, *shape):
    """Values at least 0.1 apart (max/min/top-k/sort have no ties to break)."""
    count = int(np.prod(shape))
    return np.random.RandomState(seed).permutation(count).reshape(shape) * 0.3 - count * 0.1


def check_gradient(build, inputs, eps=1e-6, rtol=1e-5, atol=1e-6):
    """eps: the finite-difference step (larger when a float32 cast rounds the loss)."""
    graph = tf.Graph()
    with graph.as_default():
        placeholders = [tf.placeholder(tf.float64, np.shape(x)) for x in inputs]
        y = build(*placeholders)
        with tf.Session() as session:
            feeds = dict(zip(placeholders, inputs))
            y_value = np.asarray(session.run(y, feeds))
            weights = np.random.RandomState(99).uniform(0.5, 1.5, y_value.shape)
            loss = tf.reduce_sum(tf.cast(y, tf.float64) * weights)
            grads = [None if g is None else tf.convert_to_tensor(g)
                     for g in tf.gradients(loss, placeholders)]
            fetched = [g for g in grads if g is not None]
            symbolic = iter(session.run(fetched, feeds))
            for i, (x, grad) in enumerate(zip(inputs, grads)):
                analytic = np.zeros(np.shape(x)) if grad is None else next(symbolic)
                numeric = np.zeros(np.shape(x))
                for index in np.ndindex(*np.shape(x)):
                    for sign in (1, -1):
                        shifted = np.array(x, dtype=np.float64, copy=True)
                        shifted[index] += sign * eps
                        shifted_feeds = dict(feeds)
                        shifted_feeds[placeholders[i]] = shifted
                        numeric[index] += sign * session.run(loss, shifted_feeds) / (2 * eps)
                np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol,
                                           err_msg="gradient of input %d" % i)


X23 = _r(1, 2, 3)
Y3 = _r(2, 3)
Z21 = _r(3, 2, 1, low=0.5)
POS23 = _r(4, 2, 3, low=0.5, high=2.5)

BINARY_CASES = {
    "AddV2": (lambda x, y: x + y, [X23, Y3]),
    "Sub": (lambda x, y: x - y, [X23, Z21]),
    "Mul": (lambda x, y: x * y, [X23, Y3]),
    "Mul_same_shape": (lambda x, y: x * y, [X23, _r(5, 2, 3)]),
    "RealDiv": (lambda x, y: x / y, [X23, Z21]),
    "Div": (lambda x, y: apply_op("Div", x=x, y=y), [X23, Z21]),
    "FloorMod": (lambda x, y: tf.floormod(x, y), [_away_from(X23 * 3, [0.0]), Z21 + 1.0]),
    "Pow": (lambda x, y: tf.pow(x, y), [POS23, Y3]),
    # log(x) is undefined for x < 0: only x's gradient is checked there (y's is 0 by design).
    "Pow_negative_base": (lambda x: tf.pow(x, 3.0), [_away_from(X23, [0.0])]),
    "Maximum": (lambda x, y: tf.maximum(x, y), [_away_from(X23, Y3.tolist()), Y3]),
    "Minimum": (lambda x, y: tf.minimum(x, y), [Z21, _away_from(X23, [0.5, 1.0])]),
    "SquaredDifference": (lambda x, y: tf.squared_difference(x, y), [X23, Z21]),
    "Atan2": (lambda y, x: tf.atan2(y, x), [X23, Z21]),
    "DivNoNan": (lambda x, y: tf.div_no_nan(x, y), [X23, Z21]),
    "MulNoNan": (lambda x, y: tf.math.multiply_no_nan(x, y), [X23, Y3]),
    "Select": (lambda x, y: tf.where(tf.constant([[True, False, True], [False, False, True]]),
                                     x, y), [X23, _r(6, 2, 3)]),
    "Select_vector_condition": (lambda x, y: tf.where(tf.constant([False, True]), x, y),
                                [X23, _r(7, 2, 3)]),
    "SelectV2_broadcast": (lambda x, y: tf.where_v2(tf.constant([True, False, True]), x, y),
                           [X23, Z21]),
    "ClipByValue": (lambda x, lo: apply_op("ClipByValue", t=x, clip_value_min=lo,
                                           clip_value_max=tf.constant(1.0, tf.float64)),
                    [_away_from(X23, [-0.5, 1.0]), np.array(-0.5)]),
    "clip_by_value": (lambda x: tf.clip_by_value(x, -0.5, 1.0), [_away_from(X23, [-0.5, 1.0])]),
    "AddN": (lambda x, y: tf.add_n([x, y, x]), [X23, _r(8, 2, 3)]),
}

UNARY_CASES = {
    "Neg": (tf.negative, X23), "Abs": (tf.abs, _away_from(X23, [0.0])), "Square": (tf.square, X23),
    "Sqrt": (tf.sqrt, POS23), "Rsqrt": (tf.rsqrt, POS23), "Exp": (tf.exp, X23),
    "Log": (tf.log, POS23), "Log1p": (tf.log1p, POS23), "Expm1": (tf.expm1, X23),
    "Reciprocal": (tf.reciprocal, POS23), "Sin": (tf.sin, X23), "Cos": (tf.cos, X23),
    "Tan": (tf.tan, X23 * 0.5), "Asin": (tf.asin, X23 * 0.4), "Acos": (tf.acos, X23 * 0.4),
    "Atan": (tf.atan, X23), "Sinh": (tf.sinh, X23), "Cosh": (tf.cosh, X23),
    "Asinh": (tf.asinh, X23), "Acosh": (tf.acosh, POS23 + 1.0), "Atanh": (tf.atanh, X23 * 0.4),
    "Inv": (lambda x: apply_op("Inv", x=x), POS23),
    "Sign": (tf.sign, _away_from(X23, [0.0])),
    "Cast_roundtrip": (lambda x: tf.cast(tf.cast(x, tf.float32), tf.float64), X23),
    "SqrtGrad": (lambda x: tf.gradients(tf.sqrt(x) * x, x)[0], POS23),
    "RsqrtGrad": (lambda x: tf.gradients(tf.rsqrt(x) * x, x)[0], POS23),
    "ReciprocalGrad": (lambda x: tf.gradients(tf.reciprocal(x) * x, x)[0], POS23),
}

X234 = _r(10, 2, 3, 4)
DISTINCT = _distinct(11, 2, 3, 4)

SHAPE_CASES = {
    "Reshape": (lambda x: tf.reshape(x, [4, -1]), [X234]),
    "ExpandDims": (lambda x: tf.expand_dims(x, -2), [X23]),
    "Squeeze": (lambda x: tf.squeeze(x, [1]), [Z21]),
    "Transpose": (lambda x: tf.transpose(x, [2, 0, 1]), [X234]),
    "ConcatV2": (lambda x, y: tf.concat([x, y, x], -1), [X23, _r(12, 2, 2)]),
    "Concat": (lambda x, y: apply_op("Concat", concat_dim=0, values=[x, y]),
               [X23, _r(13, 1, 3)]),
    "Pack": (lambda x, y: tf.stack([x, y], axis=1), [X23, _r(14, 2, 3)]),
    "Unpack": (lambda x: tf.unstack(x, axis=1)[2] * tf.unstack(x, axis=1)[0], [X234]),
    "Tile": (lambda x: tf.tile(x, [2, 1, 3]), [X234]),
    "Split": (lambda x: tf.split(x, 2, axis=2)[1] * 2.0, [X234]),
    "SplitV": (lambda x: tf.split(x, [1, -1], axis=1)[1], [X234]),
    "Slice": (lambda x: tf.slice(x, [0, 1, 1], [2, -1, 2]), [X234]),
    "StridedSlice": (lambda x: x[1:, ::2, -1], [X234]),
    "StridedSlice_masks": (lambda x: x[None, ..., ::-2], [X234]),
    "StridedSliceGrad": (lambda x: tf.gradients(x[:, 1:] * x[:, 1:], x)[0], [X234]),
    "Pad": (lambda x: tf.pad(x, [[1, 0], [0, 2]]), [X23]),
    "PadV2": (lambda x: tf.pad(x, [[1, 2], [2, 0]], constant_values=3.0), [X23]),
    "MirrorPad_reflect": (lambda x: tf.pad(x, [[1, 1], [2, 2]], mode="REFLECT"), [_r(15, 3, 4)]),
    "MirrorPad_symmetric": (lambda x: tf.pad(x, [[2, 1], [0, 3]], mode="SYMMETRIC"),
                            [_r(16, 3, 4)]),
    "MirrorPadGrad": (lambda x: tf.gradients(tf.pad(x, [[1, 2], [1, 1]], mode="REFLECT") *
                                             tf.constant(_r(17, 6, 6)), x)[0], [_r(18, 3, 4)]),
    "ReverseV2": (lambda x: tf.reverse(x, [0, 2]), [X234]),
    "Reverse": (lambda x: apply_op("Reverse", tensor=x, dims=[True, False, True]), [X234]),
    "BroadcastTo": (lambda x: tf.broadcast_to(x, [2, 2, 3]), [_r(19, 2, 1)[:, :1] * Y3[:1]]),
    "GatherV2_axis0": (lambda x: tf.gather(x, [3, 0, 3]), [_r(20, 4, 2)]),
    "GatherV2_axis1": (lambda x: tf.gather(x, [[2, 0], [1, 1]], axis=1), [X234]),
    "GatherV2_batch_dims": (lambda x: tf.gather(x, [[2, 0, 3], [1, 1, 0]], axis=2,
                                                batch_dims=1), [X234]),
    "Gather": (lambda x: apply_op("Gather", params=x, indices=[1, 1, 0]), [X23]),
    "GatherNd": (lambda x: tf.gather_nd(x, [[0, 2], [1, 0], [0, 2]]), [X234]),
    "GatherNd_slices": (lambda x: tf.gather_nd(x, [[1], [0]]), [X234]),
    "ScatterNd": (lambda u: tf.scatter_nd([[1, 0], [0, 2], [1, 0]], u, [2, 3, 4]),
                  [_r(21, 3, 4)]),
    "DynamicStitch": (lambda x: tf.dynamic_stitch([[0, 3], [1, 2, 4]], [x[:2], x[2:]]),
                      [_r(22, 5, 2)]),
    "DynamicPartition": (lambda x: tf.dynamic_partition(x, [1, 0, 1, 1], 2)[1], [_r(23, 4, 3)]),
    "SparseToDense": (lambda v, d: tf.sparse_to_dense([[0, 1], [1, 2]], [2, 3], v, d),
                      [_r(24, 2), np.array(0.5)]),
    "Fill": (lambda v: tf.fill([2, 3], v), [np.array(1.5)]),
    "boolean_mask": (lambda x: tf.boolean_mask(x, [True, False, True]), [_r(25, 3, 2)]),
}

MATH_CASES = {
    "MatMul": (lambda a, b: tf.matmul(a, b), [X23, _r(30, 3, 4)]),
    "MatMul_transpose_a": (lambda a, b: tf.matmul(a, b, transpose_a=True), [_r(31, 3, 2),
                                                                           _r(32, 3, 4)]),
    "MatMul_transpose_b": (lambda a, b: tf.matmul(a, b, transpose_b=True), [X23, _r(33, 4, 3)]),
    "MatMul_transpose_both": (lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
                              [_r(34, 3, 2), _r(35, 4, 3)]),
    "BatchMatMulV2_broadcast": (lambda a, b: tf.matmul(a, b), [_r(36, 2, 2, 3), _r(37, 3, 2)]),
    "BatchMatMulV2_adjoint": (lambda a, b: tf.matmul(a, b, adjoint_a=True, adjoint_b=True),
                              [_r(38, 2, 3, 2), _r(39, 2, 4, 3)]),
    "BatchMatMul": (lambda a, b: apply_op("BatchMatMul", x=a, y=b, adj_y=True),
                    [_r(40, 2, 2, 3), _r(41, 2, 4, 3)]),
    "Sum_all": (lambda x: tf.reduce_sum(x), [X234]),
    "Sum_axis": (lambda x: tf.reduce_sum(x, [0, 2]), [X234]),
    "Sum_keepdims": (lambda x: tf.reduce_sum(x, -1, keepdims=True), [X234]),
    "Mean": (lambda x: tf.reduce_mean(x, 1), [X234]),
    "Prod": (lambda x: tf.reduce_prod(x, [0, 2]), [X234]),
    "Prod_with_zero": (lambda x: tf.reduce_prod(x, 1), [np.array([[0.0, 2.0, 3.0],
                                                                  [1.5, -1.0, 2.0]])]),
    "Max": (lambda x: tf.reduce_max(x, 2), [DISTINCT]),
    "Min": (lambda x: tf.reduce_min(x, [0, 1], keepdims=True), [DISTINCT]),
    "Cumsum": (lambda x: tf.cumsum(x, 1, exclusive=True, reverse=True), [X234]),
    "Cumprod": (lambda x: tf.cumprod(x, -1), [_away_from(X234, [0.0])]),
    "Cumprod_exclusive": (lambda x: tf.cumprod(x, 0, exclusive=True), [_away_from(X234, [0.0])]),
    "SegmentSum": (lambda x: tf.segment_sum(x, [0, 0, 2, 3]), [_r(42, 4, 3)]),
    "UnsortedSegmentSum": (lambda x: tf.unsorted_segment_sum(x, [2, -1, 0, 2], 3),
                           [_r(43, 4, 3)]),
    "TopKV2": (lambda x: tf.math.top_k(x, 2).values, [DISTINCT]),
    "Einsum": (lambda a, b: tf.einsum("ij,jk->ik", a, b), [X23, _r(44, 3, 2)]),
    "Einsum_summed_label": (lambda a: tf.einsum("ijk->j", a), [X234]),
    "reduce_logsumexp": (lambda x: tf.reduce_logsumexp(x, 1), [X234]),
    "norm": (lambda x: tf.norm(x, axis=1), [X23]),
    "tensordot": (lambda a, b: tf.tensordot(a, b, [[1, 2], [0, 1]]), [X234, _r(45, 3, 4, 2)]),
}


@pytest.mark.parametrize("name", sorted(BINARY_CASES))
def test_binary_gradients(name):
    build, inputs = BINARY_CASES[name]
    check_gradient(build, inputs)


@pytest.mark.parametrize("name", sorted(UNARY_CASES))
def test_unary_gradients(name):
    build, x = UNARY_CASES[name]
    if name.startswith("Cast"):
        check_gradient(build, [x], eps=1e-2, atol=1e-4)
    else:
        check_gradient(build, [x])


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
def test_array_gradients(name):
    build, inputs = SHAPE_CASES[name]
    check_gradient(build, inputs)


@pytest.mark.parametrize("name", sorted(MATH_CASES))
def test_math_gradients(name):
    build, inputs = MATH_CASES[name]
    check_gradient(build, inputs)


def test_reduction_gradients_with_unknown_shapes():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float64, [None, None])
        axis = tf.placeholder(tf.int32, [])
        value = _distinct(50, 3, 4)
        for y in (tf.reduce_sum(x, axis), tf.reduce_mean(x, axis), tf.reduce_max(x, axis),
                  tf.reduce_prod(x, axis)):
            grad = tf.gradients(y, x)[0]
            with tf.Session() as session:
                got = session.run(grad, {x: value, axis: 1})
            expected_by_op = {
                "Sum": np.ones_like(value), "Mean": np.full_like(value, 0.25),
                "Max": (value == value.max(1, keepdims=True)).astype(np.float64),
                "Prod": np.prod(value, 1, keepdims=True) / value}
            np.testing.assert_allclose(got, expected_by_op[y.op.type], rtol=1e-10)


def test_non_differentiable_ops_have_no_gradient():
    x = tf.placeholder(tf.float64, [3])
    for y in (tf.floor(x), tf.argmax(x), tf.shape(x), tf.cast(tf.round(x), tf.int32),
              tf.one_hot(tf.cast(x, tf.int32), 3), tf.equal(x, 1.0)):
        assert tf.gradients(y, x) == [None]
    assert tf.gradients(tf.cast(x, tf.int32), x) == [None]


def test_gather_gradient_is_indexed_slices_with_tensorflows_shapes():
    params = tf.placeholder(tf.float64, [4, 2])
    grad = tf.gradients(tf.gather(params, [[3, 0], [3, 3]]), params)[0]
    assert type(grad).__name__ == "IndexedSlices"
    with tf.Session() as session:
        values, indices, dense_shape = session.run([grad.values, grad.indices,
                                                    grad.dense_shape], {params: _r(60, 4, 2)})
    np.testing.assert_array_equal(indices, [3, 0, 3, 3])
    np.testing.assert_array_equal(values, np.ones((4, 2)))
    np.testing.assert_array_equal(dense_shape, [4, 2])
