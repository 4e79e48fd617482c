"""TensorFlow's CPU random kernels reproduced bit for bit in NumPy.

Everything here is pure numerics: no graph, no session. A stateful random op keeps one
`PhiloxStream` per kernel instance (per op per session) and calls one of the kernel functions
on every run; each call reserves its slice of the stream exactly as TensorFlow does, so the
second run continues where the first stopped.

How TensorFlow produces the numbers (facts this module follows):

* Generator: Philox4x32-10. The 64-bit key is `seed`; the 128-bit counter starts as
  `seed2 << 64`. Each evaluation yields four uint32 words ("a block") and advances the
  counter by one. Both seeds 0 means "nondeterministic": two fresh random 64-bit seeds.
* Reservation: every run of RandomUniform, RandomStandardNormal, TruncatedNormal and
  RandomUniformInt reserves `256 * num_outputs` blocks up front, whatever the distribution
  really consumes; the run reads from the start of its reservation.
* Fixed-cost distributions fill outputs in groups: group g is computed from block g.
  A group is 4 values for 32-bit and 16-bit outputs, 2 for 64-bit ones (a double or an int64
  takes two words).
* Truncated normal group g reads words one by one starting at block `g * 64 * group_size`
  and keeps Box-Muller values with |x| < 2 until the group is full.
* Box-Muller for float (and for half/bfloat16, which round the float result) uses the C
  library's `logf` and `sincosf`; for double `log` and `sincos`. TensorFlow on Linux gets them
  from glibc, so float results depend on glibc's algorithms: `_logf` and `_sincosf` below
  reproduce glibc's (2.28 and later) results for every input the kernels can produce. Doubles
  go through Python's `math`, which calls the same C library functions TensorFlow calls.
"""

import math
import os

import ml_dtypes
import numpy as np

_MASK32 = (1 << 32) - 1
_MASK64 = (1 << 64) - 1
_MASK128 = (1 << 128) - 1

# Every run reserves this many Philox blocks per output element (TensorFlow's choice, shared by
# all the stateful random kernels so that variable-cost distributions fit in the reservation).
BLOCKS_RESERVED_PER_OUTPUT = 256

_BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
_FLOAT_TYPES = (np.dtype(np.float16), _BFLOAT16, np.dtype(np.float32), np.dtype(np.float64))
_INT_TYPES = (np.dtype(np.int32), np.dtype(np.int64))


# ----------------------------------------------------------------------------------------------
# Philox4x32-10

_PHILOX_M0 = np.uint64(0xD2511F53)
_PHILOX_M1 = np.uint64(0xCD9E8D57)
_PHILOX_W0 = 0x9E3779B9
_PHILOX_W1 = 0xBB67AE85
_U32 = np.uint64(_MASK32)
_SHIFT32 = np.uint64(32)


def philox4x32_10(key, counter, block_offsets):
    """The Philox4x32-10 blocks for the counters `counter + block_offsets[i]`.

    key: 64-bit int; counter: 128-bit int; block_offsets: uint64 array (any shape).
    Returns uint32 of shape block_offsets.shape + (4,), words in TensorFlow's order.
    """
    offsets = np.asarray(block_offsets, dtype=np.uint64)
    counter &= _MASK128
    low = np.uint64(counter & _MASK64) + offsets  # wraps modulo 2**64
    high = np.uint64(counter >> 64) + (low < offsets).astype(np.uint64)
    c0 = low & _U32
    c1 = low >> _SHIFT32
    c2 = high & _U32
    c3 = high >> _SHIFT32
    key0 = key & _MASK32
    key1 = (key >> 32) & _MASK32
    for round_index in range(10):
        k0 = np.uint64((key0 + round_index * _PHILOX_W0) & _MASK32)
        k1 = np.uint64((key1 + round_index * _PHILOX_W1) & _MASK32)
        product0 = _PHILOX_M0 * c0
        product1 = _PHILOX_M1 * c2
        c0, c1, c2, c3 = ((product1 >> _SHIFT32) ^ c1 ^ k0, product1 & _U32,
                          (product0 >> _SHIFT32) ^ c3 ^ k1, product0 & _U32)
    return np.stack([c0, c1, c2, c3], axis=-1).astype(np.uint32)


