"""tf.train.import_meta_graph: TensorFlow 2.21's seed meta graphs and checkpoints, scoped
imports, restored collections, and every meta graph and frozen graph of the real-world corpus."""

import glob
import json
import logging
import os
import re

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import errors
from tensorkeep.framework import graph_io
from tensorkeep.framework import meta_graph
from tensorkeep.io import protos


def _seed_expected(shared_dir, program):
    with open(os.path.join(shared_dir, "seed", "expected", program + ".out")) as f:
        return f.read()


def test_seed_program_04_on_tensorflows_files(shared_dir, capsys):
    """Seed program 04 against the checkpoint TensorFlow wrote in program 01."""
    prefix = os.path.join(shared_dir, "golden", "seed_files", "tt", "model.ckpt")
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(prefix + ".meta")
        with tf.Session() as sess:
            print("get here...")
            saver.restore(sess, prefix)
            print(sess.run(tf.get_default_graph().get_tensor_by_name("add:0")))
    assert capsys.readouterr().out == _seed_expected(shared_dir, "04_import_meta_graph")


def test_seed_program_04_after_saving_with_tensorkeep(shared_dir, tmp_path, capsys):
    """Programs 01 then 04: tensorkeep's own .meta and checkpoint."""
    prefix = str(tmp_path / "tt" / "model.ckpt")
    with tf.Graph().as_default():
        v1 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
        v2 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
        v1 + v2
        init_op = tf.global_variables_initializer()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(init_op)
            saver.save(sess, prefix)
    capsys.readouterr()
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(prefix + ".meta")
        with tf.Session() as sess:
            print("get here...")
            saver.restore(sess, prefix)
            print(sess.run(tf.get_default_graph().get_tensor_by_name("add:0")))
    assert capsys.readouterr().out == _seed_expected(shared_dir, "04_import_meta_graph")


def test_ema_meta_graph_restores_both_variables(shared_dir):
    prefix = os.path.join(shared_dir, "golden", "seed_files", "model", "model2.ckpt")
    with tf.Graph().as_default() as graph:
        saver = tf.train.import_meta_graph(prefix + ".meta")
        assert [v.name for v in tf.global_variables()] == ["v:0", "v/ExponentialMovingAverage:0"]
        assert [v.name for v in tf.moving_average_variables()] == ["v:0"]
        # One Variable object per VariableDef, whatever collections list it.
        assert tf.moving_average_variables()[0] is tf.global_variables()[0]
        assert tf.trainable_variables()[0] is tf.global_variables()[0]
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            values = sess.run(["v:0", "v/ExponentialMovingAverage:0"])
        assert graph.get_collection("cond_context")  # kept, whatever its representation
    # TensorFlow printed: last: [np.float32(10.0), np.float32(0.099999905)]
    assert "last: %r" % [np.float32(v) for v in values] + "\n" in \
        _seed_expected(shared_dir, "06_ema_save")


def test_import_scope_prefixes_names_and_the_saver_follows(shared_dir):
    prefix = os.path.join(shared_dir, "golden", "seed_files", "qq", "model.ckpt")
    with tf.Graph().as_default() as graph:
        first = tf.train.import_meta_graph(prefix + ".meta", import_scope="a")
        second = tf.train.import_meta_graph(prefix + ".meta", import_scope="a")
        assert [v.name for v in tf.global_variables()] == ["a/v1:0", "a/v2:0", "a_1/v1:0",
                                                           "a_1/v2:0"]
        assert second.saver_def.restore_op_name == "a_1/save/restore_all"
        with tf.Session() as sess:
            first.restore(sess, prefix)
            second.restore(sess, prefix)
            assert sess.run(graph.get_tensor_by_name("a/add:0")).tolist() == [3.0]
            assert sess.run(graph.get_tensor_by_name("a_1/add:0")).tolist() == [3.0]


