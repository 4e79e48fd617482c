"""Vectorized NumPy kernels of Erf, Erfc, Lgamma, Digamma, Zeta and Polygamma that compute what
TensorFlow's CPU kernels compute, operation for operation where that is known.

What TensorFlow 2.21 runs (its Eigen headers and the C library; facts, the code here is ours):
- Erf and Erfc: Eigen's rational approximations (`generic_fast_erf` / `generic_fast_erfc`) in
  the precision of the type: float32 for float (half and bfloat16 are widened to float and the
  result rounded back), float64 for double. The pip build targets AVX without FMA, so every
  multiply-add rounds twice; the exp(-x^2) of Erfc is Eigen's own polynomial exp (`pexp_float` /
  `pexp_double`) corrected by the rounding error of x*x (Dekker's product).
- Digamma: Eigen's version of the Cephes psi (reflection for x <= 0, recurrence up to 10, an
  asymptotic series), in the precision of the type, with the C library's log and tan.
- Lgamma: the C library's lgammaf / lgamma; glibc computes them by the fdlibm algorithm in the
  type's own precision, except -15 < x < -2 (float) and -28 < x < -2 (double), where it has a
  method of its own.
- Zeta and Polygamma: Eigen's Cephes zeta (a few terms summed, then Euler-Maclaurin) with the C
  library's pow; polygamma(n, x) = (-1)^(n+1) n! zeta(n+1, x) with n! = exp(lgamma(n+1)).
- TensorFlow's CPU threads flush denormal numbers to zero: inputs read as zero, results that
  would be denormal written as zero. These kernels do the same.

The C library functions are glibc 2.36's (Debian 12, what TensorFlow's wheels run on here):
logf, sinf, cosf and tanf are re-done below in NumPy (their results are reproduced); the double
log, sin, cos and pow are NumPy's and tan the long double one rounded, which agree with glibc's
except for a last-bit difference in well under 1% of arguments (5% for pow).

On small tensors the cost is the number of NumPy calls, not the elements, so the kernels keep
that number down without changing a bit (tests/test_ops_special_identity.py): constants are 0-d
arrays of the type (a third of the cost of scalars), a region of an algorithm that no element
falls in is skipped and one that every element falls in needs no selection, and on a single
element the polynomials, glibc's logf and Digamma's recurrence run in scalar arithmetic.
"""

import math

import numpy as np

from tensorkeep.ops import kernel_threads

# Elements per block: the temporaries of a block stay in the caches, and each NumPy call on it
# runs long enough for two threads to gain (2^15: they ran slower than one).
_BLOCK = 1 << 16
# Below this many elements a NumPy call costs about the same whatever it does.
_SMALL = 256


def _blockwise(function, calls_per_element):
    """function (of flat float arrays of one length) applied to same-shaped arrays over flat
    blocks, the blocks shared out over kernel threads when the job is big enough.
    `calls_per_element`: about how many NumPy calls function makes per element."""
    def block(*values):
        with np.errstate(all="ignore"):  # per thread: NaN and overflow are expected results
            return function(*values)

    def run(*arrays):
        shape = arrays[0].shape
        flats = [np.ascontiguousarray(array).reshape(-1) for array in arrays]
        size = flats[0].size
        if size <= _BLOCK:
            return block(*flats).reshape(shape)
        out = np.empty_like(flats[0])
        starts = range(0, size, _BLOCK)
        work = size * calls_per_element * kernel_threads.WORK_PER_ELEMENT_CALL
        ranges = kernel_threads.split_ranges(
            len(starts), kernel_threads.parts_for(work, limit=len(starts)))

        def run_part(index):
            first, last = ranges[index]
            for start in starts[first:last]:
                stop = min(start + _BLOCK, size)
                out[start:stop] = block(*(flat[start:stop] for flat in flats))
        kernel_threads.run_parts(run_part, len(ranges))
        return out.reshape(shape)
    return run


# --- floating-point helpers -----------------------------------------------------------------

def _select(condition, if_true, if_false):
    """np.where(condition, if_true, if_false) for numeric arrays and scalars of one dtype, by bit
    masks on big arrays: np.where branches per element and is five times slower there when the
    condition is not predictable (on small ones it makes fewer NumPy calls)."""
    if condition.size < _SMALL:
        return np.where(condition, if_true, if_false)
    dtype = np.result_type(if_true, if_false)
    bits = np.dtype("u%d" % dtype.itemsize)
    mask = condition.astype(bits)
    np.negative(mask, out=mask)  # all ones where true
    true_bits = np.asarray(if_true, dtype=dtype).view(bits)
    false_bits = np.asarray(if_false, dtype=dtype).view(bits)
    return (false_bits ^ ((true_bits ^ false_bits) & mask)).view(dtype)


def _constant(value, dtype):
    """value as a read-only 0-d array of dtype. NumPy combines an array with such a constant in
    a third of the time it takes with a Python or NumPy scalar (converted at every call), to
    the same result: the kernels' constants are all of this kind."""
    constant = np.array(value, dtype=dtype)
    constant.flags.writeable = False
    return constant


def _constants(values, dtype):
    return tuple(_constant(value, dtype) for value in values)


class _Numbers:
    """The numbers every kernel uses, as constants of one float type."""

    def __init__(self, dtype):
        self.zero, self.half, self.one, self.two = _constants((0, 0.5, 1, 2), dtype)
        self.minus_one, self.nan, self.inf, self.pi = _constants((-1, np.nan, np.inf, np.pi),
                                                                 dtype)
        # Below it, a number is denormal.
        self.smallest_normal = _constant(np.finfo(dtype).tiny, dtype)


_NUMBERS = {np.dtype(dtype): _Numbers(dtype) for dtype in (np.float32, np.float64)}
_FLOAT_NUMBERS, _DOUBLE_NUMBERS = _NUMBERS[np.dtype(np.float32)], _NUMBERS[np.dtype(np.float64)]


def _any(mask):
    return np.count_nonzero(mask) > 0  # (mask.any() makes more calls: 4x slower when small)


def _all(mask):
    return np.count_nonzero(mask) == mask.size


def _flush_denormals(x):
    """x with denormal numbers replaced by zeros of the same sign (flush-to-zero)."""
    numbers = _NUMBERS[x.dtype]
    denormal = np.abs(x) < numbers.smallest_normal
    return _select(denormal, x * numbers.zero, x) if _any(denormal) else x


def _flushed(function, results_can_be_denormal=True):
    """function evaluated as TensorFlow's threads do: denormal inputs and results as zeros."""
    def run(*arrays):
        results = function(*(_flush_denormals(x) for x in arrays))
        return _flush_denormals(results) if results_can_be_denormal else results
    return run


class _Polynomial:
    """Coefficients c0, c1, ... cn (highest power first) in one float type, as constants and as
    scalars of the type (float64: Python floats): on a single element NumPy's scalar (and
    Python's float) arithmetic is ten times faster than its array arithmetic, to the same
    bits."""

    def __init__(self, coefficients, dtype):
        self.constants = _constants(coefficients, dtype)
        self.scalars = tuple(constant[()] if dtype == np.float32 else float(constant)
                             for constant in self.constants)


def _horner(x, polynomial):
    """c0 x^n + c1 x^(n-1) + ... + cn by Horner's rule, each step a rounded product then a
    rounded sum (no fused multiply-add), for flat x."""
    if x.size == 1:
        point = x[0] if x.dtype == np.float32 else x.item()
        coefficients = polynomial.scalars
        result = point * coefficients[0] + coefficients[1]
        for coefficient in coefficients[2:]:
            result = result * point + coefficient
        return np.array([result], dtype=x.dtype)
    coefficients = polynomial.constants
    result = x * coefficients[0]
    result += coefficients[1]
    for coefficient in coefficients[2:]:
        result *= x
        result += coefficient
    return result


