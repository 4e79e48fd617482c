"""Sigmoid and SigmoidGrad against real TensorFlow 2.21 (one subprocess for this file).

TensorFlow's CPU kernels run with denormals flushed to zero, so a float32, float64 or bfloat16
sigmoid under the smallest normal number is 0 (x = -100 in float32 gives 0, not 3.8e-44), and
so is such a gradient; float16 is computed in float32 and rounded, keeping half denormals.
Eigen computes half and bfloat16 as e^x / (1 + e^x), rounding every step to the type, which
tensorkeep follows: bfloat16 agrees bit for bit on all 65,536 inputs, float16 on all but a
couple where Eigen's exp and NumPy's round to neighbouring halves. float32 and float64 agree
within a few ulps (another exp), with the same zeros, ones and NaNs (a NaN input comes back
as it is). The inputs are long enough for Eigen's vectorized path.
"""

import functools

import ml_dtypes
import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework.op_builder import apply_op
from tf_oracle import run_tensorflow

# Shared verbatim by both sides (`np`, `ml_dtypes` bound).
VALUES = r'''
def all_bit_patterns(dtype):
    return np.arange(65536, dtype=np.uint32).astype(np.uint16).view(dtype)


def sigmoid_grid(dtype):
    rng = np.random.default_rng(5)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-40, -1e-40, 1e-310, -1e-310,
               16.6, 16.63, 16.64, 17.0, 36.7, 37.0, -87.0, -87.3, -87.4, -88.0, -100.0, -103.9,
               -104.0, -104.5, -708.0, -708.4, -709.0, -745.0, -746.0, 1e30, -1e30, 0.5, -0.5]
    values = np.concatenate([special, rng.standard_normal(3000) * 30, rng.standard_normal(1000),
                             rng.uniform(-800, 40, 2000)])
    with np.errstate(over="ignore"):
        return values.astype(dtype)


def gradient_grid(dtype):
    """(y, dy): sigmoid outputs from 0 to 1 (some so small that the gradient is denormal in
    float32 or float64) against upstream gradients, NaNs and infinities included."""
    rng = np.random.default_rng(6)
    y = np.concatenate([[0.0, 1.0, 0.5, np.nan, 2e-38, 1.2e-38, 1e-30, 3e-308, 1e-300, 1 - 1e-7],
                        rng.uniform(0, 1, 2000), np.exp(rng.uniform(-700, 0, 2000))])
    dy = np.concatenate([[1.0, -0.5, 1e-10, 1e-30, np.nan, np.inf, -2.0],
                         rng.standard_normal(2000), rng.standard_normal(2000) * 1e-30])
    y, dy = (a.ravel() for a in np.meshgrid(y[:60], dy[:60]))
    y = np.concatenate([y, rng.uniform(0, 1, 4000)])
    dy = np.concatenate([dy, rng.standard_normal(4000)])
    with np.errstate(over="ignore", under="ignore"):
        return y.astype(dtype), dy.astype(dtype)


COMPLEX = np.array([0, 1 + 1j, -1 - 2j, 100 + 1j, -100 + 1j, 1 + 100j, 1000, -1000, 0.5 - 3j,
                    complex(np.nan, 0), complex(0, np.inf)] * 500)
HALF_TYPES = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16}
FLOAT_TYPES = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float32": np.float32,
               "float64": np.float64}
'''

_TENSORFLOW_SIDE = r'''
from tensorflow.python.ops import gen_math_ops


def run(fetch, feeds):
    with tf.Session() as sess:
        return sess.run(fetch, feeds).tobytes().hex()


out = {"sigmoid": {}, "grad": {}}
for name, dtype in HALF_TYPES.items():
    x = tf.placeholder(name)
    out["sigmoid"][name + "_all"] = run(tf.sigmoid(x), {x: all_bit_patterns(dtype)})
for name, dtype in FLOAT_TYPES.items():
    x = tf.placeholder(name)
    out["sigmoid"][name] = run(tf.sigmoid(x), {x: sigmoid_grid(dtype)})
    y, dy = tf.placeholder(name), tf.placeholder(name)
    y_value, dy_value = gradient_grid(dtype)
    out["grad"][name] = run(gen_math_ops.sigmoid_grad(y, dy), {y: y_value, dy: dy_value})
for name in ("complex64", "complex128"):
    x = tf.placeholder(name)
    out["sigmoid"][name] = run(tf.sigmoid(x), {x: COMPLEX.astype(name)})
emit(out)
'''


def _namespace():
    namespace = {"np": np, "ml_dtypes": ml_dtypes}
    exec(VALUES, namespace)
    return namespace


V = _namespace()


@functools.lru_cache(maxsize=None)
def _tensorflow():
    return run_tensorflow("import numpy as np\nimport ml_dtypes\n" + VALUES + _TENSORFLOW_SIDE)


def _theirs(kind, name, dtype):
    return np.frombuffer(bytes.fromhex(_tensorflow()[kind][name]), dtype)


def _sigmoid(values, dtype_name):
    with tf.Graph().as_default():
        x = tf.placeholder(dtype_name)
        with tf.Session() as sess:
            return sess.run(tf.sigmoid(x), {x: values})


