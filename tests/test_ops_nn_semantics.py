"""Neural-network behaviour that needs no TensorFlow: NCHW kernels agree with NHWC ones (real
TensorFlow has no NCHW convolution or pooling on CPU to compare with), half precision, layer
variable sharing and scoping, and the LOSSES / REGULARIZATION_LOSSES / UPDATE_OPS collections.
"""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework.op_builder import apply_op


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed_dict)


def _nchw(x):
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def _nhwc(x):
    return x.transpose(0, 2, 3, 1)


RNG = np.random.default_rng(21)
IMAGES = RNG.standard_normal((2, 7, 6, 3)).astype(np.float32)
KERNEL = RNG.standard_normal((3, 2, 3, 4)).astype(np.float32)


@pytest.mark.parametrize("padding, strides, dilations, explicit", [
    ("SAME", [2, 1], [1, 1], []),
    ("VALID", [1, 2], [2, 1], []),
    ("EXPLICIT", [1, 1], [1, 1], [(1, 2), (0, 3)]),
])
def test_conv2d_and_backprops_nchw_match_nhwc(padding, strides, dilations, explicit):
    results = {}
    for data_format in ("NHWC", "NCHW"):
        with tf.Graph().as_default():
            nchw = data_format == "NCHW"
            x = tf.constant(_nchw(IMAGES) if nchw else IMAGES)
            w = tf.constant(KERNEL)
            four = (lambda p: [1, 1] + p) if nchw else (lambda p: [1] + p + [1])
            pads = []
            if explicit:
                pairs = [(0, 0), (0, 0)] + explicit if nchw else [(0, 0)] + explicit + [(0, 0)]
                pads = [p for pair in pairs for p in pair]
            attrs = dict(strides=four(strides), dilations=four(dilations), padding=padding,
                         explicit_paddings=pads, data_format=data_format)
            y = apply_op("Conv2D", input=x, filter=w, **attrs)
            dx, dw = tf.gradients(tf.reduce_sum(y * y), [x, w])
            values = _run([y, dx, dw])
        if nchw:
            values = [_nhwc(values[0]), _nhwc(values[1]), values[2]]
        results[data_format] = values
    for ours, reference in zip(results["NCHW"], results["NHWC"]):
        np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op_type", ["MaxPool", "AvgPool"])
def test_pooling_and_gradients_nchw_match_nhwc(op_type):
    results = {}
    for data_format in ("NHWC", "NCHW"):
        with tf.Graph().as_default():
            nchw = data_format == "NCHW"
            x = tf.constant(_nchw(IMAGES) if nchw else IMAGES)
            window = [1, 1, 3, 2] if nchw else [1, 3, 2, 1]
            strides = [1, 1, 2, 2] if nchw else [1, 2, 2, 1]
            arg = "input" if op_type == "MaxPool" else "value"
            y = apply_op(op_type, **{arg: x}, ksize=window, strides=strides, padding="SAME",
                         data_format=data_format)
            (dx,) = tf.gradients(tf.reduce_sum(y * y), [x])
            y_value, dx_value = _run([y, dx])
        results[data_format] = [_nhwc(y_value), _nhwc(dx_value)] if nchw else [y_value,
                                                                                 dx_value]
    for ours, reference in zip(results["NCHW"], results["NHWC"]):
        np.testing.assert_allclose(ours, reference, rtol=1e-6)


def test_depthwise_and_bias_nchw_match_nhwc():
    depthwise_kernel = RNG.standard_normal((3, 3, 3, 2)).astype(np.float32)
    bias = np.float32([0.5, -1.0, 2.0, 0.1, 0.2, 0.3])
    results = {}
    for data_format in ("NHWC", "NCHW"):
        with tf.Graph().as_default():
            nchw = data_format == "NCHW"
            x = tf.constant(_nchw(IMAGES) if nchw else IMAGES)
            y = tf.nn.depthwise_conv2d_native(x, tf.constant(depthwise_kernel),
                                              [1, 1, 2, 2] if nchw else [1, 2, 2, 1], "SAME",
                                              data_format=data_format)
            y = tf.nn.bias_add(y, bias, data_format=data_format)
            dx, = tf.gradients(tf.reduce_sum(y * y), [x])
            values = _run([y, dx])
        results[data_format] = [_nhwc(v) for v in values] if nchw else values
    for ours, reference in zip(results["NCHW"], results["NHWC"]):
        np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)