def _consecutive_blocks(key, counter, num_blocks):
    return philox4x32_10(key, counter, np.arange(num_blocks, dtype=np.uint64))


class PhiloxStream:
    """The generator state a stateful random kernel keeps between runs: key and counter.

    `PhiloxStream(seed, seed2)` takes the op's `seed`/`seed2` attrs as given (int64 values, after
    get_seed). Both 0 draws two random 64-bit seeds, as TensorFlow does for unseeded ops.
    """

    def __init__(self, seed=0, seed2=0):
        if seed == 0 and seed2 == 0:
            seed = int.from_bytes(os.urandom(8), "little")
            seed2 = int.from_bytes(os.urandom(8), "little")
        self.key = seed & _MASK64
        self.counter = (seed2 & _MASK64) << 64

    def reserve(self, num_blocks):
        """Take `num_blocks` 128-bit blocks off the stream; returns the counter they start at."""
        start = self.counter
        self.counter = (self.counter + num_blocks) & _MASK128
        return start

    def reserve_outputs(self, num_outputs):
        """What every random kernel run reserves for `num_outputs` output elements."""
        return self.reserve(num_outputs * BLOCKS_RESERVED_PER_OUTPUT)


# ----------------------------------------------------------------------------------------------
# Bits to uniform floats: put random bits in the mantissa of a number in [1, 2), subtract 1.

def _uint32_to_float(words):
    bits = (words & np.uint32(0x7FFFFF)) | np.uint32(127 << 23)
    return bits.view(np.float32) - np.float32(1.0)


def _uint64_to_double(high_words, low_words):
    mantissa = ((high_words.astype(np.uint64) & np.uint64(0xFFFFF)) << _SHIFT32) | low_words
    return (mantissa | np.uint64(1023 << 52)).view(np.float64) - 1.0


def _uint16_to_half(words):
    # Ten random bits; built as float32 (exact), the value is representable in half exactly.
    bits = ((words & np.uint32(0x3FF)) << np.uint32(13)) | np.uint32(127 << 23)
    return (bits.view(np.float32) - np.float32(1.0)).astype(np.float16)


def _uint16_to_bfloat16(words):
    bits = ((words & np.uint32(0x7F)) << np.uint32(16)) | np.uint32(127 << 23)
    return (bits.view(np.float32) - np.float32(1.0)).astype(_BFLOAT16)


# ----------------------------------------------------------------------------------------------
# glibc's single-precision logf and sincosf (the table-driven algorithms glibc has shipped since
# 2.28), evaluated in double like the C code and rounded once to float.

_hex = float.fromhex

# For 16 subintervals of [0x3f330000 as float, twice that): 1/c and log(c), c near the centre.
_LOGF_INVC = np.array([_hex(h) for h in (
    "0x1.661ec79f8f3bep+0", "0x1.571ed4aaf883dp+0", "0x1.49539f0f010bp+0",
    "0x1.3c995b0b80385p+0", "0x1.30d190c8864a5p+0", "0x1.25e227b0b8eap+0",
    "0x1.1bb4a4a1a343fp+0", "0x1.12358f08ae5bap+0", "0x1.0953f419900a7p+0", "0x1p+0",
    "0x1.e608cfd9a47acp-1", "0x1.ca4b31f026aap-1", "0x1.b2036576afce6p-1",
    "0x1.9c2d163a1aa2dp-1", "0x1.886e6037841edp-1", "0x1.767dcf5534862p-1")])