def test_collections_round_trip(tmp_path):
    path = str(tmp_path / "model.meta")
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        with tf.name_scope("layer"):
            w = tf.Variable([[1.0], [2.0]], name="w")
            y = tf.matmul(x, w, name="y")
        step = tf.Variable(0, name="step", trainable=False)
        tf.add_to_collection("outputs", y)
        tf.add_to_collection("train_op", y.op)
        tf.add_to_collection("numbers", 7)
        tf.add_to_collection("rates", 0.5)
        tf.add_to_collection("labels", "cat")
        tf.add_to_collection(tf.GraphKeys.GLOBAL_STEP, step)
        tf.train.export_meta_graph(filename=path, as_text=True)
    with tf.Graph().as_default() as graph:
        saver = tf.train.import_meta_graph(path)
        assert saver is not None
        assert graph.get_collection("outputs") == [graph.get_tensor_by_name("layer/y:0")]
        assert graph.get_collection("train_op") == [graph.get_operation_by_name("layer/y")]
        assert graph.get_collection("numbers") == [7]
        assert graph.get_collection("rates") == [0.5]
        assert graph.get_collection("labels") == [b"cat"]
        assert [v.name for v in tf.trainable_variables()] == ["layer/w:0"]
        assert [(v.name, v.trainable) for v in tf.global_variables()] == [
            ("layer/w:0", True), ("step:0", False)]
        # Outside the variable collections TensorFlow makes a Variable object of its own.
        assert graph.get_collection(tf.GraphKeys.GLOBAL_STEP)[0].op is \
            tf.global_variables()[1].op
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run("layer/y:0", {"x:0": [[1.0, 1.0]]}).tolist() == [[3.0]]


def test_input_map_clear_devices_and_return_elements():
    with tf.Graph().as_default():
        with tf.device("/device:CPU:0"):
            x = tf.placeholder(tf.float32, name="x")
            tf.multiply(x, 3.0, name="out")
        exported = tf.train.export_meta_graph()
    with tf.Graph().as_default() as graph:
        feed = tf.constant(2.0, name="feed")
        _, (out,) = meta_graph.import_scoped_meta_graph_with_return_elements(
            exported, clear_devices=True, input_map={"x:0": feed}, return_elements=["out:0"])
        assert out.device == "" and out.op.inputs[0] is feed
        with tf.Session() as sess:
            assert sess.run(out) == 6.0
    assert exported.graph_def.node[0].device == "/device:CPU:0"  # the argument is not changed


def test_saver_for_graphs_without_saver_def(caplog):
    with tf.Graph().as_default():
        tf.Variable(1.0, name="v")
        with_variables = tf.train.export_meta_graph()
    with tf.Graph().as_default():
        tf.constant(1.0, name="c")
        without_variables = tf.train.export_meta_graph()
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(with_variables)
        assert isinstance(saver, tf.train.Saver)
        assert saver.saver_def.restore_op_name == "save/restore_all"
    with tf.Graph().as_default():
        with caplog.at_level(logging.INFO, logger="tensorflow"):
            assert tf.train.import_meta_graph(without_variables) is None
    assert "Saver not created because there are no variables in the graph to restore" in \
        caplog.text


def test_pre_1_9_meta_graphs_take_trainable_from_the_collection():
    """VariableDef.trainable exists since TensorFlow 1.9: older files say it by collection."""
    with tf.Graph().as_default():
        tf.Variable(1.0, name="w")
        tf.Variable(2.0, name="frozen", trainable=False)
        exported = tf.train.export_meta_graph()
    exported.meta_info_def.tensorflow_version = "1.4.0"
    for value in exported.collection_def["variables"].bytes_list.value:
        assert protos.VariableDef.FromString(value).variable_name in ("w:0", "frozen:0")
    with tf.Graph().as_default():
        tf.train.import_meta_graph(exported)
        assert [(v.name, v.trainable) for v in tf.global_variables()] == [
            ("w:0", True), ("frozen:0", False)]


# --- the real-world corpus ------------------------------------------------------------------------

def _corpus_cases(shared_dir):
    root = os.path.join(shared_dir, "corpus")
    if not os.path.isdir(root):
        pytest.skip("no corpus")
    for expect_path in sorted(glob.glob(os.path.join(root, "*", "expect.json"))):
        with open(expect_path) as f:
            yield os.path.dirname(expect_path), json.load(f)


