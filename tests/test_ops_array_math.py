"""Array and math op kernels against NumPy and TensorFlow's documented semantics: negative axes,
empty tensors, integer dtypes kept, broadcasting, static shapes, node names and graph-build
errors. No TensorFlow needed (test_ops_array_math_tf.py compares with the real thing)."""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import errors
from tensorkeep.framework.op_builder import apply_op


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def run(*fetches, feeds=None):
    with tf.Session() as session:
        return session.run(list(fetches) if len(fetches) > 1 else fetches[0], feeds)


def _r(seed, *shape, dtype=np.float32):
    return np.random.RandomState(seed).uniform(-3, 3, shape).astype(dtype)


# --- elementwise math -----------------------------------------------------------------------------

BINARY = [
    (tf.add, np.add), (tf.subtract, np.subtract), (tf.multiply, np.multiply),
    (tf.realdiv, np.true_divide), (tf.maximum, np.maximum), (tf.minimum, np.minimum),
    (tf.squared_difference, lambda x, y: (x - y) ** 2), (tf.atan2, np.arctan2),
    (tf.pow, lambda x, y: np.abs(x) ** y), (tf.floormod, np.mod), (tf.floordiv, np.floor_divide),
    (tf.truncatemod, np.fmod), (tf.less, np.less), (tf.greater_equal, np.greater_equal),
    (tf.equal, np.equal), (tf.not_equal, np.not_equal),
]


@pytest.mark.parametrize("tf_fn, np_fn", BINARY, ids=[f.__name__ for f, _ in BINARY])
@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((4, 1, 3), (2, 1)), ((), (2, 2)),
                                    ((0, 3), (1, 3))])
def test_binary_ops_broadcast_like_numpy(tf_fn, np_fn, shapes):
    x = _r(1, *shapes[0])
    y = _r(2, *shapes[1]) + 4.0  # positive: valid for pow, mod and division
    if tf_fn is tf.pow:
        x = np.abs(x)
    result = run(tf_fn(tf.constant(x), tf.constant(y)))
    expected = np_fn(x, y)
    assert result.shape == expected.shape
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected, rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64])
def test_integer_arithmetic_keeps_dtype_and_wraps(dtype):
    info = np.iinfo(dtype)
    x = np.array([info.max, 3, info.min], dtype=dtype)
    y = np.array([1, 2, 1], dtype=dtype)
    a, m, s = run(tf.constant(x) + tf.constant(y), tf.constant(x) * 2, tf.reduce_sum(x))
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(a, (x + y).astype(dtype))
        np.testing.assert_array_equal(m, (x * 2).astype(dtype))
    assert a.dtype == m.dtype == dtype
    assert np.asarray(s).dtype == dtype


