"""The book's MNIST workflow (examples/mnist): data preparation, the tutorial input helper,
training with decay + regularisation + moving averages + rotating checkpoints, and evaluation
in a separate process that restores the shadow variables. The `tf` tests run the same programs
on real TensorFlow (examples/mnist/run_with_tensorflow.py) and compare losses and accuracies."""

import gzip
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tf_oracle import REPO, require_tensorflow, tf_python
from tensorkeep import io as tkio
from tensorkeep.framework import errors
from tensorkeep.training import mnist_input

EXAMPLE_DIR = os.path.join(REPO, "examples", "mnist")
sys.path.insert(0, EXAMPLE_DIR)
import prepare_data  # noqa: E402

# One BLAS thread per process: the machine is shared by parallel test processes, and
# oversubscribed BLAS threads make a 100x784x500 matmul 20x slower.
SUBPROCESS_ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                      TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
LOSS_LINE = re.compile(r"After (\d+) training step\(s\), loss on training batch is (\S+)\.")
EVAL_LINE = re.compile(r"After (\d+) training step\(s\), held-out accuracy = (\S+) "
                       r"\((\d+) images\)")


@pytest.fixture(scope="module")
def mnist_source(shared_dir):
    source = os.path.join(shared_dir, "data", "mnist")
    if not os.path.exists(os.path.join(source, "t10k-images-idx3-ubyte.gz")):
        pytest.skip("MNIST archive not found in %s" % source)
    return source


@pytest.fixture(scope="module")
def data_dir(mnist_source, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("mnist_data"))
    prepare_data.split(mnist_source, out)
    return out