def _sigmoid_grad(y_value, dy_value, dtype_name):
    with tf.Graph().as_default():
        y, dy = tf.placeholder(dtype_name), tf.placeholder(dtype_name)
        with tf.Session() as sess:
            return sess.run(apply_op("SigmoidGrad", y=y, dy=dy), {y: y_value, dy: dy_value})


def _bits(values):
    return values.view("u%d" % values.dtype.itemsize).astype(np.int64)


def _ulps(ours, theirs):
    """Distance in representable numbers of same-signed finite values (int64 safe)."""
    return np.abs(_bits(ours) - _bits(theirs))


@pytest.mark.tf
def test_bfloat16_sigmoid_is_tensorflows_on_every_input():
    x = V["all_bit_patterns"](ml_dtypes.bfloat16)
    ours = _sigmoid(x, "bfloat16")
    theirs = _theirs("sigmoid", "bfloat16_all", ml_dtypes.bfloat16)
    assert ours.tobytes() == theirs.tobytes()


@pytest.mark.tf
def test_float16_sigmoid_is_tensorflows_on_every_input_but_a_few_roundings():
    x = V["all_bit_patterns"](np.float16)
    ours = _sigmoid(x, "float16")
    theirs = _theirs("sigmoid", "float16_all", np.float16)
    differ = _bits(ours) != _bits(theirs)
    assert differ.sum() <= 4, x[differ]
    assert not np.isnan(theirs[differ]).any()
    assert (_ulps(ours[differ], theirs[differ]) == 1).all()
    assert (ours[x < -17.4] == 0).all() and ours[x == np.float16(-17)][0] > 0  # half denormals


@pytest.mark.tf
@pytest.mark.parametrize("name, max_ulps", [("float32", 8), ("float64", 4), ("float16", 1),
                                            ("bfloat16", 0)])
def test_sigmoid_matches_tensorflow_with_its_zeros_ones_and_nans(name, max_ulps):
    dtype = V["FLOAT_TYPES"][name]
    x = V["sigmoid_grid"](dtype)
    ours = _sigmoid(x, name)
    theirs = _theirs("sigmoid", name, dtype)
    nan = np.isnan(theirs.astype(np.float64))
    assert (np.isnan(ours.astype(np.float64)) == nan).all()
    assert (_bits(ours[nan]) == _bits(theirs[nan])).all()  # the input's NaN, sign included
    assert ((ours == 0) == (theirs == 0)).all(), x[(ours == 0) != (theirs == 0)]
    if name != "float64":  # (TensorFlow's e^x / (1 + e^x) reaches 1 unevenly in float64)
        assert ((ours == 1) == (theirs == 1)).all(), x[(ours == 1) != (theirs == 1)]
    assert _ulps(ours[~nan], theirs[~nan]).max() <= max_ulps


@pytest.mark.tf
@pytest.mark.parametrize("name", ["float32", "float64", "float16", "bfloat16"])
def test_sigmoid_grad_matches_tensorflow(name):
    dtype = V["FLOAT_TYPES"][name]
    y, dy = V["gradient_grid"](dtype)
    ours = _sigmoid_grad(y, dy, name)
    theirs = _theirs("grad", name, dtype)
    nan = np.isnan(theirs.astype(np.float64))
    assert (np.isnan(ours.astype(np.float64)) == nan).all()
    # TensorFlow also reads denormal inputs as zeros (its float32 arithmetic, bfloat16's too),
    # which tensorkeep does not; its sigmoid never outputs them.
    tiny = {"float16": 0.0, "float64": np.finfo(np.float64).tiny}.get(
        name, np.finfo(np.float32).tiny)
    magnitudes = np.abs(np.stack([y, dy]).astype(np.float64))
    normal_inputs = ~nan & ~((magnitudes > 0) & (magnitudes < tiny)).any(axis=0)
    # Eigen's order, dy * (y * (1 - y)), gives the same bits; denormal products are signed zeros
    assert (_bits(ours[normal_inputs]) == _bits(theirs[normal_inputs])).all()


@pytest.mark.tf
@pytest.mark.parametrize("name, rtol", [("complex64", 2e-6), ("complex128", 1e-14)])
def test_complex_sigmoid_matches_tensorflow(name, rtol):
    x = V["COMPLEX"].astype(name)
    ours = _sigmoid(x, name)
    theirs = _theirs("sigmoid", name, name)
    assert (np.isnan(ours) == np.isnan(theirs)).all()
    finite = ~np.isnan(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (0,), (3,), (4096,), (70, 80)])
def test_sigmoid_of_any_shape_is_the_correctly_rounded_logistic_flushed(dtype, shape):
    rng = np.random.default_rng(8)
    x = (rng.standard_normal(shape) * 300).astype(dtype)
    if x.ndim == 2:
        x = x[:, ::2]  # a strided view
    exact = 1 / (1 + np.exp(-x.astype(np.longdouble)))
    want = np.asarray(exact.astype(dtype))
    want[np.abs(want) < np.finfo(dtype).tiny] = 0
    ours = _sigmoid(x, np.dtype(dtype).name)
    assert ours.shape == x.shape and ours.dtype == dtype
    assert ((ours == 0) == (want == 0)).all()
    np.testing.assert_allclose(ours, want, rtol=4 * np.finfo(dtype).eps, atol=0)