_LOGF_LOGC = np.array([_hex(h) for h in (
    "-0x1.57bf7808caadep-2", "-0x1.2bef0a7c06ddbp-2", "-0x1.01eae7f513a67p-2",
    "-0x1.b31d8a68224e9p-3", "-0x1.6574f0ac07758p-3", "-0x1.1aa2bc79c81p-3",
    "-0x1.a4e76ce8c0e5ep-4", "-0x1.1973c5a611cccp-4", "-0x1.252f438e10c1ep-5", "0x0p+0",
    "0x1.aa5aa5df25984p-5", "0x1.c5e53aa362eb4p-4", "0x1.526e57720db08p-3",
    "0x1.bc2860d22477p-3", "0x1.1058bc8a07ee1p-2", "0x1.4043057b6ee09p-2")])
_LOGF_LN2 = _hex("0x1.62e42fefa39efp-1")
_LOGF_A0 = _hex("-0x1.00ea348b88334p-2")
_LOGF_A1 = _hex("0x1.5575b0be00b6ap-2")
_LOGF_A2 = _hex("-0x1.ffffef20a4123p-2")
_LOGF_OFFSET = np.uint32(0x3F330000)


def _logf(x):
    """glibc logf for positive normal float32 values (the only ones Box-Muller passes)."""
    bits = x.view(np.uint32)
    offset_bits = bits - _LOGF_OFFSET
    index = (offset_bits >> np.uint32(19)) & np.uint32(15)
    exponent = (offset_bits.view(np.int32) >> np.int32(23)).astype(np.float64)
    # z = x / 2**exponent, in [0x3f330000, 2 * 0x3f330000) as float; exact.
    z = (bits - (offset_bits & np.uint32(0xFF800000))).view(np.float32).astype(np.float64)
    r = z * _LOGF_INVC[index] - 1.0
    y0 = _LOGF_LOGC[index] + exponent * _LOGF_LN2
    r2 = r * r
    y = _LOGF_A1 * r + _LOGF_A2
    y = _LOGF_A0 * r2 + y
    y = y * r2 + (y0 + r)
    return y.astype(np.float32)


_SINCOSF_HALF_PI_INV = _hex("0x1.45F306DC9C883p+23")  # 2/pi, scaled by 2**24
_SINCOSF_HALF_PI = _hex("0x1.921FB54442D18p0")
_SINCOSF_COS = [_hex(h) for h in ("0x1p0", "-0x1.ffffffd0c621cp-2", "0x1.55553e1068f19p-5",
                                  "-0x1.6c087e89a359dp-10", "0x1.99343027bf8c3p-16")]
_SINCOSF_SIN = [_hex(h) for h in ("-0x1.555545995a603p-3", "0x1.1107605230bc4p-7",
                                  "-0x1.994eb3774cf24p-13")]


def _abs_top12(x):
    """Exponent and top three mantissa bits of float32 values: glibc's cheap range test."""
    return (x.view(np.uint32) >> np.uint32(20)) & np.uint32(0x7FF)


_TOP12_PI_OVER_4 = _abs_top12(np.array([math.pi / 4], dtype=np.float32))[0]
_TOP12_TINY = _abs_top12(np.array([2.0 ** -12], dtype=np.float32))[0]
_TOP12_120 = _abs_top12(np.array([120.0], dtype=np.float32))[0]


def _sincosf(y):
    """glibc sincosf for float32 values with |y| < 120 (Box-Muller passes [0, 2*pi))."""
    top = _abs_top12(y)
    if top.size and top.max() >= _TOP12_120:
        raise ValueError("_sincosf only covers |x| < 120")
    x = y.astype(np.float64)
    # Quadrant: scaled product, truncated, rounded at bit 24; 0 below pi/4 (no reduction).
    quadrant = ((x * _SINCOSF_HALF_PI_INV).astype(np.int32) + np.int32(0x800000)) >> np.int32(24)
    quadrant[top < _TOP12_PI_OVER_4] = 0
    r = x - quadrant * _SINCOSF_HALF_PI
    # glibc flips the sine argument and the cosine coefficients by quadrant; both polynomials
    # are odd/even in those signs under round-to-nearest, so the signs are applied at the end.
    c0, c1, c2, c3, c4 = _SINCOSF_COS
    s1, s2, s3 = _SINCOSF_SIN
    r2 = r * r
    r3 = r2 * r
    r4 = r2 * r2
    sin_poly = ((r + r3 * s1) + (r3 * r2) * (s2 + r2 * s3)).astype(np.float32)
    cos_poly = (((c0 + r2 * c1) + r4 * c2) + (r4 * r2) * (c3 + r2 * c4)).astype(np.float32)
    sin_poly[((quadrant + 1) & 2) != 0] *= np.float32(-1.0)
    cos_poly[(quadrant & 2) != 0] *= np.float32(-1.0)
    odd = (quadrant & 1) != 0
    sin_out = np.where(odd, cos_poly, sin_poly)
    cos_out = np.where(odd, sin_poly, cos_poly)
    tiny = top < _TOP12_TINY
    sin_out[tiny] = y[tiny]
    cos_out[tiny] = 1.0
    return sin_out, cos_out


