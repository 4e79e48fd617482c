"""A resource-variable global step (tf.Variable(..., use_resource=True) in the GLOBAL_STEP
collection) is accepted by get_global_step / assert_global_step and incremented by minimize,
as TensorFlow does; the same program runs under TensorFlow for the reference values."""

import pytest

import tensorkeep as tk
from tf_oracle import run_tensorflow

PROGRAM = """
step = tf.Variable(0, dtype=tf.int64, trainable=False, use_resource=True, name="global_step",
                   collections=[tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.GLOBAL_STEP])
tf.train.assert_global_step(step)
found = tf.train.get_global_step()
weight = tf.Variable(3.0, name="w")
train = tf.train.GradientDescentOptimizer(0.25).minimize(weight * weight, global_step=step)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    values = []
    for _ in range(3):
        sess.run(train)
        values.append([int(sess.run(found)), float(sess.run(weight))])
result = {"name": found.name, "values": values}
"""


def _run_here():
    namespace = {"tf": tk}
    with tk.Graph().as_default():
        exec(PROGRAM, namespace)
    return namespace["result"]


@pytest.mark.tf
def test_resource_global_step_matches_tensorflow():
    theirs = run_tensorflow(PROGRAM + "\nemit(result)\n")
    assert _run_here() == theirs


def test_non_integer_global_step_is_refused():
    with tk.Graph().as_default():
        step = tk.Variable(0.0, use_resource=True)
        with pytest.raises(TypeError, match="integer type"):
            tk.train.assert_global_step(step)