def test_integer_division_semantics():
    a = tf.constant([7, -7, 7, -7])
    b = tf.constant([2, 2, -2, -2])
    floordiv, mod, truncdiv, truncmod, truediv = run(a // b, a % b, tf.truncatediv(a, b),
                                                     tf.truncatemod(a, b), a / b)
    np.testing.assert_array_equal(floordiv, [3, -4, -4, 3])
    np.testing.assert_array_equal(mod, [1, 1, -1, -1])
    np.testing.assert_array_equal(truncdiv, [3, -3, -3, 3])
    np.testing.assert_array_equal(truncmod, [1, -1, 1, -1])
    assert truediv.dtype == np.float64  # int32 / int32 is float64, as in TensorFlow
    with pytest.raises(errors.InvalidArgumentError, match="Integer division by zero"):
        run(a // tf.constant([1, 0, 1, 1]))


def test_unary_ops_match_numpy():
    x = np.array([-2.5, -0.5, 0.0, 0.5, 1.5, 2.5], np.float32)
    pos = np.abs(x) + 0.5
    cases = [(tf.negative, np.negative, x), (tf.abs, np.abs, x), (tf.square, np.square, x),
             (tf.sign, np.sign, x), (tf.floor, np.floor, x), (tf.ceil, np.ceil, x),
             (tf.round, np.round, x), (tf.rint, np.rint, x), (tf.exp, np.exp, x),
             (tf.sqrt, np.sqrt, pos), (tf.rsqrt, lambda v: 1 / np.sqrt(v), pos),
             (tf.log, np.log, pos), (tf.log1p, np.log1p, pos), (tf.expm1, np.expm1, x),
             (tf.reciprocal, np.reciprocal, pos), (tf.sin, np.sin, x), (tf.cos, np.cos, x),
             (tf.tan, np.tan, x), (tf.asin, np.arcsin, x / 3), (tf.acos, np.arccos, x / 3),
             (tf.atan, np.arctan, x), (tf.sinh, np.sinh, x), (tf.cosh, np.cosh, x),
             (tf.asinh, np.arcsinh, x), (tf.acosh, np.arccosh, pos + 1), (tf.atanh, np.arctanh,
                                                                         x / 3)]
    results = run(*[fn(tf.constant(v)) for fn, _, v in cases])
    for (fn, np_fn, v), result in zip(cases, results):
        assert result.dtype == np.float32, fn.__name__
        np.testing.assert_allclose(result, np_fn(v), rtol=1e-6, err_msg=fn.__name__)


def test_round_is_bankers_rounding_and_integer_identity():
    x = tf.constant([0.5, 1.5, 2.5, -0.5, -1.5])
    np.testing.assert_array_equal(run(tf.round(x)), [0, 2, 2, -0, -2])
    ints = tf.constant([1, 2])
    assert tf.round(ints) is ints


def test_cast_truncates_toward_zero_and_handles_bool():
    x = tf.constant([1.7, -1.7, 0.0, 2.5])
    to_int, to_bool, back = run(tf.cast(x, tf.int32), tf.cast(x, tf.bool),
                                tf.cast(tf.constant([True, False]), tf.float32))
    np.testing.assert_array_equal(to_int, [1, -1, 0, 2])
    np.testing.assert_array_equal(to_bool, [True, True, False, True])
    np.testing.assert_array_equal(back, [1.0, 0.0])
    assert tf.cast(x, tf.float32) is x


def test_logical_operators():
    p = tf.constant([True, True, False, False])
    q = tf.constant([True, False, True, False])
    results = run(p & q, p | q, p ^ q, ~p, tf.logical_xor(p, q))
    np.testing.assert_array_equal(results[0], [True, False, False, False])
    np.testing.assert_array_equal(results[1], [True, True, True, False])
    np.testing.assert_array_equal(results[2], [False, True, True, False])
    np.testing.assert_array_equal(results[3], [False, False, True, True])
    np.testing.assert_array_equal(results[4], results[2])


def test_python_operands_take_the_tensor_dtype_and_tensorflows_names():
    x = tf.constant([1.0, 2.0], name="x")
    y = 2 - x
    z = x ** 2
    assert y.op.type == "Sub" and y.op.name == "sub"
    assert y.op.inputs[0].op.name == "sub/x"
    assert z.op.type == "Pow" and z.op.inputs[1].op.name == "pow/y"
    assert (x * 3).op.inputs[1].dtype == tf.float32
    np.testing.assert_array_equal(run(y, z)[0], [1.0, 0.0])


# --- matmul ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("ta, tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_transposes(ta, tb):
    a = _r(3, 3, 2) if ta else _r(3, 2, 3)
    b = _r(4, 4, 3) if tb else _r(4, 3, 4)
    result = run(tf.matmul(a, b, transpose_a=ta, transpose_b=tb))
    np.testing.assert_allclose(result, (a.T if ta else a) @ (b.T if tb else b), rtol=1e-5)


def test_batch_matmul_broadcasts_and_adjoints():
    a = _r(5, 2, 1, 3, 4).astype(np.float64)
    b = _r(6, 5, 2, 4).astype(np.float64)
    c = run(tf.matmul(a, b, adjoint_b=True))
    assert tf.matmul(a, b, adjoint_b=True).op.type == "BatchMatMulV2"
    np.testing.assert_allclose(c, a @ np.swapaxes(b, -1, -2))
    assert tf.matmul(a, b, adjoint_b=True).shape.as_list() == [2, 5, 3, 2]


def test_matmul_int64_keeps_dtype():
    a = np.array([[2, 3]], np.int64)
    result = run(tf.matmul(a, a.T))
    assert result.dtype == np.int64 and result.tolist() == [[13]]


# --- reductions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [None, 0, -1, [0, 2], (1,), []])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(axis, keepdims):
    x = _r(7, 2, 3, 4).astype(np.float64)
    np_axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    pairs = [(tf.reduce_sum, np.sum), (tf.reduce_mean, np.mean), (tf.reduce_prod, np.prod),
             (tf.reduce_max, np.max), (tf.reduce_min, np.min)]
    tensors = [fn(x, axis=axis, keepdims=keepdims) for fn, _ in pairs]
    for (fn, np_fn), t, result in zip(pairs, tensors, run(*tensors)):
        expected = np_fn(x, axis=np_axis, keepdims=keepdims)
        np.testing.assert_allclose(result, expected, rtol=1e-12, err_msg=fn.__name__)
        assert t.shape.as_list() == list(np.shape(expected))


def test_reductions_of_empty_tensors():
    empty = np.zeros((0, 3), np.float32)
    s, p, mx, mn, imx = run(tf.reduce_sum(empty, 0), tf.reduce_prod(empty, 0),
                            tf.reduce_max(empty, 0), tf.reduce_min(empty),
                            tf.reduce_max(np.zeros((0,), np.int32)))
    np.testing.assert_array_equal(s, [0, 0, 0])
    np.testing.assert_array_equal(p, [1, 1, 1])
    np.testing.assert_array_equal(mx, [-np.inf] * 3)
    assert mn == np.inf and imx == np.iinfo(np.int32).min


def test_integer_mean_truncates():
    assert run(tf.reduce_mean(tf.constant([1, 2, 4]))) == 2
    assert run(tf.reduce_mean(tf.constant([-1, -2, -4]))) == -2


def test_reduce_builders_name_nodes_like_tensorflow():
    x = tf.constant(_r(8, 2, 3), name="x")
    total = tf.reduce_sum(x)
    row = tf.reduce_mean(x, 1)
    assert total.op.name == "Sum" and total.op.inputs[1].op.name == "Const"
    assert row.op.name == "Mean" and row.op.inputs[1].op.name == "Mean/reduction_indices"


def test_argmax_argmin_and_output_types():
    x = np.array([[1, 5, 5], [7, 0, 2]], np.float32)
    a, b, c = run(tf.argmax(x, 1), tf.argmin(x, 0, output_type=tf.int32), tf.argmax(x, -1))
    np.testing.assert_array_equal(a, [1, 0])  # ties: first index
    assert a.dtype == np.int64 and b.dtype == np.int32
    np.testing.assert_array_equal(b, [0, 1, 1])
    np.testing.assert_array_equal(c, a)


def test_composite_reductions():
    x = _r(9, 3, 4).astype(np.float64)
    lse, nz, cnt, n2, n1, ninf, std, var = run(
        tf.reduce_logsumexp(x, 1), tf.count_nonzero(np.array([[0, 1], [2, 0]]), 1),
        tf.count_nonzero(x > 0), tf.norm(x), tf.norm(x, ord=1, axis=0), tf.norm(x, ord=np.inf),
        tf.math.reduce_std(x, 0), tf.math.reduce_variance(x))
    np.testing.assert_allclose(lse, np.log(np.exp(x).sum(1)))
    np.testing.assert_array_equal(nz, [1, 1])
    assert cnt == (x > 0).sum() and np.asarray(cnt).dtype == np.int64
    np.testing.assert_allclose(n2, np.sqrt((x ** 2).sum()))
    np.testing.assert_allclose(n1, np.abs(x).sum(0))
    np.testing.assert_allclose(ninf, np.abs(x).max())
    np.testing.assert_allclose(std, x.std(0))
    np.testing.assert_allclose(var, x.var())
    assert run(tf.reduce_logsumexp(tf.constant([-np.inf, -np.inf]))) == -np.inf


def test_add_n_tensordot_einsum():
    a = _r(10, 2, 3, 4).astype(np.float64)
    b = _r(11, 4, 3, 5).astype(np.float64)
    s, td, td_int, es = run(tf.add_n([a, a, a]), tf.tensordot(a, b, [[1, 2], [1, 0]]),
                            tf.tensordot(a[0], a[1].T, 1), tf.einsum("ijk,kjl->il", a, b))
    np.testing.assert_allclose(s, 3 * a)
    np.testing.assert_allclose(td, np.tensordot(a, b, [[1, 2], [1, 0]]))
    np.testing.assert_allclose(td_int, a[0] @ a[1].T)
    np.testing.assert_allclose(es, np.einsum("ijk,kjl->il", a, b))


# --- scans, segments, ranges, top-k ---------------------------------------------------------------

@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, -1])
def test_cumsum_cumprod(exclusive, reverse, axis):
    x = np.arange(1, 13, dtype=np.int32).reshape(3, 4)
    s, p = run(tf.cumsum(x, axis, exclusive=exclusive, reverse=reverse),
               tf.cumprod(x, axis, exclusive=exclusive, reverse=reverse))
    for result, np_fn, identity in ((s, np.cumsum, 0), (p, np.cumprod, 1)):
        data = np.flip(x, axis) if reverse else x
        expected = np_fn(data, axis=axis)
        if exclusive:
            expected = np.moveaxis(expected, axis, 0)
            expected = np.concatenate([np.full_like(expected[:1], identity), expected[:-1]])
            expected = np.moveaxis(expected, 0, axis)
        if reverse:
            expected = np.flip(expected, axis)
        np.testing.assert_array_equal(result, expected)
        assert result.dtype == np.int32


