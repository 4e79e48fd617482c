"""Session.run fetches an IndexedSlices (the gradient of a gather) as an IndexedSlicesValue and
feeds one through its components, as TensorFlow 1.x does."""

import numpy as np

import tensorkeep as tf
from tf_oracle import require_tensorflow, run_tensorflow

_PROGRAM = """
params = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3))
ids = tf.constant([2, 0, 2])
rows = tf.gather(params, ids)
grad, = tf.gradients(tf.reduce_sum(rows * rows), [params])
"""


def _ours():
    namespace = {"tf": tf, "np": np}
    with tf.Graph().as_default():
        exec(_PROGRAM, namespace)
        grad = namespace["grad"]
        assert isinstance(grad, tf.IndexedSlices)
        with tf.Session() as sess:
            fetched = sess.run(grad)
            both = sess.run({"grad": grad, "again": [grad]})
            fed = sess.run(grad.values * 2, {grad: tf.IndexedSlicesValue(
                np.ones((3, 3), np.float32), np.array([0, 1, 2], np.int32), None)})
    return fetched, both, fed


def test_fetching_and_feeding_indexed_slices():
    fetched, both, fed = _ours()
    assert type(fetched).__name__ == "IndexedSlicesValue"
    np.testing.assert_array_equal(fetched.indices, [2, 0, 2])
    np.testing.assert_array_equal(fetched.values, 2 * np.array([[6, 7, 8], [0, 1, 2], [6, 7, 8]]))
    assert list(fetched.dense_shape) == [4, 3]
    np.testing.assert_array_equal(both["again"][0].values, fetched.values)
    np.testing.assert_array_equal(fed, np.full((3, 3), 2, np.float32))
    require_tensorflow()
    theirs = run_tensorflow("import numpy as np\n" + _PROGRAM + """
with tf.Session() as sess:
    value = sess.run(grad)
    emit([type(value).__name__, value.values.tolist(), value.indices.tolist(),
          value.dense_shape.tolist()])
""")
    assert theirs == [type(fetched).__name__, fetched.values.tolist(), fetched.indices.tolist(),
                      fetched.dense_shape.tolist()]