def _load_inputs(case_dir, run):
    npz = np.load(os.path.join(case_dir, "io.npz"))
    return npz, {i["tensor"]: npz[i["npz_key"]] for i in run["inputs"]}


def _check_run(case_dir, run, sess, label, report):
    """Runs a recorded forward pass; outputs must match TensorFlow's when it completes."""
    if not run or not run.get("ok") or not run.get("outputs"):
        return
    npz, feeds = _load_inputs(case_dir, run)
    fetches = [o["tensor"] for o in run["outputs"]]
    try:
        values = sess.run(fetches, feeds)
    except (errors.UnimplementedError, errors.NotFoundError) as error:
        report["run: op missing"].append("%s (%s)" % (label, str(error).split("\n")[0][:120]))
        return
    if run.get("deterministic"):
        for output, value in zip(run["outputs"], values):
            np.testing.assert_allclose(value, npz[output["npz_key"]], rtol=1e-4, atol=1e-5,
                                       err_msg="%s %s" % (label, output["tensor"]))
    report["run: matches TensorFlow"].append(label)


def test_every_corpus_meta_graph_and_frozen_graph_imports(shared_dir):
    report = {"meta imported": [], "meta restored": [], "restore: op missing": [],
              "graph imported": [],
              "graph: op types missing": [], "graph: rejected as TensorFlow rejects it": [],
              "run: matches TensorFlow": [], "run: op missing": []}
    for case_dir, expect in _corpus_cases(shared_dir):
        case = os.path.basename(case_dir)
        for meta in expect.get("meta_graphs", []):
            label = "%s/%s" % (case, meta["path"])
            outcome = meta.get("import_meta_graph", {})
            with tf.Graph().as_default():
                saver = tf.train.import_meta_graph(os.path.join(case_dir, meta["path"]))
                report["meta imported"].append(label)
                assert outcome.get("import_ok"), label  # TensorFlow imported it too
                assert len(tf.get_default_graph().get_operations()) == meta["node_count"]
                # Re-exported, every op type keeps an OpDef (the producer's where tensorkeep
                # has no schema).
                exported = tf.train.export_meta_graph()
                assert sorted(op.name for op in exported.meta_info_def.stripped_op_list.op) == \
                    sorted(meta["op_histogram"]), label
                if not outcome.get("restore_ok") or saver is None:
                    continue
                with tf.Session() as sess:
                    try:
                        saver.restore(sess, os.path.join(case_dir,
                                                         outcome["checkpoint_prefix"]))
                    except errors.UnimplementedError as error:
                        report["restore: op missing"].append(
                            "%s (%s)" % (label, str(error).split(" in tensorkeep")[0]))
                        continue
                    report["meta restored"].append(label)
                    _check_run(case_dir, meta.get("forward"), sess, label, report)
        for frozen in expect.get("frozen_graphs", []):
            label = "%s/%s" % (case, frozen["path"])
            graph_def = graph_io.read_graph_def(os.path.join(case_dir, frozen["path"]))
            assert len(graph_def.node) == frozen["node_count"], label
            with tf.Graph().as_default():
                try:
                    tf.import_graph_def(graph_def, name="")
                except errors.NotFoundError as error:
                    assert str(error).startswith("Op type not registered '"), label
                    report["graph: op types missing"].append(
                        "%s (%s)" % (label, str(error).split("lacks are: ")[-1]))
                    continue
                except ValueError as error:
                    assert not frozen["tf_import_ok"], "%s: %s" % (label, error)
                    # The corpus writes numbered names as `name_*`.
                    pattern = re.escape(frozen["tf_import_error"]["message"]).replace(
                        r"_\*", r"_\d+")
                    assert re.fullmatch(pattern, str(error)), (label, str(error))
                    report["graph: rejected as TensorFlow rejects it"].append(label)
                    continue
                assert frozen["tf_import_ok"], label
                report["graph imported"].append(label)
                with tf.Session() as sess:
                    _check_run(case_dir, frozen.get("run"), sess, label, report)
    print()
    for key, labels in report.items():
        print("%-45s %d" % (key, len(labels)))
        for label in labels:
            print("    " + label)
    assert report["meta imported"]