def test_segment_sums():
    data = np.arange(12, dtype=np.float32).reshape(4, 3)
    s, u = run(tf.segment_sum(data, [0, 0, 2, 2]),
               tf.unsorted_segment_sum(data, [3, -1, 0, 3], 4))
    np.testing.assert_array_equal(s, [data[0] + data[1], [0, 0, 0], data[2] + data[3]])
    np.testing.assert_array_equal(u, [data[2], [0, 0, 0], [0, 0, 0], data[0] + data[3]])
    with pytest.raises(errors.InvalidArgumentError, match="not increasing"):
        run(tf.segment_sum(data, [1, 0, 2, 2]))
    with pytest.raises(errors.InvalidArgumentError, match="out of range"):
        run(tf.unsorted_segment_sum(data, [0, 4, 1, 1], 4))


def test_range_and_linspace():
    r1, r2, r3, r4, ls = run(tf.range(5), tf.range(2, 11, 3), tf.range(5.0, 1.0, -1.5),
                             tf.range(0, 0), tf.linspace(0.0, 1.0, 5))
    np.testing.assert_array_equal(r1, np.arange(5))
    np.testing.assert_array_equal(r2, [2, 5, 8])
    np.testing.assert_allclose(r3, [5.0, 3.5, 2.0])
    assert r4.shape == (0,) and r1.dtype == np.int32 and r3.dtype == np.float32
    np.testing.assert_allclose(ls, np.linspace(0, 1, 5))
    assert tf.range(2, 11, 3).shape.as_list() == [3]
    assert tf.range(tf.constant(4, tf.int64)).dtype == tf.int64
    with pytest.raises(ValueError, match="Requires start <= limit when delta > 0"):
        tf.range(5, 1)


