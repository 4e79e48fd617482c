"""NumPy numerics of the neural-network ops: convolutions, pooling, batch normalization.

Pure array code, no graph: nn_ops.py wraps these functions as kernels. Everything works on
NHWC arrays (callers transpose NCHW in and out). Convolutions are im2col (copies of a strided
window view) + matrix products, a cache-sized tile of output rows at a time, the tiles shared
out over the run's kernel threads (kernel_threads.py); big stride-1 3x3 and 5x5 ones use
Winograd's minimal filtering instead. Pooling takes one strided slice per window tap. No Python
loop over pixels anywhere.
"""

import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tensorkeep.ops import kernel_threads


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


def _pad_spatial(x, top, bottom, left, right, value=0):
    """NHWC x with `value` around its spatial dimensions: the interior copied once and only the
    border filled (np.pad costs ~15 µs more per call, zeros-then-copy writes twice)."""
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    padded = np.empty((n, top + h + bottom, left + w + right, c), dtype=x.dtype)
    padded[:, top:top + h, left:left + w] = x
    padded[:, :top] = value
    padded[:, top + h:] = value
    padded[:, top:top + h, :left] = value
    padded[:, top:top + h, left + w:] = value
    return padded


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
        return _pad_spatial(x, self.pad_top, self.pad_bottom, self.pad_left, self.pad_right,
                           value)

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
#
# im2col + matrix product, one tile of output rows at a time: a tile's columns (its windows
# copied into a [rows, KH*KW*C] matrix) are sized to stay in a core's cache while the product
# reads them, instead of materialising the columns of the whole batch (160 MB for 64 MNIST-size
# images with 5x5x32 windows). Tiles are also the unit of parallelism: each thread of the run
# (kernel_threads) takes a contiguous run of tiles, fills its own column buffer and writes its
# own rows of the output, BLAS staying on one thread. The tiling depends only on the shapes,
# never on the thread count, so results are the same on any number of threads.

# Bytes of one tile's columns: about half a core's L2 cache.
_TILE_BYTES = 1 << 20
# Bytes of one tile's transformed input patches in the Winograd convolution, and the fewest 2x2
# output blocks per tile (measured best).
_WINOGRAD_TILE_BYTES = 1 << 19
_WINOGRAD_MIN_BLOCKS = 64
# A batch too big for one tile is cut into at least this many, so that threads get equal
# shares.
_MIN_TILES = 8
# Fewest input channels for which conv2d_backprop_input runs as a convolution (below, the
# scatter is faster).
_MIN_TRANSPOSED_CHANNELS = 8


def _rows(x):
    """x as a matrix [everything but the last axis, last axis] (also when empty)."""
    return x.reshape(int(np.prod(x.shape[:-1])), x.shape[-1])


