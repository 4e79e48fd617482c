"""The special-function kernels of tensorkeep/ops/special_kernels.py against their first
vectorized version (tests/special_kernels_reference.py, a frozen copy, itself checked against
TensorFlow in test_ops_special_vectorized.py): the shortcuts for small tensors and for tensors
within one region of an algorithm must not change a single bit of any result (NaN payloads
included), whatever the values, size, shape, strides and float type.

The grids hold the edge cases (zeros of both signs, denormals, the largest numbers, infinities,
NaNs of both signs, poles, every threshold of the algorithms and its neighbours) and spread
values; they are run whole (several blocks and threads), one element at a time, in threes, in
hundreds (sorted: mostly within one region; shuffled: mixed) and reshaped into strided views.
"""

import ml_dtypes
import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.ops import special_kernels

import special_kernels_reference as reference

_UNARY_OPS = ("erf", "erfc", "lgamma", "digamma")
_FLOAT_TYPES = (np.float32, np.float64)


def _neighbours(values, dtype):
    """values, their negatives and the numbers next to each, in dtype."""
    values = np.asarray(values, dtype=dtype)
    values = np.concatenate([values, -values])
    return np.concatenate([values, np.nextafter(values, dtype(np.inf)),
                           np.nextafter(values, dtype(-np.inf))])