def _piecewise(region, count, evaluate, *arrays):
    """evaluate(r, *parts) for each region number r in range(count) that `region` (ints or
    bools) holds, on the elements of that region, combined; a region holding every element is
    evaluated on the arrays themselves. (Index arrays: gathering by a boolean mask is several
    times slower.)"""
    sizes = np.bincount(region, minlength=count).tolist()
    if region.size in sizes:
        return evaluate(sizes.index(region.size), *arrays)
    result = np.empty_like(arrays[0])
    for number, size in enumerate(sizes):
        if size:
            index = np.flatnonzero(region == number)
            result[index] = evaluate(number, *(array[index] for array in arrays))
    return result


def _float32_from_bits(*bits):
    return np.array(bits, dtype=np.uint32).view(np.float32)


# --- Eigen's exp, Erf and Erfc -------------------------------------------------------------------

# 2^h + 1, h half the significand's bits (rounded up): x times it splits x in two halves.
_VELTKAMP_FACTOR = {np.dtype(dtype): _constant(2 ** ((np.finfo(dtype).nmant + 2) // 2) + 1, dtype)
                    for dtype in (np.float32, np.float64)}


def _square_error(x, square):
    """x * x - square exactly (square = fl(x * x)), by Veltkamp's splitting of x into halves
    whose products are exact (Dekker's product)."""
    scaled = x * _VELTKAMP_FACTOR[x.dtype]
    high = (x - scaled) + scaled
    low = x - high
    cross = high * low  # (low * high: the same product)
    error = high * high - square
    error += cross
    error += cross
    error += low * low
    return error


def _scale_by_power_of_two(y, exponent):
    """y * 2**exponent rounded once, flushed to zero where denormal."""
    return _flush_denormals(np.ldexp(y, exponent.astype(np.int32)))


# float: 2^m exp(r), m = floor(x log2(e) + 1/2), r = x - m ln2 in two steps, exp(r) of degree 6.
_EXP_FLOAT_LN2_PARTS = _constants((-0.693359375, 2.12194440e-4), np.float32)
_EXP_FLOAT_POLY = _constants((1.37449637986719608306884765625e-3, 8.36894474923610687255859375e-3,
                              4.166965186595916748046875e-2, 0.16666518151760101318359375,
                              0.49999988079071044921875), np.float32)
_EXP_FLOAT_HIGHEST, _EXP_FLOAT_LOWEST, _EXP_FLOAT_LOG2_E = _constants(
    (88.723, -104, 1.44269504088896341), np.float32)


def _exp_float32(x):
    numbers = _FLOAT_NUMBERS
    clamped = np.minimum(x, _EXP_FLOAT_HIGHEST)
    m = np.floor(clamped * _EXP_FLOAT_LOG2_E + numbers.half)
    r = m * _EXP_FLOAT_LN2_PARTS[0] + clamped
    r += m * _EXP_FLOAT_LN2_PARTS[1]
    r2 = r * r
    p6, p5, p4, p3, p2 = _EXP_FLOAT_POLY
    even = r2 * p6 + p4
    odd = r2 * p5 + p3
    even = r2 * even + p2
    y = r * odd + even
    y = r2 * y + (r + numbers.one)
    result = np.maximum(_scale_by_power_of_two(y, m), x)
    return _select(x < _EXP_FLOAT_LOWEST, numbers.zero, result)


# double (Cephes): 2^n (1 + 2 P(g) / (Q(g) - P(g))), g = x - n ln2 in two steps.
_EXP_DOUBLE_P = _Polynomial((1.26177193074810590878e-4, 3.02994407707441961300e-2,
                             9.99999999999999999910e-1), np.float64)
_EXP_DOUBLE_Q = _Polynomial((3.00198505138664455042e-6, 2.52448340349684104192e-3,
                             2.27265548208155028766e-1, 2.00000000000000000009e0), np.float64)
_EXP_DOUBLE_HIGHEST, _EXP_DOUBLE_LOWEST, _EXP_DOUBLE_LOG2_E = _constants(
    (709.784, -745.519, 1.4426950408889634073599), np.float64)
_EXP_DOUBLE_LN2_PARTS = _constants((0.693145751953125, 1.42860682030941723212e-6), np.float64)


def _exp_float64(x):
    numbers = _DOUBLE_NUMBERS
    clamped = np.minimum(x, _EXP_DOUBLE_HIGHEST)
    n = np.floor(_EXP_DOUBLE_LOG2_E * clamped + numbers.half)
    g = clamped - n * _EXP_DOUBLE_LN2_PARTS[0]
    g -= n * _EXP_DOUBLE_LN2_PARTS[1]
    g2 = g * g
    p = _horner(g2, _EXP_DOUBLE_P) * g
    q = _horner(g2, _EXP_DOUBLE_Q)
    y = numbers.two * (p / (q - p)) + numbers.one
    result = np.maximum(_scale_by_power_of_two(y, n), x)
    return _select(x < _EXP_DOUBLE_LOWEST, numbers.zero, result)


def _exp_of_minus_square(x, square):
    """exp(-x * x) from square = fl(x * x), the rounding error of the square folded in to first
    order (exp(-s - e) ~ exp(-s) (1 - e)); the correction is flushed when denormal."""
    exp_square = (_exp_float32 if x.dtype == np.float32 else _exp_float64)(-square)
    return exp_square - _flush_denormals(exp_square * _square_error(x, square))


# float: erf(x) = x P(x^2) / Q(x^2), x^2 clamped to 16 (erf(4) rounds to 1).
_ERF_FLOAT_P = (2.123732201653183437883853912353515625e-06,
                2.861979592125862836837768554687500000e-04,
                3.658048342913389205932617187500000000e-03,
                5.243302136659622192382812500000000000e-02,
                1.874160766601562500000000000000000000e-01,
                1.128379106521606445312500000000000000e+00)
_ERF_FLOAT_Q = (3.89185734093189239501953125000e-05, 1.14329601638019084930419921875e-03,
                1.47520881146192550659179687500e-02, 1.12945675849914550781250000000e-01,
                4.99425798654556274414062500000e-01, 1.0)

# float: erfc(x) = 1 + x S(x^2) for |x| <= 1, else exp(-x^2) P(1/x^2) / (x Q(1/x^2)) (+ 2 for
# x < 0), x clamped to [-11, 11].
_ERFC_FLOAT_SMALL = (5.61802298761904239654541015625e-04, -4.91381669417023658752441406250e-03,
                     2.67075151205062866210937500000e-02, -1.12800106406211853027343750000e-01,
                     3.76122951507568359375000000000e-01, -1.12837910652160644531250000000e+00)
_ERFC_FLOAT_LARGE_P = (1.0208116471767425537109375e-01, 4.2920666933059692382812500e-01,
                       3.2379078865051269531250000e-01, 5.3971976041793823242187500e-02)
_ERFC_FLOAT_LARGE_Q = (1.7251677811145782470703125e-02, 3.9137163758277893066406250e-01,
                       1.0000000000000000000000000e+00, 6.2173241376876831054687500e-01,
                       9.5662862062454223632812500e-02)

# double: erf(x) / x = P(x^2) / Q(x^2) for |x| <= 1, else from erfc(x) = exp(-x^2) P(1/x^2) /
# (x Q(1/x^2)) (+ 2 for x < 0); Erfc clamps x to [-28, 28], Erf does not clamp.
_ERF_DOUBLE_SMALL_P = (1.9493725660006057018823477644531294572516344487667083740234375e-04,
                       1.8272566210022942682217328425053892715368419885635375976562500e-03,
                       4.5303363351690106863856044583371840417385101318359375000000000e-02,
                       1.4215015503619179981775744181504705920815467834472656250000000e-01,
                       1.1283791670955125585606992899556644260883331298828125000000000e+00)
_ERF_DOUBLE_SMALL_Q = (2.0294484101083099089526257108317963684385176748037338256835938e-05,
                       6.8117805899186819641732970609382391558028757572174072265625000e-04,
                       1.0582026056098614921752165685120417037978768348693847656250000e-02,
                       9.3252603143757495374188692949246615171432495117187500000000000e-02,
                       4.5931062818368939559832142549566924571990966796875000000000000e-01,
                       1.0)
_ERFC_DOUBLE_LARGE_P = (1.5252844933226974316088642158462107545346952974796295166015625e-04,
                        1.0909912393738931124520519233556115068495273590087890625000000e-02,
                        1.0628604636755033252537572252549580298364162445068359375000000e-01,
                        3.3492472973137982217295416376146022230386734008789062500000000e-01,
                        4.5065776215933289750026347064704168587923049926757812500000000e-01,
                        2.9433039130294824659017649537418037652969360351562500000000000e-01,
                        9.8792676360600226170838311645638896152377128601074218750000000e-02,
                        1.7095935395503719655962981960328761488199234008789062500000000e-02,
                        1.4249109729504577659398023570247460156679153442382812500000000e-03,
                        4.4567378313647954771875570045835956989321857690811157226562500e-05)
_ERFC_DOUBLE_LARGE_Q = (2.041985103115789845773520028160419315099716186523437500000000e-03,
                        5.316030659946043707142493417450168635696172714233398437500000e-02,
                        3.426242193784684864077405563875799998641014099121093750000000e-01,
                        8.565637124308049799026321124983951449394226074218750000000000e-01,
                        1.000000000000000000000000000000000000000000000000000000000000e+00,
                        5.968805280570776972126623149961233139038085937500000000000000e-01,
                        1.890922854723317836356244470152887515723705291748046875000000e-01,
                        3.152505418656005586885981983868987299501895904541015625000000e-02,
                        2.565085751861882583380047861965067568235099315643310546875000e-03,
                        7.899362131678837697403017248376499992446042597293853759765625e-05)
# The same in their types.
_ERF_FLOAT_P, _ERF_FLOAT_Q, _ERFC_FLOAT_SMALL, _ERFC_FLOAT_LARGE_P, _ERFC_FLOAT_LARGE_Q = (
    _Polynomial(coefficients, np.float32) for coefficients in (
        _ERF_FLOAT_P, _ERF_FLOAT_Q, _ERFC_FLOAT_SMALL, _ERFC_FLOAT_LARGE_P, _ERFC_FLOAT_LARGE_Q))
_ERF_DOUBLE_SMALL_P, _ERF_DOUBLE_SMALL_Q, _ERFC_DOUBLE_LARGE_P, _ERFC_DOUBLE_LARGE_Q = (
    _Polynomial(coefficients, np.float64) for coefficients in (
        _ERF_DOUBLE_SMALL_P, _ERF_DOUBLE_SMALL_Q, _ERFC_DOUBLE_LARGE_P, _ERFC_DOUBLE_LARGE_Q))

_ERF_FLOAT_SQUARE_LIMIT, _ERFC_FLOAT_LIMIT, _ERFC_FLOAT_MINUS_LIMIT = _constants(
    (16, 11, -11), np.float32)
_ERFC_DOUBLE_LIMIT, _ERFC_DOUBLE_MINUS_LIMIT = _constants((28, -28), np.float64)


def _erf_float32(x):
    numbers = _FLOAT_NUMBERS
    square = np.minimum(x * x, _ERF_FLOAT_SQUARE_LIMIT)
    ratio = x * _horner(square, _ERF_FLOAT_P) / _horner(square, _ERF_FLOAT_Q)
    return np.minimum(np.maximum(ratio, numbers.minus_one), numbers.one)


def _erfc_large(x, square, numerator, denominator):
    """erfc(x) for |x| > 1: exp(-x^2) P(1/x^2) / (x Q(1/x^2)), plus 2 for negative x."""
    numbers = _NUMBERS[x.dtype]
    inverse_square = numbers.one / square
    ratio = _horner(inverse_square, numerator) / (x * _horner(inverse_square, denominator))
    return (_exp_of_minus_square(x, square) * ratio
            + _select(x < numbers.zero, numbers.two, numbers.zero))


def _by_magnitude(x, square, small, large):
    """small(x, square) where x^2 <= 1, large(x, square) elsewhere (each evaluated only when
    some element needs it)."""
    outside = square > _NUMBERS[x.dtype].one
    if not _any(outside):
        return small(x, square)
    if _all(outside):
        return large(x, square)
    return _select(outside, large(x, square), small(x, square))


def _erfc_float32(x):
    x = np.minimum(np.maximum(x, _ERFC_FLOAT_MINUS_LIMIT), _ERFC_FLOAT_LIMIT)
    return _by_magnitude(
        x, x * x,
        lambda x, square: x * _horner(square, _ERFC_FLOAT_SMALL) + _FLOAT_NUMBERS.one,
        lambda x, square: _erfc_large(x, square, _ERFC_FLOAT_LARGE_P, _ERFC_FLOAT_LARGE_Q))


def _erf_over_x_small_float64(square):
    return _horner(square, _ERF_DOUBLE_SMALL_P) / _horner(square, _ERF_DOUBLE_SMALL_Q)


def _erf_float64(x):
    one = _DOUBLE_NUMBERS.one
    return _by_magnitude(
        x, x * x, lambda x, square: x * _erf_over_x_small_float64(square),
        lambda x, square: one - _erfc_large(x, square, _ERFC_DOUBLE_LARGE_P,
                                            _ERFC_DOUBLE_LARGE_Q))


def _erfc_float64(x):
    one = _DOUBLE_NUMBERS.one
    x = np.minimum(np.maximum(x, _ERFC_DOUBLE_MINUS_LIMIT), _ERFC_DOUBLE_LIMIT)
    return _by_magnitude(
        x, x * x, lambda x, square: one - x * _erf_over_x_small_float64(square),
        lambda x, square: _erfc_large(x, square, _ERFC_DOUBLE_LARGE_P, _ERFC_DOUBLE_LARGE_Q))


# --- glibc's logf, sinf, cosf and tanf ------------------------------------------------------------

# logf: x = 2^k z with z near one of 16 centres c, log(x) = k ln2 + log(c) + log1p(r),
# r = z/c - 1, log1p(r) a cubic; all in double, rounded to float once. (1/c, log c) per centre:
_LOGF_TABLE = np.array([float.fromhex(h) for h in (
    "0x1.661ec79f8f3bep+0", "-0x1.57bf7808caadep-2", "0x1.571ed4aaf883dp+0",
    "-0x1.2bef0a7c06ddbp-2", "0x1.49539f0f010bp+0", "-0x1.01eae7f513a67p-2",
    "0x1.3c995b0b80385p+0", "-0x1.b31d8a68224e9p-3", "0x1.30d190c8864a5p+0",
    "-0x1.6574f0ac07758p-3", "0x1.25e227b0b8eap+0", "-0x1.1aa2bc79c81p-3",
    "0x1.1bb4a4a1a343fp+0", "-0x1.a4e76ce8c0e5ep-4", "0x1.12358f08ae5bap+0",
    "-0x1.1973c5a611cccp-4", "0x1.0953f419900a7p+0", "-0x1.252f438e10c1ep-5", "0x1p+0",
    "0x0p+0", "0x1.e608cfd9a47acp-1", "0x1.aa5aa5df25984p-5", "0x1.ca4b31f026aap-1",
    "0x1.c5e53aa362eb4p-4", "0x1.b2036576afce6p-1", "0x1.526e57720db08p-3",
    "0x1.9c2d163a1aa2dp-1", "0x1.bc2860d22477p-3", "0x1.886e6037841edp-1",
    "0x1.1058bc8a07ee1p-2", "0x1.767dcf5534862p-1", "0x1.4043057b6ee09p-2")]).reshape(16, 2)
# 1/c in two parts, z times the high one exact for a float z: z/c - 1 is then rounded once, as
# glibc's fused multiply-add (on FMA machines) rounds it.
_LOGF_INVERSE_CENTRE_HIGH = (_LOGF_TABLE[:, 0].view(np.uint64)
                             & np.uint64(0xfffffffff8000000)).view(np.float64)
_LOGF_INVERSE_CENTRE_LOW = _LOGF_TABLE[:, 0] - _LOGF_INVERSE_CENTRE_HIGH
_LOGF_LN2 = float.fromhex("0x1.62e42fefa39efp-1")
_LOGF_POLY = _Polynomial([float.fromhex(h) for h in (
    "-0x1.00ea348b88334p-2", "0x1.5575b0be00b6ap-2", "-0x1.ffffef20a4123p-2")], np.float64)
# glibc takes the centre's number and k from the bits of x minus those of the first centre:
# bits 19-22 and 23-31 (signed). Both together, the key (13 bits), give all that depends on
# them: 1/c in its two parts times 2^-k (z = 2^-k x exactly, so z/c = x (2^-k / c) to the
# bit) and k ln2 + log(c), as glibc rounds it.
_LOGF_FIRST_CENTRE_BITS, _LOGF_KEY_SHIFT_BITS = 0x3f330000, 19
_LOGF_FIRST_CENTRE, _LOGF_KEY_SHIFT = _constants(
    (_LOGF_FIRST_CENTRE_BITS, _LOGF_KEY_SHIFT_BITS), np.uint32)


def _logf_key_tables():
    key = np.arange(1 << 13)
    centre = key & 15
    k = (((key >> 4) ^ 256) - 256).astype(np.int32)
    scale = np.ldexp(1.0, -k)
    return (_LOGF_INVERSE_CENTRE_HIGH[centre] * scale, _LOGF_INVERSE_CENTRE_LOW[centre] * scale,
            _LOGF_TABLE[centre, 1] + k * _LOGF_LN2)


_LOGF_INVERSE_CENTRE_HIGH_BY_KEY, _LOGF_INVERSE_CENTRE_LOW_BY_KEY, _LOGF_Y0_BY_KEY = (
    _logf_key_tables())
# x is a positive normal number when its bits minus those of the smallest one are below this
# (one element: when it is at least the smallest one and finite).
_LOGF_SMALLEST_NORMAL_BITS, _LOGF_NORMAL_BITS_RANGE = _constants((0x00800000, 0x7f000000),
                                                                 np.uint32)
_FLOAT_SMALLEST_NORMAL = float(np.finfo(np.float32).tiny)


def _logf_steps(wide, inverse_centre_high, inverse_centre_low, y0, one, polynomial):
    """glibc's logf in double from x and its key's entries: arrays and constants, or Python
    floats."""
    r = (wide * inverse_centre_high - one) + wide * inverse_centre_low
    r2 = r * r
    y = polynomial[1] * r + polynomial[2]
    y = polynomial[0] * r2 + y
    return y * r2 + (y0 + r)


def _log_float32(x):
    """glibc's logf of flat float32 x (normal numbers, zeros, infinities, NaN; denormal numbers,
    only met where Lgamma overwrites the result, by NumPy's log)."""
    if x.size == 1:  # in Python floats, several times faster
        wide = x.item()
        if not _FLOAT_SMALLEST_NORMAL <= wide < math.inf:
            return np.log(x)  # 0, inf, NaN, negative and denormal numbers
        key = ((x.view(np.uint32).item() - _LOGF_FIRST_CENTRE_BITS) % (1 << 32)
               >> _LOGF_KEY_SHIFT_BITS)
        return np.array([_logf_steps(
            wide, _LOGF_INVERSE_CENTRE_HIGH_BY_KEY.item(key),
            _LOGF_INVERSE_CENTRE_LOW_BY_KEY.item(key), _LOGF_Y0_BY_KEY.item(key), 1.0,
            _LOGF_POLY.scalars)], dtype=np.float32)
    bits = x.view(np.uint32)
    key = ((bits - _LOGF_FIRST_CENTRE) >> _LOGF_KEY_SHIFT).astype(np.intp)
    wide = x.astype(np.float64)
    y = _logf_steps(wide, _LOGF_INVERSE_CENTRE_HIGH_BY_KEY[key],
                    _LOGF_INVERSE_CENTRE_LOW_BY_KEY[key], _LOGF_Y0_BY_KEY[key],
                    _DOUBLE_NUMBERS.one, _LOGF_POLY.constants).astype(np.float32)
    special = bits - _LOGF_SMALLEST_NORMAL_BITS >= _LOGF_NORMAL_BITS_RANGE
    if _any(special):
        y[special] = np.log(x[special])  # 0, inf, NaN, negative and denormal numbers
    return y


# Reduction by pi/2 in double (sinf, cosf, tanf): 2/pi scaled by 2^24 (the quadrant lands in
# bits 24..31 of the truncated product, rounded by adding 2^23) and pi/2.
_TWO_OVER_PI_SCALED, _HALF_PI = _constants(
    [float.fromhex(h) for h in ("0x1.45F306DC9C883p+23", "0x1.921FB54442D18p0")], np.float64)
_QUADRANT_ROUNDING, _QUADRANT_SHIFT = _constants((0x800000, 24), np.int32)


def _quadrant(wide):
    """The nearest multiple of pi/2 to double x, as glibc's float functions round it."""
    return ((wide * _TWO_OVER_PI_SCALED).astype(np.int32) + _QUADRANT_ROUNDING) >> _QUADRANT_SHIFT


# sinf / cosf: after the reduction, odd (sine: s1..s3) or even (cosine: c0..c4, negated in
# quadrants 2 and 3) polynomials in double.
_SINCOSF_COS = _constants([float.fromhex(h) for h in (
    "0x1p0", "-0x1.ffffffd0c621cp-2", "0x1.55553e1068f19p-5", "-0x1.6c087e89a359dp-10",
    "0x1.99343027bf8c3p-16")], np.float64)
_SINCOSF_SIN = _constants([float.fromhex(h) for h in (
    "-0x1.555545995a603p-3", "0x1.1107605230bc4p-7", "-0x1.994eb3774cf24p-13")], np.float64)
# Top 12 bits of |x| below which there is no reduction (~0.75), and of 2^-12; the field.
_SINCOSF_DIRECT_TOP, _SINCOSF_TINY_TOP, _SINCOSF_TOP_SHIFT, _SINCOSF_TOP_MASK = _constants(
    (0x3f4, 0x398, 20, 0x7ff), np.uint32)
_QUADRANT_BITS = _constants((0, 1, 2), np.int32)


def _sin_or_cos_float32(y, cosine):
    """glibc's sinf of float32 y, |y| < 120, or its cosf where the bool array `cosine`."""
    none, odd, second_half = _QUADRANT_BITS
    top = (y.view(np.uint32) >> _SINCOSF_TOP_SHIFT) & _SINCOSF_TOP_MASK
    x = y.astype(np.float64)
    direct = top < _SINCOSF_DIRECT_TOP
    quadrant = _select(direct, none, _quadrant(x))
    reduced = _select(direct, x, x - quadrant * _HALF_PI)
    x2 = reduced * reduced
    signed = _select((quadrant & odd) != (quadrant & second_half) // second_half, -reduced,
                     reduced)
    use_cosine = ((quadrant & odd) == odd) != cosine
    x3 = signed * x2
    sine = signed + x3 * _SINCOSF_SIN[0]
    sine = sine + (x3 * x2) * (_SINCOSF_SIN[1] + x2 * _SINCOSF_SIN[2])
    negate = (quadrant & second_half) == second_half
    c0, c1, c2, c3, c4 = (_select(negate, -c, c) for c in _SINCOSF_COS)
    x4 = x2 * x2
    cosine_value = (c0 + x2 * c1) + x4 * c2
    cosine_value = cosine_value + (x4 * x2) * (c3 + x2 * c4)
    result = _select(use_cosine, cosine_value, sine).astype(np.float32)
    tiny = top < _SINCOSF_TINY_TOP
    if not _any(tiny):
        return result
    return _select(tiny, _select(cosine, _FLOAT_NUMBERS.one, y), result)


# tanf (the fdlibm float kernel): tan(x) = x + x^3 T(x^2) near 0, from tan(pi/4 - x) above
# 0.6744; for pi/4 < |x| the remainder of the reduction and -1/tan. T0..T12, pi/4 in two parts:
_TANF_T = _float32_from_bits(0x3eaaaaab, 0x3e088889, 0x3d5d0dd1, 0x3cb327a4, 0x3c11371f,
                             0x3b6b6916, 0x3abede48, 0x3a1a26c8, 0x398137b9, 0x38a3f445,
                             0x3895c07a, 0xb79bae5f, 0x37d95384)
# T(x^2) = T0 + z R(z^2) + z^2 V(z^2) with z = x^2: R of T1, T3 .. T11, V of T2, T4 .. T12.
_TANF_T0 = _constant(_TANF_T[0], np.float32)
_TANF_R = _Polynomial(_TANF_T[11:0:-2], np.float32)
_TANF_V = _Polynomial(_TANF_T[12:1:-2], np.float32)
_TANF_PIO4, _TANF_PIO4_LOW, _TANF_FOLD, _TANF_TINY = _constants(
    (*_float32_from_bits(0x3f490fda, 0x33222168, 0x3f2ca140), 2.0 ** -13), np.float32)
_TANF_LOW_12_BITS = _constant(0xfffff000, np.uint32)


def _truncate_low_12_bits(x):
    return (x.view(np.uint32) & _TANF_LOW_12_BITS).view(np.float32)


def _tan_kernel_float32(x, tail, cotangent):
    """tan(x + tail), or -1/tan(x + tail) where the bool array `cotangent`, for |x| <= ~pi/4
    (each case computed only when some element needs it)."""
    numbers = _FLOAT_NUMBERS
    one, two, minus_one = numbers.one, numbers.two, numbers.minus_one
    original = x
    magnitude = np.abs(x)
    negative = x < numbers.zero
    # Near pi/4: tan(x) = tan(pi/4 - (pi/4 - x)), the kernel on the small complement.
    folded = magnitude >= _TANF_FOLD
    any_folded = _any(folded)
    if any_folded:
        complement = (_TANF_PIO4 - magnitude) + (_TANF_PIO4_LOW - _select(negative, -tail, tail))
        x = _select(folded, complement, x)
        tail = _select(folded, numbers.zero, tail)
    z = x * x
    w = z * z
    r = _horner(w, _TANF_R)
    v = z * _horner(w, _TANF_V)
    s = z * x
    r = tail + z * (s * (r + v) + tail)
    r = r + _TANF_T0 * s
    w = x + r
    result = w
    if _any(cotangent):
        # -1/(x + r), the quotient refined from halves with 12 low bits cleared.
        w_high = _truncate_low_12_bits(w)
        v = r - (w_high - x)
        quotient = minus_one / w
        quotient_high = _truncate_low_12_bits(quotient)
        s = one + quotient_high * w_high
        result = _select(cotangent, quotient_high + quotient * (s + quotient_high * v), w)
    if any_folded:
        sign = _select(negative, minus_one, one)
        direction = _select(cotangent, minus_one, one)
        folded_result = sign * (direction - two * (x - (w * w / (w + direction) - r)))
        near_pi4 = folded & (np.abs(complement) < _TANF_TINY)
        if _any(near_pi4):
            folded_result = _select(
                near_pi4, (sign * direction) * (one - two * direction * complement),
                folded_result)
        result = _select(folded, folded_result, result)
    tiny = magnitude < _TANF_TINY  # (never folded)
    if not _any(tiny):
        return result
    x = original
    return _select(tiny, _select(cotangent, _select(x == numbers.zero, one / magnitude,
                                                    minus_one / x), x), result)


def _tan_float32(x):
    """glibc's tanf of float32 x, |x| < 120."""
    reduce = np.abs(x) > _TANF_PIO4
    if not _any(reduce):
        return _tan_kernel_float32(x, np.zeros_like(x), reduce)
    wide = x.astype(np.float64)
    quadrant = _quadrant(wide)
    remainder = wide - quadrant * _HALF_PI
    head = remainder.astype(np.float32)
    tail = (remainder - head).astype(np.float32)
    return _tan_kernel_float32(_select(reduce, head, x),
                               _select(reduce, tail, _FLOAT_NUMBERS.zero),
                               reduce & ((quadrant & _QUADRANT_BITS[1]) == _QUADRANT_BITS[1]))


def _log(x):
    return _log_float32(x) if x.dtype == np.float32 else np.log(x)


def _sin_or_cos(x, cosine):
    """sin(x), or cos(x) where the bool array `cosine`."""
    if x.dtype == np.float32:
        return _sin_or_cos_float32(x, cosine)
    return _select(cosine, np.cos(x), np.sin(x))


def _tan(x):
    # glibc's double tan is within an ulp; the 64-bit long double tan, rounded, is nearer to it
    # than NumPy's double tan.
    return _tan_float32(x) if x.dtype == np.float32 else (
        np.tan(x.astype(np.longdouble)).astype(np.float64))


def _pow(base, exponent):
    """The C library's pow, a denormal result flushed. glibc's powf is evaluated in double; the
    double pow here is NumPy's (it differs from glibc's in the last bit for ~5% of
    arguments)."""
    if base.dtype == np.float32:
        power = np.power(base.astype(np.float64), exponent.astype(np.float64)).astype(np.float32)
    else:
        power = np.power(base, exponent)
    return _flush_denormals(power)


# --- Digamma ----------------------------------------------------------------------------------

# The asymptotic series psi(s) ~ log(s) - 1/(2s) - z A(z), z = 1/s^2 (A from the Bernoulli
# numbers), used from s = 10 up to where the series is below rounding (1e8 float, 1e17 double).
_DIGAMMA_FLOAT_SERIES = (-4.16666666666666666667E-3, 3.96825396825396825397E-3,
                         -8.33333333333333333333E-3, 8.33333333333333333333E-2)
_DIGAMMA_DOUBLE_SERIES = (8.33333333333333333333E-2, -2.10927960927960927961E-2,
                          7.57575757575757575758E-3, -4.16666666666666666667E-3,
                          3.96825396825396825397E-3, -8.33333333333333333333E-3,
                          8.33333333333333333333E-2)
# Per type: the series, where it ends, and 10 (where the recurrence ends).
_DIGAMMA = {np.dtype(dtype): (_Polynomial(series, dtype), _constant(end, dtype),
                              _constant(10, dtype))
            for dtype, series, end in ((np.float32, _DIGAMMA_FLOAT_SERIES, 1e8),
                                       (np.float64, _DIGAMMA_DOUBLE_SERIES, 1e17))}


def _up_to_ten(s):
    """psi(s) = psi(s + 1) - 1/s until s >= 10: (the final s, the sum of the 1/s), the steps
    rounded and summed in order (at most 10; a step of 0/s and +0 leaves a finished element as
    it is: its sum +0 or NaN, its s the same)."""
    ten = _DIGAMMA[s.dtype][2]
    if s.size == 1:  # in scalars of the type (float64: Python floats), several times faster
        value = s[0] if s.dtype == np.float32 else s.item()
        one = type(value)(1)
        harmonic = type(value)(0)
        while value < 10:
            harmonic = harmonic + one / value
            value = value + one
        return np.array([value], dtype=s.dtype), np.array([harmonic], dtype=s.dtype)
    if s.size > 64:  # (the accumulations below take about 40 ns per element)
        s = s.copy()
        harmonic = np.zeros_like(s)
        step = s < ten
        while _any(step):
            harmonic += step / s
            s += step
            step = s < ten
        return s, harmonic
    # Few elements: all the steps in a few NumPy calls. values[k]: s after k steps of +1.
    values = np.empty((11,) + s.shape, s.dtype)
    values[0] = s
    values[1:] = 1
    np.add.accumulate(values, axis=0, out=values)
    steps = values[:10] < ten
    if not _any(steps):
        return s, np.zeros_like(s)
    terms = steps / values[:10]
    np.add.accumulate(terms, axis=0, out=terms)
    return values[steps.sum(axis=0), np.arange(s.size)], terms[9]


def _digamma(x):
    numbers = _NUMBERS[x.dtype]
    zero, half, one, pi = numbers.zero, numbers.half, numbers.one, numbers.pi
    reflected = x <= zero
    any_reflected = _any(reflected)
    s = x
    if any_reflected:
        # psi(x) = psi(1 - x) - pi cot(pi f), f = x minus its nearest integer.
        def cotangent_part(number, x, floor):
            if number == 0:
                return np.zeros_like(x)
            fraction = x - floor
            fraction = _select(fraction > half, x - (floor + one), fraction)
            return _select(fraction != half, pi / _tan(pi * fraction), zero)
        floor = np.floor(x)
        pole = reflected & (floor == x)
        cotangent = _piecewise(reflected, 2, cotangent_part, x, floor)
        s = _select(reflected, one - x, x)
    s, harmonic = _up_to_ten(s)
    series_coefficients, series_end, _ = _DIGAMMA[x.dtype]
    inverse_square = one / (s * s)
    series = _select(s < series_end,
                     inverse_square * _horner(inverse_square, series_coefficients), zero)
    result = _log(s) - half / s - series - harmonic
    if any_reflected:
        result = _select(reflected, result - cotangent, result)
        result = _select(pole, numbers.nan, result)
    return result


# --- Lgamma ---------------------------------------------------------------------------------

class _LgammaConstants:
    """fdlibm's lgamma in one precision: its coefficients (constants of the type, ordered for
    Horner's rule) and its thresholds, on the high 32 bits of |x| (all bits for float)."""

    def __init__(self, dtype, words, coefficients):
        a, t, u, v, s, r, w, tc, tf, tt, pi = coefficients
        self.dtype = dtype
        self.numbers = _NUMBERS[np.dtype(dtype)]
        self.words = words

        def polynomial(values):
            return _Polynomial([float(value) for value in values], dtype)
        self.a_even, self.a_odd = polynomial(a[0::2][::-1]), polynomial(a[1::2][::-1])
        self.t0, self.t1, self.t2 = (polynomial(t[start::3][::-1]) for start in range(3))
        self.u, self.v = polynomial(u[::-1]), polynomial(v[::-1] + ("1",))
        self.s, self.r = polynomial(s[::-1]), polynomial(r[::-1] + ("1",))
        self.w = polynomial(w[1:][::-1])
        self.w0, self.tc, self.tf, self.tt, self.pi = _constants(
            [float(value) for value in (w[0], tc, tf, tt, pi)], dtype)
        self.minus_half, self.one_and_half = _constants((-0.5, 1.5), dtype)
        self.shifts = _constants(range(7), dtype)  # the y + k of the recurrence below 8

        def numbers(*names):
            """The numbers whose high words (float: bits) are these thresholds, the other bits
            zero: comparing a positive x with them compares its word."""
            bits = np.array([words[name] for name in names], dtype=np.uint64)
            if dtype == np.float64:
                return (bits << np.uint64(32)).view(np.float64)
            return bits.astype(np.uint32).view(np.float32)
        # Where the method for positive x changes: 2, 8 and 2^26 (double: 2^58).
        self.positive_starts = numbers("two", "eight", "stirling_end")
        # Finite x from 2^-30 (double: 2^-70) on are the plain positive case.
        self.smallest_plain = _constant(numbers("tiny")[0], dtype)
        # Below 2, the words where the expansion (around 0, the minimum or 1) changes and
        # where the reflection lgamma(x + 1) - log(x) ends.
        self.below_two_starts = np.array(
            [words["above_0_23"], words["above_0_73"], words["below_09"] + 1,
             words["above_1_23"], words["above_1_73"]], dtype=np.int64)


# fdlibm's coefficients as it prints them: a0.., t0.., u0.., v1.., s0.., r1.., w0.., tc, tf,
# tt, pi.
_LGAMMA_DOUBLE = _LgammaConstants(
    np.float64,
    {"tiny": 0x3b900000, "huge_negative": 0x43300000, "quarter": 0x3fd00000,
     "below_09": 0x3feccccc, "above_0_73": 0x3FE76944, "above_0_23": 0x3FCDA661,
     "above_1_73": 0x3FFBB4C3, "above_1_23": 0x3FF3B4C4, "two": 0x40000000,
     "eight": 0x40200000, "stirling_end": 0x43900000},
    (("7.72156649015328655494e-02", "3.22467033424113591611e-01", "6.73523010531292681824e-02",
      "2.05808084325167332806e-02", "7.38555086081402883957e-03", "2.89051383673415629091e-03",
      "1.19270763183362067845e-03", "5.10069792153511336608e-04", "2.20862790713908385557e-04",
      "1.08011567247583939954e-04", "2.52144565451257326939e-05", "4.48640949618915160150e-05"),
     ("4.83836122723810047042e-01", "-1.47587722994593911752e-01", "6.46249402391333854778e-02",
      "-3.27885410759859649565e-02", "1.79706750811820387126e-02", "-1.03142241298341437450e-02",
      "6.10053870246291332635e-03", "-3.68452016781138256760e-03", "2.25964780900612472250e-03",
      "-1.40346469989232843813e-03", "8.81081882437654011382e-04", "-5.38595305356740546715e-04",
      "3.15632070903625950361e-04", "-3.12754168375120860518e-04", "3.35529192635519073543e-04"),
     ("-7.72156649015328655494e-02", "6.32827064025093366517e-01", "1.45492250137234768737e+00",
      "9.77717527963372745603e-01", "2.28963728064692451092e-01", "1.33810918536787660377e-02"),
     ("2.45597793713041134822e+00", "2.12848976379893395361e+00", "7.69285150456672783825e-01",
      "1.04222645593369134254e-01", "3.21709242282423911810e-03"),
     ("-7.72156649015328655494e-02", "2.14982415960608852501e-01", "3.25778796408930981787e-01",
      "1.46350472652464452805e-01", "2.66422703033638609560e-02", "1.84028451407337715652e-03",
      "3.19475326584100867617e-05"),
     ("1.39200533467621045958e+00", "7.21935547567138069525e-01", "1.71933865632803078993e-01",
      "1.86459191715652901344e-02", "7.77942496381893596434e-04", "7.32668430744625636189e-06"),
     ("4.18938533204672725052e-01", "8.33333333333329678849e-02", "-2.77777777728775536470e-03",
      "7.93650558643019558500e-04", "-5.95187557450339963135e-04", "8.36339918996282139126e-04",
      "-1.63092934096575273989e-03"),
     "1.46163214496836224576e+00", "-1.21486290535849611461e-01", "-3.63867699703950536541e-18",
     "3.14159265358979311600e+00"))

_LGAMMA_FLOAT = _LgammaConstants(
    np.float32,
    {"tiny": 0x30800000, "huge_negative": 0x4b000000, "quarter": 0x3e800000,
     "below_09": 0x3f666666, "above_0_73": 0x3f3b4a20, "above_0_23": 0x3e6d3308,
     "above_1_73": 0x3fdda618, "above_1_23": 0x3F9da620, "two": 0x40000000,
     "eight": 0x41000000, "stirling_end": 0x4c800000},
    (("7.7215664089e-02", "3.2246702909e-01", "6.7352302372e-02", "2.0580807701e-02",
      "7.3855509982e-03", "2.8905137442e-03", "1.1927076848e-03", "5.1006977446e-04",
      "2.2086278477e-04", "1.0801156895e-04", "2.5214456400e-05", "4.4864096708e-05"),
     ("4.8383611441e-01", "-1.4758771658e-01", "6.4624942839e-02", "-3.2788541168e-02",
      "1.7970675603e-02", "-1.0314224288e-02", "6.1005386524e-03", "-3.6845202558e-03",
      "2.2596477065e-03", "-1.4034647029e-03", "8.8108185446e-04", "-5.3859531181e-04",
      "3.1563205994e-04", "-3.1275415677e-04", "3.3552918467e-04"),
     ("-7.7215664089e-02", "6.3282704353e-01", "1.4549225569e+00", "9.7771751881e-01",
      "2.2896373272e-01", "1.3381091878e-02"),
     ("2.4559779167e+00", "2.1284897327e+00", "7.6928514242e-01", "1.0422264785e-01",
      "3.2170924824e-03"),
     ("-7.7215664089e-02", "2.1498242021e-01", "3.2577878237e-01", "1.4635047317e-01",
      "2.6642270386e-02", "1.8402845599e-03", "3.1947532989e-05"),
     ("1.3920053244e+00", "7.2193557024e-01", "1.7193385959e-01", "1.8645919859e-02",
      "7.7794247773e-04", "7.3266842264e-06"),
     ("4.1893854737e-01", "8.3333335817e-02", "-2.7777778450e-03", "7.9365057172e-04",
      "-5.9518753551e-04", "8.3633989561e-04", "-1.6309292987e-03"),
     "1.4616321325e+00", "-1.2148628384e-01", "6.6971006518e-09", "3.1415927410e+00"))


def _high_word(x):
    """The 32 bits of |x| that fdlibm's thresholds look at: the high word of a double."""
    if x.dtype == np.float64:
        return (x.view(np.uint64) >> np.uint64(32)).astype(np.int64) & 0x7fffffff
    return x.view(np.uint32).astype(np.int64) & 0x7fffffff


# sin(pi x) by octant of y = |x| modulo 2: the octants where it is a cosine (of pi times a
# remainder within a quarter).
_OCTANT_USES_COSINE = np.array([False, True, True, False, False, True, True, False])


def _sin_pi_negative(x, c):
    """sin(pi x) for negative non-integer x: |x| reduced modulo 2, then sin or cos of pi times a
    remainder within a quarter, by octant."""
    numbers = c.numbers
    y = -x
    half_y = y * numbers.half
    y = numbers.two * (half_y - np.floor(half_y))
    octant = (y * c.shifts[4]).astype(np.intp)
    use_cosine = _OCTANT_USES_COSINE[octant]
    sine_argument = _select(octant == 0, y, _select(octant <= 4, numbers.one - y,
                                                    y - numbers.two))
    cosine_argument = _select(octant <= 2, numbers.half - y, y - c.one_and_half)
    argument = _select(use_cosine, cosine_argument, sine_argument)
    # Below a quarter: sin(pi x) directly.
    near_zero = _high_word(x) < c.words["quarter"]
    any_near_zero = _any(near_zero)
    if any_near_zero:
        argument = _select(near_zero, x, argument)
        use_cosine &= ~near_zero
    value = _sin_or_cos(c.pi * argument, use_cosine)
    signed = -_select(octant >= 5, -value, value)
    return _select(near_zero, value, signed) if any_near_zero else signed


def _lgamma_below_two(x, c):
    """fdlibm's lgamma for 2^-70 <= x < 2 (float: 2^-30): one of three expansions (regions of
    the high word) in y, around 1 or 2, around the minimum tc or around 0 or 1, minus log(x)
    below 0.9 (lgamma(x) = lgamma(x + 1) - log(x))."""
    numbers = c.numbers
    one = numbers.one

    def evaluate(expansion, x, below_09):
        count = np.count_nonzero(below_09)
        everywhere, nowhere = count == below_09.size, count == 0

        def shifted(if_below, otherwise):
            """y: x shifted one way below 0.9, another above."""
            if everywhere:
                return if_below()
            return otherwise() if nowhere else _select(below_09, if_below(), otherwise())
        if expansion == 2:  # around 1 (below 0.9) or 2
            y = shifted(lambda: one - x, lambda: numbers.two - x)
            z = y * y
            result = (y * _horner(z, c.a_even) + z * _horner(z, c.a_odd)) - numbers.half * y
        elif expansion == 1:  # around the minimum
            y = shifted(lambda: x - (c.tc - one), lambda: x - c.tc)
            z = y * y
            w = z * y
            result = c.tf + (z * _horner(w, c.t0)
                             - (c.tt - w * (_horner(w, c.t1) + y * _horner(w, c.t2))))
        else:  # around 0 (below 0.9) or 1
            y = shifted(lambda: x, lambda: x - one)
            result = c.minus_half * y + (y * _horner(y, c.u)) / _horner(y, c.v)
        if everywhere:
            return -_log(x) + result
        if nowhere:
            result = numbers.zero + result
        else:
            result = _select(below_09, -_log(x), numbers.zero) + result
        # lgamma(1) = 0 exactly (1 is around 1 above 0.9; 2 is not below two).
        return _select(x == one, numbers.zero, result) if expansion == 0 else result
    # Regions 0-2 below 0.9, 3-5 above, each around 0 or 1, the minimum, and 1 or 2.
    region = c.below_two_starts.searchsorted(_high_word(x), side="right")
    return _piecewise(region % 3, 3, evaluate, x, region < 3)


def _lgamma_below_eight(x, c):
    numbers = c.numbers
    integer = np.floor(x)
    y = x - integer
    r = numbers.half * y + (y * _horner(y, c.s)) / _horner(y, c.r)
    # lgamma(2 + y + k) = lgamma(2 + y) + log((2 + y) (3 + y) ... (1 + y + k)): each factor
    # y + shift (6 first) multiplies, from 1, where integer >= shift + 1 (no selection where
    # that is everywhere; factors needed nowhere skipped).
    lowest, highest = int(np.minimum.reduce(integer)), int(np.maximum.reduce(integer))
    if highest < 3:
        return r
    product = None
    for shift in range(highest - 1, 1, -1):
        factor = y + c.shifts[shift]
        everywhere = lowest >= shift + 1
        if product is None:  # 1 * factor is factor
            product = factor if everywhere else _select(integer > c.shifts[shift], factor,
                                                        numbers.one)
        elif everywhere:
            product = product * factor
        else:
            product = _select(integer > c.shifts[shift], product * factor, product)
    if lowest >= 3:
        return r + _log(product)
    return _select(integer > numbers.two, r + _log(product), r)


def _lgamma_stirling(x, c):
    one = c.numbers.one
    z = one / x
    return (x - c.numbers.half) * (_log(x) - one) + (c.w0 + z * _horner(z * z, c.w))


def _lgamma_positive(x, c):
    """fdlibm's lgamma(x) for finite x >= 2^-70 (float: 2^-30)."""
    def evaluate(number, x):
        if number == 0:
            return _lgamma_below_two(x, c)
        if number == 1:
            return _lgamma_below_eight(x, c)
        if number == 2:
            return _lgamma_stirling(x, c)
        return x * (_log(x) - c.numbers.one)
    return _piecewise(c.positive_starts.searchsorted(x, side="right"), 4, evaluate, x)


def _lgamma_fdlibm(x, c):
    """glibc's (fdlibm's) lgamma of x, the reflection for negative x included."""
    numbers = c.numbers
    word = _high_word(x)
    negative = np.signbit(x) & (x != numbers.zero)
    finite = np.isfinite(x)
    tiny = word < c.words["tiny"]
    pole = (x == numbers.zero) | (negative & ((word >= c.words["huge_negative"])
                                              | (np.floor(x) == x)))
    regular = finite & ~tiny & ~pole
    result = _lgamma_positive(_select(regular, np.abs(x), numbers.one), c)
    reflected = regular & negative
    if _any(reflected):
        # lgamma(x) = log(pi / |x sin(pi x)|) - lgamma(-x).
        def reflect(number, x, lgamma_of_minus_x):
            if number == 0:
                return lgamma_of_minus_x
            return _log(c.pi / np.abs(_sin_pi_negative(x, c) * x)) - lgamma_of_minus_x
        result = _piecewise(reflected, 2, reflect, x, result)
    if _any(tiny):
        result = _select(tiny, -_log(np.abs(_select(tiny, x, numbers.one))), result)
    if _any(pole):
        result = _select(pole, numbers.inf, result)
    return result if _all(finite) else _select(finite, result, x * x)


def _lgamma_float64(x):
    # glibc evaluates -28 < x < -2 by its own method, accurate to a few ulps even near the
    # zeros of lgamma, where the reflection here loses digits (to ~3e-14 absolute).
    return _lgamma_fdlibm(x, _LGAMMA_DOUBLE)


_LGAMMA_FLOAT_OWN_METHOD = _constants((-15, -2), np.float32)


def _lgamma_float32(x):
    # glibc's own method for -15 < x < -2 lands within a few float ulps of lgamma: the double
    # computation, rounded, is as close as anything short of that method.
    def evaluate(number, x):
        if number == 0:
            return _lgamma_fdlibm(x, _LGAMMA_FLOAT)
        return _lgamma_float64(x.astype(np.float64)).astype(np.float32)
    below_two = x < _LGAMMA_FLOAT_OWN_METHOD[1]
    if not _any(below_two):
        return evaluate(0, x)
    own_method = below_two & (x > _LGAMMA_FLOAT_OWN_METHOD[0]) & (np.floor(x) != x)
    return _piecewise(own_method, 2, evaluate, x)


def _lgamma_flushed(function, c):
    """Lgamma as TensorFlow's threads compute it. glibc's log of a denormal number scales it by
    2^23 (double: 2^52) first, a product that flushing turns into zero, and comes out as
    log(2^-150) (log(2^-1075)) whatever the denormal: so lgamma(denormal) = 150 ln 2 (1075 ln 2)
    there. Tensors of finite x >= 2^-30 (double: 2^-70) only, the common case, go straight to
    fdlibm's method for them."""
    numbers = c.numbers

    def run(x):
        if _all((x >= c.smallest_plain) & (x < numbers.inf)):
            return _flush_denormals(_lgamma_positive(x, c))
        below_normal = np.abs(x) < numbers.smallest_normal
        result = _flush_denormals(function(x))
        if _any(below_normal):
            info = np.finfo(x.dtype)
            result[below_normal & (x != 0)] = x.dtype.type(
                (info.nmant + 1 - info.minexp) * math.log(2.0))
        return result
    return run


# --- Zeta and Polygamma -------------------------------------------------------------------------

# (2j)! / B_2j for the Euler-Maclaurin terms of the Hurwitz zeta sum, as Cephes lists them.
_ZETA_EULER_MACLAURIN = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0,
                         -1.8924375803183791606e9, 7.47242496e10, -2.950130727918164224e12,
                         1.1646782814350067249e14, -4.5979787224074726105e15,
                         1.8152105401943546773e17, -7.1661652561756670113e18)


# Per type: half the machine epsilon (a term below it relative to the sum ends the sum), those
# coefficients, and 9 (double: the direct terms end after q + 9).
_ZETA = {np.dtype(dtype): (_constant(np.finfo(dtype).eps / 2, dtype),
                           _constants(_ZETA_EULER_MACLAURIN, dtype), _constant(9, dtype))
         for dtype in (np.float32, np.float64)}


def _zeta(x, q):
    """Eigen's (Cephes') Hurwitz zeta: sum (q + k)^-x directly for a few terms, then the
    Euler-Maclaurin tail; in the precision of the type."""
    numbers = _NUMBERS[x.dtype]
    one, zero = numbers.one, numbers.zero
    machine_epsilon, coefficients, nine = _ZETA[x.dtype]
    if _all((x > one) & (q > zero)):  # the common case: every element summed
        result = np.empty_like(x)
        index = np.arange(x.size)
    else:
        result = np.full_like(x, np.nan)
        result[x == one] = np.inf
        non_positive_integer_q = (q <= zero) & (np.floor(q) == q)
        even_x = np.rint(numbers.half * x) == numbers.half * x
        result[(x > one) & non_positive_integer_q & even_x] = np.inf
        # For other q <= 0 the sum is defined (and taken) for integer x only.
        summed = (x > one) & ~non_positive_integer_q & ((q > zero) | (np.floor(x) == x))
        index = np.flatnonzero(summed)
        if index.size == 0:
            return result
        x, q = x[index], q[index]
    s = _pow(q, -x)
    a = q.copy()
    b = np.zeros_like(x)
    done = np.zeros(x.shape, dtype=bool)
    # The direct terms: 9 (float); double goes on until q + k > 9. An element leaves once a
    # term is below rounding (done: its sum is final). The loop runs on the elements still in.
    double = x.dtype == np.float64
    members, x_in, a_in, s_in = np.arange(x.size), x, a, s
    step = 0
    while members.size:
        step += 1
        a_in = a_in + one
        b_in = _pow(a_in, -x_in)
        s_in = s_in + b_in
        converged = np.abs(b_in / s_in) < machine_epsilon
        if step < 9:
            leaving = converged
        else:
            leaving = (converged | ~(a_in <= nine)) if double else np.ones_like(converged)
        if _any(leaving):
            gone = members[leaving]
            a[gone], b[gone], s[gone], done[gone] = (
                a_in[leaving], b_in[leaving], s_in[leaving], converged[leaving])
            staying = ~leaving
            members, x_in, a_in, s_in = (
                array[staying] for array in (members, x_in, a_in, s_in))
    # A zero term: the tail is zero too.
    done |= b == zero
    result[index[done]] = s[done]
    if _all(done):
        return result
    pending = ~done
    index, x, s, a, b = (array[pending] for array in (index, x, s, a, b))
    w = a
    s = s + b * w / (x - one)
    s = s - numbers.half * b
    factor = np.ones_like(x)
    k = zero
    live = np.ones(x.shape, dtype=bool)
    for coefficient in coefficients:
        factor = factor * (x + k)
        b = _flush_denormals(b / w)
        term = _flush_denormals(factor * b / coefficient)
        s = _select(live, s + term, s)
        live &= ~(np.abs(term / s) < machine_epsilon)
        k = k + one
        factor = factor * (x + k)
        b = _flush_denormals(b / w)
        k = k + one
        if not _any(live):
            break
    result[index] = s
    return result


def _polygamma(n, x, factorial):
    """Eigen's polygamma: digamma for n = 0, else (-1)^(n+1) n! zeta(n + 1, x); NaN for n not
    a non-negative integer. factorial: exp(lgamma(n + 1)) as the C library computes it."""
    dtype = x.dtype.type
    valid = (np.floor(n) == n) & (n >= 0)
    result = np.full_like(x, np.nan)
    digamma_part = valid & (n == 0)
    if _any(digamma_part):
        result[digamma_part] = _digamma(x[digamma_part])
    zeta_part = valid & (n > 0)
    if _any(zeta_part):
        order = n[zeta_part] + dtype(1)
        sign = _select(np.fmod(order, dtype(2)) == 0, dtype(1), dtype(-1))
        sign = _select(np.isinf(order), dtype(1), sign)
        result[zeta_part] = sign * factorial[zeta_part] * _zeta(order, x[zeta_part])
    return result


def _factorial(n):
    """exp(lgamma(n + 1)) in n's precision, as glibc's exp / expf round it (per distinct n:
    NumPy's exp differs from glibc's in the last bit now and then)."""
    distinct, inverse = np.unique(n, return_inverse=True)
    log_factorial = lgamma(distinct + n.dtype.type(1))
    values = np.array([math.exp(value) if math.isfinite(value) and value < 709.78
                       else math.inf for value in log_factorial.astype(np.float64)],
                      dtype=np.float64).astype(n.dtype)
    return values[inverse].reshape(n.shape)


# --- entry points: float32 or float64 arrays of any shape -------------------------------------

def _by_dtype(float32_function, float64_function, calls_per_element):
    kernels = {np.dtype(np.float32): _blockwise(float32_function, calls_per_element),
               np.dtype(np.float64): _blockwise(float64_function, calls_per_element)}

    def run(*arrays):
        return kernels[arrays[0].dtype](*arrays)
    return run


# erf(x) ~ 1.13 x near 0 (and rounds so for the smallest normal x): no denormal results.
erf = _by_dtype(_flushed(_erf_float32, results_can_be_denormal=False),
                _flushed(_erf_float64, results_can_be_denormal=False), 20)
erfc = _by_dtype(_flushed(_erfc_float32), _flushed(_erfc_float64), 50)
digamma = _by_dtype(_flushed(_digamma), _flushed(_digamma), 80)
lgamma = _by_dtype(_lgamma_flushed(_lgamma_float32, _LGAMMA_FLOAT),
                   _lgamma_flushed(_lgamma_float64, _LGAMMA_DOUBLE), 150)
_zeta_blockwise = _by_dtype(_flushed(_zeta), _flushed(_zeta), 150)
_polygamma_blockwise = _by_dtype(_flushed(_polygamma), _flushed(_polygamma), 150)


def zeta(x, q):
    """Hurwitz zeta of float32 or float64 arrays x and q (broadcast)."""
    x, q = np.broadcast_arrays(x, q)
    return _zeta_blockwise(x, q)


def polygamma(n, x):
    """Polygamma of float32 or float64 arrays n and x (broadcast)."""
    with np.errstate(all="ignore"):
        factorial = _factorial(_flush_denormals(np.asarray(n)))
    n, x, factorial = np.broadcast_arrays(n, x, factorial)
    return _polygamma_blockwise(n, x, factorial)
