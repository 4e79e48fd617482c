"""Checkpoint numbering, the state file and rotation: max_to_keep, keep_checkpoint_every_n_hours,
what gets deleted (only checkpoints this saver wrote, never paths outside its directory),
recovering the list after a restart."""

import os

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.training import saver as saver_lib


@pytest.fixture
def graph():
    with tf.Graph().as_default() as graph:
        yield graph


def _state(directory, name="checkpoint"):
    with open(os.path.join(directory, name)) as handle:
        return handle.read()


def _save_steps(saver, sess, prefix, steps, **kwargs):
    return [saver.save(sess, prefix, global_step=step, write_meta_graph=False, **kwargs)
            for step in steps]


def test_max_to_keep_deletes_the_oldest_and_the_state_file_lists_the_rest(graph, tmp_path,
                                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    step = tf.Variable(0, name="step")
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(step.initializer)
        paths = _save_steps(saver, sess, "run/model", range(4))
    assert paths == ["run/model-0", "run/model-1", "run/model-2", "run/model-3"]
    assert saver.last_checkpoints == ["run/model-2", "run/model-3"]
    assert sorted(os.listdir("run")) == [
        "checkpoint", "model-2.data-00000-of-00001", "model-2.index",
        "model-3.data-00000-of-00001", "model-3.index"]
    assert _state("run") == ('model_checkpoint_path: "model-3"\n'
                             'all_model_checkpoint_paths: "model-2"\n'
                             'all_model_checkpoint_paths: "model-3"\n')
    assert tf.train.latest_checkpoint("run") == os.path.join("run", "model-3")


def test_absolute_paths_and_relative_state_entries(graph, tmp_path):
    tf.Variable(1.0, name="v")
    absolute = tf.train.Saver()
    relative = tf.train.Saver(save_relative_paths=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        absolute.save(sess, str(tmp_path / "abs" / "m"), write_meta_graph=False)
        relative.save(sess, str(tmp_path / "rel" / "m"), write_meta_graph=False)
    absolute_prefix = str(tmp_path / "abs" / "m")
    assert _state(tmp_path / "abs") == (
        'model_checkpoint_path: "%s"\nall_model_checkpoint_paths: "%s"\n'
        % (absolute_prefix, absolute_prefix))
    assert _state(tmp_path / "rel") == ('model_checkpoint_path: "m"\n'
                                        'all_model_checkpoint_paths: "m"\n')
    assert tf.train.latest_checkpoint(str(tmp_path / "rel")) == str(tmp_path / "rel" / "m")


def test_global_step_forms_padding_and_state_file_name(graph, tmp_path):
    global_step = tf.Variable(42, name="global_step")
    saver = tf.train.Saver(pad_step_number=True)
    with tf.Session() as sess:
        sess.run(global_step.initializer)
        prefix = str(tmp_path / "m")
        assert saver.save(sess, prefix, global_step=global_step, latest_filename="state",
                          write_meta_graph=False) == prefix + "-00000042"
        assert saver.save(sess, prefix, global_step="global_step:0", latest_filename="state",
                          write_meta_graph=False) == prefix + "-00000042"
        assert saver.save(sess, prefix, global_step=np.int64(7), latest_filename="state",
                          write_meta_graph=False) == prefix + "-00000007"
        assert not os.path.exists(tmp_path / "checkpoint")
        assert tf.train.latest_checkpoint(str(tmp_path), "state") == prefix + "-00000007"
        with pytest.raises(ValueError, match="path components"):
            saver.save(sess, prefix, latest_filename="sub/state")
        with pytest.raises(ValueError, match="collides"):
            saver.save(sess, str(tmp_path / "checkpoint"))
        with pytest.raises(TypeError, match="must be a Session"):
            saver.save(object(), prefix)


def test_write_state_false_leaves_state_and_list_alone(graph, tmp_path):
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver(max_to_keep=1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _save_steps(saver, sess, str(tmp_path / "m"), range(3), write_state=False)
    assert saver.last_checkpoints == []
    assert not os.path.exists(tmp_path / "checkpoint")
    assert len([name for name in os.listdir(tmp_path) if name.endswith(".index")]) == 3


def test_max_to_keep_zero_keeps_every_file_and_only_the_latest_in_the_state(graph, tmp_path):
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver(max_to_keep=0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _save_steps(saver, sess, str(tmp_path / "m"), range(3))
    assert len([name for name in os.listdir(tmp_path) if name.endswith(".index")]) == 3
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert list(state.all_model_checkpoint_paths) == [str(tmp_path / "m-2")]


def test_keep_checkpoint_every_n_hours_keeps_one_per_period(graph, tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(saver_lib.time, "time", lambda: clock[0])
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step, minutes in enumerate([0, 30, 70, 80, 140]):
            clock[0] = 1000.0 + minutes * 60
            saver.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    kept = sorted(name[:-len(".index")] for name in os.listdir(tmp_path)
                  if name.endswith(".index"))
    # Saved after 70 min (past the first hour) -> kept; after 140 min (past the second) ->
    # kept; the newest stays as the one max_to_keep allows.
    assert kept == ["m-2", "m-4"]
    assert saver.last_checkpoints == [str(tmp_path / "m-4")]


def test_rotation_deletes_meta_graph_and_every_data_shard_but_no_lookalikes(graph, tmp_path):
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver(max_to_keep=1)
    lookalikes = ["m-0.data-00000-of-00001.bak", "m-0x.index", "m-0.meta.txt", "m-00.index"]
    for name in lookalikes + ["m-0.data-00001-of-00002", "m-0.meta"]:
        (tmp_path / name).write_bytes(b"")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _save_steps(saver, sess, str(tmp_path / "m"), range(2))
    assert sorted(os.listdir(tmp_path)) == sorted(
        lookalikes + ["checkpoint", "m-1.index", "m-1.data-00000-of-00001"])


def test_only_checkpoints_this_saver_wrote_are_deleted(graph, tmp_path):
    tf.Variable(1.0, name="v")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        other = tf.train.Saver()
        foreign = other.save(sess, str(tmp_path / "foreign"), write_meta_graph=False)
        saver = tf.train.Saver(max_to_keep=1)
        saver.set_last_checkpoints_with_time([(foreign, 0.0)])
        _save_steps(saver, sess, str(tmp_path / "m"), range(2))
    assert os.path.exists(foreign + ".index")
    assert not os.path.exists(str(tmp_path / "m-0.index"))


def test_recovered_checkpoints_rotate_but_never_outside_the_directory(graph, tmp_path):
    outside = tmp_path / "outside"
    inside = tmp_path / "run"
    tf.Variable(1.0, name="v")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        writer = tf.train.Saver(max_to_keep=10)
        victim = writer.save(sess, str(outside / "precious"), write_meta_graph=False)
        old = writer.save(sess, str(inside / "m"), global_step=0, write_meta_graph=False)
        # A state file (edited, or copied from elsewhere) names a path outside the directory.
        tf.train.update_checkpoint_state(str(inside), old, [
            os.path.join(str(inside), "..", "outside", "precious"), old])
        state = tf.train.get_checkpoint_state(str(inside))
        restarted = tf.train.Saver(max_to_keep=1)
        restarted.recover_last_checkpoints(list(state.all_model_checkpoint_paths))
        assert restarted.last_checkpoints == list(state.all_model_checkpoint_paths)
        # As in TensorFlow, each save rotates out one checkpoint of the recovered list.
        _save_steps(restarted, sess, str(inside / "m"), [1, 2, 3])
    assert os.path.exists(victim + ".index")
    assert sorted(os.listdir(inside)) == ["checkpoint", "m-2.data-00000-of-00001", "m-2.index",
                                          "m-3.data-00000-of-00001", "m-3.index"]


def test_recover_skips_missing_checkpoints(graph, tmp_path):
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kept = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
    saver.recover_last_checkpoints([str(tmp_path / "gone"), kept])
    assert saver.last_checkpoints == [kept]
    assert tf.train.get_checkpoint_mtimes([kept, str(tmp_path / "gone")]) == \
        [os.stat(kept + ".index").st_mtime_ns / 1e9]
    saver.set_last_checkpoints(["a", "b"])
    assert saver.last_checkpoints == ["a", "b"]


def test_a_failed_save_keeps_the_previous_checkpoint_and_state(graph, tmp_path):
    v = tf.Variable([1.0, 2.0], name="v")
    tf.Variable(0.0, name="never_initialized")
    saver = tf.train.Saver(var_list=[v])
    broken = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(v.initializer)
        good = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
        before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
        with pytest.raises(tf.errors.FailedPreconditionError, match="never_initialized"):
            broken.save(sess, good, write_meta_graph=False)
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)} == before


def test_remove_checkpoint_and_checkpoint_exists(graph, tmp_path):
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "m[1]"), write_meta_graph=False)
    assert tf.train.checkpoint_exists(prefix)
    tf.train.remove_checkpoint(prefix)
    assert not tf.train.checkpoint_exists(prefix)
    assert os.listdir(tmp_path) == ["checkpoint"]
