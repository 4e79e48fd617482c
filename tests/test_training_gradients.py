"""tf.gradients: the reverse walk, its TensorFlow node names (`gradients/...`), fan-in sums,
unconnected and stopped gradients, gating, colocation, IndexedSlices, overrides and errors.
(Values and names for larger graphs are compared with real TensorFlow in
test_training_tf_parity.py.)"""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import op_def
from tensorkeep.framework.indexed_slices import IndexedSlices
from tensorkeep.ops import array_ops

# Test-only op types: one without any registered gradient, and gradients for overrides.
op_def.register_op("TrainingTestNoGradient", inputs=["x: T"], outputs=["y: T"],
                   attrs=["T: type"], compute=lambda x: x)


@tf.RegisterGradient("TrainingTestTimesThree")
def _times_three(op, grad):
    return [grad * 3.0]


@tf.RegisterGradient("TrainingTestWrongShape")
def _wrong_shape(op, grad):
    return [tf.constant([1.0, 2.0, 3.0])]


def _run(fetches, graph=None):
    with tf.Session(graph=graph or tf.get_default_graph()) as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches)


def test_default_grad_ys_and_per_op_scopes():
    with tf.Graph().as_default() as graph:
        x = tf.constant([1.0, 2.0, 3.0])
        y = tf.reshape(tf.identity(x), [3, 1])
        (grad,) = tf.gradients(y, x)
        assert grad.name == "gradients/Reshape_grad/Reshape:0"
        names = [op.name for op in graph.get_operations() if op.name.startswith("gradients")]
        assert names[:3] == ["gradients/Shape", "gradients/grad_ys_0/Const", "gradients/grad_ys_0"]
        assert graph.get_operation_by_name("gradients/grad_ys_0").type == "Fill"
        np.testing.assert_array_equal(_run(grad), [1.0, 1.0, 1.0])
        (again,) = tf.gradients(y, x)
        assert again.name.startswith("gradients_1/")


