"""Training ops (Apply*, SparseApply*): update math against textbook NumPy formulas computed in
float64, ref semantics, shape checks and errors. (OpDefs and end-to-end numbers are compared
with real TensorFlow in test_training_tf_parity.py.)"""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import errors
from tensorkeep.ops import training_ops

RNG = np.random.default_rng(3)
VAR0 = RNG.standard_normal((3, 4)).astype(np.float32)
GRADS = [RNG.standard_normal((3, 4)).astype(np.float32) for _ in range(3)]


def _run_steps(build, slots, steps=3, step_feeds=None):
    """Runs the op built by build(var, slot_vars, grad_placeholder) once per gradient; returns
    the final variable and slot values. step_feeds(t) adds feeds for step t = 1, 2, ..."""
    graph = tf.Graph()
    with graph.as_default():
        var = tf.Variable(VAR0, name="var")
        slot_vars = [tf.Variable(np.full_like(VAR0, init), name=name) for name, init in slots]
        grad = tf.placeholder(tf.float32, VAR0.shape, name="grad")
        update, extra = build(var, slot_vars, grad), {}
        if isinstance(update, tuple):
            update, extra = update
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            for t, g in enumerate(GRADS[:steps], start=1):
                feeds = {grad: g}
                if step_feeds:
                    feeds.update({extra[k]: v for k, v in step_feeds(t).items()})
                out = sess.run(update, feeds)
            final = sess.run([var] + slot_vars)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, final[0])  # the op outputs the updated variable
    return [np.asarray(v) for v in final]


def _close(got, want):
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)


def test_gradient_descent():
    (var,) = _run_steps(lambda v, s, g: training_ops.apply_gradient_descent(v, 0.1, g), [])
    _close(var, VAR0.astype(np.float64) - 0.1 * sum(g.astype(np.float64) for g in GRADS))


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum(nesterov):
    var, accum = _run_steps(lambda v, s, g: training_ops.apply_momentum(
        v, s[0], 0.1, g, 0.9, use_nesterov=nesterov), [("accum", 0.0)])
    want_var, want_accum = VAR0.astype(np.float64), np.zeros(VAR0.shape)
    for g in GRADS:
        want_accum = 0.9 * want_accum + g
        if nesterov:  # the look-ahead step: var -= lr * (grad + momentum * accum)
            want_var = want_var - 0.1 * (g + 0.9 * want_accum)
        else:
            want_var = want_var - 0.1 * want_accum
    _close(var, want_var)
    _close(accum, want_accum)


@pytest.mark.parametrize("nesterov", [False, True])
def test_adam(nesterov):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7

    def build(v, s, g):
        powers = {"b1": tf.placeholder(tf.float32, []), "b2": tf.placeholder(tf.float32, [])}
        return training_ops.apply_adam(v, s[0], s[1], powers["b1"], powers["b2"], lr, b1, b2,
                                       eps, g, use_nesterov=nesterov), powers
    var, m, v = _run_steps(build, [("m", 0.0), ("v", 0.0)],
                           step_feeds=lambda t: {"b1": b1 ** t, "b2": b2 ** t})
    want_var, want_m, want_v = VAR0.astype(np.float64), np.zeros(VAR0.shape), np.zeros(VAR0.shape)
    for t, g in enumerate(GRADS, start=1):
        want_m = b1 * want_m + (1 - b1) * g
        want_v = b2 * want_v + (1 - b2) * g * g
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m_used = b1 * want_m + (1 - b1) * g if nesterov else want_m
        want_var = want_var - alpha * m_used / (np.sqrt(want_v) + eps)
    _close(m, want_m)
    _close(v, want_v)
    _close(var, want_var)


def test_rms_prop():
    var, ms, mom = _run_steps(lambda v, s, g: training_ops.apply_rms_prop(
        v, s[0], s[1], 0.01, 0.9, 0.5, 1e-6, g), [("ms", 1.0), ("mom", 0.0)])
    want_var, want_ms, want_mom = VAR0.astype(np.float64), np.ones(VAR0.shape), np.zeros(VAR0.shape)
    for g in GRADS:
        want_ms = 0.9 * want_ms + 0.1 * g * g
        want_mom = 0.5 * want_mom + 0.01 * g / np.sqrt(want_ms + 1e-6)
        want_var = want_var - want_mom
    _close(ms, want_ms)
    _close(mom, want_mom)
    _close(var, want_var)