def run_program(script, *flags, tensorflow=False):
    """Runs examples/mnist/<script> in a new process (tensorkeep exec, or real TensorFlow
    through the shim); returns its stdout."""
    if tensorflow:
        command = [tf_python(), os.path.join(EXAMPLE_DIR, "run_with_tensorflow.py")]
    else:
        command = [sys.executable, "-m", "tensorkeep", "exec"]
    proc = subprocess.run(command + [os.path.join(EXAMPLE_DIR, script)] + list(flags),
                          capture_output=True, text=True, env=SUBPROCESS_ENV, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def train(data_dir, model_dir, steps, *flags, tensorflow=False):
    """Losses printed by mnist_train.py as {global step: loss}."""
    out = run_program("mnist_train.py", "--data_dir=" + data_dir, "--model_dir=" + model_dir,
                      "--training_steps=%d" % steps, *flags, tensorflow=tensorflow)
    return {int(step): float(loss) for step, loss in LOSS_LINE.findall(out)}


def evaluate(data_dir, model_dir, tensorflow=False):
    """(step string, accuracy, number of images) printed by mnist_eval.py."""
    out = run_program("mnist_eval.py", "--data_dir=" + data_dir, "--model_dir=" + model_dir,
                      tensorflow=tensorflow)
    found = EVAL_LINE.findall(out)
    assert len(found) == 1, out
    step, accuracy, count = found[0]
    return step, float(accuracy), int(count)


def numpy_accuracy(checkpoint, images, labels, suffix):
    """Accuracy of the 784-500-10 network whose weights are checkpoint[name + suffix]."""
    def var(name):
        return checkpoint[name + suffix]
    hidden = np.maximum(images @ var("layer1/weights") + var("layer1/biases"), 0)
    logits = hidden @ var("layer2/weights") + var("layer2/biases")
    return float(np.mean(np.argmax(logits, 1) == np.argmax(labels, 1)))


# --- data preparation and the input helper --------------------------------------------------

def test_prepare_data_splits_the_archive_into_the_four_standard_files(mnist_source, data_dir):
    source_images = prepare_data.read_idx(
        os.path.join(mnist_source, "t10k-images-idx3-ubyte.gz"), prepare_data.IMAGES_MAGIC)
    source_labels = prepare_data.read_idx(
        os.path.join(mnist_source, "t10k-labels-idx1-ubyte.gz"), prepare_data.LABELS_MAGIC)
    mnist = mnist_input.read_data_sets(data_dir, validation_size=0, reshape=False,
                                       dtype=np.uint8)
    assert (mnist.train.num_examples, mnist.validation.num_examples,
            mnist.test.num_examples) == (9000, 0, 1000)
    # Together the two parts are the archive, each image exactly once, labels kept with it.
    order = np.random.RandomState(0).permutation(10000)
    np.testing.assert_array_equal(mnist.test.images[..., 0], source_images[order[:1000]])
    np.testing.assert_array_equal(mnist.train.images[..., 0], source_images[order[1000:]])
    np.testing.assert_array_equal(np.concatenate([mnist.test.labels, mnist.train.labels]),
                                  source_labels[order])


def test_prepare_data_is_reproducible(mnist_source, data_dir, tmp_path):
    prepare_data.split(mnist_source, str(tmp_path))
    for name in os.listdir(data_dir):
        with open(os.path.join(data_dir, name), "rb") as a, \
                open(os.path.join(tmp_path, name), "rb") as b:
            assert a.read() == b.read(), name


def test_read_data_sets_scales_reshapes_and_one_hot_encodes(data_dir):
    # float32 pixels times 1/255 (the helper's formula, not a division), flattened to 784.
    mnist = mnist_input.read_data_sets(data_dir, one_hot=True, validation_size=500)
    raw = mnist_input.extract_images(os.path.join(data_dir, mnist_input.TRAIN_IMAGES))
    labels = mnist_input.extract_labels(os.path.join(data_dir, mnist_input.TRAIN_LABELS))
    assert mnist.train.images.shape == (8500, 784) and mnist.train.images.dtype == np.float32
    assert mnist.validation.images.shape == (500, 784)
    np.testing.assert_array_equal(mnist.validation.images,
                                  raw[:500].reshape(500, 784).astype(np.float32) * (1.0 / 255.0))
    assert mnist.validation.labels.shape == (500, 10)
    np.testing.assert_array_equal(np.argmax(mnist.validation.labels, 1), labels[:500])
    assert mnist.validation.labels.sum() == 500


def test_next_batch_walks_epochs_like_the_tutorial_helper(data_dir):
    # TensorFlow's helper seeds NumPy's global generator with the op seed, permutes once per
    # epoch with np.random.shuffle, and fills a batch that crosses an epoch end with the
    # rest of the old order followed by the start of the new one.
    seed = 1234
    mnist = mnist_input.read_data_sets(data_dir, validation_size=0, seed=seed)
    images = mnist_input.extract_images(os.path.join(data_dir, mnist_input.TRAIN_IMAGES))
    images = images.reshape(9000, 784).astype(np.float32) * (1.0 / 255.0)
    # (A private generator in the same state, so as not to disturb the global one.)
    reference = np.random.RandomState(seed)
    first, second = np.arange(9000), np.arange(9000)
    reference.shuffle(first)
    reference.shuffle(second)
    for _ in range(8):  # 8,800 images
        mnist.train.next_batch(1100)
    batch, _ = mnist.train.next_batch(300)
    assert mnist.train.epochs_completed == 1
    np.testing.assert_array_equal(batch[:200], images[first][8800:])
    np.testing.assert_array_equal(batch[200:], images[first][second][:100])


def test_next_batch_without_shuffle_keeps_file_order(data_dir):
    mnist = mnist_input.read_data_sets(data_dir, validation_size=0)
    images = mnist_input.extract_images(os.path.join(data_dir, mnist_input.TRAIN_IMAGES))
    mnist.train.next_batch(8950, shuffle=False)
    batch, _ = mnist.train.next_batch(100, shuffle=False)
    expected = np.concatenate([images[8950:], images[:50]]).reshape(100, 784)
    np.testing.assert_array_equal(batch, expected.astype(np.float32) * (1.0 / 255.0))


def test_missing_files_name_what_is_expected_where(tmp_path):
    with pytest.raises(errors.NotFoundError) as raised:
        mnist_input.read_data_sets(str(tmp_path))
    message = str(raised.value)
    assert str(tmp_path) in message and "no download" in message
    for name in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert name in message


def test_truncated_file_is_a_data_loss_error(data_dir, tmp_path):
    with gzip.open(os.path.join(data_dir, mnist_input.TEST_IMAGES), "rb") as f:
        data = f.read()
    truncated = tmp_path / "t10k-images-idx3-ubyte"
    truncated.write_bytes(data[:5000])
    with pytest.raises(errors.DataLossError, match="truncated"):
        mnist_input.extract_images(str(truncated) + ".gz")


# --- the whole loop -------------------------------------------------------------------------

def test_train_rotate_checkpoints_then_evaluate_moving_averages_in_a_separate_process(
        data_dir, tmp_path):
    model_dir = str(tmp_path / "model")
    losses = train(data_dir, model_dir, 250, "--checkpoint_every=100", "--max_to_keep=2",
                   "--log_every=50")
    assert sorted(losses) == [1, 51, 101, 151, 201]
    assert losses[201] < losses[1] / 4  # from ~2.8 (chance plus the L2 term) to well below

    # Saved at steps 100, 200 and 250 (the last step); max_to_keep=2 deleted step 100's files.
    state = tkio.checkpoint_state.get_checkpoint_state(model_dir)
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == \
        ["mnist_model-200", "mnist_model-250"]
    assert os.path.basename(state.model_checkpoint_path) == "mnist_model-250"
    assert sorted(name for name in os.listdir(model_dir) if "-100." in name) == []

    prefix = os.path.join(model_dir, "mnist_model-250")
    checkpoint = {name: np.array(value) for name, value in tkio.read_checkpoint(prefix).items()}
    assert int(checkpoint["Variable"]) == 250
    for name in ("layer1/weights", "layer1/biases", "layer2/weights", "layer2/biases"):
        shadow = checkpoint[name + "/ExponentialMovingAverage"]
        assert shadow.shape == checkpoint[name].shape
        assert not np.array_equal(shadow, checkpoint[name])

    step, accuracy, count = evaluate(data_dir, model_dir)
    assert (step, count) == ("250", 1000)
    assert accuracy > 0.85  # chance is 0.1

    # The evaluation used the moving averages: an independent NumPy forward pass over the
    # shadow values gives the printed figure ...
    test = mnist_input.read_data_sets(data_dir, one_hot=True, validation_size=0).test
    assert accuracy == pytest.approx(
        numpy_accuracy(checkpoint, test.images, test.labels, "/ExponentialMovingAverage"),
        abs=1e-6)
    # ... and with the raw weights destroyed, evaluation still gives it.
    damaged = {name: (np.zeros_like(value) if name.startswith("layer") and
                      not name.endswith("ExponentialMovingAverage") else value)
               for name, value in checkpoint.items()}
    tkio.write_checkpoint(prefix, damaged)
    assert evaluate(data_dir, model_dir) == (step, accuracy, count)


def test_eval_without_checkpoint_says_so(data_dir, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "tensorkeep", "exec", os.path.join(EXAMPLE_DIR, "mnist_eval.py"),
         "--data_dir=" + data_dir, "--model_dir=" + str(tmp_path)],
        capture_output=True, text=True, env=SUBPROCESS_ENV, timeout=120)
    assert proc.returncode == 1
    assert "No checkpoint file found in %s" % tmp_path in proc.stdout