def test_top_k_orders_ties_by_index():
    x = np.array([[3, 1, 3, 2], [0, 5, 5, 5]], np.int32)
    values, indices = run(*tf.math.top_k(x, 3))
    np.testing.assert_array_equal(values, [[3, 3, 2], [5, 5, 5]])
    np.testing.assert_array_equal(indices, [[0, 2, 3], [1, 2, 3]])
    result = tf.math.top_k(x, 2)
    assert result.values.shape.as_list() == [2, 2] and result.indices.dtype == tf.int32


def test_in_top_k_counts_ties_in():
    predictions = np.array([[0.1, 0.3, 0.3, 0.2], [0.5, np.nan, 0.1, 0.4]], np.float32)
    result = run(apply_op("InTopKV2", predictions=predictions, targets=[2, 3], k=1))
    np.testing.assert_array_equal(result, [True, False])


def test_clipping():
    x = np.array([[3.0, 4.0], [0.3, 0.4]], np.float64)
    v, n, na, (gx, gy), g = run(tf.clip_by_value(x, 0.35, 3.5), tf.clip_by_norm(x, 1.0),
                                tf.clip_by_norm(x, 1.0, [1]), tf.clip_by_global_norm(
                                    [x, 2 * x], 1.0)[0], tf.global_norm([x, 2 * x]))
    np.testing.assert_allclose(v, np.clip(x, 0.35, 3.5))
    np.testing.assert_allclose(n, x / np.sqrt((x ** 2).sum()))
    np.testing.assert_allclose(na, [[0.6, 0.8], [0.3, 0.4]])
    norm = np.sqrt(5 * (x ** 2).sum())
    np.testing.assert_allclose(g, norm)
    np.testing.assert_allclose(gx, x / norm)
    np.testing.assert_allclose(gy, 2 * x / norm)


# --- shapes, reshaping, joining -------------------------------------------------------------------