# ----------------------------------------------------------------------------------------------
# Box-Muller

_TWO_PI = 2.0 * math.pi
_BOX_MULLER_FLOAT_EPSILON = np.float32(1.0e-7)
_BOX_MULLER_DOUBLE_EPSILON = 1.0e-7


def _box_muller_float(words0, words1):
    """Two standard normal float32 arrays from two arrays of uint32 words."""
    u1 = np.maximum(_uint32_to_float(words0), _BOX_MULLER_FLOAT_EPSILON)
    # 2*pi is a double constant in TF's C++, so the angle is rounded to float from a double product.
    angle = (_TWO_PI * _uint32_to_float(words1).astype(np.float64)).astype(np.float32)
    radius = np.sqrt(np.float32(-2.0) * _logf(u1))
    sin_value, cos_value = _sincosf(angle)
    return sin_value * radius, cos_value * radius


def _box_muller_double(words0, words1, words2, words3):
    """Two standard normal float64 arrays from four arrays of uint32 words."""
    u1 = np.maximum(_uint64_to_double(words0, words1), _BOX_MULLER_DOUBLE_EPSILON)
    angle = (_TWO_PI * _uint64_to_double(words2, words3)).tolist()
    # The C library's log/sin/cos, as TensorFlow calls them (no NumPy SIMD variants).
    log_u1 = np.array([math.log(v) for v in u1.tolist()], dtype=np.float64)
    radius = np.sqrt(-2.0 * log_u1)
    sin_value = np.array([math.sin(v) for v in angle], dtype=np.float64)
    cos_value = np.array([math.cos(v) for v in angle], dtype=np.float64)
    return sin_value * radius, cos_value * radius


# ----------------------------------------------------------------------------------------------
# Kernels

def _check_dtype(dtype, allowed, op_name):
    dtype = np.dtype(dtype)
    if dtype not in allowed:
        raise TypeError("%s does not support dtype %s" % (op_name, dtype))
    return dtype


def _num_elements(shape):
    return int(np.prod(shape, dtype=np.int64))


def _is_wide(dtype):
    return dtype.itemsize == 8


