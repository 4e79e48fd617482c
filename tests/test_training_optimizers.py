"""tf.train optimizers: a few steps of each against textbook NumPy formulas (float64), slot and
non-slot variables, the training op and its names, the global step. (Node-by-node graphs and
20-step training runs are compared with real TensorFlow in test_training_tf_parity.py.)"""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework.indexed_slices import IndexedSlices

RNG = np.random.default_rng(11)
W0 = RNG.standard_normal((3, 2)).astype(np.float32)
B0 = RNG.standard_normal(2).astype(np.float32)
GRADS = [(RNG.standard_normal((3, 2)).astype(np.float32),
          RNG.standard_normal(2).astype(np.float32)) for _ in range(3)]


def _train(make_optimizer, steps=3):
    """Applies GRADS with the optimizer (fed through placeholders); returns the variables'
    values after each step, the optimizer and the global step's final value."""
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(W0, name="w")
        b = tf.Variable(B0, name="b")
        gw = tf.placeholder(tf.float32, W0.shape)
        gb = tf.placeholder(tf.float32, B0.shape)
        global_step = tf.train.get_or_create_global_step()
        opt = make_optimizer()
        train = opt.apply_gradients([(gw, w), (gb, b)], global_step=global_step)
        history = []
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            for grad_w, grad_b in GRADS[:steps]:
                sess.run(train, {gw: grad_w, gb: grad_b})
                history.append(sess.run([w, b]))
            step = sess.run(global_step)
    return history, opt, step


def _expect(history, update):
    """update(param, grad, state, t) -> (param, state), applied to w and b in float64."""
    params = [W0.astype(np.float64), B0.astype(np.float64)]
    states = [None, None]
    for t, (grads, got) in enumerate(zip(GRADS, history), start=1):
        for i in range(2):
            params[i], states[i] = update(params[i], grads[i].astype(np.float64), states[i], t)
            np.testing.assert_allclose(got[i], params[i], rtol=1e-5, atol=1e-6)


def test_gradient_descent():
    history, _, step = _train(lambda: tf.train.GradientDescentOptimizer(0.1))
    _expect(history, lambda p, g, s, t: (p - 0.1 * g, None))
    assert step == 3


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum(nesterov):
    history, opt, _ = _train(lambda: tf.train.MomentumOptimizer(0.1, 0.9,
                                                                use_nesterov=nesterov))

    def update(p, g, accum, t):
        accum = g if accum is None else 0.9 * accum + g
        return (p - 0.1 * (g + 0.9 * accum) if nesterov else p - 0.1 * accum), accum
    _expect(history, update)
    assert opt.get_slot_names() == ["momentum"]


def test_adam():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    history, opt, _ = _train(lambda: tf.train.AdamOptimizer(lr))

    def update(p, g, state, t):
        m, v = state or (0.0, 0.0)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        # TensorFlow folds the bias corrections into the step size (epsilon stays outside).
        step = lr * m_hat / (np.sqrt(v_hat) + eps * np.sqrt(1 - b2 ** t))
        return p - step, (m, v)
    _expect(history, update)
    assert opt.get_slot_names() == ["m", "v"]


@pytest.mark.parametrize("centered", [False, True])
def test_rms_prop(centered):
    history, opt, _ = _train(lambda: tf.train.RMSPropOptimizer(0.01, decay=0.9, momentum=0.5,
                                                               epsilon=1e-6, centered=centered))

    def update(p, g, state, t):
        ms, mg, mom = state or (1.0, 0.0, 0.0)  # the rms slot starts at ones
        ms = 0.9 * ms + 0.1 * g * g
        mg = 0.9 * mg + 0.1 * g
        denom = ms - mg * mg if centered else ms
        mom = 0.5 * mom + 0.01 * g / np.sqrt(denom + 1e-6)
        return p - mom, (ms, mg, mom)
    _expect(history, update)
    assert opt.get_slot_names() == (["mg", "momentum", "rms"] if centered
                                    else ["momentum", "rms"])


def test_adagrad():
    history, _, _ = _train(lambda: tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.2))

    def update(p, g, accum, t):
        accum = (0.2 if accum is None else accum) + g * g
        return p - 0.1 * g / np.sqrt(accum), accum
    _expect(history, update)


