"""The tiled, thread-split convolution and pooling kernels (tensorkeep/ops/nn_kernels.py) give
the values of plain float64 loop references, on one thread and on two, with tiles small enough
that a batch splits into bands of rows of one image or into whole-image groups, and batches that
threads cannot share evenly; and the same values on one thread as on two or three. Winograd
convolutions are checked against the references too (forced onto small shapes) and, on the big
shapes that use them, against TensorFlow (test_ops_nn.py's cases are all small)."""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.ops import kernel_threads, nn_kernels

from tf_oracle import require_tensorflow, run_tensorflow_process


def _always_split(monkeypatch, count):
    """Kernels split every job into `count` parts (or as many as they allow), whatever its
    size and however busy the machine (kernel_threads would not split these small jobs)."""
    monkeypatch.setattr(kernel_threads, "parts_for", lambda work, limit=None: max(
        1, min(count, limit) if limit is not None else count))


@pytest.fixture(params=[(1, 256), (2, 256), (2, 1 << 14)],
                ids=["1-thread", "2-threads-row-bands", "2-threads-image-groups"])
def threads(request, monkeypatch):
    """Run the kernels on 1 or 2 threads, in tiles of one row (several tiles per image) or of
    several whole images."""
    count, tile_bytes = request.param
    _always_split(monkeypatch, count)
    monkeypatch.setattr(nn_kernels, "_TILE_BYTES", tile_bytes)
    previous = kernel_threads.set_threads(count)
    yield count
    kernel_threads.set_threads(previous)


@pytest.mark.parametrize("n, out_h, rows", [(5, 7, 1), (5, 7, 3), (5, 7, 7), (5, 7, 20),
                                           (30, 7, 100), (3, 1, 4)])
def test_tiles_cover_the_batch_once(n, out_h, rows):
    tiles = nn_kernels._tiles(n, out_h, row_bytes=1, tile_bytes=rows)
    covered = []
    for i0, i1, r0, r1 in tiles:
        assert i1 - i0 == 1 or (r0, r1) == (0, out_h), "neither one image nor whole images"
        assert (i1 - i0) * (r1 - r0) <= max(rows, r1 - r0)
        covered += [i * out_h + r for i in range(i0, i1) for r in range(r0, r1)]
    assert covered == list(range(n * out_h))
    assert len(tiles) == 1 or len(tiles) >= min(n, nn_kernels._MIN_TILES)


# --- float64 references: one loop over pixels and window taps ------------------------------------