def test_shape_size_rank_are_constants_when_static():
    x = tf.placeholder(tf.float32, [2, None])
    y = tf.constant(_r(12, 2, 3))
    assert tf.shape(y).op.type == "Const" and tf.size(y).op.type == "Const"
    assert tf.rank(x).op.type == "Const"
    assert tf.shape(x).op.type == "Shape" and tf.size(x).op.type == "Size"
    assert tf.size(tf.placeholder(tf.float32, [None, 0])).op.type == "Const"
    s, n = run(tf.shape(x), tf.size(x), feeds={x: np.zeros((2, 5))})
    np.testing.assert_array_equal(s, [2, 5])
    assert n == 10


def test_reshape_infers_unknown_dims():
    x = tf.placeholder(tf.float32, [None, 4])
    assert tf.reshape(x, [-1, 2, 2]).shape.as_list() == [None, 2, 2]
    assert tf.reshape(tf.zeros([6, 4]), [3, -1]).shape.as_list() == [3, 8]
    assert tf.reshape(x, [tf.shape(x)[0], 2, -1]).shape.as_list() == [None, 2, None]
    with pytest.raises(ValueError, match="Cannot reshape a tensor with 6 elements to shape "
                                         r"\[4\] \(4 elements\)"):
        tf.reshape(tf.zeros([2, 3]), [4])
    with pytest.raises(ValueError, match="Cannot infer multiple unknown dimensions"):
        tf.reshape(tf.zeros([2, 3]), [-1, -1])
    assert run(tf.reshape(np.zeros((0, 3)), [-1, 3])).shape == (0, 3)


def test_zeros_ones_and_like_builders():
    small, big, from_tensor = tf.zeros([2, 3]), tf.ones([40, 30], tf.int8), tf.zeros(
        tf.constant([2, 2]))
    assert small.op.type == "Const" and big.op.type == "Fill" and from_tensor.op.type == "Fill"
    assert [op.name for op in tf.get_default_graph().get_operations()] == [
        "zeros", "ones/shape_as_tensor", "ones/Const", "ones", "Const", "zeros_1/Const",
        "zeros_1"]
    x = tf.placeholder(tf.float32, [None, 3])
    zl, ol, zi = tf.zeros_like(x), tf.ones_like(x), tf.zeros_like(x, dtype=tf.int32)
    assert zl.op.type == "ZerosLike" and ol.op.type == "Fill" and zi.dtype == tf.int32
    values = run(small, big, zl, ol, zi, tf.ones([2], tf.bool), feeds={x: np.ones((2, 3))})
    assert values[1].dtype == np.int8 and values[1].shape == (40, 30)
    np.testing.assert_array_equal(values[3], np.ones((2, 3)))
    assert values[4].dtype == np.int32 and values[5].tolist() == [True, True]


def test_concat_stack_unstack_split():
    a, b = _r(13, 2, 3), _r(14, 2, 1)
    c, s, parts, halves, sized = run(tf.concat([a, b], -1), tf.stack([a, a], axis=-1),
                                     tf.unstack(a, axis=1), tf.split(a, 3, axis=1),
                                     tf.split(a, [1, -1], 0))
    np.testing.assert_array_equal(c, np.concatenate([a, b], -1))
    np.testing.assert_array_equal(s, np.stack([a, a], -1))
    for part, expected in zip(parts, np.moveaxis(a, 1, 0)):
        np.testing.assert_array_equal(part, expected)
    for part, expected in zip(halves, np.split(a, 3, 1)):
        np.testing.assert_array_equal(part, expected)
    np.testing.assert_array_equal(sized[1], a[1:])
    empty = run(tf.concat([np.zeros((0, 3)), np.ones((2, 3))], 0))
    np.testing.assert_array_equal(empty, np.ones((2, 3)))
    assert tf.concat([tf.placeholder(tf.float32, [None, 3]), a], 0).shape.as_list() == [None, 3]
    assert tf.stack([1, 2]).op.type == "Const"


def test_list_output_ops_with_a_single_output_feed_their_consumers_arrays():
    x = _r(17, 1, 3)
    (part,), (row,), (bucket,), (dims,) = (
        tf.split(x, 1), tf.unstack(x), tf.dynamic_partition(x, [0], 1), tf.shape_n([x]))
    results = run(tf.concat([part, part], 0), row * 2, tf.reduce_sum(bucket), dims + 1)
    np.testing.assert_array_equal(results[0], np.concatenate([x, x]))
    np.testing.assert_array_equal(results[1], x[0] * 2)
    np.testing.assert_allclose(results[2], x.sum(), rtol=1e-6)
    np.testing.assert_array_equal(results[3], [2, 4])