def test_adadelta():
    history, _, _ = _train(lambda: tf.train.AdadeltaOptimizer(1.0, rho=0.95, epsilon=1e-6))

    def update(p, g, state, t):
        accum, accum_update = state or (0.0, 0.0)
        accum = 0.95 * accum + 0.05 * g * g
        step = np.sqrt(accum_update + 1e-6) / np.sqrt(accum + 1e-6) * g
        accum_update = 0.95 * accum_update + 0.05 * step * step
        return p - step, (accum, accum_update)
    _expect(history, update)


def test_proximal_gradient_descent():
    history, _, _ = _train(lambda: tf.train.ProximalGradientDescentOptimizer(
        0.1, l1_regularization_strength=0.05, l2_regularization_strength=0.2))

    def update(p, g, state, t):
        prox = p - 0.1 * g
        return np.sign(prox) * np.maximum(np.abs(prox) - 0.1 * 0.05, 0) / (1 + 0.1 * 0.2), None
    _expect(history, update)


def test_slots_and_non_slot_variables_have_tensorflow_names():
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(W0, name="w")
        b = tf.Variable(B0, name="b")
        opt = tf.train.AdamOptimizer()
        with tf.name_scope("training"):
            train = opt.apply_gradients([(tf.ones_like(w), w), (tf.ones_like(b), b)])
        assert train.name == "training/Adam"
        assert train.type == "NoOp"
        # Slots are named after their primary; non-slot variables follow the name scope.
        assert [v.name for v in opt.variables()] == [
            "b/Adam:0", "b/Adam_1:0", "training/beta1_power:0", "training/beta2_power:0",
            "w/Adam:0", "w/Adam_1:0"]
        assert opt.get_slot(w, "m").name == "w/Adam:0"
        assert opt.get_slot(w, "v").name == "w/Adam_1:0"
        assert opt.get_slot(w, "nope") is None
        # The beta powers live beside the variable whose name sorts first.
        assert graph.get_operation_by_name("training/beta1_power").colocation_groups == [
            b"loc:@b"]
        assert [v.op.name for v in tf.global_variables()] == [
            "w", "b", "training/beta1_power", "training/beta2_power", "w/Adam", "w/Adam_1",
            "b/Adam", "b/Adam_1"]
        assert [v.op.name for v in tf.trainable_variables()] == ["w", "b"]
        update = graph.get_operation_by_name("training/Adam/update_w/ApplyAdam")
        assert [t.name for t in update.inputs[:5]] == [
            "w:0", "w/Adam:0", "w/Adam_1:0", "training/beta1_power/read:0",
            "training/beta2_power/read:0"]
        assert tf.get_collection(tf.GraphKeys.TRAIN_OP) == [train]


def test_global_step_increment_is_the_training_op():
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(W0, name="w")
        step = tf.train.get_or_create_global_step()
        train = tf.train.MomentumOptimizer(0.1, 0.5).apply_gradients([(tf.ones_like(w), w)],
                                                                      global_step=step)
        assert train.name == "Momentum"
        assert train.type == "AssignAdd"
        assert train.colocation_groups == [b"loc:@global_step"]
        assert [t.name for t in train.inputs] == ["global_step:0", "Momentum/value:0"]
        finish = graph.get_operation_by_name("Momentum/update")
        assert [op.name for op in finish.control_inputs] == ["Momentum/update_w/ApplyMomentum"]


def test_compute_gradients_gating():
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(W0, name="w")
        b = tf.Variable(B0, name="b")
        loss = tf.reduce_sum(tf.matmul(tf.ones([1, 3]), w) + b)
        opt = tf.train.GradientDescentOptimizer(0.1)
        grads_and_vars = opt.compute_gradients(loss, gate_gradients=opt.GATE_GRAPH)
        assert [v for _, v in grads_and_vars] == [w, b]
        # GATE_GRAPH holds every gradient back until all are computed.
        assert [g.name for g, _ in grads_and_vars] == ["tuple/control_dependency:0",
                                                       "tuple/control_dependency_1:0"]
        ungated = opt.compute_gradients(loss, var_list=[b], gate_gradients=opt.GATE_NONE)
        assert ungated[0][0].name.startswith("gradients_1/add_grad/")
        assert "tuple" not in ungated[0][0].name
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            grad_w, grad_b = sess.run([g for g, _ in grads_and_vars])
        np.testing.assert_array_equal(grad_w, np.ones((3, 2)))
        np.testing.assert_array_equal(grad_b, [1.0, 1.0])


