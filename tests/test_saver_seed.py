"""The seed programs that save and restore (01, 02, 03, 05) print what TensorFlow printed and
write the files TensorFlow wrote, byte for byte; TensorFlow's golden checkpoints restore and
read back with TensorFlow's values."""

import os
import subprocess
import sys

import numpy as np
import pytest

import tensorkeep as tf

CHECKPOINT_FILES = ["model.ckpt.index", "model.ckpt.data-00000-of-00001", "checkpoint"]


def _golden(shared_dir, *parts):
    return os.path.join(shared_dir, "golden", "seed_files", *parts)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def _run_seed_program(shared_dir, name, cwd):
    """Runs a seed program verbatim with `tensorflow` resolving to tensorkeep; its stdout."""
    program = os.path.join(shared_dir, "seed", "programs", name + ".py")
    runner = ("import sys, tensorkeep; sys.modules['tensorflow'] = tensorkeep; "
              "exec(compile(open(sys.argv[1], encoding='utf-8').read(), sys.argv[1], 'exec'))")
    proc = subprocess.run([sys.executable, "-c", runner, program], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _expected_output(shared_dir, name):
    with open(os.path.join(shared_dir, "seed", "expected", name + ".out"),
              encoding="utf-8") as handle:
        return handle.read()


def test_seed_programs_print_what_tensorflow_printed(shared_dir, tmp_path):
    pytest.importorskip("tensorkeep.framework.meta_graph")  # save() writes the meta graph
    for name in ["01_save", "02_restore", "03_save_and_restore", "05_rename"]:
        assert _run_seed_program(shared_dir, name, tmp_path) == \
            _expected_output(shared_dir, name), name
    for folder in ("tt", "qq"):
        assert sorted(os.listdir(tmp_path / folder)) == sorted(CHECKPOINT_FILES +
                                                               ["model.ckpt.meta"])
        for file_name in CHECKPOINT_FILES:
            assert _read(tmp_path / folder / file_name) == \
                _read(_golden(shared_dir, folder, file_name)), (folder, file_name)


def _seed_01_graph():
    v1 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
    v2 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
    return v1 + v2


def _seed_05_graph():
    v1 = tf.Variable(tf.constant(1.0, shape=[1]), name="v1")
    v2 = tf.Variable(tf.constant(2.0, shape=[1]), name="v2")
    return v1 + v2


@pytest.mark.parametrize("folder,build", [("tt", _seed_01_graph), ("qq", _seed_05_graph)])
def test_checkpoint_and_state_file_byte_identical_to_tensorflows(shared_dir, tmp_path,
                                                                 monkeypatch, folder, build):
    monkeypatch.chdir(tmp_path)
    with tf.Graph().as_default():
        build()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert saver.save(sess, folder + "/model.ckpt", write_meta_graph=False) == \
                folder + "/model.ckpt"
    for file_name in CHECKPOINT_FILES:
        assert _read(tmp_path / folder / file_name) == \
            _read(_golden(shared_dir, folder, file_name)), file_name


def test_restore_golden_checkpoint_into_seed_graph(shared_dir):
    with tf.Graph().as_default():
        result = _seed_01_graph()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, _golden(shared_dir, "tt", "model.ckpt"))
            assert sess.run(result).tolist() == np.array([-1.6226364], np.float32).tolist()


def test_restore_golden_checkpoint_under_other_names(shared_dir):
    """Seed program 05's second half: variables named differently, mapped by a dict."""
    with tf.Graph().as_default():
        v1 = tf.Variable(tf.constant(0.0, shape=[1]), name="other-v1")
        v2 = tf.Variable(tf.constant(0.0, shape=[1]), name="other-v2")
        saver = tf.train.Saver({"v1": v1, "v2": v2})
        with tf.Session() as sess:
            saver.restore(sess, _golden(shared_dir, "qq", "model.ckpt"))
            assert sess.run(v1 + v2).tolist() == [3.0]


def test_restore_golden_moving_average_into_the_variable(shared_dir):
    """Seed program 06's end: the shadow value restored into a plain variable."""
    with tf.Graph().as_default():
        v = tf.Variable(0, dtype=tf.float32, name="v")
        saver = tf.train.Saver({"v/ExponentialMovingAverage": v})
        with tf.Session() as sess:
            saver.restore(sess, _golden(shared_dir, "model", "model2.ckpt"))
            assert sess.run(v) == np.float32(0.099999905)


def test_latest_checkpoint_of_golden_directories(shared_dir):
    assert tf.train.latest_checkpoint(_golden(shared_dir, "tt")) == \
        _golden(shared_dir, "tt", "model.ckpt")
    state = tf.train.get_checkpoint_state(_golden(shared_dir, "model"))
    assert state.model_checkpoint_path == _golden(shared_dir, "model", "model2.ckpt")
    assert list(state.all_model_checkpoint_paths) == [state.model_checkpoint_path]