def test_transpose_tile_reverse_expand_squeeze():
    x = _r(15, 2, 3, 4)
    t, tt, ti, rv, ed, sq = run(tf.transpose(x), tf.transpose(x, [1, -1, 0]),
                                tf.tile(x, [1, 2, 0]), tf.reverse(x, [-1, 0]),
                                tf.expand_dims(x, -1), tf.squeeze(np.zeros((1, 3, 1))))
    np.testing.assert_array_equal(t, x.transpose())
    np.testing.assert_array_equal(tt, x.transpose(1, 2, 0))
    assert ti.shape == (2, 6, 0)
    np.testing.assert_array_equal(rv, x[::-1, :, ::-1])
    assert ed.shape == (2, 3, 4, 1) and sq.shape == (3,)
    np.testing.assert_array_equal(run(tf.invert_permutation([2, 0, 1])), [1, 2, 0])


# --- slicing --------------------------------------------------------------------------------------

def test_getitem_builds_tensorflows_strided_slice():
    x = tf.placeholder(tf.float32, [3, 4], name="x")
    y = x[1:, ::2]
    assert y.op.type == "StridedSlice" and y.op.name == "strided_slice"
    assert [t.op.name for t in y.op.inputs[1:]] == [
        "strided_slice/stack", "strided_slice/stack_1", "strided_slice/stack_2"]
    assert y.op.get_attr("begin_mask") == 2 and y.op.get_attr("end_mask") == 3
    assert y.shape.as_list() == [2, 2]
    i = tf.constant(1)
    z = x[i]
    assert z.op.inputs[1].op.type == "Pack" and z.shape.as_list() == [4]
    assert z.op.get_attr("shrink_axis_mask") == 1


SLICES = [(1,), (-1,), (slice(None, None, -1),), (slice(1, None), slice(None, None, 2)),
          (Ellipsis, 1), (None, Ellipsis, None), (slice(-2, None), None, -1),
          (slice(5, -10, -2),), (slice(10, 20),), (slice(2, 1),), (0, Ellipsis, slice(1, 3)),
          (slice(None), None, slice(3, 0, -1), Ellipsis)]


@pytest.mark.parametrize("spec", SLICES, ids=[str(s) for s in SLICES])
def test_getitem_matches_numpy_indexing(spec):
    x = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    t = tf.constant(x)[spec]
    result = run(t)
    np.testing.assert_array_equal(result, x[spec])
    assert result.dtype == np.int16
    assert t.shape.as_list() == list(x[spec].shape)


def test_strided_slice_random_specs_against_numpy():
    rng = np.random.RandomState(0)
    x = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    tensors, expected = [], []
    for _ in range(60):
        spec = []
        for dim in x.shape:
            if rng.rand() < 0.2:
                spec.append(int(rng.randint(-dim, dim)))
            else:
                bounds = [None if rng.rand() < 0.3 else int(rng.randint(-dim - 2, dim + 2))
                          for _ in range(2)]
                step = int(rng.choice([-3, -2, -1, 1, 2, 3]))
                spec.append(slice(bounds[0], bounds[1], step))
        spec = tuple(spec)
        tensors.append(tf.constant(x)[spec])
        expected.append(x[spec])
    for t, result, want in zip(tensors, run(*tensors), expected):
        np.testing.assert_array_equal(result, want)
        assert t.shape.as_list() == list(want.shape)


def test_strided_slice_partial_shapes_and_errors():
    x = tf.placeholder(tf.float32, [None, 4, 5])
    assert x[:, 1:3].shape.as_list() == [None, 2, 5]
    assert x[0, ..., ::2].shape.as_list() == [4, 3]
    with pytest.raises(ValueError, match="slice index 5 of dimension 0 out of bounds"):
        tf.zeros([2, 3])[5]
    with pytest.raises(ValueError, match="Multiple ellipses"):
        tf.strided_slice(tf.zeros([2, 3]), [0, 0], [1, 1], [1, 1], ellipsis_mask=3)
    with pytest.raises(TypeError, match="Only integers, slices"):
        tf.zeros([2, 3])[1.5]


