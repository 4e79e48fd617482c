"""Live round trips with real TensorFlow, batched: one TensorFlow subprocess writes a set of
checkpoints with tf.train.Saver (every dtype, partitioned variables from tf.get_variable with a
partitioner, max_to_keep rotation with its state file, a sharded two-device save, 10,000
tensors) and dumps the graphs of several Savers; tensorkeep writes the same set, and one more
TensorFlow subprocess reads everything tensorkeep wrote."""

import contextlib
import os
import pickle

import numpy as np
import pytest
from google.protobuf import text_format

import saver_cases
import tensorkeep as tf
from tensorkeep.io import protos
from tf_oracle import run_tensorflow_process

pytestmark = pytest.mark.tf

HERE = os.path.dirname(os.path.abspath(__file__))


def _run_oracle(mode, directory):
    run_tensorflow_process([os.path.join(HERE, "tf_oracle_saver.py"), mode, directory])
    with open(os.path.join(directory, "tf_results.pkl"), "rb") as handle:
        return pickle.load(handle)


@contextlib.contextmanager
def _working_directory(directory):
    previous = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


def _assert_equal_values(got, expected, what):
    """Same dtype, shape and bytes (a scalar string may come as bytes)."""
    expected = np.asarray(expected)
    got = np.asarray(got, dtype=object if expected.dtype == object else None)
    assert got.dtype == expected.dtype and got.shape == expected.shape, what
    if expected.dtype == object:
        assert got.tolist() == expected.tolist(), what
    else:
        assert got.tobytes() == expected.tobytes(), what


# --- what tensorkeep writes (the same cases as tf_oracle_saver.py's write mode) ----------------

def _write_sharded():
    with tf.Graph().as_default():
        saver = saver_cases.build_two_devices(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return saver.save(sess, "sharded/model.ckpt", write_meta_graph=False)


def _write_many():
    with tf.Graph().as_default():
        for index, name in enumerate(saver_cases.many_names()):
            tf.Variable(saver_cases.many_value(index), name=name)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, "many/model.ckpt", write_meta_graph=False)


def _write_v1():
    with tf.Graph().as_default():
        tf.Variable([1.25], name="a")
        tf.Variable([2, 3], name="b")
        emb = saver_cases.partitioned_variable(tf, 2)
        saver = tf.train.Saver(write_version=tf.train.SaverDef.V1)
        os.makedirs("v1")  # as with TensorFlow, a V1 save needs the directory to exist
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(emb._get_variable_list()[1].assign(tf.ones([5, 4])))
            saver.save(sess, "v1/model.ckpt", write_meta_graph=False)


@pytest.fixture(scope="module")
def tf_written(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tf_wrote")
    return directory, _run_oracle("write", directory)


@pytest.fixture(scope="module")
def ours_written(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tensorkeep_wrote")
    with _working_directory(directory):
        saver_cases.write_dtypes(tf)
        saver_cases.write_partitioned(tf)
        last_checkpoints = saver_cases.write_rotation(tf)
        sharded_prefix = _write_sharded()
        _write_many()
        _write_v1()
    return directory, {"rotation_last_checkpoints": last_checkpoints,
                       "sharded_prefix": sharded_prefix}


@pytest.fixture(scope="module")
def tf_read(ours_written):
    directory, _ = ours_written
    return _run_oracle("read", directory)


# --- TensorFlow wrote, tensorkeep compares and reads ---------------------------------------------

@pytest.mark.parametrize("case,files", [
    ("dtypes", ["model.ckpt.index", "model.ckpt.data-00000-of-00001", "checkpoint"]),
    ("partitioned", ["model.ckpt.index", "model.ckpt.data-00000-of-00001", "checkpoint"]),
    ("sharded", ["model.ckpt.index", "model.ckpt.data-00000-of-00002",
                 "model.ckpt.data-00001-of-00002", "checkpoint"]),
    ("rotation", ["ckpt-3.index", "ckpt-3.data-00000-of-00001", "ckpt-4.index",
                  "ckpt-4.data-00000-of-00001", "checkpoint"]),
])
def test_checkpoint_files_byte_identical_to_tensorflows(tf_written, ours_written, case, files):
    theirs, _ = tf_written
    ours, _ = ours_written
    assert sorted(os.listdir(ours / case)) == sorted(os.listdir(theirs / case)) == sorted(files)
    for name in files:
        assert (ours / case / name).read_bytes() == (theirs / case / name).read_bytes(), name


def test_rotation_and_sharded_save_results_equal_tensorflows(tf_written, ours_written):
    _, theirs = tf_written
    _, ours = ours_written
    assert ours["rotation_last_checkpoints"] == theirs["rotation_last_checkpoints"]
    assert ours["sharded_prefix"] == theirs["sharded_prefix"]


def test_restore_every_dtype_written_by_tensorflow(tf_written):
    directory, _ = tf_written
    values = saver_cases.dtype_values()
    with tf.Graph().as_default():
        variables = {name: tf.Variable(np.zeros_like(value) if value.dtype != object else
                                       np.full(value.shape, b"", dtype=object), name=name)
                     for name, value in values.items()}
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, str(directory / "dtypes" / "model.ckpt"))
            restored = sess.run(variables)
    for name, value in values.items():
        _assert_equal_values(restored[name], value, name)


@pytest.mark.parametrize("parts", [3, 2])
def test_restore_partitioned_variable_written_by_tensorflow(tf_written, parts):
    directory, _ = tf_written
    with tf.Graph().as_default():
        emb = saver_cases.partitioned_variable(tf, parts)
        dense = tf.Variable([0.0, 0.0], name="dense")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, str(directory / "partitioned" / "model.ckpt"))
            restored = np.concatenate(sess.run(list(emb)), axis=0)
            assert sess.run(dense).tolist() == [1.5, 2.5]
    _assert_equal_values(restored, saver_cases.partitioned_value(), "emb")


