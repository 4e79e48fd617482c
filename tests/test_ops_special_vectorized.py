"""Erf, Erfc, Lgamma, Digamma, Zeta and Polygamma (the vectorized kernels of
tensorkeep/ops/special_kernels.py) against real TensorFlow 2.21, bit for bit where the kernels
reproduce TensorFlow's algorithms, on dense grids with the edge cases: zeros of both signs,
denormals, the largest numbers, infinities, NaN, poles and negative non-integers.

One TensorFlow process evaluates every grid. The grids have lengths that are multiples of 64,
so TensorFlow's Eigen kernels take their vectorized path for every element (its scalar path for
a tensor's last few elements uses the C library's exp in Erfc: 2 ulps apart at most).

Where the results are not bit-identical, the bound asserted is what the grid shows, and why:
- Erfc float32, |x| > 1: TensorFlow takes 1/x^2 from the CPU's reciprocal estimate refined by
  one Newton step (a CPU-specific rounding); the kernel divides exactly. Up to 6 ulps here.
- Lgamma float32 in (-15, -2) and float64 in (-28, -2): glibc evaluates these by a table-driven
  method of its own that the kernel does not reproduce (it uses the reflection formula, in
  double for float): 5 float ulps; 3e-14 absolute in double.
- float64 Lgamma elsewhere, Digamma, Zeta, Polygamma: NumPy's double log, tan and pow differ from
  glibc's in the last bit for some arguments; cancellation near zeros of the function (Digamma,
  Polygamma) and the summed series (Zeta) magnify that.
"""

import os

import ml_dtypes
import numpy as np
import pytest

import tensorkeep as tf

from tf_oracle import require_tensorflow, run_tensorflow

_UNARY_OPS = ("erf", "erfc", "lgamma", "digamma")
# TensorFlow has no bfloat16 kernel for Lgamma and Digamma.
_BFLOAT16_OPS = ("erf", "erfc")


def _specials(dtype):
    info = np.finfo(dtype)
    values = [0.0, -0.0, np.inf, -np.inf, np.nan, info.tiny, -info.tiny, info.smallest_subnormal,
              -info.smallest_subnormal, info.tiny / 3, -info.tiny / 3, info.max, -info.max,
              1.0, 2.0, -1.0, -2.0, 0.5, -0.5, 1.4616321449683622]
    for pole in range(61):
        below = np.nextafter(dtype(-pole), dtype(-np.inf))
        above = np.nextafter(dtype(-pole), dtype(np.inf))
        values += [-pole, below, above, -pole - 0.5, -pole - 0.25, -pole - 0.75]
    return np.array(values, dtype=dtype)


def _bit_grid(dtype, stride_bits):
    """Every 2^stride_bits-th bit pattern of the finite positive numbers, and their negatives."""
    unsigned = np.dtype("u%d" % np.dtype(dtype).itemsize)
    patterns = np.arange(0, 2 ** (8 * unsigned.itemsize - 1), 2 ** stride_bits, dtype=np.uint64)
    positive = patterns.astype(unsigned).view(dtype)
    positive = positive[np.isfinite(positive)]
    return np.concatenate([positive, -positive])


def _padded(values):
    return np.concatenate([values, np.zeros((-len(values)) % 64, dtype=values.dtype)])


def _unary_grids():
    grids = {
        # Every half and every bfloat16 (bfloat16 travels as the float32 of the same value).
        "float16": np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16),
        "bfloat16": (np.arange(1 << 16, dtype=np.uint32) << 16).view(np.float32),
    }
    for dtype, stride_bits in ((np.float32, 14), (np.float64, 46)):
        grids[np.dtype(dtype).name] = np.concatenate([
            _specials(dtype), _bit_grid(dtype, stride_bits),
            np.linspace(-12, 12, 120001, dtype=dtype), np.linspace(-60, 0, 120001, dtype=dtype),
            np.geomspace(1e-6, 1e6, 20001, dtype=dtype)])
    return {name: _padded(grid) for name, grid in grids.items()}


