"""Ops reached only through control edges run as no-ops (tensorkeep/runtime/executor.py
`ops_run_as_noop`), as TensorFlow's grappler dependency optimizer turns them into NoOps: not
fetched, free of side effects, outputs read as data by no op that runs. Their work and their
errors do not happen; stateful ops, placeholders, variable reads and fetched ops still run, and
control ordering is kept. Behaviours checked against real TensorFlow where it shows them."""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import errors, op_builder, op_def
from tensorkeep.ops import _helpers
from tensorkeep.runtime import executor

import tf_oracle

calls = {"stateless": 0, "stateful": 0}


def _raising_probe(x):
    calls["stateless"] += 1
    raise ValueError("the probe kernel ran")


def _counting_probe(x):
    calls["stateful"] += 1
    return x


op_def.register_op("PruningRaisingProbe", inputs=["x: T"], outputs=["y: T"], attrs=["T: type"],
                   compute=_raising_probe, shape=_helpers.unchanged_shape)
op_def.register_op("PruningStatefulProbe", inputs=["x: T"], outputs=["y: T"],
                   attrs=["T: type"], stateful=True, compute=_counting_probe,
                   shape=_helpers.unchanged_shape)


@pytest.fixture(autouse=True)
def reset_calls():
    calls.update(stateless=0, stateful=0)


def _probe(op_type, x):
    return op_builder.apply_op(op_type, x=x)


def test_stateless_op_reached_only_through_a_control_edge_does_not_run():
    with tf.Graph().as_default():
        c = tf.constant(2.0)
        probe = _probe("PruningRaisingProbe", c)
        with tf.control_dependencies([probe.op]):
            out = tf.identity(c)
        with tf.Session() as sess:
            assert sess.run(out) == 2.0
            with tf.control_dependencies([probe.op]):
                group = tf.no_op()
            sess.run(group)
    assert calls["stateless"] == 0


def test_inputs_read_only_by_skipped_ops_are_skipped_too():
    with tf.Graph().as_default():
        c = tf.constant(2.0)
        inner = _probe("PruningRaisingProbe", c)
        outer = tf.square(inner)  # reads inner; itself read by nothing that runs
        with tf.control_dependencies([outer.op]):
            out = tf.identity(c)
        with tf.Session() as sess:
            assert sess.run(out) == 2.0
    assert calls["stateless"] == 0


def test_fetched_ops_still_run():
    with tf.Graph().as_default():
        c = tf.constant(2.0)
        probe = _probe("PruningRaisingProbe", c)
        with tf.control_dependencies([probe.op]):
            out = tf.identity(c)
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="the probe kernel ran"):
                sess.run([out, probe])
            with pytest.raises(errors.InvalidArgumentError, match="the probe kernel ran"):
                sess.run(probe.op)
    assert calls["stateless"] == 2


def test_an_op_read_as_data_by_a_running_op_runs():
    with tf.Graph().as_default():
        c = tf.constant(2.0)
        probe = _probe("PruningRaisingProbe", c)
        skipped = tf.square(probe)
        with tf.control_dependencies([skipped.op]):
            out = tf.identity(probe)  # data read: the probe must run
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="the probe kernel ran"):
                sess.run(out)
    assert calls["stateless"] == 1


def test_stateful_ops_reached_only_through_control_edges_run():
    with tf.Graph().as_default():
        v = tf.Variable(0.0)
        probe = _probe("PruningStatefulProbe", tf.constant(1.0))
        increment = tf.assign_add(v, 1.0)
        with tf.control_dependencies([probe.op, increment.op]):
            out = tf.constant(5.0) + 0.0
        with tf.Session() as sess:
            sess.run(v.initializer)
            sess.run(out)
            sess.run(out)
            assert sess.run(v) == 2.0
    assert calls["stateful"] == 2


def test_control_ordering_through_a_skipped_op_is_kept():
    # second_write reads v after `doubled` "completes", which needs first_write: the skipped op
    # still orders its inputs before its control consumers.
    with tf.Graph().as_default():
        v = tf.Variable(0.0)
        w = tf.Variable(0.0)
        first_write = tf.assign(v, 3.0)
        doubled = first_write * 2.0
        with tf.control_dependencies([doubled.op]):
            second_write = tf.assign(w, v.read_value() + 1.0)
        with tf.Session() as sess:
            sess.run([v.initializer, w.initializer])
            assert sess.run(second_write) == 4.0


def test_unfed_placeholder_reached_through_a_control_edge_still_demands_its_feed():
    with tf.Graph().as_default():
        unfed = tf.placeholder(tf.float32, [2])
        with tf.control_dependencies([unfed.op]):
            out = tf.identity(tf.constant(4.0))
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="must feed a value"):
                sess.run(out)


def test_read_of_an_uninitialized_variable_reached_through_a_control_edge_still_fails():
    with tf.Graph().as_default():
        v = tf.Variable(1.0)
        with tf.control_dependencies([v.value().op]):
            out = tf.identity(tf.constant(4.0))
        with tf.Session() as sess:
            with pytest.raises(errors.FailedPreconditionError, match="uninitialized"):
                sess.run(out)


# --- against TensorFlow ----------------------------------------------------------------------