# --- parity with real TensorFlow ------------------------------------------------------------

@pytest.fixture(scope="module")
def both_trained(data_dir, tmp_path_factory):
    """50 steps of the same workflow, same seeds and batches, on both frameworks."""
    require_tensorflow()
    flags = ("--log_every=1", "--checkpoint_every=50", "--seed=7")
    runs = {}
    for framework in ("tensorkeep", "tensorflow"):
        model_dir = str(tmp_path_factory.mktemp("model_" + framework))
        losses = train(data_dir, model_dir, 50, *flags,
                       tensorflow=framework == "tensorflow")
        runs[framework] = (model_dir, losses)
    return runs


@pytest.mark.tf
def test_first_50_losses_agree_with_tensorflow_to_5_significant_digits(both_trained):
    ours = both_trained["tensorkeep"][1]
    theirs = both_trained["tensorflow"][1]
    assert sorted(ours) == sorted(theirs) == list(range(1, 51))
    np.testing.assert_allclose([ours[s] for s in range(1, 51)],
                               [theirs[s] for s in range(1, 51)], rtol=1e-5)
    assert theirs[50] < theirs[1] / 2  # the comparison covers real training, not a plateau


@pytest.mark.tf
def test_each_framework_evaluates_the_others_checkpoints_to_the_same_accuracy(
        both_trained, data_dir):
    results = {}
    for writer in ("tensorkeep", "tensorflow"):
        model_dir = both_trained[writer][0]
        for reader in ("tensorkeep", "tensorflow"):
            results[writer, reader] = evaluate(data_dir, model_dir,
                                               tensorflow=reader == "tensorflow")
    for writer in ("tensorkeep", "tensorflow"):
        assert results[writer, "tensorkeep"] == results[writer, "tensorflow"], results
        step, accuracy, count = results[writer, writer]
        assert (step, count) == ("50", 1000) and accuracy > 0.7, results

    # Same data, seeds and arithmetic: the two trainings end at the same weights. (Not the
    # same shadows: the book's train op runs the gradient step and the moving-average update
    # side by side, and TensorFlow's executor may let an update read a weight already
    # stepped; tensorkeep always averages the values the step started from.)
    ours = tkio.read_checkpoint(os.path.join(both_trained["tensorkeep"][0], "mnist_model-50"))
    theirs = tkio.read_checkpoint(os.path.join(both_trained["tensorflow"][0], "mnist_model-50"))
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        if not name.endswith("ExponentialMovingAverage"):
            np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-6,
                                       err_msg=name)