def test_slice_and_pad():
    x = _r(16, 3, 4)
    s, p, pv, pr, ps = run(tf.slice(x, [1, 1], [-1, 2]), tf.pad(x, [[1, 0], [0, 2]]),
                           tf.pad(x, [[1, 1], [1, 1]], constant_values=9),
                           tf.pad(x, [[2, 1], [3, 0]], mode="reflect"),
                           tf.pad(x, [[2, 1], [3, 4]], mode="SYMMETRIC"))
    np.testing.assert_array_equal(s, x[1:, 1:3])
    np.testing.assert_array_equal(p, np.pad(x, [[1, 0], [0, 2]]))
    np.testing.assert_array_equal(pv, np.pad(x, 1, constant_values=9))
    np.testing.assert_array_equal(pr, np.pad(x, [[2, 1], [3, 0]], mode="reflect"))
    np.testing.assert_array_equal(ps, np.pad(x, [[2, 1], [3, 4]], mode="symmetric"))
    assert tf.pad(x, [[1, 1], [1, 1]]).op.type == "Pad"
    assert tf.pad(x, [[1, 1], [1, 1]], constant_values=9).op.type == "PadV2"
    with pytest.raises(errors.InvalidArgumentError, match="paddings must be no greater"):
        run(tf.pad(x, [[3, 0], [0, 0]], mode="REFLECT"))


# --- gathering and scattering ---------------------------------------------------------------------

def test_gather_variants():
    p = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    g0, g1, gneg, gb, gnd, gnd_slices, gempty = run(
        tf.gather(p, [1, 0, 1]), tf.gather(p, [[2, 0]], axis=1), tf.gather(p, [3], axis=-1),
        tf.gather(p, [[1, 0], [2, 2]], axis=1, batch_dims=1), tf.gather_nd(p, [[1, 2, 3],
                                                                              [0, 0, 0]]),
        tf.gather_nd(p, [[1], [0]]), tf.gather(p, np.zeros((0,), np.int32)))
    np.testing.assert_array_equal(g0, p[[1, 0, 1]])
    np.testing.assert_array_equal(g1, np.take(p, [[2, 0]], axis=1))
    np.testing.assert_array_equal(gneg, p[..., [3]])
    np.testing.assert_array_equal(gb, np.stack([p[0][[1, 0]], p[1][[2, 2]]]))
    np.testing.assert_array_equal(gnd, [23, 0])
    np.testing.assert_array_equal(gnd_slices, p[[1, 0]])
    assert gempty.shape == (0, 3, 4) and gempty.dtype == np.int64
    with pytest.raises(errors.InvalidArgumentError, match=r"indices\[1\] = 3 is not in"):
        run(tf.gather(p, [0, 3]))


def test_scatter_nd_sums_duplicates():
    result = run(tf.scatter_nd([[0], [2], [0]], [1, 2, 3], [4]))
    np.testing.assert_array_equal(result, [4, 0, 2, 0])
    assert result.dtype == np.int32


