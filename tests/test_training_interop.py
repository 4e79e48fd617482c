"""Training continues across tensorkeep and real TensorFlow: a 20-16-3 softmax MLP trained 3
steps and saved (checkpoint + meta graph carrying the train op) by one system is continued 5
steps by the other, either from the imported meta graph or from the checkpoint alone restored
into its own identical graph (optimizer slots, Adam's beta powers and the global step
included). Losses and final variable values must equal those of the saving system continuing
itself (rtol 1e-5).

One TensorFlow subprocess per direction: the first trains and saves with TensorFlow, the second
continues tensorkeep's saves."""

import os

import numpy as np
import pytest

import tensorkeep
from tf_oracle import run_tensorflow

pytestmark = pytest.mark.tf

OPTIMIZER_NAMES = ("gd", "momentum", "adam")

# Written once against the TF1 API and executed by both systems (`tf` is passed in), so that
# both build exactly the same graph from the same NumPy constants.
PROGRAM = '''
import numpy as np

OPTIMIZERS = {
    "gd": lambda tf: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda tf: tf.train.MomentumOptimizer(0.05, 0.9),
    "adam": lambda tf: tf.train.AdamOptimizer(0.01),
}
STEPS_BEFORE_SAVE = 3
STEPS_AFTER_SAVE = 5


def make_data(seed=11, batch=32):
    """Initial weights of a 20-16-3 MLP and one batch of inputs and labels per training step."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    steps = STEPS_BEFORE_SAVE + STEPS_AFTER_SAVE
    return {
        "x": rng.standard_normal((steps, batch, 20)).astype(f32),
        "y": rng.integers(0, 3, (steps, batch)).astype(np.int64),
        "w1": (rng.standard_normal((20, 16)) * 0.3).astype(f32),
        "b1": (rng.standard_normal(16) * 0.1).astype(f32),
        "w2": (rng.standard_normal((16, 3)) * 0.3).astype(f32),
        "b2": (rng.standard_normal(3) * 0.1).astype(f32),
    }


def build(tf, optimizer):
    """The model in the default graph; returns (loss, train_op), also found in collections."""
    data = make_data()
    x = tf.placeholder(tf.float32, [None, 20], name="x")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    w1 = tf.Variable(data["w1"], name="w1")
    b1 = tf.Variable(data["b1"], name="b1")
    w2 = tf.Variable(data["w2"], name="w2")
    b2 = tf.Variable(data["b2"], name="b2")
    hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
    logits = tf.matmul(hidden, w2) + b2
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=tf.one_hot(labels, 3), logits=logits), name="loss")
    global_step = tf.train.get_or_create_global_step()
    train_op = OPTIMIZERS[optimizer](tf).minimize(loss, global_step=global_step)
    # apply_gradients itself puts its op in the "train_op" collection (GraphKeys.TRAIN_OP);
    # adding it again would make a duplicate entry.
    assert tf.get_collection("train_op") == [train_op]
    tf.add_to_collection("loss", loss)
    return loss, train_op


def train(tf, sess, loss, train_op, steps):
    """Runs the training steps `steps` (indices into the batches); returns each step's loss."""
    data = make_data()
    graph = sess.graph
    feeds = graph.get_tensor_by_name("x:0"), graph.get_tensor_by_name("labels:0")
    losses = []
    for step in steps:
        value, _ = sess.run([loss, train_op], {feeds[0]: data["x"][step],
                                                feeds[1]: data["y"][step]})
        losses.append(float(value))
    return losses


def outcome(tf, sess, losses):
    variables = {v.op.name: sess.run(v).tolist() for v in tf.global_variables()}
    return {"losses": losses, "variables": variables}


CONTINUED = range(STEPS_BEFORE_SAVE, STEPS_BEFORE_SAVE + STEPS_AFTER_SAVE)


def save_and_continue(tf, optimizer, prefix):
    """Trains 3 steps, saves to `prefix` (with the meta graph), then trains 5 more."""
    with tf.Graph().as_default():
        loss, train_op = build(tf, optimizer)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            train(tf, sess, loss, train_op, range(STEPS_BEFORE_SAVE))
            tf.train.Saver().save(sess, prefix)
            return outcome(tf, sess, train(tf, sess, loss, train_op, CONTINUED))


def continue_from_meta_graph(tf, prefix):
    """Imports the saved meta graph, restores the checkpoint and trains 5 steps with the train
    op and loss found in the collections."""
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(prefix + ".meta")
        (loss,) = tf.get_collection("loss")
        (train_op,) = tf.get_collection("train_op")
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            return outcome(tf, sess, train(tf, sess, loss, train_op, CONTINUED))


def continue_from_checkpoint(tf, optimizer, prefix):
    """Builds the model afresh, restores only the checkpoint and trains 5 steps."""
    with tf.Graph().as_default():
        loss, train_op = build(tf, optimizer)
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, prefix)
            return outcome(tf, sess, train(tf, sess, loss, train_op, CONTINUED))
'''

