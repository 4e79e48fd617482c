"""Reading checkpoints without a graph (tf.train.NewCheckpointReader, list_variables,
load_variable, load_checkpoint) on TensorFlow's golden files; V1 checkpoints through the Saver;
partitioned variables."""

import os

import numpy as np
import pytest

import tensorkeep as tf


def _golden(shared_dir, *parts):
    return os.path.join(shared_dir, "golden", "seed_files", *parts)


def test_reader_on_golden_checkpoint(shared_dir):
    reader = tf.train.NewCheckpointReader(_golden(shared_dir, "model", "model2.ckpt"))
    assert reader.get_variable_to_shape_map() == {"v": [], "v/ExponentialMovingAverage": []}
    assert reader.get_variable_to_dtype_map() == {"v": tf.float32,
                                                  "v/ExponentialMovingAverage": tf.float32}
    # Seed program 06 printed these values.
    assert reader.get_tensor("v") == np.float32(10.0)
    assert reader.get_tensor(b"v/ExponentialMovingAverage") == np.float32(0.099999905)
    assert isinstance(reader.get_tensor("v"), np.float32)
    assert reader.has_tensor("v") and reader.has_tensor(b"v") and not reader.has_tensor("w")
    # TensorFlow's debug string for this checkpoint.
    assert reader.debug_string() == b"v (DT_FLOAT) []\nv/ExponentialMovingAverage (DT_FLOAT) []\n"


def test_list_and_load_variables_from_a_directory(shared_dir):
    directory = _golden(shared_dir, "tt")
    assert tf.train.list_variables(directory) == [("Variable", [1]), ("Variable_1", [1])]
    # Seed program 01 printed their sum.
    total = tf.train.load_variable(directory, "Variable:0") + \
        tf.train.load_variable(directory, "Variable_1")
    assert total.tolist() == np.array([-1.6226364], np.float32).tolist()
    with tf.train.load_checkpoint(directory) as reader:
        assert sorted(reader.get_variable_to_shape_map()) == ["Variable", "Variable_1"]


def test_partitioned_variable_reads_whole_and_lists_its_slices_like_tensorflow(tmp_path):
    full = np.arange(40, dtype=np.float32).reshape(10, 4)
    with tf.Graph().as_default():
        emb = tf.get_variable("emb", initializer=tf.constant(full),
                              partitioner=tf.fixed_size_partitioner(2))
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
        assert len(list(emb)) == 2
    reader = tf.train.NewCheckpointReader(prefix)
    assert reader.get_variable_to_shape_map() == {"emb": [10, 4]}
    assert np.array_equal(reader.get_tensor("emb"), full)
    lines = reader.debug_string().split(b"\n")
    # The slices are stored under binary keys; TensorFlow lists those, not "emb".
    assert len(lines) == 3 and lines[2] == b""
    assert all(line.startswith(b"\x00emb\x00\x01") and line.endswith(b"(DT_FLOAT) [5,4]")
               for line in lines[:2])


def test_restore_partitioned_variable_with_another_partitioning(tmp_path):
    full = np.arange(40, dtype=np.float32).reshape(10, 4)
    with tf.Graph().as_default():
        tf.get_variable("emb", initializer=tf.constant(full),
                        partitioner=tf.fixed_size_partitioner(2))
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
    for parts in (1, 3, 5):
        with tf.Graph().as_default():
            emb = tf.get_variable("emb", shape=[10, 4], initializer=tf.zeros_initializer(),
                                  partitioner=tf.fixed_size_partitioner(parts))
            saver = tf.train.Saver()
            with tf.Session() as sess:
                saver.restore(sess, prefix)
                restored = np.concatenate(sess.run(list(emb)), axis=0)
        assert np.array_equal(restored, full), parts


@pytest.mark.parametrize("sharded", [False, True])
def test_v1_checkpoints_round_trip(tmp_path, sharded):
    values = {"a": np.array([1.5, -2.0], np.float32), "b": np.array([[1, 2]], np.int64),
              "c": np.array([b"x", b"\x00y"], dtype=object), "d": np.array(True)}
    with tf.Graph().as_default():
        variables = {name: tf.Variable(value, name=name) for name, value in values.items()}
        saver = tf.train.Saver(write_version=tf.train.SaverDef.V1, sharded=sharded)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "v1.ckpt"), write_meta_graph=False)
            assert prefix == str(tmp_path / "v1.ckpt") + ("-?????-of-00001" if sharded else "")
            sess.run([v.assign(tf.zeros_like(v)) for v in variables.values()
                      if v.dtype.base_dtype != tf.string])
            saver.restore(sess, prefix)
            restored = sess.run(variables)
    assert tf.train.latest_checkpoint(str(tmp_path)) == prefix
    reader = tf.train.NewCheckpointReader(prefix)
    for name, value in values.items():
        assert np.array_equal(np.asarray(restored[name]), value), name
        assert np.array_equal(np.asarray(reader.get_tensor(name)), value), name


def test_init_from_checkpoint_with_names_variables_and_scopes(shared_dir):
    golden_dir = _golden(shared_dir, "qq")
    with tf.Graph().as_default():
        with tf.variable_scope("copy"):
            a = tf.get_variable("v1", shape=[1], initializer=tf.zeros_initializer())
            b = tf.get_variable("v2", shape=[1], initializer=tf.zeros_initializer())
        by_object = tf.get_variable("by_object", shape=[1], initializer=tf.zeros_initializer())
        tf.train.init_from_checkpoint(golden_dir, {"/": "copy/", "v2": by_object})
        with pytest.raises(ValueError, match="Tensor missing is not found"):
            tf.train.init_from_checkpoint(golden_dir, {"missing": by_object})
        with pytest.raises(ValueError, match="doesn't match with shape"):
            tf.train.init_from_checkpoint(golden_dir, {
                "v1": tf.get_variable("wide", shape=[3], initializer=tf.zeros_initializer())})
        with tf.Session() as sess:
            sess.run([a.initializer, b.initializer, by_object.initializer])
            # Seed program 05 saved v1 = 1 and v2 = 2 in this checkpoint.
            assert [v.tolist() for v in sess.run([a, b, by_object])] == [[1.0], [2.0], [2.0]]


def test_name_based_saver_restores_an_object_based_checkpoint(shared_dir):
    """A Keras (tf.train.Checkpoint) checkpoint from the corpus: TensorFlow's Saver falls back
    to the object graph's variable names, and so does ours."""
    prefix = os.path.join(shared_dir, "corpus", "Nighthawks829+save-load-model", "training_2",
                          "cp-0000.ckpt")
    reader = tf.train.NewCheckpointReader(prefix)
    keys = {"dense_4/kernel": "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE",
            "dense_5/bias": "layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE"}
    with tf.Graph().as_default():
        variables = {name: tf.Variable(np.zeros(reader.get_variable_to_shape_map()[key],
                                                np.float32), name=name)
                     for name, key in keys.items()}
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            saver.restore(sess, prefix)  # the second saver is built once
            restored = sess.run(variables)
        unknown = tf.Variable(0.0, name="not_in_the_checkpoint")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.NotFoundError,
                               match="Existing variables not in the checkpoint: "
                                     "not_in_the_checkpoint"):
                tf.train.Saver([unknown]).restore(sess, prefix)
    for name, key in keys.items():
        assert np.array_equal(restored[name], reader.get_tensor(key)), name