def _tiles(n, out_h, row_bytes, tile_bytes=None):
    """Rectangular tiles (image_start, image_stop, row_start, row_stop) of a batch's output
    rows, each of about `tile_bytes` of columns at `row_bytes` per output row: groups of whole
    images, or bands of rows of one image (the same number of bands for every image)."""
    rows = max(1, (tile_bytes or _TILE_BYTES) // max(1, row_bytes))
    if rows >= out_h:
        images = rows // out_h
        if images < n:  # more than one tile: enough of them for the threads to share
            images = min(images, -(-n // _MIN_TILES))
        return [(i, min(n, i + images), 0, out_h) for i in range(0, n, images)]
    return [(i, i + 1, r, min(out_h, r + rows)) for i in range(n) for r in range(0, out_h, rows)]


def _in_parts(work, units, body, quantum=1):
    """body(run of units) for contiguous runs of `units` (tiles, or other pieces of work fixed
    by the shapes alone), in parallel when `work` (multiply-adds) is worth it. Returns the
    concatenated lists body returned. Runs start at multiples of `quantum` units."""
    count = kernel_threads.parts_for(work, limit=max(1, len(units) // quantum))
    ranges = kernel_threads.split_ranges(len(units), count, quantum)
    results = kernel_threads.run_parts(lambda part: body(units[slice(*ranges[part])]),
                                       len(ranges))
    return [value for part in results for value in part]


def _column_buffer(tiles, out_w, depth, dtype):
    largest = max(((i1 - i0) * (r1 - r0) for i0, i1, r0, r1 in tiles), default=0)
    return np.empty(largest * out_w * depth, dtype=dtype)


def _columns(windows, tile, buffer):
    """The im2col matrix [pixels, KH*KW*C] of one tile, copied from the window view into
    `buffer`. With a single input channel the copy is tap-major (the matrix is the transpose of
    a C-ordered [KH*KW, pixels] one): one long run per tap and image row instead of a run of KW
    values per pixel, and BLAS reads either layout."""
    i0, i1, r0, r1 = tile
    view = windows[i0:i1, r0:r1]
    depth = view.shape[3] * view.shape[4] * view.shape[5]
    if view.shape[5] == 1:
        view = view.transpose(3, 4, 5, 0, 1, 2)
        columns = buffer[:view.size].reshape(view.shape)
        np.copyto(columns, view)
        return columns.reshape(depth, -1).T
    columns = buffer[:view.size].reshape(view.shape)
    np.copyto(columns, view)
    return columns.reshape(-1, depth)


def _is_pointwise(k_h, k_w, geom):
    return k_h == 1 and k_w == 1 and geom.s_h == 1 and geom.s_w == 1 and \
        not (geom.pad_top or geom.pad_left or geom.pad_bottom or geom.pad_right)


def conv2d(x, w, geom):
    """x [N,H,W,C], w [KH,KW,C,O] -> [N,OH,OW,O]."""
    n = x.shape[0]
    k_h, k_w, c, o = w.shape
    depth = k_h * k_w * c
    out = np.empty((n, geom.out_h, geom.out_w, o), dtype=np.result_type(x, w))
    if out.size == 0 or depth == 0:
        out[...] = 0
        return out
    matrix = w.reshape(depth, o)
    if _is_pointwise(k_h, k_w, geom):
        # No columns to build: the product of the pixel rows, in fixed row ranges.
        pixels, out_pixels = _rows(x), _rows(out)
        row_ranges = kernel_threads.split_ranges(pixels.shape[0], _MIN_TILES)

        def products(ranges):
            for start, stop in ranges:
                np.matmul(pixels[start:stop], matrix, out=out_pixels[start:stop])
            return []
        _in_parts(out.size * depth, row_ranges, products)
        return out
    if _winograd_applies(n, w.shape, x.dtype, geom):
        return _conv2d_winograd(x, w, geom)
    windows = geom.windows(geom.pad(x))

    def products(tiles):
        buffer = _column_buffer(tiles, geom.out_w, depth, x.dtype)
        for tile in tiles:
            i0, i1, r0, r1 = tile
            np.matmul(_columns(windows, tile, buffer), matrix,
                      out=out[i0:i1, r0:r1].reshape(-1, o))
        return []

    tiles = _tiles(n, geom.out_h, geom.out_w * depth * x.dtype.itemsize)
    _in_parts(out.size * depth, tiles, products)
    return out


# --- Winograd minimal filtering ----------------------------------------------------------------
#
# A stride-1 convolution with an r x r window computed per 2x2 block of outputs from the (r+1) x
# (r+1) input patch around it, F(2x2, rxr): Y = A^T [(G g G^T) * (B^T d B)] A (Lavin & Gray,
# "Fast Algorithms for Convolutional Neural Networks", 2015). The products become (r+1)^2 matrix
# products of [blocks, C] x [C, O], (r+1)^2 / 4 multiply-adds per output and channel pair
# instead of r^2: 2.8x fewer for 5x5 windows, 2.25x for 3x3 (the filter gradient likewise, with
# F(rxr, 2x2)). Rounding errors are several times those of the direct product (still ~1e-6 of
# the largest value in float32), so only big convolutions, where the saving pays, use it.

# Interpolation points by count (besides infinity); powers of two, exact in binary, mixed large
# and small: the smallest rounding errors of the sets tried.
_WINOGRAD_POINTS = {3: (0, 1, -1), 5: (0, 1, -1, 0.5, -2)}
# Fewest input and output channels for which it is faster (measured): with fewer, the
# [blocks, C] x [C, O] products are too thin for the transforms to pay off.
_WINOGRAD_MIN_CHANNELS = {3: 64, 5: 32}
_WINOGRAD_MIN_WORK = 50_000_000  # multiply-adds of the direct convolution


@functools.lru_cache(maxsize=None)
def _winograd_transforms(m, r):
    """(A^T [m, a], G [a, r], B^T [a, a]) of F(m, r), a = m + r - 1, in float64, by Toom-Cook on
    the interpolation points _WINOGRAD_POINTS[a - 1] and infinity: A^T and G evaluate
    polynomials at the points, B^T solves sum_t A^T[k, t] G[t, j] B^T[t, i] = [i == k + j]."""
    size = m + r - 1
    points = _WINOGRAD_POINTS[size - 1]
    a_t = np.zeros((m, size))
    g = np.zeros((size, r))
    for t, point in enumerate(points):
        a_t[:, t] = [point ** k for k in range(m)]
        others = np.prod([point - q for q in points if q != point])
        g[t] = [point ** j / others for j in range(r)]
    a_t[m - 1, size - 1] = g[size - 1, r - 1] = 1
    equations, targets = [], []
    for k in range(m):
        for j in range(r):
            for i in range(size):
                coefficients = np.zeros((size, size))
                coefficients[:, i] = a_t[k] * g[:, j]
                equations.append(coefficients.ravel())
                targets.append(float(i == k + j))
    b_t = np.linalg.lstsq(np.array(equations), np.array(targets), rcond=None)[0]
    assert np.allclose(np.array(equations) @ b_t, targets, atol=1e-12)
    return a_t, g, np.round(b_t, 12).reshape(size, size)


def _winograd_applies(n, filter_shape, dtype, geom):
    k_h, k_w, c, o = filter_shape
    return (k_h == k_w and k_h in _WINOGRAD_MIN_CHANNELS and geom.s_h == geom.s_w == 1 and
            geom.d_h == geom.d_w == 1 and np.dtype(dtype).kind == "f" and
            min(c, o) >= _WINOGRAD_MIN_CHANNELS[k_h] and
            n * geom.out_h * geom.out_w * k_h * k_w * c * o >= _WINOGRAD_MIN_WORK)


def _winograd_patches(x, r, geom):
    """The (r+1) x (r+1) input patches [N, blocks_h, blocks_w, r+1, r+1, C] around the 2x2
    output blocks (a view of x padded: an odd output size leaves one more row or column)."""
    n, in_h, in_w, c = x.shape
    blocks_h, blocks_w = -(-geom.out_h // 2), -(-geom.out_w // 2)
    padded = _pad_spatial(x, geom.pad_top, 2 * blocks_h + r - 1 - geom.pad_top - in_h,
                          geom.pad_left, 2 * blocks_w + r - 1 - geom.pad_left - in_w)
    s_n, s_h, s_w, s_c = padded.strides
    return as_strided(padded, shape=(n, blocks_h, blocks_w, r + 1, r + 1, c),
                      strides=(s_n, 2 * s_h, 2 * s_w, s_h, s_w, s_c), writeable=False)


def _winograd_tiles(n, blocks_h, blocks_w, block_bytes):
    """Tiles of rows of blocks: _WINOGRAD_TILE_BYTES of transformed patches, but at least
    _WINOGRAD_MIN_BLOCKS blocks (the rows of the products) when channels are many."""
    tile_bytes = max(_WINOGRAD_TILE_BYTES, _WINOGRAD_MIN_BLOCKS * block_bytes)
    return _tiles(n, blocks_h, blocks_w * block_bytes, tile_bytes)


def _transform_patches(patches, tile, b_t):
    """B^T d B of the patches of one tile, as [(r+1)^2, blocks, C]."""
    i0, i1, r0, r1 = tile
    view = patches[i0:i1, r0:r1].transpose(3, 4, 0, 1, 2, 5)
    size = view.shape[0]
    d = np.empty(view.shape, dtype=patches.dtype)
    np.copyto(d, view)
    v = np.matmul(b_t, (b_t @ d.reshape(size, -1)).reshape(size, size, -1))
    return v.reshape(size * size, -1, patches.shape[5])


def _conv2d_winograd(x, w, geom):
    n, c, r, o = x.shape[0], x.shape[3], w.shape[0], w.shape[3]
    size = r + 1
    a_t64, g64, b_t64 = _winograd_transforms(2, r)
    a_t, b_t = a_t64.astype(x.dtype), b_t64.astype(x.dtype)
    # G w G^T for every (c, o), in float64: the rows, then the columns.
    filter_rows = (g64 @ w.reshape(r, -1).astype(np.float64)).reshape(size, r, c * o)
    filters = np.matmul(g64, filter_rows).astype(x.dtype).reshape(size * size, c, o)
    patches = _winograd_patches(x, r, geom)
    blocks_h, blocks_w = patches.shape[1:3]
    out = np.empty((n, 2 * blocks_h, 2 * blocks_w, o), dtype=x.dtype)

    def blocks(tiles):
        for tile in tiles:
            i0, i1, r0, r1 = tile
            m = np.matmul(_transform_patches(patches, tile, b_t), filters)
            y = np.matmul(a_t, (a_t @ m.reshape(size, -1)).reshape(2, size, -1))
            np.copyto(out[i0:i1, 2 * r0:2 * r1].reshape(i1 - i0, r1 - r0, 2, blocks_w, 2, o),
                      y.reshape(2, 2, i1 - i0, r1 - r0, blocks_w, o).transpose(2, 3, 0, 4, 1, 5))
        return []

    tiles = _winograd_tiles(n, blocks_h, blocks_w, size * size * c * x.dtype.itemsize)
    _in_parts(n * blocks_h * blocks_w * size * size * c * o, tiles, blocks)
    if out.shape[1:3] != (geom.out_h, geom.out_w):
        return out[:, :geom.out_h, :geom.out_w]
    return out


def _conv2d_backprop_filter_winograd(x, filter_shape, dy, geom):
    """The filter gradient as F(r x r, 2x2): each 2x2 block of dy is the "filter" of a
    correlation with its (r+1) x (r+1) input patch, whose r x r outputs add to the gradient;
    the sum over blocks happens between the transforms, as (r+1)^2 products [C, blocks] x
    [blocks, O], and A^T (.) A runs once at the end."""
    n, c, r, o = x.shape[0], x.shape[3], filter_shape[0], filter_shape[3]
    size = r + 1
    a_t64, g64, b_t64 = _winograd_transforms(r, 2)
    b_t, g = b_t64.astype(x.dtype), g64.astype(x.dtype)
    patches = _winograd_patches(x, r, geom)
    blocks_h, blocks_w = patches.shape[1:3]
    gradient = np.zeros((n, 2 * blocks_h, 2 * blocks_w, o), dtype=dy.dtype)
    gradient[:, :geom.out_h, :geom.out_w] = dy
    gradient = gradient.reshape(n, blocks_h, 2, blocks_w, 2, o)
    tiles = _winograd_tiles(n, blocks_h, blocks_w, size * size * c * x.dtype.itemsize)
    groups = [tiles[start:stop]
              for start, stop in kernel_threads.split_ranges(len(tiles), _MIN_TILES)]

    def sums(groups):
        totals = []
        for group in groups:
            total = np.zeros((size * size, c, o), dtype=x.dtype)
            for tile in group:
                i0, i1, r0, r1 = tile
                dy_blocks = np.empty((2, 2, i1 - i0, r1 - r0, blocks_w, o), dtype=x.dtype)
                np.copyto(dy_blocks, gradient[i0:i1, r0:r1].transpose(2, 4, 0, 1, 3, 5))
                u = np.matmul(g, (g @ dy_blocks.reshape(2, -1)).reshape(size, 2, -1))
                v = _transform_patches(patches, tile, b_t)
                total += np.matmul(v.transpose(0, 2, 1), u.reshape(size * size, -1, o))
            totals.append(total)
        return totals

    totals = _in_parts(n * blocks_h * blocks_w * size * size * c * o, groups, sums)
    summed = sum(totals[1:], totals[0]).astype(np.float64).reshape(size, size, c * o)
    dw = np.matmul(a_t64, (a_t64 @ summed.reshape(size, -1)).reshape(r, size, c * o))
    return dw.astype(x.dtype).reshape(filter_shape)


def conv2d_backprop_input(input_shape, w, dy, geom):
    """The gradient of conv2d w.r.t. its input."""
    c = input_shape[3]
    k_h, k_w = w.shape[:2]
    # At stride 1 the gradient is itself a convolution (of dy, padded, with the flipped and
    # transposed filter): one product per tile and no scatter, faster unless the input has
    # so few channels that the product is a thin matrix-vector one.
    top, bottom = (k_h - 1) * geom.d_h - geom.pad_top, (k_h - 1) * geom.d_h - geom.pad_bottom
    left, right = (k_w - 1) * geom.d_w - geom.pad_left, (k_w - 1) * geom.d_w - geom.pad_right
    if geom.s_h == geom.s_w == 1 and c >= _MIN_TRANSPOSED_CHANNELS and \
            min(top, bottom, left, right) >= 0:
        flipped = np.ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))
        transposed = Geometry(geom.out_h, geom.out_w, k_h, k_w, (1, 1), (geom.d_h, geom.d_w),
                              "EXPLICIT", ((top, bottom), (left, right)))
        return conv2d(dy, flipped, transposed)
    return _conv2d_backprop_input_scatter(input_shape, w, dy, geom)


def _conv2d_backprop_input_scatter(input_shape, w, dy, geom):
    """Each tile's columns (dy rows times the transposed filter matrix) added back onto the
    window positions they came from."""
    n, in_h, in_w, c = input_shape
    k_h, k_w, _, o = w.shape
    depth = k_h * k_w * c
    dx = geom.padded_zeros(n, in_h, in_w, c, np.result_type(dy, w))
    if dy.size == 0 or depth == 0:
        return geom.crop(dx, in_h, in_w)
    matrix_t = w.reshape(depth, o).T

    def scatter(tiles):
        buffer = _column_buffer(tiles, geom.out_w, depth, dx.dtype)
        for i0, i1, r0, r1 in tiles:
            gradient = dy[i0:i1, r0:r1].reshape(-1, o)
            columns = buffer[:gradient.shape[0] * depth].reshape(-1, depth)
            np.matmul(gradient, matrix_t, out=columns)
            columns = columns.reshape(i1 - i0, r1 - r0, geom.out_w, k_h, k_w, c)
            target = dx[i0:i1]
            for i in range(k_h):
                top = r0 * geom.s_h + i * geom.d_h
                rows = slice(top, top + (r1 - r0 - 1) * geom.s_h + 1, geom.s_h)
                for j in range(k_w):
                    target[:, rows, geom.tap(i, j)[1], :] += columns[:, :, :, i, j, :]
        return []

    # Larger tiles than the forward pass's: each costs KH*KW strided adds of Python overhead.
    tiles = _tiles(n, geom.out_h, geom.out_w * depth * dx.dtype.itemsize, 4 * _TILE_BYTES)
    # Neighbouring rows add onto overlapping input rows: a thread takes whole images.
    bands_per_image = len(tiles) // n if tiles[0][1] - tiles[0][0] == 1 else 1
    _in_parts(dy.size * depth, tiles, scatter, quantum=bands_per_image)
    return geom.crop(dx, in_h, in_w)


def conv2d_backprop_filter(x, filter_shape, dy, geom):
    """The gradient of conv2d w.r.t. its filter: the sum over tiles of columns^T times dy
    rows, summed in _MIN_TILES fixed groups of tiles and then across groups, in order."""
    k_h, k_w, c, o = filter_shape
    depth = k_h * k_w * c
    dtype = np.result_type(x, dy)
    n = x.shape[0]
    if dy.size == 0 or depth == 0:
        return np.zeros(filter_shape, dtype=dtype)
    if _winograd_applies(n, filter_shape, dtype, geom):
        return _conv2d_backprop_filter_winograd(x, filter_shape, dy, geom)
    windows = geom.windows(geom.pad(x))
    tiles = _tiles(n, geom.out_h, geom.out_w * depth * dtype.itemsize)
    groups = [tiles[start:stop]
              for start, stop in kernel_threads.split_ranges(len(tiles), _MIN_TILES)]

    def sums(groups):
        buffer = _column_buffer([t for group in groups for t in group], geom.out_w, depth,
                                dtype)
        product = np.empty((depth, o), dtype=dtype)
        totals = []
        for group in groups:
            total = np.zeros((depth, o), dtype=dtype)
            for tile in group:
                i0, i1, r0, r1 = tile
                np.matmul(_columns(windows, tile, buffer).T, dy[i0:i1, r0:r1].reshape(-1, o),
                          out=product)
                total += product
            totals.append(total)
        return totals

    totals = _in_parts(dy.size * depth, groups, sums)
    return sum(totals[1:], totals[0]).reshape(filter_shape)


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


# Element-wise NumPy passes over the output per window tap, counting strided and boolean passes
# at what they cost (measured).
_MAX_POOL_CALLS_PER_TAP = 1.5
_MAX_POOL_GRAD_CALLS_PER_TAP = 12


def _taps(geom):
    return [(i, j) for i in range(geom.k_h) for j in range(geom.k_w)]


def _by_images(n, passes, body):
    """body(start, stop) for one range of images per thread, in parallel when `passes`
    (element-wise passes x elements) are worth it. Each output value is computed alone, so the
    split does not change it."""
    work = int(passes * kernel_threads.WORK_PER_ELEMENT_CALL)
    ranges = kernel_threads.split_ranges(n, kernel_threads.parts_for(work, limit=n))
    kernel_threads.run_parts(lambda part: body(*ranges[part]), len(ranges))


def _window_max(padded, start, stop, geom, out):
    """out = the maximum of each window of images start:stop, a running maximum over the
    window's taps (one strided slice each: a reduction over a window view walks tiny inner
    loops instead)."""
    for index, (i, j) in enumerate(_taps(geom)):
        rows, cols = geom.tap(i, j)
        tap = padded[start:stop, rows, cols, :]
        if index == 0:
            np.copyto(out, tap)
        else:
            np.maximum(out, tap, out=out)
    return out


def max_pool(x, geom):
    padded = geom.pad(x, _lowest(x.dtype))
    out = np.empty((x.shape[0], geom.out_h, geom.out_w, x.shape[3]), dtype=x.dtype)
    if out.size:
        work = out.size * geom.k_h * geom.k_w * _MAX_POOL_CALLS_PER_TAP
        _by_images(x.shape[0], work,
                   lambda start, stop: _window_max(padded, start, stop, geom, out[start:stop]))
    return out


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
    """Routes each output gradient to the first maximum of its window in row-major order
    (TensorFlow's rule): tap by tap, the window elements equal to the maximum that no earlier
    tap has claimed receive the gradient. Images go through in groups that stay in cache
    across the taps' passes."""
    n, in_h, in_w, c = x.shape
    padded = geom.pad(x, _lowest(x.dtype))
    dx = geom.padded_zeros(n, in_h, in_w, c, dy.dtype)
    taps = _taps(geom)
    group = max(1, _TILE_BYTES // 2 // max(1, padded[0].nbytes))
    # gradient * hit (branch-free) is several times faster than np.where(hit, gradient, 0) but
    # would turn an infinite gradient into NaN where it is not routed.
    finite = dy.dtype.kind != "f" or bool(np.isfinite(dy).all())

    def route(start, stop):
        gradient = dy[start:stop]
        peak = _window_max(padded, start, stop, geom, np.empty(gradient.shape, x.dtype))
        # A window holding NaN has a NaN maximum; its first NaN gets the gradient.
        nan = np.isnan(peak) if peak.dtype.kind == "f" and np.isnan(peak).any() else None
        claimed = None
        for index, (i, j) in enumerate(taps):
            rows, cols = geom.tap(i, j)
            tap = padded[start:stop, rows, cols, :]
            hit = tap == peak
            if nan is not None:
                hit |= nan & np.isnan(tap)
            if claimed is None:
                claimed = hit
            else:
                np.greater(hit, claimed, out=hit)  # a maximum no earlier tap has claimed
                if index + 1 < len(taps):
                    claimed |= hit
            # Added, not assigned: overlapping windows share input elements, and 0 + (-0.0)
            # keeps the unrouted zeros positive.
            target = dx[start:stop, rows, cols, :]
            target += gradient * hit if finite else np.where(hit, gradient, 0)

    def body(start, stop):
        for first in range(start, stop, group):
            route(first, min(stop, first + group))

    if dy.size:
        _by_images(n, dy.size * len(taps) * _MAX_POOL_GRAD_CALLS_PER_TAP, body)
    return geom.crop(dx, in_h, in_w)


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
    padded = geom.pad(x)
    total = np.zeros((x.shape[0], geom.out_h, geom.out_w, x.shape[3]), dtype=x.dtype)
    for i, j in _taps(geom):
        rows, cols = geom.tap(i, j)
        total += padded[:, rows, cols, :]
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