def test_restore_sharded_and_rotated_checkpoints_written_by_tensorflow(tf_written):
    directory, _ = tf_written
    with tf.Graph().as_default():
        a = tf.Variable([0.0, 0.0], name="a")
        b = tf.Variable([0, 0, 0], name="b")
        step = tf.Variable(-1, name="step")
        sharded = tf.train.Saver([a, b])
        rotated = tf.train.Saver([step])
        with tf.Session() as sess:
            sharded.restore(sess, str(directory / "sharded" / "model.ckpt"))
            rotated.restore(sess, tf.train.latest_checkpoint(str(directory / "rotation")))
            restored_a, restored_b, restored_step = sess.run([a, b, step])
    assert restored_a.tolist() == [1.0, 2.0] and restored_b.tolist() == [3, 4, 5]
    assert restored_step == 4


def test_restore_10000_variables_written_by_tensorflow(tf_written):
    directory, _ = tf_written
    names = saver_cases.many_names()
    with tf.Graph().as_default():
        variables = [tf.Variable(np.zeros(2, np.float32), name=name) for name in names]
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, str(directory / "many" / "model.ckpt"))
            restored = sess.run(variables)
    for index, value in enumerate(restored):
        assert value.tolist() == saver_cases.many_value(index).tolist(), names[index]


def _saver_nodes(graph_def, scope):
    return {node.name: node for node in graph_def.node if node.name.startswith(scope + "/")}


@pytest.mark.parametrize("name", [
    "two_devices", "plain_sharded", "partitioned_reshape", "renamed", "v1_sharded", "twelve_variables",
    "resource"])
def test_saver_graph_equals_tensorflows(tf_written, name):
    _, results = tf_written
    graph_bytes, saver_def_bytes = results["graphs"][name]
    with tf.Graph().as_default() as graph:
        saver = saver_cases.SAVER_GRAPHS[name](tf)
        ours = graph.as_graph_def()
    assert saver.as_saver_def() == protos.SaverDef.FromString(saver_def_bytes)
    scope = saver.saver_def.restore_op_name.split("/")[0]
    theirs = _saver_nodes(protos.GraphDef.FromString(graph_bytes), scope)
    ours = _saver_nodes(ours, scope)
    assert list(ours) == list(theirs)
    for node_name, node in theirs.items():
        assert ours[node_name] == node, text_format.MessageToString(ours[node_name])


def test_init_from_checkpoint_equals_tensorflows(tf_written):
    directory, results = tf_written
    with _working_directory(directory), tf.Graph().as_default() as graph:
        fetches = saver_cases.build_init_from_checkpoint(tf, "partitioned/model.ckpt")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = sess.run(fetches)
        ours = graph.as_graph_def()
    expected = results["init_from_checkpoint_values"]
    _assert_equal_values(values["emb"], expected["emb"], "emb")
    assert values["dense"].tolist() == expected["dense"].tolist() == [1.5, 2.5]
    # The restore and assign nodes that replace the initializers are TensorFlow's.
    theirs = protos.GraphDef.FromString(results["init_from_checkpoint_graph"])
    restore_nodes = {node.name: node for node in theirs.node
                     if node.name.startswith(("checkpoint_initializer", "Assign"))}
    assert restore_nodes
    ours = {node.name: node for node in ours.node if node.name in restore_nodes}
    for name, node in restore_nodes.items():
        assert ours.get(name) == node, name


# --- tensorkeep wrote, TensorFlow read ---------------------------------------------------------

def test_tensorflow_reads_every_dtype(tf_read):
    for name, value in saver_cases.dtype_values().items():
        _assert_equal_values(tf_read["dtypes_reader"][name], value, name)
        _assert_equal_values(tf_read["dtypes_restored"][name], value, name)


@pytest.mark.parametrize("parts", [3, 2])
def test_tensorflow_restores_partitioned_variables(tf_read, parts):
    restored = tf_read["partitioned_%d" % parts]
    _assert_equal_values(restored["emb"], saver_cases.partitioned_value(), "emb")
    assert restored["dense"].tolist() == [1.5, 2.5]


def test_tensorflow_follows_our_state_file_and_restores(tf_read):
    assert tf_read["rotation_latest"] == os.path.join("rotation", "ckpt-4")
    assert tf_read["rotation_paths"] == [os.path.join("rotation", "ckpt-3"),
                                         os.path.join("rotation", "ckpt-4")]
    assert tf_read["rotation_restored"] == 4
    assert [v.tolist() for v in tf_read["sharded_restored"]] == [[1.0, 2.0], [3, 4, 5]]


def test_debug_string_equals_tensorflows(ours_written, tf_read):
    directory, _ = ours_written
    for prefix, expected in tf_read["debug_strings"].items():
        with tf.train.NewCheckpointReader(str(directory / prefix)) as reader:
            ours = reader.debug_string()
        if prefix.startswith("v1/"):  # TensorFlow lists V1 tensors in hash order
            ours, expected = sorted(ours.splitlines()), sorted(expected.splitlines())
        assert ours == expected, prefix


def test_tensorflow_reads_10000_variables_and_v1(tf_read):
    assert tf_read["many_count"] == saver_cases.MANY_VARIABLES
    names = saver_cases.many_names()
    for name, value in tf_read["many_sample"].items():
        assert value.tolist() == saver_cases.many_value(names.index(name)).tolist()
    assert tf_read["v1_reader"]["a"].tolist() == [1.25]
    assert [v.tolist() for v in tf_read["v1_restored"]] == [
        [1.25], [2, 3], [[0.0] * 4] * 5 + [[1.0] * 4] * 5]