def test_centered_rms_prop():
    var, mg, ms, mom = _run_steps(lambda v, s, g: training_ops.apply_centered_rms_prop(
        v, s[0], s[1], s[2], 0.01, 0.9, 0.5, 1e-6, g), [("mg", 0.0), ("ms", 1.0), ("mom", 0.0)])
    want = [VAR0.astype(np.float64), np.zeros(VAR0.shape), np.ones(VAR0.shape),
            np.zeros(VAR0.shape)]
    for g in GRADS:
        w_var, w_mg, w_ms, w_mom = want
        w_ms = 0.9 * w_ms + 0.1 * g * g
        w_mg = 0.9 * w_mg + 0.1 * g
        w_mom = 0.5 * w_mom + 0.01 * g / np.sqrt(w_ms - w_mg ** 2 + 1e-6)
        want = [w_var - w_mom, w_mg, w_ms, w_mom]
    for got, expected in zip([var, mg, ms, mom], want):
        _close(got, expected)


@pytest.mark.parametrize("update_slots", [True, False])
def test_adagrad(update_slots):
    var, accum = _run_steps(lambda v, s, g: training_ops.apply_adagrad(
        v, s[0], 0.1, g, update_slots=update_slots), [("accum", 0.1)])
    want_var, want_accum = VAR0.astype(np.float64), np.full(VAR0.shape, 0.1)
    for g in GRADS:
        if update_slots:
            want_accum = want_accum + g * g
        want_var = want_var - 0.1 * g / np.sqrt(want_accum)
    _close(accum, want_accum)
    _close(var, want_var)


def test_adadelta():
    var, accum, accum_update = _run_steps(lambda v, s, g: training_ops.apply_adadelta(
        v, s[0], s[1], 1.0, 0.95, 1e-6, g), [("accum", 0.0), ("accum_update", 0.0)])
    want_var, want_accum, want_update = VAR0.astype(np.float64), np.zeros(VAR0.shape), \
        np.zeros(VAR0.shape)
    for g in GRADS:
        want_accum = 0.95 * want_accum + 0.05 * g * g
        step = np.sqrt(want_update + 1e-6) / np.sqrt(want_accum + 1e-6) * g
        want_var = want_var - step
        want_update = 0.95 * want_update + 0.05 * step * step
    _close(accum, want_accum)
    _close(accum_update, want_update)
    _close(var, want_var)


@pytest.mark.parametrize("l1", [0.0, 0.05])
def test_proximal_gradient_descent(l1):
    (var,) = _run_steps(lambda v, s, g: training_ops.apply_proximal_gradient_descent(
        v, 0.1, l1, 0.2, g), [])
    want = VAR0.astype(np.float64)
    for g in GRADS:
        prox = want - 0.1 * g
        want = np.sign(prox) * np.maximum(np.abs(prox) - 0.1 * l1, 0) / (1 + 0.1 * 0.2)
    _close(var, want)


def test_ftrl():
    lr, l1, l2 = 0.1, 0.01, 0.02
    var, accum, linear = _run_steps(lambda v, s, g: training_ops.apply_ftrl(
        v, s[0], s[1], g, lr, l1, l2, -0.5), [("accum", 0.1), ("linear", 0.0)])
    w, n, z = VAR0.astype(np.float64), np.full(VAR0.shape, 0.1), np.zeros(VAR0.shape)
    for g in GRADS:
        new_n = n + g * g
        z = z + g - (np.sqrt(new_n) - np.sqrt(n)) / lr * w
        n = new_n
        w = np.where(np.abs(z) > l1, (np.sign(z) * l1 - z) / (np.sqrt(n) / lr + 2 * l2), 0.0)
    _close(accum, n)
    _close(linear, z)
    _close(var, w)


def test_sparse_momentum_applies_repeated_indices_in_turn():
    graph = tf.Graph()
    with graph.as_default():
        var = tf.Variable(VAR0, name="var")
        accum = tf.Variable(np.zeros_like(VAR0), name="accum")
        rows = np.array([2, 0, 2], np.int64)
        values = GRADS[0][:3]
        update = training_ops.sparse_apply_momentum(var, accum, 0.1, values, rows, 0.9)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            got_var = sess.run(update)
            got_accum = sess.run(accum)
    want_var, want_accum = VAR0.astype(np.float64), np.zeros(VAR0.shape)
    for row, g in zip(rows, values):
        want_accum[row] = 0.9 * want_accum[row] + g
        want_var[row] -= 0.1 * want_accum[row]
    _close(got_var, want_var)
    _close(got_accum, want_accum)


