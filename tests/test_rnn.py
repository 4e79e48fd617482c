"""tf.nn.rnn_cell, dynamic_rnn, static_rnn, the bidirectional RNNs and tf.reverse_sequence
against real TensorFlow: variable names and shapes, checkpoints both ways, outputs and states,
gradients, training losses, the graphs node for node, misuse errors (one TensorFlow process for
everything), and a real-world TF 1.8 checkpoint restored into a model rebuilt from code."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rnn_cases  # noqa: E402
import tensorkeep.api.top_level as tf  # noqa: E402
from tensorkeep.framework import op_def  # noqa: E402
from tensorkeep.io import protos  # noqa: E402
from tf_oracle import SHARED, require_tensorflow, run_tensorflow  # noqa: E402

CELLS = tf.nn.rnn_cell
CASE_NAMES = [case.__name__ for case in rnn_cases.CASES]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    """tensorkeep writes one checkpoint per case; real TensorFlow restores each and computes
    the outputs, builds every case itself (saving its checkpoints), trains the classifier and
    lists the nodes of its graphs."""
    require_tensorflow()
    directory = tmp_path_factory.mktemp("rnn")
    ours = {}
    for case in rnn_cases.CASES:
        ours[case.__name__] = rnn_cases.run_case(
            tf, CELLS, case, checkpoint_out=str(directory / ("tk_" + case.__name__)))
    code = """
        import rnn_cases
        from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl as cells
        directory = %r
        result = {"from_tk": {}, "own": {}, "train": {}}
        for case in rnn_cases.CASES:
            name = case.__name__
            result["from_tk"][name] = rnn_cases.run_case(
                tf, cells, case, checkpoint_in=directory + "/tk_" + name)[0]
            result["own"][name] = rnn_cases.run_case(
                tf, cells, case, checkpoint_out=directory + "/tf_" + name)
        for optimizer in ("sgd", "adam"):
            result["train"][optimizer] = rnn_cases.train_losses(
                tf, cells, optimizer, checkpoint_out=directory + "/tf_train_" + optimizer)
        result["graphs"] = {build.__name__: rnn_cases.graph_nodes(tf, cells, build)
                            for build in rnn_cases.CASES + [rnn_cases.lstm_training_graph]}
        result["misuse"] = rnn_cases.misuse_errors(tf, cells)
        result["reverse_sequence"] = rnn_cases.reverse_sequence_results(tf, tf.errors)
        from tf_oracle import stripped_op_def
        result["op_def"] = stripped_op_def("ReverseSequence").hex()
        emit(result)
    """ % str(directory)
    return {"dir": directory, "ours": ours, "tf": run_tensorflow(code)}


def _assert_values_close(actual, expected):
    assert sorted(actual) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(np.asarray(actual[key]), np.asarray(expected[key]),
                                   rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.tf
@pytest.mark.parametrize("case", CASE_NAMES)
def test_variable_names_and_shapes_match_tensorflow(oracle, case):
    assert oracle["ours"][case][1] == oracle["tf"]["own"][case][1]


@pytest.mark.tf
@pytest.mark.parametrize("case", CASE_NAMES)
def test_tensorflow_restores_our_checkpoint_and_computes_our_outputs(oracle, case):
    _assert_values_close(oracle["ours"][case][0], oracle["tf"]["from_tk"][case])


@pytest.mark.tf
@pytest.mark.parametrize("case", CASE_NAMES)
def test_we_restore_tensorflow_checkpoint_and_compute_its_outputs(oracle, case):
    values, _ = rnn_cases.run_case(tf, CELLS, getattr(rnn_cases, case),
                                   checkpoint_in=str(oracle["dir"] / ("tf_" + case)))
    _assert_values_close(values, oracle["tf"]["own"][case][0])


def test_sequence_length_zeroes_outputs_and_copies_state_through():
    values, _ = rnn_cases.run_case(tf, CELLS, rnn_cases.multi_cell)
    top_output = np.asarray(values["output_0"])
    for row, length in enumerate(rnn_cases.LENGTHS):
        assert np.all(top_output[row, length:] == 0)
        if length:
            assert np.all(top_output[row, length - 1] != 0)
    # the last cell's final state is its output at each sequence's last step
    final_state = np.asarray(values["state_%d" % (len(values) - 2)])
    for row, length in enumerate(rnn_cases.LENGTHS):
        expected = top_output[row, length - 1] if length else np.zeros(2, np.float32)
        np.testing.assert_array_equal(final_state[row], expected)


@pytest.mark.tf
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_from_tensorflow_weights_gives_its_losses(oracle, optimizer):
    losses = rnn_cases.train_losses(
        tf, CELLS, optimizer, checkpoint_in=str(oracle["dir"] / ("tf_train_" + optimizer)))
    np.testing.assert_allclose(losses, oracle["tf"]["train"][optimizer], rtol=1e-5)
    assert losses[-1] < losses[0]


@pytest.mark.tf
@pytest.mark.parametrize("build", CASE_NAMES + ["lstm_training_graph"])
def test_graph_is_tensorflows(oracle, build):
    """Every node (name, type, inputs, device) in order: the while loops, TensorArrays, cells, and
    for the classifier its gradients through the loop and the optimizer."""
    ours = rnn_cases.graph_nodes(tf, CELLS, getattr(rnn_cases, build))
    assert ours == oracle["tf"]["graphs"][build]


@pytest.mark.tf
def test_reverse_sequence_op_def_is_tensorflows(oracle):
    theirs = protos.OpDef.FromString(bytes.fromhex(oracle["tf"]["op_def"]))
    assert op_def.get_schema("ReverseSequence").op_def == theirs


@pytest.mark.tf
def test_reverse_sequence_values_gradients_and_errors_match_tensorflow(oracle):
    ours = rnn_cases.reverse_sequence_results(tf, tf.errors)
    theirs = oracle["tf"]["reverse_sequence"]
    assert ours["values"] == theirs["values"]
    assert ours["errors"] == theirs["errors"]


@pytest.mark.tf
def test_misuse_raises_tensorflows_errors(oracle):
    assert rnn_cases.misuse_errors(tf, CELLS) == oracle["tf"]["misuse"]


CORPUS_RNN = os.path.join(SHARED, "corpus", "czl1208+RNN")


@pytest.mark.skipif(not os.path.isdir(CORPUS_RNN), reason="corpus case czl1208+RNN absent")
def test_model_rebuilt_from_code_restores_a_tensorflow_1_8_checkpoint():
    """A real-world TF 1.8 model (four layers of one shared LSTMCell in a MultiRNNCell, its
    initial state fed): rebuilt here from code, it restores the author's checkpoint by name
    and computes the softmax TensorFlow 2.21 recorded for the same inputs."""
    recorded = np.load(os.path.join(CORPUS_RNN, "io.npz"))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [5, 43])
        layers = tf.unstack(tf.placeholder(tf.float32, [4, 2, 5, 1]), axis=0)
        state = tuple(CELLS.LSTMStateTuple(layer[0], layer[1]) for layer in layers)
        cell = CELLS.LSTMCell(1)
        outputs, _ = tf.nn.dynamic_rnn(CELLS.MultiRNNCell([cell] * 4), tf.expand_dims(x, -1),
                                       initial_state=state)
        first_step = tf.gather(tf.reshape(outputs, [5, -1, 1]), 0, axis=1)
        weights = tf.get_variable("Variable_2", [1, 7])
        bias = tf.get_variable("Variable_3", [1, 7])
        softmax = tf.nn.softmax(tf.matmul(first_step, weights) + bias)
        assert sorted(v.op.name for v in tf.global_variables()) == [
            "Variable_2", "Variable_3", "rnn/multi_rnn_cell/cell_0/lstm_cell/bias",
            "rnn/multi_rnn_cell/cell_0/lstm_cell/kernel"]
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, os.path.join(CORPUS_RNN, "savedmodel", "model.ckpt"))
            graph = tf.get_default_graph()
            result = sess.run(softmax, {x: recorded["in_0"],
                                        graph.get_tensor_by_name("Placeholder_1:0"):
                                            recorded["in_1"]})
    np.testing.assert_allclose(result, recorded["out_2"], rtol=1e-5, atol=1e-7)