def random_uniform(stream, shape, dtype=np.float32):
    """RandomUniform: values in [0, 1) of a float dtype, one run of the kernel."""
    dtype = _check_dtype(dtype, _FLOAT_TYPES, "RandomUniform")
    size = _num_elements(shape)
    counter = stream.reserve_outputs(size)
    group = 2 if _is_wide(dtype) else 4
    blocks = _consecutive_blocks(stream.key, counter, -(-size // group))
    if dtype == np.float64:
        values = _uint64_to_double(blocks[:, 0::2], blocks[:, 1::2])
    elif dtype == np.float32:
        values = _uint32_to_float(blocks)
    elif dtype == np.float16:
        values = _uint16_to_half(blocks)
    else:
        values = _uint16_to_bfloat16(blocks)
    return values.reshape(-1)[:size].reshape(shape)


def random_standard_normal(stream, shape, dtype=np.float32):
    """RandomStandardNormal: N(0, 1) values of a float dtype, one run of the kernel."""
    dtype = _check_dtype(dtype, _FLOAT_TYPES, "RandomStandardNormal")
    size = _num_elements(shape)
    counter = stream.reserve_outputs(size)
    group = 2 if _is_wide(dtype) else 4
    blocks = _consecutive_blocks(stream.key, counter, -(-size // group))
    if dtype == np.float64:
        pair = _box_muller_double(blocks[:, 0], blocks[:, 1], blocks[:, 2], blocks[:, 3])
    else:
        pair = _box_muller_float(blocks[:, 0::2], blocks[:, 1::2])
    # Each Box-Muller call yields two neighbouring outputs.
    values = np.stack(pair, axis=-1).reshape(-1)[:size]
    return values.astype(dtype, copy=False).reshape(shape)


_TRUNCATION_BOUND = 2.0


def truncated_normal(stream, shape, dtype=np.float32):
    """TruncatedNormal: N(0, 1) values with |x| < 2 (rejection), one run of the kernel."""
    dtype = _check_dtype(dtype, _FLOAT_TYPES, "TruncatedNormal")
    size = _num_elements(shape)
    counter = stream.reserve_outputs(size)
    group = 2 if _is_wide(dtype) else 4
    num_groups = -(-size // group)
    # Each group reads its own region of the reservation, so groups are independent.
    group_stride = group * BLOCKS_RESERVED_PER_OUTPUT // 4
    group_start = np.arange(num_groups, dtype=np.uint64) * np.uint64(group_stride)
    work_dtype = np.float64 if dtype == np.float64 else np.float32
    values = np.zeros((num_groups, group), dtype=work_dtype)
    filled = np.zeros(num_groups, dtype=np.int64)
    pending = np.arange(num_groups)
    block_index = 0
    while pending.size:
        blocks = philox4x32_10(stream.key, counter, group_start[pending] + np.uint64(block_index))
        # Candidates in the order the kernel draws them: one block is two float Box-Muller
        # pairs, or one double pair.
        if work_dtype == np.float64:
            candidates = np.stack(_box_muller_double(*blocks.T), axis=-1)
        else:
            first = _box_muller_float(blocks[:, 0], blocks[:, 1])
            second = _box_muller_float(blocks[:, 2], blocks[:, 3])
            candidates = np.stack(first + second, axis=-1)
        accepted = np.abs(candidates) < work_dtype(_TRUNCATION_BOUND)
        slot = filled[pending, None] + np.cumsum(accepted, axis=1) - 1
        keep = accepted & (slot < group)
        rows = np.broadcast_to(pending[:, None], keep.shape)
        values[rows[keep], slot[keep]] = candidates[keep]
        filled[pending] = np.minimum(filled[pending] + accepted.sum(axis=1), group)
        pending = pending[filled[pending] < group]
        block_index += 1
    return values.reshape(-1)[:size].astype(dtype, copy=False).reshape(shape)


def random_uniform_int(stream, shape, minval, maxval, dtype=np.int32):
    """RandomUniformInt: integers in [minval, maxval), one run of the kernel.

    The raw word (int32) or word pair (int64) is reduced modulo the range and added to minval.
    """
    dtype = _check_dtype(dtype, _INT_TYPES, "RandomUniformInt")
    low, high = int(minval), int(maxval)
    if not low < high:
        raise ValueError("Need minval < maxval, got %d >= %d" % (low, high))
    size = _num_elements(shape)
    counter = stream.reserve_outputs(size)
    if dtype == np.int64:
        blocks = _consecutive_blocks(stream.key, counter, -(-size // 2)).astype(np.uint64)
        words = blocks[:, 0::2] | (blocks[:, 1::2] << _SHIFT32)
        offsets = words % np.uint64(high - low)
        values = (offsets + np.uint64(low & _MASK64)).view(np.int64)
    else:
        words = _consecutive_blocks(stream.key, counter, -(-size // 4))
        offsets = words % np.uint32(high - low)
        values = (offsets + np.uint32(low & _MASK32)).view(np.int32)
    return values.reshape(-1)[:size].reshape(shape)