def test_fused_batch_norm_nchw_matches_nhwc_in_training():
    scale, offset = np.float32([1, 2, 0.5]), np.float32([0, 1, -1])
    results = {}
    for data_format in ("NHWC", "NCHW"):
        with tf.Graph().as_default():
            nchw = data_format == "NCHW"
            x = tf.constant(_nchw(IMAGES) if nchw else IMAGES)
            y, mean, variance = tf.nn.fused_batch_norm(x, scale, offset,
                                                       data_format=data_format)
            dx, = tf.gradients(tf.reduce_sum(y * y * y), [x])
            values = _run([y, mean, variance, dx])
        if nchw:
            values = [_nhwc(values[0]), values[1], values[2], _nhwc(values[3])]
        results[data_format] = values
    for ours, reference in zip(results["NCHW"], results["NHWC"]):
        np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-5)


def test_half_precision_ops_keep_their_dtype():
    with tf.Graph().as_default():
        x = tf.constant(IMAGES.astype(np.float16))
        outputs = [tf.nn.relu(x), tf.nn.elu(x), tf.nn.sigmoid(x), tf.nn.softmax(x),
                   tf.nn.conv2d(x, KERNEL.astype(np.float16), [1, 1, 1, 1], "SAME"),
                   tf.nn.max_pool(x, 2, 2, "VALID"), tf.nn.avg_pool(x, 2, 1, "SAME"),
                   tf.nn.l2_loss(x)]
        values = _run(outputs)
    assert all(v.dtype == np.float16 for v in values)
    reference = _run_float32_conv()
    np.testing.assert_allclose(values[4].astype(np.float32), reference, rtol=2e-2, atol=2e-2)


def _run_float32_conv():
    with tf.Graph().as_default():
        y = tf.nn.conv2d(tf.constant(IMAGES.astype(np.float16).astype(np.float32)),
                         KERNEL.astype(np.float16).astype(np.float32), [1, 1, 1, 1], "SAME")
        return _run(y)


# --- layers: variables, scopes, reuse ------------------------------------------------------------

def test_layer_object_shares_variables_between_calls():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        layer = tf.layers.Dense(2, name="shared")
        first, second = layer(x), layer(x * 2.0)
        assert [v.name for v in tf.global_variables()] == ["shared/kernel:0", "shared/bias:0"]
        assert layer.trainable_weights == tf.trainable_variables()
        assert layer.scope_name == "shared"
        values = _run([first, second], {x: [[1.0, 2.0, 3.0]]})
    # Same kernel, and a bias that starts at zero: dense(2x) == 2 dense(x).
    np.testing.assert_allclose(values[1], 2 * values[0], rtol=1e-6)


def test_functional_layers_need_reuse_for_the_same_name():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        tf.layers.dense(x, 4, name="fc")
        tf.layers.dense(x, 4, name="fc", reuse=True)
        assert [v.name for v in tf.global_variables()] == ["fc/kernel:0", "fc/bias:0"]
        with pytest.raises(ValueError, match="fc/kernel"):
            tf.layers.dense(x, 4, name="fc")


def test_layers_inside_variable_scope_and_unique_names():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        with tf.variable_scope("tower"):
            y = tf.layers.dense(x, 4)
            tf.layers.dense(y, 2)
        names = [v.name for v in tf.global_variables()]
        assert names == ["tower/dense/kernel:0", "tower/dense/bias:0", "tower/dense_1/kernel:0",
                         "tower/dense_1/bias:0"]
        assert y.name == "tower/dense/BiasAdd:0"


