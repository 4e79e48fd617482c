"""The executor drops each intermediate value after its last reader: a run holds only what is
live (peak memory), and a resource variable read by the forward pass is no longer held when its
optimizer update runs, so the update can write the variable's buffer in place."""

import tracemalloc

import numpy as np

import tensorkeep as tf


def _resource_storage(sess, variable):
    sess.run(variable.handle)
    (storage,) = [value for key, value in sess._ctx.resources.items()
                  if key[0] == "variable" and key[2] == variable.handle.op.name]
    return storage


def test_resource_variable_updates_keep_their_buffer_across_steps():
    rng = np.random.default_rng(0)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 30])
        w = tf.get_variable("w", initializer=tf.truncated_normal([30, 20], seed=3),
                            use_resource=True)
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            batch = rng.standard_normal((16, 30)).astype(np.float32)
            sess.run(train, {x: batch})
            storage = _resource_storage(sess, w)
            pointer = storage.value.ctypes.data
            before = sess.run(w)
            sess.run(train, {x: batch})
            assert storage.value.ctypes.data == pointer  # written in place: nothing held it
            after = sess.run(w)
            # the same update, in float32 as the kernel computes it
            grad = (2.0 / (16 * 20)) * batch.T @ (batch @ before)
            np.testing.assert_allclose(after, before - np.float32(0.1) * grad, rtol=1e-5)


def test_a_chain_of_ops_holds_two_values_at_a_time():
    """Five 8 MB intermediates in a chain: with each released after its reader, the run's peak
    is about two of them (the step's input and output), not all five."""
    size = 1_000_000
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [size])
        value = x
        for step in range(5):
            value = value * 1.5 if step % 2 else value + 1.0
        feed = np.ones(size)
        with tf.Session() as sess:
            sess.run(value, {x: feed})  # builds the plan
            tracemalloc.start()
            try:
                result = sess.run(value, {x: feed})
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    np.testing.assert_allclose(result[:3], [((2 * 1.5 + 1) * 1.5 + 1)] * 3)
    assert peak < 2.6 * feed.nbytes, peak


def test_fetched_intermediates_are_kept():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3])
        a = x + 1.0
        b = a * 2.0
        c = b - 3.0
        with tf.Session() as sess:
            got_a, got_c = sess.run([a, c], {x: np.array([1, 2, 3], np.float32)})
    np.testing.assert_array_equal(got_a, [2, 3, 4])
    np.testing.assert_array_equal(got_c, [1, 3, 5])