SAVED_BY_TENSORFLOW = PROGRAM + """
emit({name: save_and_continue(tf, name, os.path.join(%r, name, "model"))
      for name in %r})
"""

CONTINUED_BY_TENSORFLOW = PROGRAM + """
emit({name: {"meta_graph": continue_from_meta_graph(tf, os.path.join(%r, name, "model")),
             "checkpoint": continue_from_checkpoint(tf, name, os.path.join(%r, name, "model"))}
      for name in %r})
"""


def load_program():
    """PROGRAM's functions, for tensorkeep to run (each takes the `tf` module to use)."""
    namespace = {}
    exec(PROGRAM, namespace)
    return namespace


@pytest.fixture(scope="module")
def ours():
    return load_program()


@pytest.fixture(scope="module")
def tensorflow_saved(tmp_path_factory):
    """TensorFlow trained and saved each model under the returned directory; also returns how
    it continued itself."""
    directory = str(tmp_path_factory.mktemp("saved_by_tensorflow"))
    continued = run_tensorflow(SAVED_BY_TENSORFLOW % (directory, OPTIMIZER_NAMES), cwd=directory)
    return directory, continued


@pytest.fixture(scope="module")
def tensorkeep_saved(tmp_path_factory, ours):
    """tensorkeep trained and saved each model; TensorFlow continued from those saves."""
    directory = str(tmp_path_factory.mktemp("saved_by_tensorkeep"))
    continued = {name: ours["save_and_continue"](tensorkeep, name,
                                                 os.path.join(directory, name, "model"))
                 for name in OPTIMIZER_NAMES}
    by_tensorflow = run_tensorflow(
        CONTINUED_BY_TENSORFLOW % (directory, directory, OPTIMIZER_NAMES), cwd=directory)
    return directory, continued, by_tensorflow


def assert_same_training(got, want):
    assert len(got["losses"]) == 5
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-5)
    assert sorted(got["variables"]) == sorted(want["variables"])
    for name, value in want["variables"].items():
        np.testing.assert_allclose(got["variables"][name], value, rtol=1e-5, atol=1e-7,
                                   err_msg=name)


def test_optimizer_state_is_saved(tensorflow_saved, tensorkeep_saved):
    """The comparisons below cover the slots and Adam's beta powers, and the step counter."""
    for continued in (tensorflow_saved[1], tensorkeep_saved[1]):
        variables = continued["adam"]["variables"]
        assert {"w1/Adam", "w1/Adam_1", "beta1_power", "beta2_power"} <= set(variables)
        assert "w1/Momentum" in continued["momentum"]["variables"]
        assert all(outcome["variables"]["global_step"] == 8 for outcome in continued.values())


@pytest.mark.parametrize("optimizer", OPTIMIZER_NAMES)
def test_tensorkeep_continues_tensorflows_meta_graph(tensorflow_saved, ours, optimizer):
    directory, continued = tensorflow_saved
    got = ours["continue_from_meta_graph"](tensorkeep, os.path.join(directory, optimizer,
                                                                    "model"))
    assert_same_training(got, continued[optimizer])


@pytest.mark.parametrize("optimizer", OPTIMIZER_NAMES)
def test_tensorflow_continues_tensorkeeps_meta_graph(tensorkeep_saved, optimizer):
    _, continued, by_tensorflow = tensorkeep_saved
    assert_same_training(by_tensorflow[optimizer]["meta_graph"], continued[optimizer])


@pytest.mark.parametrize("optimizer", OPTIMIZER_NAMES)
def test_tensorkeep_continues_tensorflows_checkpoint(tensorflow_saved, ours, optimizer):
    directory, continued = tensorflow_saved
    got = ours["continue_from_checkpoint"](tensorkeep, optimizer,
                                           os.path.join(directory, optimizer, "model"))
    assert_same_training(got, continued[optimizer])


@pytest.mark.parametrize("optimizer", OPTIMIZER_NAMES)
def test_tensorflow_continues_tensorkeeps_checkpoint(tensorkeep_saved, optimizer):
    _, continued, by_tensorflow = tensorkeep_saved
    assert_same_training(by_tensorflow[optimizer]["checkpoint"], continued[optimizer])