def _threshold_values(dtype):
    """The numbers where the algorithms switch method (erf's |x| = 1 and clamps, the exp's
    underflow, fdlibm's lgamma words, digamma's recurrence and series ends)."""
    info = np.finfo(dtype)
    unsigned = np.dtype("u%d" % (info.bits // 8))
    constants = reference._LGAMMA_FLOAT if dtype == np.float32 else reference._LGAMMA_DOUBLE
    shift = np.uint64(0 if dtype == np.float32 else 32)
    words = np.array(sorted(constants.words.values()), dtype=np.uint64)
    from_words = (words << shift).astype(unsigned).view(dtype)
    plain = [1, 2, 4, 8, 10, 11, 15, 16, 28, 104 ** 0.5, 745.519 ** 0.5, 88.723 ** 0.5, 0.25, 0.5,
             0.75, 0.9, 1e8, 1e17, 2.0 ** 23, 2.0 ** 52, 2.0 ** 26, 2.0 ** 58, 2.0 ** -30,
             2.0 ** -70, 1.4616321449683622, 0.6744, np.pi / 4, np.pi / 2, 120]
    plain = [value for value in plain if value < info.max]
    return np.concatenate([_neighbours(from_words, dtype), _neighbours(plain, dtype)])


# NaNs: positive, negative and with a payload, as bit patterns per type.
_NAN_BITS = {np.float32: (0x7fc00000, 0xffc00000, 0x7fc00123),
             np.float64: (0x7ff8000000000000, 0xfff8000000000000, 0x7ff8000000000123)}


def _edge_values(dtype):
    info = np.finfo(dtype)
    nans = np.array(_NAN_BITS[dtype], dtype="u%d" % (info.bits // 8)).view(dtype)
    values = [0.0, -0.0, np.inf, -np.inf, info.tiny, -info.tiny, info.smallest_subnormal,
              -info.smallest_subnormal, info.tiny / 3, -info.tiny / 3, info.max, -info.max]
    for pole in range(61):
        values += [-pole, -pole - 0.5, -pole - 0.25, -pole - 0.75]
    poles = -np.arange(61, dtype=dtype)
    return np.concatenate([np.array(values, dtype=dtype), nans.view(dtype),
                           np.nextafter(poles, dtype(-np.inf)), np.nextafter(poles, dtype(np.inf)),
                           _threshold_values(dtype)])


def _unary_grid(dtype):
    """Edge values, every 2^k-th bit pattern of the finite numbers, and dense ranges; sorted."""
    info = np.finfo(dtype)
    unsigned = np.dtype("u%d" % (info.bits // 8))
    stride = 2 ** (info.bits - 16)
    patterns = np.arange(0, 2 ** (info.bits - 1), stride, dtype=np.uint64).astype(unsigned)
    positive = patterns.view(dtype)
    positive = positive[np.isfinite(positive)]
    grid = np.concatenate([_edge_values(dtype), positive, -positive,
                           np.linspace(-65, 35, 60001, dtype=dtype),
                           np.geomspace(1e-8, 1e8, 10001, dtype=dtype)])
    return np.sort(grid)


def _bits(values):
    return values.view("u%d" % values.dtype.itemsize)


def _assert_same_bits(ours, theirs, inputs, where):
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, where
    differ = _bits(ours) != _bits(theirs)
    if np.any(differ):
        first = np.flatnonzero(differ.reshape(-1))[0]
        raise AssertionError("%s: %d results differ, first at input %r: %r, reference %r"
                             % (where, np.count_nonzero(differ),
                                tuple(np.broadcast_to(value, ours.shape).reshape(-1)[first]
                                      for value in inputs),
                                ours.reshape(-1)[first], theirs.reshape(-1)[first]))


def _check_pieces(function, expected_function, inputs, size, where):
    """function on consecutive pieces of `size` elements of the inputs, against the reference
    on the same pieces."""
    count = inputs[0].size
    for start in range(0, count, size):
        pieces = [array[start:start + size] for array in inputs]
        _assert_same_bits(function(*pieces), expected_function(*pieces), pieces,
                          "%s, %d elements from %d" % (where, len(pieces[0]), start))


@pytest.mark.parametrize("name", _UNARY_OPS)
@pytest.mark.parametrize("dtype", _FLOAT_TYPES)
def test_unary_kernels_keep_their_bits(name, dtype):
    ours, theirs = getattr(special_kernels, name), getattr(reference, name)
    grid = _unary_grid(dtype)
    where = "%s %s" % (name, np.dtype(dtype).name)
    _assert_same_bits(ours(grid), theirs(grid), [grid], where + " whole grid")
    generator = np.random.default_rng(11)
    edges = _edge_values(dtype)
    sample = generator.choice(grid, 3000)
    _check_pieces(ours, theirs, [np.concatenate([edges, sample])], 1, where)
    mixed = np.concatenate([edges, sample])[generator.permutation(edges.size + sample.size)]
    for size in (3, 64):
        _check_pieces(ours, theirs, [mixed], size, where + " mixed")
    _check_pieces(ours, theirs, [grid], 100, where + " sorted")
    _check_pieces(ours, theirs, [generator.permutation(grid)[:30000]], 100, where + " shuffled")
    _check_pieces(ours, theirs, [grid[:0]], 1, where + " empty")
    for block in (grid[20000:20000 + 65537], generator.choice(grid, 65537)):
        _assert_same_bits(ours(block), theirs(block), [block], where + " 65537")
    # Views with strides, of two and three dimensions.
    for view in (grid[:2 * 300 * 7:2].reshape(300, 7), grid[:6000].reshape(40, 150).T,
                 grid[::-7][:2 * 3 * 5 * 101].reshape(2, 3, 5, 101)[:, :, ::2]):
        _assert_same_bits(ours(view), theirs(np.ascontiguousarray(view)), [view],
                          where + " %s view" % (view.shape,))


def _binary_grid(dtype):
    """(x, q) pairs for Zeta and (n, x) for Polygamma: every pair of some edge values, and
    random spreads like TensorFlow's tests use."""
    generator = np.random.default_rng(5)
    special = np.array([0.0, -0.0, 0.5, 1, 2, 3, 4, 5, 10, 30, -0.5, -1, -2, -2.5, -3, 1e-30,
                        1e30, np.inf, -np.inf, np.nan, np.finfo(dtype).tiny / 3, 1.5, 7.25],
                       dtype=dtype)
    first, second = np.meshgrid(special, special)
    count = 6000
    x = np.concatenate([first.reshape(-1), generator.uniform(1, 30, count),
                        generator.integers(0, 12, count).astype(float)])
    q = np.concatenate([second.reshape(-1), np.exp(generator.uniform(-5, 5, count)),
                        generator.uniform(-10, 10, count)])
    return x.astype(dtype), q.astype(dtype)


@pytest.mark.parametrize("name", ["zeta", "polygamma"])
@pytest.mark.parametrize("dtype", _FLOAT_TYPES)
def test_binary_kernels_keep_their_bits(name, dtype):
    ours, theirs = getattr(special_kernels, name), getattr(reference, name)
    first, second = _binary_grid(dtype)
    where = "%s %s" % (name, np.dtype(dtype).name)
    _assert_same_bits(ours(first, second), theirs(first, second), [first, second], where)
    pairs = 23 * 23
    _check_pieces(ours, theirs, [first[:pairs + 200], second[:pairs + 200]], 1, where)
    _check_pieces(ours, theirs, [first, second], 100, where)
    # Broadcast: one order against many values, and a column against a row.
    _assert_same_bits(ours(first[:1], second), theirs(first[:1], second), [first[:1], second],
                      where + " broadcast")
    column, row = first[:40].reshape(40, 1), second[::50][:60]
    _assert_same_bits(ours(column, row), theirs(column, row), [column, row], where + " 2-D")


@pytest.mark.parametrize("name,type_name", [(name, type_name) for name in _UNARY_OPS
                                            for type_name in ("float16", "bfloat16")
                                            if type_name == "float16" or name in ("erf", "erfc")])
def test_half_types_keep_their_bits(name, type_name):
    """Every half or bfloat16 through the op (widened to float32, rounded back), whole and in
    hundreds."""
    half_type = np.float16 if type_name == "float16" else ml_dtypes.bfloat16
    values = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(half_type)
    with np.errstate(over="ignore"):
        expected = getattr(reference, name)(values.astype(np.float32)).astype(half_type)
    graph = tf.Graph()
    with graph.as_default():
        fed = tf.placeholder(tf.float16 if type_name == "float16" else tf.bfloat16)
        output = getattr(tf.math, name)(fed)
        with tf.Session() as session:
            _assert_same_bits(session.run(output, {fed: values}), expected, [values],
                              "%s %s whole" % (name, type_name))
            for start in range(0, values.size, 100):
                piece = values[start:start + 100]
                _assert_same_bits(session.run(output, {fed: piece}), expected[start:start + 100],
                                  [piece], "%s %s from %d" % (name, type_name, start))