def test_sparse_gradient_uses_the_sparse_kernel_after_summing_duplicates():
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(W0, name="w")
        rows = tf.constant([2, 0, 2])
        values = tf.constant(GRADS[0][0])
        opt = tf.train.MomentumOptimizer(0.1, 0.9)
        train = opt.apply_gradients([(IndexedSlices(values, rows, tf.constant([3, 2])), w)])
        assert graph.get_operation_by_name("Momentum/update_w/SparseApplyMomentum")
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            got = sess.run(w)
    want = W0.astype(np.float64)
    want[0] -= 0.1 * GRADS[0][0][1]
    want[2] -= 0.1 * (GRADS[0][0][0] + GRADS[0][0][2])
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_gradient_descent_sparse_update_is_a_scatter_sub():
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(W0, name="w")
        grad = IndexedSlices(tf.constant([[1.0, 2.0], [3.0, 4.0]]), tf.constant([1, 1]))
        train = tf.train.GradientDescentOptimizer(0.5).apply_gradients([(grad, w)])
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            got = sess.run(w)
    want = W0.copy()
    want[1] -= 0.5 * np.array([4.0, 6.0], np.float32)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_errors():
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(W0, name="w")
        opt = tf.train.GradientDescentOptimizer(0.1)
        with pytest.raises(ValueError, match="No gradients provided for any variable"):
            opt.apply_gradients([(None, w)])
        with pytest.raises(ValueError, match="No variables provided"):
            opt.apply_gradients([])
        with pytest.raises(ValueError, match="Invalid type tf.int32 for Const"):
            opt.compute_gradients(tf.constant(1), var_list=[w])
        with pytest.raises(ValueError, match="gate_gradients must be one of"):
            opt.compute_gradients(tf.constant(1.0), var_list=[w], gate_gradients=7)
        with pytest.raises(ValueError, match="Must specify the optimizer name"):
            tf.train.GradientDescentOptimizer(0.1, name="")
        with pytest.raises(ValueError, match="initial_accumulator_value must be positive"):
            tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)


def test_global_step_helpers():
    graph = tf.Graph()
    with graph.as_default():
        assert tf.train.get_global_step() is None
        with tf.name_scope("inside"):
            step = tf.train.create_global_step()
        assert step.name == "global_step:0"
        assert step.dtype.base_dtype == tf.int64
        assert step.shape.as_list() == []
        assert not step.trainable
        assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [step]
        assert tf.train.get_global_step() is step
        assert tf.train.get_or_create_global_step() is step
        assert [op.name for op in graph.get_operations()] == [
            "global_step/Initializer/zeros", "global_step", "global_step/Assign",
            "global_step/read"]
        with pytest.raises(ValueError, match='"global_step" already exists'):
            tf.train.create_global_step()
        with tf.Session() as sess:
            sess.run(step.initializer)
            sess.run(tf.assign_add(step, 4))
            assert tf.train.global_step(sess, step) == 4
    other = tf.Graph()
    with other.as_default():
        tf.Variable(1.5, name="global_step")
        with pytest.raises(TypeError, match='does not have integer type'):
            tf.train.get_global_step()
        with pytest.raises(TypeError, match="is not scalar"):
            tf.train.assert_global_step(tf.Variable([1, 2], name="v"))


def test_resource_variable_updates_through_its_handle():
    from tensorkeep.ops.resource_variable_ops import ResourceVariable

    graph = tf.Graph()
    with graph.as_default():
        w = ResourceVariable(W0, name="w")
        loss = tf.reduce_sum(tf.square(w.read_value()))
        (grad, var), = tf.train.GradientDescentOptimizer(0.1).compute_gradients(loss)
        assert var is w
        train = tf.train.GradientDescentOptimizer(0.1).apply_gradients([(grad, w)])
        update = graph.get_operation_by_name("GradientDescent/update_w/"
                                             "ResourceApplyGradientDescent")
        assert update.inputs[0] is w.handle
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            got = sess.run(w.read_value())
    np.testing.assert_allclose(got, W0 - 0.1 * 2 * W0, rtol=1e-6)
