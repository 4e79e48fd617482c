"""Restore failures say what is wrong and how to fix it: missing keys (with the closest keys and
the var_list dict fix), shape and dtype mismatches (naming the key and both sides), corrupt or
missing files (naming the file and the tensor), missing checkpoints."""

import os

import numpy as np
import pytest

import tensorkeep as tf


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint of weights [2] float32 and bias () int32."""
    with tf.Graph().as_default():
        weights = tf.Variable([1.0, 2.0], name="weights")
        bias = tf.Variable(3, name="bias")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run([weights.initializer, bias.initializer])
            return saver.save(sess, str(tmp_path / "model.ckpt"), write_meta_graph=False)


def _restore_error(prefix, build):
    with tf.Graph().as_default():
        saver = build()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.OpError) as info:
                saver.restore(sess, prefix)
    return info.value


def test_missing_key_names_the_key_the_closest_keys_and_the_dict_fix(checkpoint):
    error = _restore_error(checkpoint, lambda: (tf.Variable([0.0, 0.0], name="weight"),
                                                tf.Variable(0, name="bias"),
                                                tf.train.Saver())[-1])
    assert isinstance(error, tf.errors.NotFoundError)
    message = str(error)
    assert message.startswith("Restoring from checkpoint failed. This is most likely due to a "
                              "Variable name or other graph key that is missing")
    assert "Key weight not found in checkpoint" in message
    assert "closest keys in the checkpoint: weights" in message
    assert "{node save/RestoreV2}" in message
    assert "tf.train.Saver({'weights': <variable weight:0>})" in message


def test_shape_mismatch_names_the_key_and_both_shapes(checkpoint):
    error = _restore_error(checkpoint, lambda: (tf.Variable([0.0, 0.0, 0.0], name="weights"),
                                                tf.train.Saver())[-1])
    assert isinstance(error, tf.errors.InvalidArgumentError)
    message = str(error)
    assert "a mismatch between the current graph and the graph from the checkpoint" in message
    assert "lhs shape= [3] rhs shape= [2]" in message
    assert "key weights holds shape [2] but variable weights:0 has shape [3]" in message


def test_dtype_mismatch_names_the_key_and_both_dtypes(checkpoint):
    error = _restore_error(checkpoint, lambda: (tf.Variable([0, 0], name="weights"),
                                                tf.train.Saver())[-1])
    assert isinstance(error, tf.errors.InvalidArgumentError)
    message = str(error)
    assert "tensor_name = weights; expected dtype int32 does not equal original dtype float" \
        in message
    assert "key weights holds dtype float but variable weights:0 has dtype int32" in message


def test_reshape_allows_a_same_size_shape(checkpoint):
    with tf.Graph().as_default():
        weights = tf.Variable([[0.0], [0.0]], name="weights")
        saver = tf.train.Saver({"weights": weights}, reshape=True)
        with tf.Session() as sess:
            saver.restore(sess, checkpoint)
            assert sess.run(weights).tolist() == [[1.0], [2.0]]


def test_corrupt_data_is_a_data_loss_error_naming_file_and_tensor(checkpoint):
    data_file = checkpoint + ".data-00000-of-00001"
    with open(data_file, "r+b") as handle:  # weights are stored after bias (sorted keys)
        handle.seek(5)
        byte = handle.read(1)
        handle.seek(5)
        handle.write(bytes([byte[0] ^ 0xFF]))
    error = _restore_error(checkpoint, lambda: (tf.Variable([0.0, 0.0], name="weights"),
                                                tf.train.Saver())[-1])
    assert isinstance(error, tf.errors.DataLossError)
    assert "weights" in str(error) and data_file in str(error)


def test_missing_data_file_names_the_file(checkpoint):
    data_file = checkpoint + ".data-00000-of-00001"
    os.remove(data_file)
    error = _restore_error(checkpoint, lambda: (tf.Variable(0, name="bias"),
                                                tf.train.Saver())[-1])
    assert isinstance(error, tf.errors.NotFoundError)
    assert data_file in str(error)
    assert "Keys the saver looks for" not in str(error)  # every key is in the index


def test_restore_without_a_path_or_from_nothing(tmp_path):
    with tf.Graph().as_default():
        tf.Variable(1.0, name="v")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            with pytest.raises(ValueError, match="Can't load save_path when it is None."):
                saver.restore(sess, None)
            missing = str(tmp_path / "nothing" / "model.ckpt")
            # TensorFlow 2 raises ValueError here and TensorFlow 1 NotFoundError.
            for expected in (ValueError, tf.errors.NotFoundError):
                with pytest.raises(expected) as info:
                    saver.restore(sess, missing)
                assert str(info.value) == \
                    "The passed save_path is not a valid checkpoint: " + missing


def test_reading_api_errors(checkpoint, tmp_path):
    reader = tf.train.NewCheckpointReader(checkpoint)
    with pytest.raises(tf.errors.NotFoundError, match="Key wieghts not found in checkpoint.*"
                                                      "Closest keys in the checkpoint: weights"):
        reader.get_tensor("wieghts")
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files for"):
        tf.train.NewCheckpointReader(str(tmp_path / "none"))
    empty_directory = tmp_path / "empty"
    empty_directory.mkdir()
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file or checkpoints in "
                                         "given directory"):
        tf.train.load_checkpoint(str(empty_directory))


def test_saving_an_uninitialized_variable_names_it(tmp_path):
    with tf.Graph().as_default():
        tf.Variable(np.zeros(3), name="fresh")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError,
                               match="uninitialized value fresh"):
                saver.save(sess, str(tmp_path / "m"))
    assert not os.listdir(tmp_path)


def test_restore_from_a_directory_points_at_its_latest_checkpoint(checkpoint):
    directory = os.path.dirname(checkpoint)
    with tf.Graph().as_default():
        tf.Variable(0, name="bias")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            with pytest.raises(ValueError, match="latest checkpoint, as tf.train.latest_"
                                                 "checkpoint.* returns, is " + checkpoint):
                saver.restore(sess, directory)
