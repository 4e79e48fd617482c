"""Select, SelectV2 and the activations built on a select (LeakyRelu, Elu, Selu, Sigmoid and
their gradients) pick elements by their bits for arrays of 4,096 elements or more
(ops/_helpers.select): the results must be NumPy's where, bit for bit (NaN payloads, signed
zeros, infinities, every dtype a tensor can have), and TensorFlow's."""

import ml_dtypes
import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.ops import _helpers
from tf_oracle import require_tensorflow, run_tensorflow

DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.int8, np.uint8, np.int16,
          np.uint16, np.int32, np.int64, np.uint64, np.complex64, np.complex128, np.bool_]


def _special(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape) * 100
    if np.dtype(dtype).kind == "f" or dtype is ml_dtypes.bfloat16:
        flat = values.reshape(-1)
        flat[:6] = [np.nan, -0.0, np.inf, -np.inf, 1e-40, -np.nan]
    if np.dtype(dtype).kind == "c":
        values = values + 1j * rng.standard_normal(shape)
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(100, 500), (4096,), (64, 8, 8), (4095,), (3, 2)])
def test_select_gives_the_bits_of_numpy_where(dtype, shape):
    t, e = _special(shape, dtype, 1), _special(shape, dtype, 2)
    condition = np.random.default_rng(3).random(shape) > 0.5
    got = _helpers.select(condition, t, e)
    want = np.where(condition, t, e)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()


def test_select_of_views_and_broadcasts_falls_back_or_copies():
    base = _special((100, 1000), np.float32, 4)
    t, e = base[:, ::2], base[:, 1::2]  # strided views
    condition = np.random.default_rng(5).random(t.shape) > 0.5
    assert _helpers.select(condition, t, e).tobytes() == np.where(condition, t, e).tobytes()
    row = condition[0]  # broadcast condition: NumPy's where
    assert _helpers.select(row, t, e).tobytes() == np.where(row, t, e).tobytes()


# Run on both sides (TensorFlow's interpreter cannot import this module).
_VALUES = """
rng = np.random.default_rng(7)
x_value = rng.standard_normal((100, 500)).astype(np.float32)
x_value.reshape(-1)[:4] = [np.nan, -0.0, np.inf, -np.inf]
y_value = rng.standard_normal((100, 500)).astype(np.float32)
c_value = rng.random((100, 500)) > 0.5
"""


_GRAPH = """
x = tf.placeholder(tf.float32, [100, 500])
y = tf.placeholder(tf.float32, [100, 500])
c = tf.placeholder(tf.bool, [100, 500])
outputs = [tf.where(c, x, y), tf.where_v2(c, x, y), tf.nn.leaky_relu(x, 0.3), tf.nn.elu(x),
           tf.nn.selu(x)]
outputs += tf.gradients(tf.nn.leaky_relu(x, 0.3) + tf.nn.elu(x) + tf.nn.selu(x), [x], y)
"""


def test_select_ops_give_numpy_and_tensorflow_bits():
    namespace = {"tf": tf, "np": np}
    exec(_VALUES, namespace)
    with tf.Graph().as_default():
        exec(_GRAPH, namespace)
        with tf.Session() as sess:
            ours = sess.run(namespace["outputs"], {namespace["x"]: namespace["x_value"],
                                                   namespace["y"]: namespace["y_value"],
                                                   namespace["c"]: namespace["c_value"]})
    want = np.where(namespace["c_value"], namespace["x_value"], namespace["y_value"])
    assert ours[0].tobytes() == want.tobytes() and ours[1].tobytes() == want.tobytes()
    require_tensorflow()
    theirs = run_tensorflow("import numpy as np\n" + _VALUES + _GRAPH + """
with tf.Session() as sess:
    values = sess.run(outputs, {x: x_value, y: y_value, c: c_value})
emit([v.tobytes().hex() for v in values])
""")
    names = ["where", "where_v2", "leaky_relu", "elu", "selu", "gradient"]
    for name, mine, hex_bytes in zip(names, ours, theirs):
        their = np.frombuffer(bytes.fromhex(hex_bytes), np.float32).reshape(mine.shape)
        if name in ("where", "where_v2", "leaky_relu"):
            assert mine.tobytes() == their.tobytes(), name
        else:  # exp differs in its last places between Eigen and NumPy; near 0, exp(x) - 1
            # (TensorFlow's formula too) turns them into absolute differences of ~1e-7
            np.testing.assert_allclose(mine, their, rtol=2e-6, atol=3e-7, err_msg=name)
