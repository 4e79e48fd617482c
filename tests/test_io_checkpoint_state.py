"""The `checkpoint` state file: parsing and path rules checked against what TensorFlow reported
for every state file of the corpus (expect.json), writing checked against TF's text."""

import glob
import json
import os

import pytest

from tensorkeep.io import checkpoint_state, errors, gfile


def corpus_state_files(shared):
    records = []
    for expect_path in sorted(glob.glob(os.path.join(shared, "corpus", "*", "expect.json"))):
        with open(expect_path) as handle:
            expect = json.load(handle)
        for record in expect.get("checkpoint_state_files", []):
            records.append((os.path.dirname(expect_path), record))
    return records


def test_corpus_state_files_match_tensorflow(shared_dir, monkeypatch):
    records = corpus_state_files(shared_dir)
    assert len(records) > 10
    for case_dir, record in records:
        # TensorFlow ran in the case directory with the state file's directory as given.
        monkeypatch.chdir(case_dir)
        directory = os.path.dirname(record["path"])
        raw = checkpoint_state.parse_checkpoint_state(gfile.read_file(record["path"]))
        assert raw.model_checkpoint_path == record["model_checkpoint_path"]
        assert list(raw.all_model_checkpoint_paths) == record["all_model_checkpoint_paths"]
        state = checkpoint_state.get_checkpoint_state(directory)
        expected = record["tf_get_checkpoint_state"]
        assert state.model_checkpoint_path == expected["model_checkpoint_path"], record["path"]
        assert list(state.all_model_checkpoint_paths) == expected["all_model_checkpoint_paths"], record["path"]
        assert checkpoint_state.latest_checkpoint(directory) == record["tf_latest_checkpoint"], record["path"]


def test_missing_or_unparseable_state_file(tmp_path):
    assert checkpoint_state.get_checkpoint_state(str(tmp_path)) is None
    assert checkpoint_state.latest_checkpoint(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text("this is { not a proto")
    assert checkpoint_state.get_checkpoint_state(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text('all_model_checkpoint_paths: "x"\n')
    with pytest.raises(ValueError, match="Invalid checkpoint state"):
        checkpoint_state.get_checkpoint_state(str(tmp_path))


def test_update_writes_relative_paths_and_latest_finds_files(tmp_path):
    directory = str(tmp_path)
    paths = [os.path.join(directory, f"model.ckpt-{step}") for step in (1, 2)]
    checkpoint_state.update_checkpoint_state(directory, paths[-1], paths, save_relative_paths=True)
    assert (tmp_path / "checkpoint").read_text() == (
        'model_checkpoint_path: "model.ckpt-2"\n'
        'all_model_checkpoint_paths: "model.ckpt-1"\n'
        'all_model_checkpoint_paths: "model.ckpt-2"\n')
    state = checkpoint_state.get_checkpoint_state(directory)
    assert list(state.all_model_checkpoint_paths) == paths
    assert checkpoint_state.latest_checkpoint(directory) is None  # no files yet
    (tmp_path / "model.ckpt-2.index").write_bytes(b"")
    assert checkpoint_state.latest_checkpoint(directory) == paths[-1]
    assert [name for name in os.listdir(directory) if "tempstate" in name] == []


def test_v1_checkpoint_file_counts_for_latest(tmp_path):
    (tmp_path / "model.ckpt-00000-of-00002").write_bytes(b"")
    checkpoint_state.update_checkpoint_state(str(tmp_path), "model.ckpt-?????-of-00002")
    assert checkpoint_state.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model.ckpt-?????-of-00002")


def test_relative_save_dir_makes_paths_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("train")
    checkpoint_state.update_checkpoint_state("train", "train/model.ckpt-5", ["train/model.ckpt-5"])
    assert checkpoint_state.parse_checkpoint_state(open("train/checkpoint").read()).model_checkpoint_path == \
        "model.ckpt-5"
    assert checkpoint_state.get_checkpoint_state("train").model_checkpoint_path == "train/model.ckpt-5"


def test_state_path_may_not_be_the_checkpoint(tmp_path):
    with pytest.raises(RuntimeError, match="conflicts"):
        checkpoint_state.update_checkpoint_state(str(tmp_path), str(tmp_path / "checkpoint"))


def test_timestamps_must_match_paths(tmp_path):
    with pytest.raises(ValueError, match="timestamps"):
        checkpoint_state.update_checkpoint_state(str(tmp_path), "a", ["a"], all_model_checkpoint_timestamps=[1.0, 2.0])


def test_state_file_over_memory_url():
    directory = "memory://tensorkeep-test-state/run"
    try:
        checkpoint_state.update_checkpoint_state(directory, directory + "/model.ckpt-3", save_relative_paths=True)
        assert gfile.read_file(directory + "/checkpoint") == b'model_checkpoint_path: "model.ckpt-3"\n' \
                                                              b'all_model_checkpoint_paths: "model.ckpt-3"\n'
        with gfile.GFile(directory + "/model.ckpt-3.index", "wb") as index_file:
            index_file.write(b"x")
        assert checkpoint_state.latest_checkpoint(directory) == directory + "/model.ckpt-3"
    finally:
        gfile.rmtree("memory://tensorkeep-test-state")


def test_unreadable_state_file_is_ignored(tmp_path):
    (tmp_path / "checkpoint").mkdir()
    assert checkpoint_state.get_checkpoint_state(str(tmp_path)) is None
    with pytest.raises(errors.OpError):
        gfile.read_file(str(tmp_path / "checkpoint"))