@pytest.mark.parametrize("op_name", ["adagrad", "rms_prop", "centered_rms_prop", "adadelta"])
def test_sparse_updates_equal_dense_on_the_touched_rows(op_name):
    """With distinct indices, a sparse step changes exactly the named rows, as the dense step
    with the same rows of gradient (and zeros elsewhere untouched) would."""
    slot_inits = {"adagrad": [0.1], "rms_prop": [1.0, 0.0], "centered_rms_prop": [0.0, 1.0, 0.0],
                  "adadelta": [0.0, 0.0]}[op_name]
    hyper = {"adagrad": [0.1], "rms_prop": [0.01, 0.9, 0.5, 1e-6],
             "centered_rms_prop": [0.01, 0.9, 0.5, 1e-6], "adadelta": [1.0, 0.95, 1e-6]}[op_name]
    rows = np.array([2, 0], np.int32)
    results = {}
    for kind in ("sparse", "dense"):
        graph = tf.Graph()
        with graph.as_default():
            var = tf.Variable(VAR0, name="var")
            slots = [tf.Variable(np.full_like(VAR0, i), name="s%d" % k)
                     for k, i in enumerate(slot_inits)]
            if kind == "sparse":
                update = getattr(training_ops, "sparse_apply_" + op_name)(
                    var, *slots, *hyper, GRADS[1][rows], rows)
            else:
                update = getattr(training_ops, "apply_" + op_name)(var, *slots, *hyper, GRADS[1])
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                sess.run(update)
                results[kind] = sess.run([var] + slots)
    for sparse, dense in zip(results["sparse"], results["dense"]):
        np.testing.assert_allclose(sparse[rows], dense[rows], rtol=1e-6)
    np.testing.assert_array_equal(results["sparse"][0][1], VAR0[1])


def test_update_replaces_the_stored_array_instead_of_writing_into_it():
    graph = tf.Graph()
    with graph.as_default():
        var = tf.Variable(VAR0, name="var")
        before = tf.identity(var)
        update = training_ops.apply_gradient_descent(var, 1.0, GRADS[0])
        with tf.Session(graph=graph) as sess:
            sess.run(var.initializer)
            old = sess.run(var)
            sess.run(update)
            np.testing.assert_array_equal(old, VAR0)
            np.testing.assert_array_equal(sess.run(before), VAR0 - GRADS[0])


def test_graph_shape_and_names():
    graph = tf.Graph()
    with graph.as_default():
        var = tf.Variable(VAR0, name="var")
        accum = tf.Variable(np.zeros_like(VAR0), name="accum")
        out = training_ops.apply_momentum(var, accum, 0.1, GRADS[0], 0.9, name="train")
    assert out.name == "train:0"
    assert out.dtype == tf.float32._as_ref
    assert out.shape.as_list() == [3, 4]
    assert out.op.get_attr("use_nesterov") is False
    assert out.op.get_attr("use_locking") is False
    assert out.op.colocation_groups == [b"loc:@var"]
    assert [t.name for t in out.op.inputs] == ["var:0", "accum:0", "train/lr:0", "train/grad:0",
                                               "train/momentum:0"]


def test_shape_mismatch_and_uninitialized_errors():
    graph = tf.Graph()
    with graph.as_default():
        var = tf.Variable(VAR0, name="var")
        accum = tf.Variable(np.zeros((4, 3), np.float32), name="accum")
        grad = tf.placeholder(tf.float32)
        wrong_slot = training_ops.apply_adagrad(var, accum, 0.1, grad)
        lr = tf.placeholder(tf.float32)
        wrong_lr = training_ops.apply_gradient_descent(var, lr, grad)
        with tf.Session(graph=graph) as sess:
            with pytest.raises(errors.FailedPreconditionError, match="uninitialized value var"):
                sess.run(wrong_lr, {lr: 0.1, grad: GRADS[0]})
            sess.run(tf.global_variables_initializer())
            with pytest.raises(errors.InvalidArgumentError,
                               match=r"var and accum do not have the same shape\[3,4\] \[4,3\]"):
                sess.run(wrong_slot, {grad: GRADS[0]})
            with pytest.raises(errors.InvalidArgumentError,
                               match=r"var and delta do not have the same shape\[3,4\] \[4\]"):
                sess.run(wrong_lr, {lr: 0.1, grad: np.ones(4, np.float32)})
            with pytest.raises(errors.InvalidArgumentError, match=r"alpha is not a scalar: \[2\]"):
                sess.run(wrong_lr, {lr: [0.1, 0.2], grad: GRADS[0]})


def test_sparse_index_out_of_range():
    graph = tf.Graph()
    with graph.as_default():
        var = tf.Variable(VAR0, name="var")
        accum = tf.Variable(np.zeros_like(VAR0), name="accum")
        update = training_ops.sparse_apply_adagrad(var, accum, 0.1, GRADS[0][:2], [1, 3])
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(errors.InvalidArgumentError,
                               match="Index 3 at offset 1 in indices is out of range"):
                sess.run(update)
