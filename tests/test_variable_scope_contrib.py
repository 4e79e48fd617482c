"""tf.contrib.framework variable helpers and arg_scope, tf.contrib.layers regularizer
arguments (TensorFlow 2.x has no contrib: these follow TF 1.15's documented behaviour)."""

import numpy as np
import pytest

import tensorkeep as tf

framework = tf.contrib.framework


def test_model_variables_and_lookups():
    with tf.Graph().as_default():
        with tf.variable_scope("conv1"):
            weights = framework.model_variable("weights", [3, 3],
                                               initializer=tf.zeros_initializer())
            biases = framework.model_variable("biases", [3], initializer=tf.zeros_initializer())
        with tf.variable_scope("fc"):
            plain = framework.variable("weights", [2], initializer=tf.zeros_initializer(),
                                       collections=["variables", "variables", "extra"])
        local = framework.local_variable([1.0, 2.0], name="counter")
        assert framework.get_model_variables() == [weights, biases]
        assert tf.get_collection("extra") == [plain]
        assert framework.get_variables("conv1") == [weights, biases]
        assert framework.get_variables(suffix="weights") == [weights, plain]
        assert framework.get_variables_by_name("biases") == [biases]
        assert framework.get_variables_by_suffix("ases") == [biases]
        assert framework.get_unique_variable("fc/weights") is plain
        assert framework.get_local_variables() == [local]
        assert not local.trainable
        assert framework.get_variables_to_restore(exclude=["conv1/biases"]) == [weights, plain]
        assert framework.get_variables_to_restore(include=["fc"]) == [plain]
        with pytest.raises(ValueError, match="Couldn't find variable nothing"):
            framework.get_unique_variable("nothing")
        with pytest.raises(TypeError, match="include is provided but is not a list"):
            framework.get_variables_to_restore(include="fc")


def test_arg_scope_supplies_defaults():
    @framework.add_arg_scope
    def layer(x, scale=1.0, offset=0.0):
        return x * scale + offset

    assert framework.has_arg_scope(layer)
    assert framework.arg_scoped_arguments(layer) == ["x", "scale", "offset"]
    with framework.arg_scope([layer], scale=2.0) as outer:
        assert layer(1.0) == 2.0
        with framework.arg_scope([layer], offset=5.0):
            assert layer(1.0) == 7.0
            assert layer(1.0, scale=3.0) == 8.0
    assert layer(1.0) == 1.0
    with framework.arg_scope(outer):
        assert layer(1.0) == 2.0
    with pytest.raises(ValueError, match="is not decorated with @add_arg_scope"):
        with framework.arg_scope([len], x=1):
            pass


def test_arg_scope_reaches_model_variable():
    with tf.Graph().as_default():
        with framework.arg_scope([framework.model_variable],
                                 initializer=tf.constant_initializer(4.0)):
            v = framework.model_variable("v", [2])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert np.array_equal(sess.run(v), [4.0, 4.0])


def test_regularizer_arguments():
    layers = tf.contrib.layers
    with pytest.raises(ValueError, match="scale cannot be an integer: 1"):
        layers.l2_regularizer(1)
    with pytest.raises(ValueError, match="Setting a scale less than 0 on a regularizer: -0.5"):
        layers.l1_regularizer(-0.5)
    assert layers.l2_regularizer(0.0)(None) is None
    assert layers.sum_regularizer([None]) is None


def test_apply_regularization_sums_penalties():
    layers = tf.contrib.layers
    with tf.Graph().as_default():
        a = tf.Variable([1.0, -2.0], name="a")
        b = tf.Variable([3.0], name="b")
        penalty = layers.apply_regularization(layers.l1_regularizer(0.5), [a, b])
        assert penalty.name == "get_regularization_penalty:0"
        assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES) == [penalty]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(penalty) == np.float32(3.0)