def _binary_grids():
    """(x, q) of Zeta and (n, x) of Polygamma per float type."""
    generator = np.random.default_rng(20260521)
    grids = {}
    for dtype in (np.float32, np.float64):
        count = 40000
        x = np.concatenate([generator.uniform(1, 30, count),
                            generator.integers(1, 12, count // 4).astype(float),
                            [1, 0.5, 2, 3, np.nan, np.inf, 2, 2, 2, 3, 4, 4]])
        q = np.concatenate([np.exp(generator.uniform(-5, 5, count)),
                            generator.uniform(-10, 0, count // 4),
                            [1, 1, 0, -1, 1, 1, np.inf, np.nan, -2.5, -2.5, -1.5, 1e-30]])
        grids["zeta_" + np.dtype(dtype).name] = np.stack([x, q]).astype(dtype)
        n = np.concatenate([generator.integers(0, 6, count).astype(float),
                            [0.5, -1, np.nan, 1, 1, 2, 3, 0]])
        x = np.concatenate([np.exp(generator.uniform(-4, 4, count // 2)),
                            generator.uniform(-10, 10, count // 2),
                            [1, 1, 1, 0, -1, np.inf, -2.5, -3]])
        grids["polygamma_" + np.dtype(dtype).name] = np.stack([n, x]).astype(dtype)
    return grids


# TensorFlow's side: every op on every grid, each in a graph of its own (a graph with a node
# TensorFlow has no kernel for fails as a whole), fed through placeholders (no constant
# folding); results to an .npz file.
_TENSORFLOW_CODE = """
import numpy as np
unary = np.load(%(unary)r)
binary = np.load(%(binary)r)
results = {}
for key in unary.files:
    values = unary[key]
    dtype = tf.bfloat16 if key == "bfloat16" else tf.as_dtype(values.dtype)
    for name in %(ops)r:
        if key == "bfloat16" and name not in %(bfloat16_ops)r:
            continue
        with tf.Graph().as_default(), tf.Session() as session:
            fed = tf.placeholder(values.dtype, [None])
            output = getattr(tf.math, name)(tf.cast(fed, dtype))
            results[name + "/" + key] = session.run(tf.cast(output, values.dtype), {fed: values})
for key in binary.files:
    first, second = binary[key]
    with tf.Graph().as_default(), tf.Session() as session:
        fed = [tf.placeholder(first.dtype, [None]) for _ in range(2)]
        output = getattr(tf.math, key.split("_")[0])(*fed)
        results[key] = session.run(output, dict(zip(fed, (first, second))))
errors = {}
for name in ("lgamma", "digamma"):
    with tf.Graph().as_default(), tf.Session() as session:
        fed = tf.placeholder(tf.bfloat16, [2])
        try:
            session.run(getattr(tf.math, name)(fed), {fed: [1.0, 2.0]})
            errors[name] = None
        except tf.errors.OpError as error:
            errors[name] = type(error).__name__
np.savez(%(out)r, **results)
emit(errors)
"""


@pytest.fixture(scope="module")
def tensorflow_values(tmp_path_factory):
    """(TensorFlow's results by "op/type" or "zeta_type" / "polygamma_type", the errors of
    bfloat16 Lgamma and Digamma)."""
    require_tensorflow()
    directory = tmp_path_factory.mktemp("special_vectorized")
    paths = {name: str(directory / (name + ".npz")) for name in ("unary", "binary", "out")}
    np.savez(paths["unary"], **_unary_grids())
    np.savez(paths["binary"], **_binary_grids())
    errors = run_tensorflow(_TENSORFLOW_CODE % dict(paths, ops=_UNARY_OPS,
                                                     bfloat16_ops=_BFLOAT16_OPS))
    with np.load(paths["out"]) as results:
        values = {key: results[key] for key in results.files}
    os.remove(paths["out"])
    return values, errors


def _run_unary(name, values, dtype):
    """tensorkeep's op on values (fed as `values`' dtype, evaluated in `dtype`)."""
    graph = tf.Graph()
    with graph.as_default():
        fed = tf.placeholder(tf.as_dtype(values.dtype))
        output = getattr(tf.math, name)(tf.cast(fed, dtype))
        with tf.Session() as session:
            return session.run(tf.cast(output, tf.as_dtype(values.dtype)), {fed: values})


def _run_binary(name, first, second):
    graph = tf.Graph()
    with graph.as_default():
        fed = [tf.placeholder(tf.as_dtype(first.dtype), [None]) for _ in range(2)]
        output = getattr(tf.math, name)(*fed)
        with tf.Session() as session:
            return session.run(output, dict(zip(fed, (first, second))))


def _ordinal(values):
    """Integers in the order of the floats, consecutive floats one apart (+0 and -0 both 0)."""
    bits = values.view("i%d" % values.dtype.itemsize).astype(np.int64)
    magnitude = bits & np.int64((1 << (8 * values.dtype.itemsize - 1)) - 1)
    return np.where(bits < 0, -magnitude, magnitude)


def _ulps(ours, theirs):
    """Distance in units in the last place (0 for two NaN, infinite for NaN against a number);
    a zero of the wrong sign counts as one ulp."""
    mine, reference = _ordinal(ours), _ordinal(theirs)
    same_sign = (mine < 0) == (reference < 0)
    with np.errstate(over="ignore"):
        distance = np.where(same_sign, np.abs(mine - reference).astype(np.float64),
                            np.abs(mine.astype(np.float64) - reference.astype(np.float64)))
    distance = np.where((ours == 0) & (theirs == 0) & (np.signbit(ours) != np.signbit(theirs)),
                        1.0, distance)
    ours_nan, theirs_nan = np.isnan(ours), np.isnan(theirs)
    distance = np.where(ours_nan & theirs_nan, 0.0, distance)
    return np.where(ours_nan != theirs_nan, np.inf, distance)


def _assert_within(distance, bound, where, values, ours, theirs):
    worst = int(np.argmax(distance))
    assert distance[worst] <= bound, (
        "%s: %g ulps (bound %g) at x=%r: ours %r, TensorFlow %r (%d elements differ)"
        % (where, distance[worst], bound, values[worst], ours[worst], theirs[worst],
           np.count_nonzero(distance)))


def _unary_case(tensorflow_values, name, key):
    values = _unary_grids()[key]
    dtype = tf.bfloat16 if key == "bfloat16" else tf.as_dtype(values.dtype)
    ours = _run_unary(name, values, dtype)
    theirs = tensorflow_values[0][name + "/" + key]
    if key == "bfloat16":
        ours, theirs = ours.astype(ml_dtypes.bfloat16), theirs.astype(ml_dtypes.bfloat16)
    return values, ours, theirs


@pytest.mark.tf
@pytest.mark.parametrize("name,key", [(name, key) for name in _UNARY_OPS
                                      for key in ("float16", "bfloat16", "float32", "float64")
                                      if key != "bfloat16" or name in _BFLOAT16_OPS])
def test_unary_values_match_tensorflow(tensorflow_values, name, key):
    values, ours, theirs = _unary_case(tensorflow_values, name, key)
    assert ours.dtype == theirs.dtype
    distance = _ulps(ours, theirs)
    where = "%s %s" % (name, key)
    if name == "erfc" and key == "float32":
        # Exact up to |x| = 1; beyond, TensorFlow's reciprocal estimate (module docstring).
        small = np.abs(values) <= 1
        _assert_within(distance[small], 0, where, values[small], ours[small], theirs[small])
        _assert_within(distance, 6, where, values, ours, theirs)
    elif name == "lgamma" and key == "float32":
        glibc_own = (values > -15) & (values < -2)
        _assert_within(distance[~glibc_own], 0, where, values[~glibc_own], ours[~glibc_own],
                       theirs[~glibc_own])
        _assert_within(distance, 5, where, values, ours, theirs)
    elif name == "lgamma" and key == "float64":
        glibc_own = (values > -28) & (values < -2)
        _assert_within(distance[~glibc_own], 3, where, values[~glibc_own], ours[~glibc_own],
                       theirs[~glibc_own])
        finite = glibc_own & np.isfinite(theirs)
        assert np.array_equal(ours[glibc_own & ~finite], theirs[glibc_own & ~finite])
        np.testing.assert_allclose(ours[finite], theirs[finite], rtol=0, atol=3e-14)
    elif name == "digamma" and key == "float64":
        # A last-bit difference of log or tan, magnified near the zeros of digamma.
        _assert_within(distance, 128, where, values, ours, theirs)
        large = np.abs(theirs) >= 1
        _assert_within(distance[large], 4, where, values[large], ours[large], theirs[large])
    else:
        _assert_within(distance, 0, where, values, ours, theirs)


@pytest.mark.tf
@pytest.mark.parametrize("key,bound,bound_from_one,share", [
    ("zeta_float32", 300000, 3, 0.01), ("zeta_float64", 512, 16, 0.06),
    ("polygamma_float32", 2, 2, 0.01), ("polygamma_float64", 512, 12, 0.06)])
def test_zeta_and_polygamma_match_tensorflow(tensorflow_values, key, bound, bound_from_one,
                                            share):
    """Bounds in ulps: over the grid, where |result| >= 1, and the share of elements that are
    not bit-identical (module docstring). Float32 zeta's worst cases are results near the
    smallest normal number: TensorFlow flushes the denormal terms one by one."""
    first, second = _binary_grids()[key]
    ours = _run_binary(key.split("_")[0], first, second)
    theirs = tensorflow_values[0][key]
    distance = _ulps(ours, theirs)
    _assert_within(distance, bound, key, first, ours, theirs)
    large = np.abs(theirs) >= 1
    _assert_within(distance[large], bound_from_one, key, first[large], ours[large],
                   theirs[large])
    assert np.count_nonzero(distance) <= share * distance.size


@pytest.mark.tf
def test_bfloat16_lgamma_and_digamma_fail_as_in_tensorflow(tensorflow_values):
    for name in ("lgamma", "digamma"):
        with pytest.raises(tf.errors.InvalidArgumentError, match="No OpKernel was registered"):
            _run_unary(name, np.array([1.0, 2.0], np.float32), tf.bfloat16)
        assert tensorflow_values[1][name] == "InvalidArgumentError"


@pytest.mark.parametrize("name", _UNARY_OPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocks_and_threads_give_the_same_bits(name, dtype):
    """A tensor big enough to be cut into blocks (and spread over threads) gets the bits each
    element gets alone, whatever its shape."""
    generator = np.random.default_rng(7)
    values = generator.uniform(-30, 30, 150000).astype(dtype)
    values[::97] = np.round(values[::97])  # poles among the others
    whole = _run_unary(name, values.reshape(300, 500), tf.as_dtype(dtype)).reshape(-1)
    pieces = np.concatenate([_run_unary(name, piece, tf.as_dtype(dtype))
                             for piece in np.array_split(values, 37)])
    assert np.array_equal(whole.view("u%d" % whole.itemsize),
                          pieces.view("u%d" % pieces.itemsize))


def test_gradients_run_on_the_vectorized_kernels():
    """Lgamma's gradient is Digamma and Digamma's Polygamma(1, x): d/dx lgamma(x) - digamma(x)
    vanishes, and trigamma is positive and falls like 1/x."""
    x = tf.constant(np.linspace(0.5, 20, 1000), tf.float64)
    lgamma_gradient = tf.gradients(tf.reduce_sum(tf.lgamma(x)), x)[0]
    digamma_gradient = tf.gradients(tf.reduce_sum(tf.digamma(x)), x)[0]
    with tf.Session() as session:
        first, second, digamma = session.run([lgamma_gradient, digamma_gradient, tf.digamma(x)])
    assert np.array_equal(first, digamma)
    assert np.all(second > 0) and np.all(np.diff(second) < 0)