CONTROL_ONLY_PROGRAM = """
import numpy as np
graph = tf.Graph()
with graph.as_default():
    p = tf.placeholder(tf.float32, None)
    bad = tf.reshape(p, [7])  # fails at run time for a 4-element feed
    with tf.control_dependencies([bad.op]):
        out = tf.identity(tf.constant(3.0))
    tf.set_random_seed(1)
    r = tf.random_uniform([3], seed=2)
    with tf.control_dependencies([r.op]):
        after_random = tf.no_op()
    result = {}
    with tf.Session() as sess:
        result["control_only"] = float(sess.run(out, {p: [1.0, 2.0, 3.0, 4.0]}))
        try:
            sess.run(bad, {p: [1.0, 2.0, 3.0, 4.0]})
            result["fetched"] = "ran"
        except tf.errors.InvalidArgumentError:
            result["fetched"] = "InvalidArgumentError"
    with tf.Session() as sess:  # a stateful random op reached only through a control edge
        sess.run(after_random)
        result["random_second_draw"] = sess.run(r).tolist()
emit(result)
"""


@pytest.mark.tf
def test_control_only_behaviour_matches_tensorflow():
    tf_oracle.require_tensorflow()
    theirs = tf_oracle.run_tensorflow(CONTROL_ONLY_PROGRAM)
    namespace = {"tf": tf, "emit": lambda obj: namespace.__setitem__("ours", obj)}
    exec(CONTROL_ONLY_PROGRAM, namespace)
    ours = namespace["ours"]
    assert ours["control_only"] == theirs["control_only"] == 3.0
    assert ours["fetched"] == theirs["fetched"] == "InvalidArgumentError"
    np.testing.assert_array_equal(ours["random_second_draw"], theirs["random_second_draw"])


STATEFULNESS_PROGRAM = """
from tensorflow.python.framework import op_def_registry
emit({name: op_def_registry.get(name).is_stateful for name in %r
      if op_def_registry.get(name) is not None})
"""


@pytest.mark.tf
def test_registry_statefulness_matches_tensorflow():
    # The rule trusts `is_stateful`: an op wrongly marked stateless could be skipped.
    tf_oracle.require_tensorflow()
    names = sorted(op_def.load_all_ops())
    theirs = tf_oracle.run_tensorflow(STATEFULNESS_PROGRAM % (names,))
    assert len(theirs) > 300
    differing = {name: stateful for name, stateful in theirs.items()
                 if bool(op_def.REGISTRY[name].is_stateful) != stateful}
    assert differing == {}


# --- the MLP training step ---------------------------------------------------------------------

MLP_PROGRAM = """
import numpy as np
rng = np.random.default_rng(7)
initial = {"w1": rng.normal(0, 0.05, (784, 500)).astype(np.float32),
           "b1": rng.normal(0, 0.05, 500).astype(np.float32),
           "w2": rng.normal(0, 0.05, (500, 10)).astype(np.float32),
           "b2": rng.normal(0, 0.05, 10).astype(np.float32)}
batches = [(rng.standard_normal((100, 784)).astype(np.float32),
            rng.integers(0, 10, 100).astype(np.int64)) for _ in range(3)]
result = {}
for name in ("SGD", "Adam"):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 784])
        labels = tf.placeholder(tf.int64, [None])
        variables = {key: tf.Variable(value, name=key) for key, value in initial.items()}
        hidden = tf.nn.relu(tf.matmul(x, variables["w1"]) + variables["b1"])
        logits = tf.matmul(hidden, variables["w2"]) + variables["b2"]
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                             logits=logits))
        optimizer = (tf.train.AdamOptimizer(1e-3) if name == "Adam"
                     else tf.train.GradientDescentOptimizer(0.1))
        train = optimizer.minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for images, targets in batches:
                sess.run(train, {x: images, labels: targets})
            result[name] = {key: value.tolist() for key, value in
                            sess.run(variables).items()}
emit(result)
"""


def _run_mlp_program():
    namespace = {"tf": tf, "emit": lambda obj: namespace.__setitem__("result", obj)}
    exec(MLP_PROGRAM, namespace)
    return namespace["result"]


def test_mlp_train_step_skips_only_the_gradient_with_respect_to_the_input():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        labels = tf.placeholder(tf.int64, [None])
        w1 = tf.Variable(np.ones((4, 3), np.float32))
        w2 = tf.Variable(np.ones((3, 2), np.float32))
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                             logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        graph = tf.get_default_graph()
        skipped = executor.ops_run_as_noop(
            executor.topological_order(graph, [train], {x: 0, labels: 1}), [train],
            {x: 0, labels: 1})
    assert sorted(op.name for op in skipped) == ["gradients/MatMul_grad/MatMul"]


def test_mlp_training_gives_the_same_variables_with_and_without_skipping(monkeypatch):
    with_skipping = _run_mlp_program()
    monkeypatch.setattr(executor, "ops_run_as_noop", lambda *args: set())
    without_skipping = _run_mlp_program()
    for name in ("SGD", "Adam"):
        for key in ("w1", "b1", "w2", "b2"):
            np.testing.assert_array_equal(with_skipping[name][key],
                                          without_skipping[name][key])


@pytest.mark.tf
def test_mlp_training_matches_tensorflow():
    tf_oracle.require_tensorflow()
    theirs = tf_oracle.run_tensorflow(MLP_PROGRAM)
    ours = _run_mlp_program()
    for name in ("SGD", "Adam"):
        for key in ("w1", "b1", "w2", "b2"):
            np.testing.assert_allclose(np.asarray(ours[name][key], np.float32),
                                       np.asarray(theirs[name][key], np.float32),
                                       rtol=1e-4, atol=2e-6, err_msg="%s %s" % (name, key))
