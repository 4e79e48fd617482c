"""tf.gradients through TF1 while loops (TensorFlow 1.x's algorithm: iteration counters, a
gradient loop running backwards, forward values saved on stacks, loop invariants' gradients
summed by accumulator loops), checked against real TensorFlow: the same programs compute the
same values, build the same GraphDefs, and each side's GraphDef runs on the other."""

import numpy as np
import pytest

import tensorkeep as tf

from control_flow_cases import DRIVER
from driver_interop import assert_same_nodes, describe_in_both
from tf_oracle import run_tensorflow
from while_grad_cases import CASES

_DRIVER_SCOPE = {"tf": tf}
exec(DRIVER, _DRIVER_SCOPE)  # noqa: S102 (the shared driver, run with tensorkeep as tf)


def _scalar_loop():
    x = tf.placeholder(tf.float32, [], name="x")
    w = tf.placeholder(tf.float32, [], name="w")
    _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * w), [0, x])
    return x, w, y


def test_scalar_loop_gradients_follow_the_chain_rule():
    with tf.Graph().as_default():
        x, w, y = _scalar_loop()
        gx, gw = tf.gradients(y, [x, w])
        with tf.Session() as sess:
            values = sess.run([y, gx, gw], {x: 1.5, w: 2.0})
    # y = x * w**3
    np.testing.assert_allclose(values, [12.0, 8.0, 3 * 1.5 * 4.0])


def test_gradient_graph_has_tensorflows_loop_machinery():
    with tf.Graph().as_default() as graph:
        x, w, y = _scalar_loop()
        tf.gradients(y, [x, w])
        by_name = {op.name: op.type for op in graph.get_operations()}
    types = set(by_name.values())
    assert {"StackV2", "StackPushV2", "StackPopV2", "Enter", "Exit", "Merge", "Switch",
            "NextIteration", "LoopCond", "ControlTrigger"} <= types
    # The forward loop counts its iterations, the gradient loop counts them down.
    assert by_name["gradients/f_count"] == "Const"
    assert by_name["gradients/b_count"] == "Const"
    assert any(name.endswith("f_acc") and kind == "StackV2" for name, kind in by_name.items())
    # w's gradient is summed over the iterations by an accumulator loop.
    assert by_name["gradients/while/mul/Enter_grad/b_acc"] == "Const"
    assert by_name["gradients/while/mul/Enter_grad/b_acc_3"] == "Exit"


def test_sparse_gradient_of_a_loop_result():
    """IndexedSlices enter the gradient loop component by component (TensorFlow 2.21 itself
    fails on this graph: its edge update checks the dense shape against the slices')."""
    with tf.Graph().as_default():
        v0 = tf.placeholder(tf.float32, [5, 3])
        _, v = tf.while_loop(lambda t, v: t < 4, lambda t, v: (t + 1, v * 0.5), [0, v0])
        grad, = tf.gradients(tf.reduce_sum(tf.gather(v, [1, 3, 1])), [v0])
        with tf.Session() as sess:
            value = sess.run(tf.convert_to_tensor(grad), {v0: np.ones([5, 3])})
    expected = np.zeros([5, 3])
    expected[1], expected[3] = 2 * 0.5 ** 4, 0.5 ** 4
    np.testing.assert_allclose(value, expected)


def test_loop_without_backprop_has_no_gradient():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [])
        _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), [0, x],
                             back_prop=False)
        assert tf.gradients(y, [x]) == [None]


def test_second_order_gradient_through_a_loop_is_a_clear_error():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [])
        _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), [0, x])
        g = tf.gradients(y, x)[0]
        with pytest.raises(TypeError, match="Second-order gradient for while loops"):
            tf.gradients(g, x)


# --- against real TensorFlow ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tensorflow_results():
    """(ours, theirs): every case built and run by tensorkeep and by TensorFlow (one
    process), TensorFlow also running tensorkeep's GraphDefs (theirs[name]["runs_ours"])."""
    ours, theirs, _ = describe_in_both(_DRIVER_SCOPE, CASES)
    return ours, theirs