def test_batch_normalization_updates_moving_statistics():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.layers.batch_normalization(x, training=True, momentum=0.5)
        update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        assert [op.name for op in update_ops] == ["batch_normalization/AssignMovingAvg",
                                                  "batch_normalization/AssignMovingAvg_1"]
        moving_mean, moving_variance = tf.global_variables()[2:]
        batch = RNG.standard_normal((6, 3)).astype(np.float32)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out, _ = sess.run([y, update_ops], {x: batch})
            mean, variance = sess.run([moving_mean, moving_variance])
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(mean, 0.5 * batch.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(variance, 0.5 + 0.5 * batch.var(axis=0), rtol=1e-5)


def test_dropout_layer_training_tensor_builds_a_cond():
    with tf.Graph().as_default():
        x = tf.ones([4, 5])
        training = tf.placeholder(tf.bool, [])
        y = tf.layers.dropout(x, rate=0.5, training=training)
        with tf.Session() as sess:
            kept = sess.run(y, {training: False})
            dropped = sess.run(y, {training: True})
    np.testing.assert_array_equal(kept, np.ones((4, 5)))
    assert set(np.unique(dropped)) <= {0.0, 2.0}


# --- losses collections --------------------------------------------------------------------------

def test_total_loss_sums_losses_and_regularization():
    with tf.Graph().as_default():
        labels = tf.constant([[1.0, 0.0], [0.0, 1.0]])
        predictions = tf.constant([[0.5, 0.5], [0.0, 2.0]])
        mse = tf.losses.mean_squared_error(labels, predictions)
        absolute = tf.losses.absolute_difference(labels, predictions, weights=2.0)
        tf.layers.dense(predictions, 1, kernel_initializer=tf.ones_initializer(),
                        kernel_regularizer=lambda w: tf.reduce_sum(w) * 0.5)
        assert tf.losses.get_losses() == [mse, absolute]
        regularization = tf.losses.get_regularization_loss()
        total = tf.losses.get_total_loss()
        assert total.op.type == "AddN" and total.op.name == "total_loss"
        assert regularization.op.name == "total_regularization_loss"
        values = _run([mse, absolute, regularization, total])
    assert values[0] == pytest.approx((0.25 + 0.25 + 0 + 1) / 4)
    assert values[1] == pytest.approx(2 * (0.5 + 0.5 + 0 + 1) / 4)
    assert values[2] == pytest.approx(1.0)
    assert values[3] == pytest.approx(values[0] + values[1] + values[2])


def test_losses_reduction_and_custom_collection():
    with tf.Graph().as_default():
        labels = tf.constant([1.0, 2.0, 3.0, 4.0])
        predictions = tf.constant([1.0, 0.0, 3.0, 8.0])
        weights = tf.constant([1.0, 0.0, 2.0, 1.0])
        reductions = {name: tf.losses.absolute_difference(labels, predictions, weights,
                                                          reduction=getattr(tf.losses.Reduction,
                                                                            name),
                                                          loss_collection="mine")
                      for name in ("NONE", "SUM", "MEAN", "SUM_OVER_BATCH_SIZE",
                                   "SUM_BY_NONZERO_WEIGHTS")}
        assert tf.get_collection(tf.GraphKeys.LOSSES) == []
        assert len(tf.get_collection("mine")) == 5
        values = _run(reductions)
    np.testing.assert_allclose(values["NONE"], [0, 0, 0, 4])
    assert values["SUM"] == 4.0
    assert values["MEAN"] == pytest.approx(1.0)
    assert values["SUM_OVER_BATCH_SIZE"] == pytest.approx(1.0)
    assert values["SUM_BY_NONZERO_WEIGHTS"] == pytest.approx(4.0 / 3)
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        tf.losses.Reduction.validate("bogus")


def test_loss_weights_that_cannot_broadcast_fail_at_graph_build():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="weights can not be broadcast"):
            tf.losses.mean_squared_error(tf.zeros([4, 3]), tf.zeros([4, 3]),
                                         weights=tf.ones([2, 3]))
