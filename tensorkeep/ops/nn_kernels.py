"""NumPy numerics of the neural-network ops: convolutions, pooling, batch normalization.

Pure array code, no graph: nn_ops.py wraps these functions as kernels. Everything works on
NHWC arrays (callers transpose NCHW in and out). Convolutions are im2col (a strided window view)
+ one matmul; backward passes scatter with one strided add per kernel offset, never a Python
loop over pixels.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided


# --- window geometry ---------------------------------------------------------------------------

def output_size_and_padding(in_size, k_size, stride, dilation, padding, explicit=(0, 0)):
    """(output size, pad_before, pad_after) of one spatial dimension, as TensorFlow computes
    them (GetWindowedOutputSizeVerbose). `padding` is "SAME", "VALID" or "EXPLICIT"."""
    if stride <= 0:
        raise ValueError("Stride must be > 0, but got %d" % stride)
    if dilation <= 0:
        raise ValueError("Dilation rate must be >= 1, but got %d" % dilation)
    effective_k = (k_size - 1) * dilation + 1
    if padding == "VALID":
        out = (in_size - effective_k + stride) // stride
        before = after = 0
    elif padding == "SAME":
        out = (in_size + stride - 1) // stride
        needed = max(0, (out - 1) * stride + effective_k - in_size)
        before = needed // 2
        after = needed - before
    elif padding == "EXPLICIT":
        before, after = int(explicit[0]), int(explicit[1])
        out = (in_size + before + after - effective_k + stride) // stride
    else:
        raise ValueError("Invalid padding: %r" % (padding,))
    if out < 0:
        raise ValueError("Computed output size would be negative: %d [input_size: %d, "
                         "effective_filter_size: %d, stride: %d]"
                         % (out, in_size, effective_k, stride))
    return out, before, after


class Geometry:
    """The spatial layout of one 2-D windowed op (conv or pool) on an NHWC input."""

    __slots__ = ("out_h", "out_w", "pad_top", "pad_bottom", "pad_left", "pad_right",
                 "k_h", "k_w", "s_h", "s_w", "d_h", "d_w")

    def __init__(self, in_h, in_w, k_h, k_w, strides, dilations, padding,
                 explicit=((0, 0), (0, 0))):
        """explicit: ((top, bottom), (left, right)) for padding "EXPLICIT"."""
        self.k_h, self.k_w = k_h, k_w
        self.s_h, self.s_w = strides
        self.d_h, self.d_w = dilations
        self.out_h, self.pad_top, self.pad_bottom = output_size_and_padding(
            in_h, k_h, self.s_h, self.d_h, padding, explicit[0])
        self.out_w, self.pad_left, self.pad_right = output_size_and_padding(
            in_w, k_w, self.s_w, self.d_w, padding, explicit[1])

    def pad(self, x, value=0):
        if not (self.pad_top or self.pad_bottom or self.pad_left or self.pad_right):
            return x
        return np.pad(x, ((0, 0), (self.pad_top, self.pad_bottom),
                          (self.pad_left, self.pad_right), (0, 0)), constant_values=value)

    def padded_zeros(self, n, in_h, in_w, c, dtype):
        return np.zeros((n, in_h + self.pad_top + self.pad_bottom,
                         in_w + self.pad_left + self.pad_right, c), dtype=dtype)

    def crop(self, padded, in_h, in_w):
        return padded[:, self.pad_top:self.pad_top + in_h, self.pad_left:self.pad_left + in_w, :]

    def windows(self, padded):
        """A read-only view [N, out_h, out_w, k_h, k_w, C] of the windows of a padded input."""
        n, _, _, c = padded.shape
        s_n, s_h, s_w, s_c = padded.strides
        return as_strided(padded, shape=(n, self.out_h, self.out_w, self.k_h, self.k_w, c),
                          strides=(s_n, s_h * self.s_h, s_w * self.s_w, s_h * self.d_h,
                                   s_w * self.d_w, s_c), writeable=False)

    def tap(self, i, j):
        """The (rows, cols) slices of a padded input that kernel offset (i, j) reads."""
        top, left = i * self.d_h, j * self.d_w
        return (slice(top, top + (self.out_h - 1) * self.s_h + 1, self.s_h),
                slice(left, left + (self.out_w - 1) * self.s_w + 1, self.s_w))


def compute_dtype(dtype):
    """Half-precision types are computed in float32 (as TensorFlow's CPU kernels do)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f" and dtype.itemsize >= 4:
        return dtype
    if dtype.kind in "iu":
        return dtype
    return np.dtype(np.float32)


# --- Conv2D ------------------------------------------------------------------------------------

def _im2col(x, geom):
    windows = geom.windows(geom.pad(x))
    n = x.shape[0]
    return windows.reshape(n * geom.out_h * geom.out_w, geom.k_h * geom.k_w * x.shape[3])


def _rows(x):
    """x as a matrix [everything but the last axis, last axis] (also when empty)."""
    return x.reshape(int(np.prod(x.shape[:-1])), x.shape[-1])


def conv2d(x, w, geom):
    """x [N,H,W,C], w [KH,KW,C,O] -> [N,OH,OW,O]."""
    n = x.shape[0]
    k_h, k_w, c, o = w.shape
    if k_h == 1 and k_w == 1 and geom.s_h == 1 and geom.s_w == 1 and \
            not (geom.pad_top or geom.pad_left or geom.pad_bottom or geom.pad_right):
        out = x.reshape(x.size // max(c, 1), c) @ w.reshape(c, o)
    else:
        out = _im2col(x, geom) @ w.reshape(k_h * k_w * c, o)
    return out.reshape(n, geom.out_h, geom.out_w, o)


def conv2d_backprop_input(input_shape, w, dy, geom):
    n, in_h, in_w, c = input_shape
    k_h, k_w, _, o = w.shape
    columns = (_rows(dy) @ w.reshape(k_h * k_w * c, o).T).reshape(
        n, geom.out_h, geom.out_w, k_h, k_w, c)
    dx = geom.padded_zeros(n, in_h, in_w, c, columns.dtype)
    for i in range(k_h):
        for j in range(k_w):
            rows, cols = geom.tap(i, j)
            dx[:, rows, cols, :] += columns[:, :, :, i, j, :]
    return geom.crop(dx, in_h, in_w)


def conv2d_backprop_filter(x, filter_shape, dy, geom):
    k_h, k_w, c, o = filter_shape
    dw = _im2col(x, geom).T @ _rows(dy)
    return dw.reshape(k_h, k_w, c, o)


# --- DepthwiseConv2dNative ---------------------------------------------------------------------

def depthwise_conv2d(x, w, geom):
    """x [N,H,W,C], w [KH,KW,C,M] -> [N,OH,OW,C*M]."""
    n, _, _, c = x.shape
    k_h, k_w, _, m = w.shape
    padded = geom.pad(x)
    out = np.zeros((n, geom.out_h, geom.out_w, c, m), dtype=np.result_type(x, w))
    for i in range(k_h):
        for j in range(k_w):
            rows, cols = geom.tap(i, j)
            out += padded[:, rows, cols, :, None] * w[i, j]
    return out.reshape(n, geom.out_h, geom.out_w, c * m)


def depthwise_conv2d_backprop_input(input_shape, w, dy, geom):
    n, in_h, in_w, c = input_shape
    k_h, k_w, _, m = w.shape
    dy = dy.reshape(n, geom.out_h, geom.out_w, c, m)
    dx = geom.padded_zeros(n, in_h, in_w, c, np.result_type(dy, w))
    for i in range(k_h):
        for j in range(k_w):
            rows, cols = geom.tap(i, j)
            dx[:, rows, cols, :] += np.einsum("nhwcm,cm->nhwc", dy, w[i, j])
    return geom.crop(dx, in_h, in_w)


def depthwise_conv2d_backprop_filter(x, filter_shape, dy, geom):
    k_h, k_w, c, m = filter_shape
    n = x.shape[0]
    dy = dy.reshape(n, geom.out_h, geom.out_w, c, m)
    padded = geom.pad(x)
    dw = np.zeros((k_h, k_w, c, m), dtype=np.result_type(x, dy))
    for i in range(k_h):
        for j in range(k_w):
            rows, cols = geom.tap(i, j)
            dw[i, j] = np.einsum("nhwc,nhwcm->cm", padded[:, rows, cols, :], dy)
    return dw


# --- pooling -----------------------------------------------------------------------------------

def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def max_pool(x, geom):
    windows = geom.windows(geom.pad(x, _lowest(x.dtype)))
    return windows.max(axis=(3, 4))


def _max_pool_argmax(x, geom):
    """Flat index (into the padded input) of each window's first maximum, [N,OH,OW,C]."""
    n, in_h, in_w, c = x.shape
    padded = geom.pad(x, _lowest(x.dtype))
    windows = geom.windows(padded)
    n_taps = geom.k_h * geom.k_w
    flat = windows.reshape(n, geom.out_h, geom.out_w, n_taps, c)
    tap = flat.argmax(axis=3)
    tap_row, tap_col = np.divmod(tap, geom.k_w)
    rows = (np.arange(geom.out_h) * geom.s_h)[None, :, None, None] + tap_row
    cols = (np.arange(geom.out_w) * geom.s_w)[None, None, :, None] + tap_col
    batch = np.arange(n)[:, None, None, None]
    channel = np.arange(c)[None, None, None, :]
    p_h, p_w = padded.shape[1:3]
    return ((batch * p_h + rows) * p_w + cols) * c + channel, padded.shape


def max_pool_grad(x, dy, geom):
    """Routes each output gradient to the first maximum of its window (TensorFlow's rule)."""
    index, padded_shape = _max_pool_argmax(x, geom)
    size = int(np.prod(padded_shape))
    summed = np.bincount(index.ravel(), weights=dy.ravel(), minlength=size)
    dx = summed.reshape(padded_shape).astype(dy.dtype, copy=False)
    return geom.crop(dx, x.shape[1], x.shape[2])


def max_pool_grad_grad(x, ddx, geom):
    """Gradient of MaxPoolGrad w.r.t. its `grad` input: ddx read at each window's maximum."""
    index, padded_shape = _max_pool_argmax(x, geom)
    padded = geom.pad(ddx)
    return padded.reshape(-1)[index]


def _valid_counts(in_size, out_size, k, stride, pad_before):
    starts = np.arange(out_size) * stride - pad_before
    ends = np.minimum(starts + k, in_size)
    return ends - np.maximum(starts, 0)


def _avg_divisor(in_h, in_w, geom, dtype):
    """How many real (unpadded) elements each window covers, [1, OH, OW, 1]."""
    rows = _valid_counts(in_h, geom.out_h, geom.k_h, geom.s_h, geom.pad_top)
    cols = _valid_counts(in_w, geom.out_w, geom.k_w, geom.s_w, geom.pad_left)
    return (rows[:, None] * cols[None, :]).astype(dtype)[None, :, :, None]


def avg_pool(x, geom):
    windows = geom.windows(geom.pad(x))
    total = windows.sum(axis=(3, 4), dtype=x.dtype)
    return total / _avg_divisor(x.shape[1], x.shape[2], geom, x.dtype)


def avg_pool_grad(input_shape, dy, geom):
    n, in_h, in_w, c = input_shape
    share = dy / _avg_divisor(in_h, in_w, geom, dy.dtype)
    dx = geom.padded_zeros(n, in_h, in_w, c, dy.dtype)
    for i in range(geom.k_h):
        for j in range(geom.k_w):
            rows, cols = geom.tap(i, j)
            dx[:, rows, cols, :] += share
    return geom.crop(dx, in_h, in_w)


# --- fused batch normalization (channels last, any rank) -----------------------------------------

def batch_norm_training(x, scale, offset, running_mean, running_var, epsilon, avg_factor):
    """Returns y, new running mean, new running variance (Bessel-corrected), batch mean,
    batch variance (biased)."""
    u = scale.dtype
    rows = _rows(x).astype(u, copy=False)
    count = rows.shape[0]
    mean = rows.sum(axis=0, dtype=u) * u.type(1.0 / count)
    centered = rows - mean
    var = np.square(centered).sum(axis=0, dtype=u) * u.type(1.0 / count)
    factor = np.reciprocal(np.sqrt(var + u.type(epsilon))) * scale
    y = (centered * factor + offset).astype(x.dtype, copy=False).reshape(x.shape)
    unbiased = var * u.type(count / max(count - 1, 1))
    if avg_factor == 1.0:
        new_mean, new_var = mean, unbiased
    else:
        keep = u.type(1.0 - avg_factor)
        new_mean = keep * running_mean + u.type(avg_factor) * mean
        new_var = keep * running_var + u.type(avg_factor) * unbiased
    return y, new_mean, new_var, mean, var


def batch_norm_inference(x, scale, offset, mean, var, epsilon):
    u = scale.dtype
    rows = _rows(x).astype(u, copy=False)
    factor = np.reciprocal(np.sqrt(var + u.type(epsilon))) * scale
    y = (rows - mean) * factor + offset
    return y.astype(x.dtype, copy=False).reshape(x.shape)


def batch_norm_grad(dy, x, scale, mean, var, epsilon, is_training):
    """Returns dx, dscale, doffset. In training mode mean/var are the batch statistics the
    forward pass saved; otherwise the population statistics it used."""
    u = scale.dtype
    dy_rows = _rows(dy).astype(u, copy=False)
    centered = _rows(x).astype(u, copy=False) - mean
    inv_std = np.reciprocal(np.sqrt(var + u.type(epsilon)))
    doffset = dy_rows.sum(axis=0, dtype=u)
    dscale = (dy_rows * centered).sum(axis=0, dtype=u) * inv_std
    if is_training:
        count = dy_rows.shape[0]
        mean_dy = doffset * u.type(1.0 / count)
        mean_dy_centered = (dy_rows * centered).sum(axis=0, dtype=u) * u.type(1.0 / count)
        dx = scale * inv_std * (dy_rows - mean_dy - centered * (mean_dy_centered /
                                                               (var + u.type(epsilon))))
    else:
        dx = dy_rows * (scale * inv_std)
    return dx.astype(x.dtype, copy=False).reshape(x.shape), dscale, doffset