def _padding(size, k, stride, dilation, padding):
    """(out, before) of one dimension: TensorFlow's SAME/VALID rule, or explicit (before,
    after) padding."""
    effective = (k - 1) * dilation + 1
    if padding == "VALID":
        return (size - effective) // stride + 1, 0
    if padding == "SAME":
        out = -(-size // stride)
        return out, max(0, (out - 1) * stride + effective - size) // 2
    return (size + sum(padding) - effective) // stride + 1, padding[0]


def _layout(x_shape, k_h, k_w, strides, dilations, padding):
    """(out_h, out_w, top, left); padding "SAME", "VALID" or ((top, bottom), (left, right))."""
    rows, cols = (padding, padding) if isinstance(padding, str) else padding
    out_h, top = _padding(x_shape[1], k_h, strides[0], dilations[0], rows)
    out_w, left = _padding(x_shape[2], k_w, strides[1], dilations[1], cols)
    return out_h, out_w, top, left


def _input_positions(x_shape, k_h, k_w, strides, dilations, padding):
    """Yields (oy, ox, i, j, y, x) for every window tap that lands inside the input."""
    out_h, out_w, top, left = _layout(x_shape, k_h, k_w, strides, dilations, padding)
    for oy in range(out_h):
        for ox in range(out_w):
            for i in range(k_h):
                for j in range(k_w):
                    y = oy * strides[0] + i * dilations[0] - top
                    x = ox * strides[1] + j * dilations[1] - left
                    if 0 <= y < x_shape[1] and 0 <= x < x_shape[2]:
                        yield oy, ox, i, j, y, x


def reference_conv2d(x, w, strides, dilations, padding):
    out_h, out_w, _, _ = _layout(x.shape, w.shape[0], w.shape[1], strides, dilations, padding)
    x, w = x.astype(np.float64), w.astype(np.float64)
    out = np.zeros((x.shape[0], out_h, out_w, w.shape[3]))
    for oy, ox, i, j, y, x_ in _input_positions(x.shape, *w.shape[:2], strides, dilations,
                                                padding):
        out[:, oy, ox, :] += x[:, y, x_, :] @ w[i, j]
    return out


def reference_backprop_input(x_shape, w, dy, strides, dilations, padding):
    w, dy = w.astype(np.float64), dy.astype(np.float64)
    dx = np.zeros(x_shape)
    for oy, ox, i, j, y, x_ in _input_positions(x_shape, *w.shape[:2], strides, dilations,
                                                padding):
        dx[:, y, x_, :] += dy[:, oy, ox, :] @ w[i, j].T
    return dx


def reference_backprop_filter(x, w_shape, dy, strides, dilations, padding):
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    dw = np.zeros(w_shape)
    for oy, ox, i, j, y, x_ in _input_positions(x.shape, *w_shape[:2], strides, dilations,
                                                padding):
        dw[i, j] += x[:, y, x_, :].T @ dy[:, oy, ox, :]
    return dw


def reference_max_pool_and_grad(x, dy, k, strides, padding):
    """The max of each window and the input gradient routed to its first (row-major) maximum."""
    out_h, out_w, _, _ = _layout(x.shape, k[0], k[1], strides, (1, 1), padding)
    out = np.full((x.shape[0], out_h, out_w, x.shape[3]), -np.inf)
    where = {}
    for oy, ox, _, _, y, x_ in _input_positions(x.shape, *k, strides, (1, 1), padding):
        for n in range(x.shape[0]):
            for c in range(x.shape[3]):
                if x[n, y, x_, c] > out[n, oy, ox, c]:
                    out[n, oy, ox, c] = x[n, y, x_, c]
                    where[n, oy, ox, c] = (y, x_)
    dx = np.zeros(x.shape)
    for (n, oy, ox, c), (y, x_) in where.items():
        dx[n, y, x_, c] += dy[n, oy, ox, c]
    return out, dx


def reference_avg_pool(x, k, strides, padding):
    out_h, out_w, _, _ = _layout(x.shape, k[0], k[1], strides, (1, 1), padding)
    total = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
    count = np.zeros((1, out_h, out_w, 1))
    for oy, ox, _, _, y, x_ in _input_positions(x.shape, *k, strides, (1, 1), padding):
        total[:, oy, ox, :] += x[:, y, x_, :]
        count[0, oy, ox, 0] += 1
    return total / count


# --- convolutions --------------------------------------------------------------------------------

CONV_CASES = [
    # batch, height, width, in channels, out channels, kernel, strides, dilations, padding
    (3, 7, 6, 3, 4, (3, 3), (1, 1), (1, 1), "SAME"),     # scatter backprop (few channels)
    (5, 9, 8, 8, 5, (3, 2), (1, 1), (1, 1), "SAME"),     # backprop input as a convolution
    (3, 9, 7, 8, 3, (5, 5), (1, 1), (1, 1), "VALID"),
    (3, 8, 9, 2, 3, (3, 3), (2, 2), (1, 1), "SAME"),     # strides: scatter backprop
    (5, 10, 9, 8, 2, (2, 3), (3, 2), (1, 1), "VALID"),
    (3, 9, 9, 8, 4, (3, 2), (1, 1), (2, 3), "SAME"),     # dilations, as a convolution
    (1, 11, 6, 3, 2, (3, 3), (1, 1), (2, 1), "VALID"),   # one image split into row bands
    (7, 4, 4, 9, 6, (1, 1), (1, 1), (1, 1), "VALID"),    # pointwise: rows split directly
    (2, 3, 3, 2, 2, (5, 5), (1, 1), (1, 1), "SAME"),     # window larger than the image
    (3, 6, 7, 8, 3, (3, 3), (1, 1), (1, 1), ((1, 2), (0, 1))),  # explicit, as a convolution
    (3, 6, 7, 8, 3, (2, 3), (1, 1), (1, 1), ((2, 0), (3, 1))),  # wider than the window: scatter
]


def _conv_case(case, seed):
    n, h, w, c, o, k, strides, dilations, padding = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    kernel = rng.standard_normal(k + (c, o)).astype(np.float32)
    if isinstance(padding, str):
        geom = nn_kernels.Geometry(h, w, k[0], k[1], strides, dilations, padding)
    else:
        geom = nn_kernels.Geometry(h, w, k[0], k[1], strides, dilations, "EXPLICIT", padding)
    dy = rng.standard_normal((n, geom.out_h, geom.out_w, o)).astype(np.float32)
    return x, kernel, dy, geom, (strides, dilations, padding)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_and_backprops_match_loop_references(case, threads):
    x, w, dy, geom, window = _conv_case(case, seed=len(str(case)))
    np.testing.assert_allclose(nn_kernels.conv2d(x, w, geom),
                               reference_conv2d(x, w, *window), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(nn_kernels.conv2d_backprop_input(x.shape, w, dy, geom),
                               reference_backprop_input(x.shape, w, dy, *window),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(nn_kernels.conv2d_backprop_filter(x, w.shape, dy, geom),
                               reference_backprop_filter(x, w.shape, dy, *window),
                               rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
def test_conv2d_keeps_wide_and_integer_types(dtype, threads):
    rng = np.random.default_rng(3)
    x = rng.integers(-4, 5, (3, 6, 5, 2)).astype(dtype)
    w = rng.integers(-3, 4, (3, 3, 2, 3)).astype(dtype)
    geom = nn_kernels.Geometry(6, 5, 3, 3, (1, 1), (1, 1), "SAME")
    out = nn_kernels.conv2d(x, w, geom)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, reference_conv2d(x, w, (1, 1), (1, 1), "SAME"))


def test_empty_batches_and_channels(threads):
    geom = nn_kernels.Geometry(5, 5, 3, 3, (1, 1), (1, 1), "SAME")
    x = np.zeros((0, 5, 5, 2), np.float32)
    w = np.ones((3, 3, 2, 4), np.float32)
    assert nn_kernels.conv2d(x, w, geom).shape == (0, 5, 5, 4)
    assert nn_kernels.conv2d_backprop_input((0, 5, 5, 2), w, np.zeros((0, 5, 5, 4), np.float32),
                                            geom).shape == (0, 5, 5, 2)
    dw = nn_kernels.conv2d_backprop_filter(x, w.shape, np.zeros((0, 5, 5, 4), np.float32), geom)
    np.testing.assert_array_equal(dw, np.zeros(w.shape))
    out = nn_kernels.conv2d(np.ones((2, 5, 5, 0), np.float32), np.ones((3, 3, 0, 4), np.float32),
                            geom)
    np.testing.assert_array_equal(out, np.zeros((2, 5, 5, 4)))


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_conv2d_op_and_gradients_through_a_session(data_format, threads):
    """The ops (NCHW transposed around the NHWC kernels) on the split kernels."""
    x, w, dy, _, window = _conv_case(CONV_CASES[1], seed=11)
    nchw = data_format == "NCHW"
    strides, dilations, padding = window

    def four(pair):
        return [1, 1] + list(pair) if nchw else [1] + list(pair) + [1]

    with tf.Graph().as_default():
        images = tf.constant(x.transpose(0, 3, 1, 2).copy() if nchw else x)
        kernel = tf.constant(w)
        upstream = tf.constant(dy.transpose(0, 3, 1, 2).copy() if nchw else dy)
        y = apply_op("Conv2D", input=images, filter=kernel, strides=four(strides),
                     dilations=four(dilations), padding=padding, data_format=data_format)
        dx, dw = tf.gradients(y, [images, kernel], grad_ys=upstream)
        config = tf.ConfigProto(intra_op_parallelism_threads=threads)
        with tf.Session(config=config) as sess:
            y, dx, dw = sess.run([y, dx, dw])
    if nchw:
        y, dx = y.transpose(0, 2, 3, 1), dx.transpose(0, 2, 3, 1)
    np.testing.assert_allclose(y, reference_conv2d(x, w, *window), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, reference_backprop_input(x.shape, w, dy, *window),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw, reference_backprop_filter(x, w.shape, dy, *window),
                               rtol=1e-5, atol=1e-4)


# --- pooling -------------------------------------------------------------------------------------

POOL_CASES = [
    # batch, height, width, channels, window, strides, padding
    (5, 8, 8, 3, (2, 2), (2, 2), "VALID"),
    (3, 7, 9, 2, (2, 2), (2, 2), "SAME"),   # odd sizes: padded last window
    (3, 7, 6, 2, (3, 3), (2, 2), "SAME"),   # overlapping windows
    (2, 6, 7, 3, (3, 2), (1, 1), "VALID"),
    (1, 5, 5, 2, (1, 1), (1, 1), "VALID"),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("values", ["distinct", "ties"])
def test_pooling_matches_loop_references(case, values, threads):
    n, h, w, c, k, strides, padding = case
    rng = np.random.default_rng(h * w + c)
    if values == "ties":  # what ReLU outputs look like: many equal maxima per window
        x = np.maximum(rng.integers(-3, 3, (n, h, w, c)), 0).astype(np.float32)
    else:
        x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    geom = nn_kernels.Geometry(h, w, k[0], k[1], strides, (1, 1), padding)
    dy = rng.standard_normal((n, geom.out_h, geom.out_w, c)).astype(np.float32)
    expected_max, expected_dx = reference_max_pool_and_grad(x, dy, k, strides, padding)
    np.testing.assert_array_equal(nn_kernels.max_pool(x, geom), expected_max)
    np.testing.assert_allclose(nn_kernels.max_pool_grad(x, dy, geom), expected_dx,
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(nn_kernels.avg_pool(x, geom),
                               reference_avg_pool(x, k, strides, padding), rtol=1e-6, atol=1e-6)


def test_max_pool_grad_routes_to_the_first_nan(threads):
    x = np.array([[1, np.nan], [np.nan, 5]], np.float32).reshape(1, 2, 2, 1)
    geom = nn_kernels.Geometry(2, 2, 2, 2, (2, 2), (1, 1), "VALID")
    assert np.isnan(nn_kernels.max_pool(x, geom)).all()
    dx = nn_kernels.max_pool_grad(x, np.array([[[[3]]]], np.float32), geom)
    np.testing.assert_array_equal(dx.ravel(), [0, 3, 0, 0])


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    """Tiles are fixed by the shapes, so 1, 2 and 3 threads compute every value the same way."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((13, 14, 14, 16)).astype(np.float32)
    w = rng.standard_normal((5, 5, 16, 24)).astype(np.float32)
    geom = nn_kernels.Geometry(14, 14, 5, 5, (1, 1), (1, 1), "SAME")
    dy = rng.standard_normal((13, 14, 14, 24)).astype(np.float32)
    pool = nn_kernels.Geometry(14, 14, 3, 3, (2, 2), (1, 1), "SAME")
    pool_dy = rng.standard_normal((13, pool.out_h, pool.out_w, 16)).astype(np.float32)
    results = {}
    for count in (1, 2, 3):
        _always_split(monkeypatch, count)
        previous = kernel_threads.set_threads(count)
        try:
            results[count] = [nn_kernels.conv2d(x, w, geom),
                              nn_kernels.conv2d_backprop_input(x.shape, w, dy, geom),
                              nn_kernels.conv2d_backprop_filter(x, w.shape, dy, geom),
                              nn_kernels.max_pool_grad(x, pool_dy, pool)]
        finally:
            kernel_threads.set_threads(previous)
    for count in (2, 3):
        for ours, reference in zip(results[count], results[1]):
            np.testing.assert_array_equal(ours, reference)


def test_max_pool_grad_keeps_infinite_gradients_and_positive_zeros(threads):
    x = np.array([[3, 1], [2, 0]], np.float32).reshape(1, 2, 2, 1)
    geom = nn_kernels.Geometry(2, 2, 2, 2, (2, 2), (1, 1), "VALID")
    for gradient in (-np.inf, -2.0):
        dx = nn_kernels.max_pool_grad(x, np.full((1, 1, 1, 1), gradient, np.float32), geom)
        np.testing.assert_array_equal(dx.ravel(), [gradient, 0, 0, 0])
        assert not np.signbit(dx.ravel()[1:]).any()


def test_kernels_do_split_their_work(monkeypatch):
    _always_split(monkeypatch, 2)
    monkeypatch.setattr(nn_kernels, "_TILE_BYTES", 256)
    counts = []
    run_parts = kernel_threads.run_parts
    monkeypatch.setattr(kernel_threads, "run_parts",
                        lambda function, count: counts.append(count) or run_parts(function, count))
    x, w, dy, geom, _ = _conv_case(CONV_CASES[1], seed=2)
    nn_kernels.conv2d(x, w, geom)
    nn_kernels.conv2d_backprop_input(x.shape, w, dy, geom)
    nn_kernels.conv2d_backprop_filter(x, w.shape, dy, geom)
    pool = nn_kernels.Geometry(x.shape[1], x.shape[2], 2, 2, (2, 2), (1, 1), "VALID")
    nn_kernels.max_pool(x, pool)
    nn_kernels.max_pool_grad(x, nn_kernels.max_pool(x, pool), pool)
    assert counts == [2] * 6


# --- Winograd convolutions (big stride-1 3x3 and 5x5 ones) ----------------------------------------

WINOGRAD_CASES = [
    # batch, height, width, in channels, out channels, kernel, padding
    (3, 8, 8, 4, 5, 5, "SAME"),
    (2, 7, 9, 3, 4, 5, "SAME"),     # odd output sizes: the last 2x2 blocks are cropped
    (3, 9, 10, 4, 3, 5, "VALID"),
    (2, 6, 7, 5, 4, 3, "SAME"),
    (3, 9, 8, 4, 6, 3, "VALID"),
    (2, 6, 6, 3, 2, 3, ((2, 0), (1, 2))),
    (1, 3, 3, 2, 2, 5, "SAME"),     # a single block, mostly padding
    (2, 7, 8, 8, 4, 5, "SAME"),     # backprop input is a Winograd convolution too
    (2, 6, 7, 9, 3, 3, "VALID"),
]


@pytest.mark.parametrize("case", WINOGRAD_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_winograd_convolution_matches_the_loop_reference(case, dtype, threads, monkeypatch):
    monkeypatch.setattr(nn_kernels, "_WINOGRAD_MIN_WORK", 0)
    monkeypatch.setattr(nn_kernels, "_WINOGRAD_MIN_CHANNELS", {3: 1, 5: 1})
    monkeypatch.setattr(nn_kernels, "_WINOGRAD_TILE_BYTES", 256)
    n, h, w, c, o, k, padding = case
    rng = np.random.default_rng(h * w + c * o)
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    kernel = rng.standard_normal((k, k, c, o)).astype(dtype)
    if isinstance(padding, str):
        geom = nn_kernels.Geometry(h, w, k, k, (1, 1), (1, 1), padding)
    else:
        geom = nn_kernels.Geometry(h, w, k, k, (1, 1), (1, 1), "EXPLICIT", padding)
    assert nn_kernels._winograd_applies(n, kernel.shape, dtype, geom)
    out = nn_kernels.conv2d(x, kernel, geom)
    expected = reference_conv2d(x, kernel, (1, 1), (1, 1), padding)
    assert out.dtype == dtype
    _assert_winograd_close(out, expected)
    dy = rng.standard_normal(out.shape).astype(dtype)
    dw = nn_kernels.conv2d_backprop_filter(x, kernel.shape, dy, geom)
    assert dw.dtype == dtype
    _assert_winograd_close(dw, reference_backprop_filter(x, kernel.shape, dy, (1, 1), (1, 1),
                                                         padding))
    if c >= nn_kernels._MIN_TRANSPOSED_CHANNELS:
        dx = nn_kernels.conv2d_backprop_input(x.shape, kernel, dy, geom)
        _assert_winograd_close(dx, reference_backprop_input(x.shape, kernel, dy, (1, 1),
                                                            (1, 1), padding))


def _assert_winograd_close(ours, expected):
    """Rounding errors a few times those of the direct product, relative to the scale."""
    assert ours.shape == expected.shape
    tolerance = (2e-5 if ours.dtype == np.float32 else 1e-13) * np.abs(expected).max()
    np.testing.assert_allclose(ours, expected, rtol=0, atol=tolerance)


def test_winograd_is_kept_for_convolutions_it_speeds_up():
    same = nn_kernels.Geometry(14, 14, 5, 5, (1, 1), (1, 1), "SAME")
    strided = nn_kernels.Geometry(14, 14, 5, 5, (2, 2), (1, 1), "SAME")
    applies = nn_kernels._winograd_applies
    assert applies(64, (5, 5, 32, 64), np.float32, same)
    assert not applies(2, (5, 5, 32, 64), np.float32, same)  # small: direct
    assert not applies(64, (5, 5, 32, 8), np.float32, same)  # thin products
    assert not applies(64, (5, 5, 32, 64), np.int32, same)
    assert not applies(64, (5, 5, 32, 64), np.float32, strided)
    assert not applies(64, (5, 3, 32, 64), np.float32, same)


TF_CONVOLUTION = """
import sys
import numpy as np
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
arrays = np.load(sys.argv[1])
x, w, dy = (tf.constant(arrays[name]) for name in ("x", "w", "dy"))
y = tf.nn.conv2d(x, w, [1, 1, 1, 1], sys.argv[2])
dx, dw = tf.gradients(y, [x, w], grad_ys=dy)
with tf.Session() as sess:
    values = sess.run([y, dx, dw])
np.savez(sys.argv[3], y=values[0], dx=values[1], dw=values[2])
"""


@pytest.mark.tf
@pytest.mark.parametrize("window, channels, padding", [(5, (32, 64), "SAME"),
                                                       (3, (64, 64), "VALID")])
def test_big_convolutions_and_gradients_match_tensorflow(window, channels, padding, tmp_path):
    """Within test_ops_nn.py's float32 tolerance (1e-5 of the largest value) of TensorFlow."""
    require_tensorflow()
    rng = np.random.default_rng(window)
    x = rng.standard_normal((16, 20, 20, channels[0])).astype(np.float32)
    w = (rng.standard_normal((window, window) + channels) * 0.1).astype(np.float32)
    geom = nn_kernels.Geometry(20, 20, window, window, (1, 1), (1, 1), padding)
    assert nn_kernels._winograd_applies(16, w.shape, np.float32, geom)
    dy = rng.standard_normal((16, geom.out_h, geom.out_w, channels[1])).astype(np.float32)
    np.savez(tmp_path / "in.npz", x=x, w=w, dy=dy)
    run_tensorflow_process(["-c", TF_CONVOLUTION, tmp_path / "in.npz", padding,
                            tmp_path / "out.npz"])
    theirs = np.load(tmp_path / "out.npz")
    with tf.Graph().as_default():
        images, kernel = tf.constant(x), tf.constant(w)
        y = tf.nn.conv2d(images, kernel, [1, 1, 1, 1], padding)
        dx, dw = tf.gradients(y, [images, kernel], grad_ys=tf.constant(dy))
        with tf.Session() as sess:
            ours = dict(zip(("y", "dx", "dw"), sess.run([y, dx, dw])))
    for name in ("y", "dx", "dw"):
        scale = np.abs(theirs[name]).max()
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-5 * scale,
                                   err_msg=name)