def _assert_close_results(ours, theirs, where):
    """Run by run, the same dtypes and shapes, values within rel 1e-5: float32 products
    summed in another order (BLAS vs Eigen) differ in the last bits, which a gradient
    through several iterations amplifies a little."""
    assert len(ours) == len(theirs), where
    for run_index, (mine, reference) in enumerate(zip(ours, theirs)):
        assert not isinstance(reference, dict) and not isinstance(mine, dict), \
            (where, mine, reference)
        for value, expected in zip(mine, reference):
            assert (value["dtype"], value["shape"]) == (expected["dtype"], expected["shape"]), \
                where
            np.testing.assert_allclose(value["values"], expected["values"], rtol=1e-5,
                                       atol=1e-7, err_msg="%s run %d" % (where, run_index))


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_tensorflow(tensorflow_results, name):
    ours, theirs = tensorflow_results
    _assert_close_results(ours[name]["results"], theirs[name]["results"], name)


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_graphs_match_tensorflow(tensorflow_results, name):
    ours, theirs = tensorflow_results
    assert_same_nodes(ours[name]["nodes"], theirs[name]["nodes"])


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_graph_defs_run_on_the_other_side(tensorflow_results, name):
    """TensorFlow runs tensorkeep's gradient GraphDef, and tensorkeep TensorFlow's: both
    compute TensorFlow's values."""
    _, theirs = tensorflow_results
    reference = theirs[name]
    _assert_close_results(reference["runs_ours"], reference["results"],
                          name + " (tensorkeep's GraphDef in TensorFlow)")
    runs = _DRIVER_SCOPE["build_case"](CASES[name])[3]
    tensorkeep_runs = _DRIVER_SCOPE["run_graph_def"](reference["graph_def"],
                                                     reference["fetches"], reference["init"],
                                                     runs)
    _assert_close_results(tensorkeep_runs, reference["results"],
                          name + " (TensorFlow's GraphDef in tensorkeep)")


# --- meta graphs: loops and their gradients travel between the two systems -------------------------

_RNN_PROGRAM = """
xs = tf.placeholder(tf.float32, [4, 2, 3], name="xs")
h0 = tf.placeholder(tf.float32, [2, 4], name="h0")
W = tf.constant(0.1 * np.arange(-8, 8, dtype=np.float32).reshape(4, 4), name="W")
U = tf.constant(0.2 * np.arange(-6, 6, dtype=np.float32).reshape(3, 4), name="U")
def body(t, h):
    h = tf.cond(t < 2, lambda: tf.nn.tanh(tf.matmul(h, W) + tf.matmul(tf.gather(xs, t), U)),
                lambda: tf.nn.sigmoid(tf.matmul(h, W)))
    return t + 1, h
_, h = tf.while_loop(lambda t, h: t < 4, body, [0, h0], name="rnn")
loss = tf.reduce_sum(h * h, name="loss")
"""
_RNN_GRADIENTS = """
grads = tf.gradients(loss, [W, U, h0, xs])
"""
_RNN_FEED = {"xs:0": np.sin(np.arange(24)).reshape(4, 2, 3).tolist(),
             "h0:0": np.cos(np.arange(8)).reshape(2, 4).tolist()}


@pytest.mark.tf
def test_meta_graphs_with_loop_gradients_work_both_ways(tmp_path):
    """tensorkeep exports a loop and its gradient (WhileContextDefs of the forward loop in the
    meta graph): TensorFlow imports it and computes its own values. TensorFlow exports only
    the forward loop: tensorkeep imports it, differentiates the imported loop and gets
    TensorFlow's gradients."""
    ours_path = str(tmp_path / "ours.meta")
    with tf.Graph().as_default() as graph:
        scope = {"tf": tf, "np": np}
        exec(_RNN_PROGRAM + _RNN_GRADIENTS, scope)  # noqa: S102
        for grad in scope["grads"]:
            graph.add_to_collection("gradient_names", grad.name)
        tf.train.export_meta_graph(filename=ours_path)
    theirs_path = str(tmp_path / "theirs.meta")
    reference = run_tensorflow("""
import numpy as np
program, gradients_code, feed = %r, %r, %r
def run(sess, graph):
    names = [n.decode() if isinstance(n, bytes) else n
             for n in graph.get_collection("gradient_names")]
    values = sess.run([graph.get_tensor_by_name("loss:0")] + names, feed)
    return [np.asarray(v).tolist() for v in values]
with tf.Graph().as_default() as graph:
    scope = {"tf": tf, "np": np}
    exec(program + gradients_code, scope)
    for grad in scope["grads"]:
        graph.add_to_collection("gradient_names", grad.name)
    with tf.Session() as sess:
        native = run(sess, graph)
with tf.Graph().as_default() as graph:
    tf.train.import_meta_graph(%r)
    with tf.Session() as sess:
        imported_ours = run(sess, graph)
with tf.Graph().as_default() as graph:
    exec(program, {"tf": tf, "np": np})
    tf.train.export_meta_graph(filename=%r)
emit({"native": native, "imported_ours": imported_ours})
""" % (_RNN_PROGRAM, _RNN_GRADIENTS, _RNN_FEED, ours_path, theirs_path))
    native = reference["native"]
    for value, expected in zip(reference["imported_ours"], native):
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-7)

    with tf.Graph().as_default() as graph:
        tf.train.import_meta_graph(theirs_path)
        g = graph.get_tensor_by_name
        grads = tf.gradients(g("loss:0"), [g("W:0"), g("U:0"), g("h0:0"), g("xs:0")])
        with tf.Session() as sess:
            # xs's gradient is IndexedSlices (a gather): its values, as TensorFlow's by name.
            values = sess.run([g("loss:0")] + [getattr(x, "values", x) for x in grads],
                              _RNN_FEED)
    for value, expected in zip(values, native):
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-7)