def test_where_select_and_one_hot():
    c = np.array([[True, False], [False, True]])
    x, y = np.ones((2, 2)), np.zeros((2, 2))
    w, s, sv, sb, oh, oh0 = run(tf.where(c), tf.where(c, x, y), tf.where([False, True], x, y),
                                tf.where_v2(c, 1.0, [5.0, 6.0]),
                                tf.one_hot([0, 2, -1, 3], 3),
                                tf.one_hot([[1], [0]], 2, on_value=7, off_value=1, axis=0))
    np.testing.assert_array_equal(w, [[0, 0], [1, 1]])
    assert w.dtype == np.int64
    np.testing.assert_array_equal(s, c * 1.0)
    np.testing.assert_array_equal(sv, [[0, 0], [1, 1]])
    np.testing.assert_array_equal(sb, [[1, 6], [5, 1]])
    np.testing.assert_array_equal(oh, [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    assert oh.dtype == np.float32
    np.testing.assert_array_equal(oh0[:, :, 0], [[1, 7], [7, 1]])
    assert oh0.dtype == np.int32


def test_unique_listdiff_stitch_partition_masks():
    (uy, ui), (lo, li) = run(tf.unique([4, 1, 4, 2, 1]), tf.setdiff1d([1, 5, 3, 5], [5]))
    np.testing.assert_array_equal(uy, [4, 1, 2])  # first-occurrence order
    np.testing.assert_array_equal(ui, [0, 1, 0, 2, 1])
    np.testing.assert_array_equal(lo, [1, 3])
    np.testing.assert_array_equal(li, [0, 2])
    data = np.arange(10.0).reshape(5, 2)
    stitched, parts, masked, seq, grid = run(
        tf.dynamic_stitch([[1, 0], [2, 0]], [data[:2], data[2:4]]),
        tf.dynamic_partition(data, [1, 0, 1, 1, 0], 2),
        tf.boolean_mask(data, [True, False, False, True, True]),
        tf.sequence_mask([1, 3], 4), tf.meshgrid([1, 2, 3], [4, 5]))
    np.testing.assert_array_equal(stitched, [data[3], data[0], data[2]])
    np.testing.assert_array_equal(parts[0], data[[1, 4]])
    np.testing.assert_array_equal(parts[1], data[[0, 2, 3]])
    np.testing.assert_array_equal(masked, data[[0, 3, 4]])
    np.testing.assert_array_equal(seq, [[True, False, False, False], [True, True, True, False]])
    np.testing.assert_array_equal(grid[0], np.meshgrid([1, 2, 3], [4, 5])[0])


def test_broadcasting_helpers():
    b, args, (r0, r1) = run(tf.broadcast_to([[1], [2]], [3, 2, 4]),
                            tf.broadcast_dynamic_shape([2, 1, 3], [4, 3]),
                            apply_op("BroadcastGradientArgs", s0=[2, 1, 3], s1=[4, 3]))
    np.testing.assert_array_equal(b, np.broadcast_to([[1], [2]], (3, 2, 4)))
    np.testing.assert_array_equal(args, [2, 4, 3])
    np.testing.assert_array_equal(r0, [1])
    np.testing.assert_array_equal(r1, [0])
    assert tf.broadcast_static_shape(tf.TensorShape([2, 1]), tf.TensorShape([3])).as_list() == \
        [2, 3]
    with pytest.raises(errors.InvalidArgumentError, match=r"Incompatible shapes: \[2\] vs. "):
        run(tf.broadcast_dynamic_shape([2], [3]))


def test_sparse_to_dense_and_bitcast():
    dense, bits = run(tf.sparse_to_dense([[0, 1], [2, 0]], [3, 2], [5, 6], -1),
                      tf.bitcast(tf.constant([1.0], tf.float32), tf.int32))
    np.testing.assert_array_equal(dense, [[-1, 5], [-1, -1], [6, -1]])
    assert bits[0] == np.float32(1.0).view(np.int32)


def test_static_values_fold_through_small_subgraphs():
    x = tf.placeholder(tf.float32, [2, 3, 4])
    perm = tf.concat([tf.range(1, 3), [0]], 0)
    assert tf.transpose(x, perm).shape.as_list() == [3, 4, 2]
    assert tf.reshape(x, tf.stack([tf.size(x) // 4, 4])).shape.as_list() == [6, 4]


# --- graph-build errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("build, message", [
    (lambda: tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 5])),
     "Dimensions must be equal, but are 3 and 4 for '{{node MatMul}} = MatMul["),
    (lambda: tf.concat([tf.zeros([2, 3]), tf.zeros([3, 4])], 0),
     "Dimension 0 in both shapes must be equal, but are 3 and 4. Shapes are [3] and [4]."),
    (lambda: tf.transpose(tf.zeros([2, 3]), [0, 2]), "perm dim 2 is out of range of input rank 2"),
    (lambda: tf.squeeze(tf.zeros([2, 3]), [0]),
     "Can not squeeze dim[0], expected a dimension of 1, got 2"),
    (lambda: tf.expand_dims(tf.zeros([2, 3]), 4), "dim 4 not in the interval [-3, 2]."),
    (lambda: tf.split(tf.zeros([2, 3]), 2, axis=1),
     "Dimension size must be evenly divisible by 2 but is 3"),
    (lambda: tf.gather(tf.zeros([2, 3]), [1], axis=3),
     "Shape must be at least rank 4 but is rank 2"),
    (lambda: tf.reduce_sum(tf.zeros([2, 3]), 2),
     "Invalid reduction dimension 2 for input with 2 dimensions."),
    (lambda: tf.tile(tf.zeros([2, 3]), [1, 2, 3]), "Shape must be rank 2 but is rank 3"),
    (lambda: tf.zeros([2, 3]) + tf.zeros([4]), "Dimensions must be equal, but are 3 and 4"),
    (lambda: tf.stack([tf.zeros([2, 3]), tf.zeros([2])]),
     "Shapes must be equal rank, but are 2 and 1"),
])
def test_shape_errors_read_like_tensorflows(build, message):
    with pytest.raises(ValueError) as info:
        build()
    assert message in str(info.value)
    assert " with input shapes: " in str(info.value)
