"""`tensorkeep diff`: missing/extra names, mismatches, value differences and rename suggestions."""

import json
import os

import numpy as np
import pytest

from cli_support import CORPUS, GOLDEN, require_shared, run_cli, run_json
from tensorkeep.io import read_checkpoint, write_checkpoint


@pytest.fixture(autouse=True)
def _shared():
    require_shared()


def test_checkpoints_with_different_names():
    report = run_json("diff", os.path.join(GOLDEN, "qq", "model.ckpt"), os.path.join(GOLDEN, "tt", "model.ckpt"))
    assert [entry["name"] for entry in report["only_in_a"]] == ["v1", "v2"]
    assert [entry["name"] for entry in report["only_in_b"]] == ["Variable", "Variable_1"]
    assert report["identical"] is False
    # v1/v2 vs Variable/Variable_1 share no scope or suffix: no guess.
    assert report["renames"] == {}


def test_value_differences_match_numpy(tmp_path):
    rng = np.random.default_rng(1)
    first = {"w": rng.standard_normal((30, 40)).astype(np.float32), "b": np.zeros(4, np.float32),
             "step": np.array(7, np.int64), "same": np.arange(5, dtype=np.int32),
             "nan": np.array([np.nan, 1.0], np.float32), "s": np.array([b"a", b"b"], dtype=object)}
    second = dict(first, w=first["w"] + rng.standard_normal((30, 40)).astype(np.float32) * 1e-3,
                  step=np.array(9, np.int64), nan=np.array([np.nan, 1.0], np.float32),
                  s=np.array([b"a", b"c"], dtype=object))
    write_checkpoint(str(tmp_path / "a"), first)
    write_checkpoint(str(tmp_path / "b"), second)
    report = run_json("diff", tmp_path / "a", tmp_path / "b")
    compared = {entry["name"]: entry for entry in report["compared"]}
    x, y = first["w"].astype(np.float64), second["w"].astype(np.float64)
    absolute = np.abs(x - y)
    assert compared["w"]["max_abs_diff"] == pytest.approx(absolute.max(), rel=1e-12)
    assert compared["w"]["max_rel_diff"] == pytest.approx((absolute / np.maximum(np.abs(x), np.abs(y))).max(),
                                                          rel=1e-12)
    assert compared["w"]["differing_elements"] == int(np.count_nonzero(first["w"] != second["w"]))
    assert compared["step"]["max_abs_diff"] == 2.0
    assert compared["same"]["equal"] and compared["b"]["equal"] and compared["nan"]["equal"]
    assert compared["s"] == {"name": "s", "equal": False, "differing_elements": 1, "max_abs_diff": None,
                             "max_rel_diff": None}
    assert not report["identical"]
    # With a tolerance above the noise only the real differences remain.
    loose = run_json("diff", tmp_path / "a", tmp_path / "b", "--atol", "0.1")
    assert {entry["name"] for entry in loose["compared"] if not entry["equal"]} == {"step", "s"}


def test_shape_and_dtype_mismatches(tmp_path):
    write_checkpoint(str(tmp_path / "a"), {"k": np.zeros((2, 3), np.float32), "t": np.zeros(2, np.int32)})
    write_checkpoint(str(tmp_path / "b"), {"k": np.zeros((3, 2), np.float32), "t": np.zeros(2, np.int64)})
    report = run_json("diff", tmp_path / "a", tmp_path / "b")
    assert report["mismatched"] == [
        {"name": "k", "a": {"dtype": "float32", "shape": [2, 3]}, "b": {"dtype": "float32", "shape": [3, 2]}},
        {"name": "t", "a": {"dtype": "int32", "shape": [2]}, "b": {"dtype": "int64", "shape": [2]}}]
    code, out, _ = run_cli("diff", tmp_path / "a", tmp_path / "b", "--exit-code")
    assert code == 1 and "k: A float32 [2,3], B float32 [3,2]" in out and out.endswith("A and B differ\n")


def test_checkpoint_against_the_graph_that_wrote_it():
    case = os.path.join(CORPUS, "AlexFengCisco+Tensorflow")
    code, out, err = run_cli("diff", os.path.join(case, "model.ckpt"), os.path.join(case, "model.ckpt.meta"),
                             "--exit-code")
    assert code == 0, err
    assert "(meta graph, 8 variables expected)" in out and out.endswith("A and B match\n")


def test_rename_map_restores_into_a_renamed_graph(tmp_path):
    import tensorkeep as tf

    # The seed's rename scenario: the graph calls its variables other-v1/other-v2, and one
    # more lives under a scope.
    checkpoint = str(tmp_path / "ckpt" / "model.ckpt")
    write_checkpoint(checkpoint, {"v1": np.array([1.0], np.float32), "v2": np.array([2.0], np.float32),
                                  "dense/kernel": np.arange(6, dtype=np.float32).reshape(2, 3)})
    graph = tf.Graph()
    with graph.as_default():
        tf.Variable(tf.zeros([1]), name="other-v1")
        tf.Variable(tf.zeros([1]), name="other-v2")
        with tf.variable_scope("model"):
            tf.Variable(tf.zeros([2, 3]), name="dense/kernel")
        tf.train.export_meta_graph(str(tmp_path / "renamed.meta"))
    report = run_json("diff", checkpoint, tmp_path / "renamed.meta")
    assert report["renames"] == {"dense/kernel": "model/dense/kernel", "v1": "other-v1", "v2": "other-v2"}
    code, out, _ = run_cli("diff", checkpoint, tmp_path / "renamed.meta")
    printed = out.split("suggested renames {name in A: name in B} (Saver var_list: see --help):\n")[1]
    renames = eval(printed.splitlines()[0])  # The printed map is a Python dict literal.
    with graph.as_default():
        by_name = {variable.op.name: variable for variable in tf.global_variables()}
        saver = tf.train.Saver({old: by_name[new] for old, new in renames.items()})
        with tf.Session() as sess:
            saver.restore(sess, checkpoint)
            values = sess.run({new: by_name[new] for new in renames.values()})
    stored = read_checkpoint(checkpoint)
    for old, new in renames.items():
        assert np.array_equal(values[new], stored[old])


def test_ambiguous_candidates_are_not_paired(tmp_path):
    write_checkpoint(str(tmp_path / "a"), {"a/w": np.zeros(2, np.float32), "b/w": np.zeros(2, np.float32)})
    write_checkpoint(str(tmp_path / "b"), {"w": np.zeros(2, np.float32)})
    assert run_json("diff", tmp_path / "a", tmp_path / "b")["renames"] == {}


def test_text_report_lists_both_sides():
    case = os.path.join(CORPUS, "YHGui+TensorFlow_Estimator_Basics", "model")
    code, out, _ = run_cli("diff", os.path.join(case, "model.ckpt-0"), case)
    assert code == 0
    assert out.startswith(f"A: {os.path.join(case, 'model.ckpt-0')} (checkpoint, 15 tensors)\n"
                          f"B: {os.path.join(case, 'model.ckpt-2000')} (checkpoint, 15 tensors)\n")
    assert "values: 0 of 15 compared tensors are equal" in out
    assert json.loads(json.dumps(run_json("diff", os.path.join(case, "model.ckpt-0"), case)))["identical"] is False
