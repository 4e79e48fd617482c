"""TF1 control flow: the dataflow executor (dead tokens, Merge, frames, nested loops), tf.cond /
tf.while_loop / tf.case / tf.TensorArray graph structure, and interop with real TensorFlow:
the same programs build node-for-node identical GraphDefs and compute the same values, and each
side's GraphDef runs on the other."""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep import errors

from control_flow_cases import CASES, DRIVER
from driver_interop import (assert_graph_defs_run_on_both_sides, assert_same_nodes,
                            assert_same_results, describe_in_both)

_DRIVER_SCOPE = {"tf": tf}
exec(DRIVER, _DRIVER_SCOPE)  # noqa: S102 (the shared driver, run with tensorkeep as tf)


def _values(result):
    return [np.array(r["values"]).reshape(r["shape"]) if isinstance(r, dict) else r
            for r in result]


# --- runtime semantics (no TensorFlow needed) -------------------------------------------------------

def test_cond_runs_only_the_taken_branch():
    with tf.Graph().as_default():
        v = tf.Variable(0, name="v")
        p = tf.placeholder(tf.bool, [])
        out = tf.cond(p, lambda: tf.assign_add(v, 1), lambda: tf.assign_add(v, 100))
        with tf.Session() as sess:
            sess.run(v.initializer)
            assert sess.run(out, {p: True}) == 1
            assert sess.run(out, {p: True}) == 2
            assert sess.run(out, {p: False}) == 102
            assert sess.run(v) == 102


def test_fetching_the_untaken_branch_is_an_error():
    with tf.Graph().as_default() as graph:
        p = tf.placeholder(tf.bool, [])
        x = tf.constant(3.0)
        false_out, true_out = _switch(x, p)
        doubled = true_out * 2.0
        with tf.Session(graph=graph) as sess:
            assert sess.run(doubled, {p: True}) == 6.0
            with pytest.raises(errors.InvalidArgumentError, match="does not have value"):
                sess.run(doubled, {p: False})
            # An op target on the dead branch is skipped, not an error.
            assert sess.run(doubled.op, {p: False}) is None


def _switch(x, p):
    from tensorkeep.ops import control_flow_ops

    return control_flow_ops.switch(x, p)


def test_merge_takes_the_live_input_and_reports_its_index():
    from tensorkeep.ops import control_flow_ops

    with tf.Graph().as_default():
        p = tf.placeholder(tf.bool, [])
        f, t = control_flow_ops.switch(tf.constant([1, 2]), p)
        merged, index = control_flow_ops.merge([f * 10, t * 100])
        with tf.Session() as sess:
            value, which = sess.run([merged, index], {p: True})
            assert value.tolist() == [100, 200] and which == 1
            value, which = sess.run([merged, index], {p: False})
            assert value.tolist() == [10, 20] and which == 0


def test_while_loop_in_untaken_branch_produces_dead_exits():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.bool, [])
        loop = lambda: tf.while_loop(lambda i: i < 5, lambda i: i + 1, [tf.constant(0)])  # noqa
        out = tf.cond(p, loop, lambda: tf.constant(-1))
        with tf.Session() as sess:
            assert sess.run(out, {p: True}) == 5
            assert sess.run(out, {p: False}) == -1


def test_loop_constants_are_visible_in_every_iteration_of_nested_loops():
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int32, [])

        def outer(i, total):
            inner = tf.while_loop(lambda j, t: j < i, lambda j, t: (j + 1, t + step),
                                  [0, total])
            return i + 1, inner[1]
        _, total = tf.while_loop(lambda i, t: i < 4, outer, [0, 0])
        with tf.Session() as sess:
            # sum over i = 0..3 of i * step
            assert sess.run(total, {step: 3}) == 18


def test_plain_graphs_keep_the_flat_executor():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2])
        y = x * 2.0
        with tf.Session() as sess:
            sess.run(y, {x: [1.0, 2.0]})
            plan = next(iter(sess._plans.values()))
            assert plan.runner is None and plan.steps
        p = tf.placeholder(tf.bool, [])
        z = tf.cond(p, lambda: y, lambda: x)
        with tf.Session() as sess:
            sess.run(z, {x: [1.0, 2.0], p: True})
            plan = next(iter(sess._plans.values()))
            assert plan.runner is not None


def test_branch_ops_are_not_fetchable_as_in_tensorflow():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.bool, [])
        captured = []

        def branch():
            captured.append(tf.constant(1.0) * 2.0)
            return captured[-1]
        tf.cond(p, branch, lambda: tf.constant(0.0))
        with tf.Session() as sess:
            with pytest.raises(ValueError, match="not fetchable"):
                sess.run(captured[0], {p: True})


def test_shape_invariant_violation_is_reported():
    with tf.Graph().as_default():
        x = tf.zeros([1, 2])
        with pytest.raises(ValueError, match="shape_invariants"):
            tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, tf.concat([s, s], 0)),
                          (0, x))


def test_assert_fails_with_its_data():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.int32, [])
        check = tf.Assert(x > 0, ["x must be positive, got", x])
        with tf.Session() as sess:
            sess.run(check, {x: 1})
            with pytest.raises(errors.InvalidArgumentError, match=r"\[x must be positive, got\] "
                               r"\[-4\]"):
                sess.run(check, {x: -4})


def test_while_gradient_runs_the_loop_backwards():
    """(tests/test_while_loop_gradients.py checks loop gradients against TensorFlow.)"""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [])
        y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), [0, x])[1]
        grad, = tf.gradients(y, x)
        with tf.Session() as sess:
            assert sess.run(grad, {x: 2.0}) == pytest.approx(4 * 2.0 ** 3)  # d(x**4)/dx


def test_imported_control_flow_graph_runs():
    """A TF1-era while loop as TensorFlow writes it (imported from a GraphDef) runs here."""
    graph, fetch_names, init_name, runs = _DRIVER_SCOPE["build_case"](CASES["nested_while"])
    graph_def = graph.as_graph_def()
    with tf.Graph().as_default() as imported:
        tf.import_graph_def(graph_def, name="")
    direct = _DRIVER_SCOPE["_run"](graph, fetch_names, init_name, runs)
    again = _DRIVER_SCOPE["_run"](imported, fetch_names, init_name, runs)
    assert direct == again
    # 3 outer iterations, i + 1 inner iterations each, adding w * x = 3 each time.
    assert _values(direct[0])[1] == pytest.approx(18.0)


# --- against real TensorFlow ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tensorflow_results():
    """Builds every case in both systems; TensorFlow also runs tensorkeep's GraphDefs, and
    tensorkeep TensorFlow's."""
    ours, theirs, _ = describe_in_both(_DRIVER_SCOPE, CASES)
    return ours, theirs


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_graphs_match_tensorflow(tensorflow_results, name):
    ours, theirs = tensorflow_results
    assert_same_nodes(ours[name]["nodes"], theirs[name]["nodes"])


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_tensorflow(tensorflow_results, name):
    ours, theirs = tensorflow_results
    assert_same_results(ours[name]["results"], theirs[name]["results"], name)


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_graph_defs_run_on_the_other_side(tensorflow_results, name):
    ours, theirs = tensorflow_results
    assert_graph_defs_run_on_both_sides(_DRIVER_SCOPE, CASES[name], theirs[name], name)