def test_fan_in_is_summed_by_add_n_beside_the_first_contribution():
    with tf.Graph().as_default() as graph:
        x = tf.constant([1.0, 2.0])
        y = tf.stack([x, x, tf.identity(x)])
        (grad,) = tf.gradients(y, x, grad_ys=tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
        add_n = graph.get_operation_by_name("gradients/AddN")
        assert add_n.type == "AddN"
        assert add_n.colocation_groups == [b"loc:@gradients/stack_grad/unstack"]
        assert grad is add_n.outputs[0]
        assert graph.get_operation_by_name("gradients/grad_ys_0").type == "Identity"
        np.testing.assert_array_equal(_run(grad), [9.0, 12.0])


def test_tree_aggregation_sums_pairwise_under_gradient_sum_scope():
    with tf.Graph().as_default() as graph:
        x = tf.constant([1.0, 2.0])
        y = tf.stack([x, x, x])
        (grad,) = tf.gradients(y, x, aggregation_method=tf.AggregationMethod.EXPERIMENTAL_TREE)
        assert grad.name == "gradients/Const_gradient_sum/AddN_1:0"
        assert graph.get_operation_by_name("gradients/Const_gradient_sum/AddN")
        np.testing.assert_array_equal(_run(grad), [3.0, 3.0])
        with pytest.raises(ValueError, match="Invalid `aggregation_method` specified 7"):
            tf.gradients(y, x, aggregation_method=7)


def test_unconnected_stopped_and_integer_paths():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        other = tf.constant([[4.0]])
        stopped = tf.stop_gradient(x)
        y = tf.stack([x, stopped])
        assert tf.gradients(y, [other]) == [None]
        assert tf.gradients(stopped, [x]) == [None]
        (zeros,) = tf.gradients(y, [other], unconnected_gradients="zero")
        assert zeros.name == "zeros_like:0"
        np.testing.assert_array_equal(_run(zeros), [[0.0]])
        np.testing.assert_array_equal(_run(tf.gradients(y, [x])[0]), [1.0, 1.0])
        (through,) = tf.gradients(tf.stack([x, tf.identity(x)]), [x],
                                  stop_gradients=[tf.get_default_graph().get_tensor_by_name(
                                      "Identity:0")])
        np.testing.assert_array_equal(_run(through), [1.0, 1.0])
        # Integer tensors carry no gradient.
        ints = tf.constant([1, 2])
        assert tf.gradients(tf.stack([ints, ints]), [ints]) == [None]
        with pytest.raises(ValueError, match="Unknown value for unconnected_gradients"):
            tf.gradients(y, [x], unconnected_gradients="sometimes")


def test_variables_are_differentiated_through_their_ref():
    with tf.Graph().as_default():
        w = tf.Variable([[1.0, 2.0]], name="w")
        y = tf.stack([tf.reshape(w, [2]), tf.reshape(w.read_value(), [2])])
        grad_w, grad_value = tf.gradients(y, [w, w.value()])
        # The first reshape reads w/read, the second a fresh read: both lead back to w.
        np.testing.assert_array_equal(_run(grad_w), [[2.0, 2.0]])
        np.testing.assert_array_equal(_run(grad_value), [[1.0, 1.0]])


def test_gate_gradients_groups_each_ops_input_gradients():
    with tf.Graph().as_default() as graph:
        a = tf.constant([1.0])
        b = tf.constant([2.0, 3.0])
        y = array_ops.concat([a, b], axis=0)
        grad_a, grad_b = tf.gradients(y, [a, b], gate_gradients=True)
        assert grad_a.name == "gradients/concat_grad/tuple/control_dependency:0"
        assert grad_b.name == "gradients/concat_grad/tuple/control_dependency_1:0"
        group = graph.get_operation_by_name("gradients/concat_grad/tuple/group_deps")
        assert group.type == "NoOp"
        assert grad_a.op.control_inputs == [group]
        value_a, value_b = _run([grad_a, grad_b])
        np.testing.assert_array_equal(value_a, [1.0])
        np.testing.assert_array_equal(value_b, [1.0, 1.0])


def test_colocate_gradients_with_ops():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = tf.reshape(x, [2, 1], name="r")
        (grad,) = tf.gradients(y, x, colocate_gradients_with_ops=True)
        assert grad.op.colocation_groups == [b"loc:@r"]
        (plain,) = tf.gradients(y, x)
        assert "_class" not in plain.op.node_def.attr


def test_sparse_contributions_are_concatenated():
    with tf.Graph().as_default():
        params = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        y = array_ops.concat([array_ops.gather(params, [0, 2]), array_ops.gather(params, [2])],
                             axis=0)
        (grad,) = tf.gradients(y, params, grad_ys=tf.constant([[1.0, 1.0], [2.0, 2.0],
                                                               [3.0, 3.0]]))
        assert isinstance(grad, IndexedSlices)
        indices, values = _run([grad.indices, grad.values])
        np.testing.assert_array_equal(indices, [0, 2, 2])
        np.testing.assert_array_equal(values, [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
        np.testing.assert_array_equal(_run(tf.convert_to_tensor(grad)),
                                      [[1.0, 1.0], [0.0, 0.0], [5.0, 5.0]])


def test_missing_gradient_and_override_map():
    with tf.Graph().as_default() as graph:
        x = tf.constant([1.0, 2.0])
        y = op_def_apply("TrainingTestNoGradient", x)
        with pytest.raises(LookupError, match="No gradient defined for operation "
                                               "'TrainingTestNoGradient'"):
            tf.gradients(y, x)
        with graph.gradient_override_map({"Identity": "TrainingTestTimesThree"}):
            z = tf.identity(x)
            (grad,) = tf.gradients(z, x)
        np.testing.assert_array_equal(_run(grad), [3.0, 3.0])
        with graph.gradient_override_map({"Identity": "TrainingTestWrongShape"}):
            w = tf.identity(tf.constant([[1.0]]))
            with pytest.raises(ValueError, match="Incompatible shapes between op input and "
                                                 "calculated input gradient"):
                tf.gradients(w, w.op.inputs[0])


def op_def_apply(op_type, x):
    from tensorkeep.framework.op_builder import apply_op
    return apply_op(op_type, x=x)


def test_grad_ys_checks():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        with pytest.raises(ValueError, match="Length mismatch. Passed 2 grad_ys for 1 ys"):
            tf.gradients(x, x, grad_ys=[x, x])
        with pytest.raises(TypeError, match="must be real or integer"):
            tf.gradients(tf.identity(x), x, grad_ys=tf.constant([True, False]))


def test_custom_gradient():
    @tf.custom_gradient
    def scaled_identity(x):
        def grad(dy):
            return dy * 10.0
        return tf.identity(x), grad

    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = scaled_identity(x)
        assert y.op.type == "IdentityN"
        assert y.op.get_attr("_gradient_op_type").startswith(b"CustomGradient-")
        np.testing.assert_array_equal(_run(tf.gradients(y, x)[0]), [10.0, 10.0])
