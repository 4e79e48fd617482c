"""tf.train.export_meta_graph and the `.meta` Saver.save writes, against the meta graphs
TensorFlow 2.21 wrote for the seed programs; collections; scoped export; write_graph."""

import logging
import os

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import graph_io
from tensorkeep.framework import meta_graph
from tensorkeep.io import protos


def _golden_meta(shared_dir, relative):
    with open(os.path.join(shared_dir, "golden", "seed_files", relative), "rb") as f:
        return protos.MetaGraphDef.FromString(f.read())


def _assert_same_meta_graph(ours, theirs):
    assert ours.graph_def == theirs.graph_def
    assert ours.saver_def == theirs.saver_def
    assert ours.collection_def == theirs.collection_def
    assert [op.name for op in ours.meta_info_def.stripped_op_list.op] == \
        [op.name for op in theirs.meta_info_def.stripped_op_list.op]
    assert ours.meta_info_def.tensorflow_version == theirs.meta_info_def.tensorflow_version
    assert ours.meta_info_def.tensorflow_git_version == "tensorkeep-" + tf.__version__


def test_seed_random_model_meta_matches_tensorflows(shared_dir, tmp_path):
    """Seed program 01's graph and Saver: the .meta Saver.save writes is TensorFlow's."""
    with tf.Graph().as_default():
        v1 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
        v2 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
        v1 + v2
        init_op = tf.global_variables_initializer()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(init_op)
            saver.save(sess, str(tmp_path / "model.ckpt"))
    with open(tmp_path / "model.ckpt.meta", "rb") as f:
        written = protos.MetaGraphDef.FromString(f.read())
    _assert_same_meta_graph(written, _golden_meta(shared_dir, "tt/model.ckpt.meta"))


def test_seed_constant_model_meta_matches_tensorflows(shared_dir):
    """Seed program 05's first graph, exported directly with the saver's SaverDef."""
    with tf.Graph().as_default():
        v1 = tf.Variable(tf.constant(1.0, shape=[1]), name="v1")
        v2 = tf.Variable(tf.constant(2.0, shape=[1]), name="v2")
        v1 + v2
        tf.global_variables_initializer()
        saver = tf.train.Saver()
        exported = tf.train.export_meta_graph(saver_def=saver.as_saver_def())
    _assert_same_meta_graph(exported, _golden_meta(shared_dir, "qq/model.ckpt.meta"))


def test_stripped_op_list_holds_the_registered_op_defs():
    with tf.Graph().as_default():
        tf.identity(tf.constant(1.0) + tf.constant(2.0))
        exported = tf.train.export_meta_graph()
    op_defs = {op.name: op for op in exported.meta_info_def.stripped_op_list.op}
    assert sorted(op_defs) == ["AddV2", "Const", "Identity"]
    identity = op_defs["Identity"]
    assert [a.name for a in identity.input_arg] == ["input"]
    assert [a.name for a in identity.attr] == ["T"]


def test_collections_are_serialized_by_kind(caplog):
    """Kinds follow the first value; what does not fit is skipped with a warning (TensorFlow
    2.21 keeps and drops exactly these)."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, name="x")
        y = tf.identity(x, name="y")
        tf.add_to_collection("tensors", y)
        tf.add_to_collection("ops", y.op)
        tf.add_to_collection("ints", 3)
        tf.add_to_collection("ints", 4)
        tf.add_to_collection("floats", 2.5)
        tf.add_to_collection("floats", 3)
        tf.add_to_collection("strings", "hello")
        tf.add_to_collection("strings", b"bytes")
        tf.add_to_collection("bools", True)
        tf.add_to_collection("numpy", np.float32(1.5))
        tf.add_to_collection("objects", object())
        tf.add_to_collection("mixed", 1)
        tf.add_to_collection("mixed", "one")
        tf.add_to_collection(("tuple", "key"), 1)
        with caplog.at_level(logging.WARNING, logger="tensorflow"):
            exported = tf.train.export_meta_graph()
    collections = exported.collection_def
    assert sorted(collections) == ["floats", "ints", "ops", "strings", "tensors"]
    assert list(collections["tensors"].node_list.value) == ["y:0"]
    assert list(collections["ops"].node_list.value) == ["y"]
    assert list(collections["ints"].int64_list.value) == [3, 4]
    assert list(collections["floats"].float_list.value) == [2.5, 3.0]
    assert list(collections["strings"].bytes_list.value) == [b"hello", b"bytes"]
    assert caplog.text.count("Issue encountered when serializing") == 4


def test_variables_are_stored_as_variable_defs():
    with tf.Graph().as_default():
        v = tf.Variable(1.0, name="v")
        local = tf.Variable(2.0, name="local", trainable=False,
                            collections=[tf.GraphKeys.LOCAL_VARIABLES])
        exported = tf.train.export_meta_graph()
    collections = exported.collection_def
    assert sorted(collections) == ["local_variables", "trainable_variables", "variables"]
    variable_def = protos.VariableDef.FromString(collections["variables"].bytes_list.value[0])
    assert variable_def == v.to_proto()
    assert variable_def.variable_name == "v:0" and variable_def.initializer_name == "v/Assign"
    local_def = protos.VariableDef.FromString(collections["local_variables"].bytes_list.value[0])
    assert local_def == local.to_proto() and not local_def.trainable


def test_export_scope_strips_names_and_records_unbound_inputs():
    with tf.Graph().as_default() as graph:
        outside = tf.placeholder(tf.float32, name="outside")
        with tf.name_scope("net"):
            w = tf.Variable(2.0, name="w")
            out = tf.multiply(outside, w, name="out")
        tf.add_to_collection("outputs", out)
        exported, var_list = meta_graph.export_scoped_meta_graph(export_scope="net")
    names = [n.name for n in exported.graph_def.node]
    assert "outside" not in names and "out" in names and "w" in names
    mul = [n for n in exported.graph_def.node if n.name == "out"][0]
    assert list(mul.input) == ["$unbound_inputs_outside", "w/read"]
    assert all(n.attr["_output_shapes"].list.shape for n in exported.graph_def.node
               if n.op != "NoOp")
    assert list(exported.collection_def["outputs"].node_list.value) == ["out:0"]
    assert list(exported.collection_def["unbound_inputs"].bytes_list.value) == \
        [b"$unbound_inputs_outside"]
    assert list(var_list) == ["w:0"] and var_list["w:0"] is graph.get_collection("variables")[0]
    # Importing it needs the unbound input mapped.
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Graph contains unbound inputs: "
                                             r"\$unbound_inputs_outside"):
            meta_graph.import_scoped_meta_graph(exported)
    with tf.Graph().as_default() as graph2:
        feed = tf.constant(3.0, name="feed")
        imported = meta_graph.import_scoped_meta_graph(
            exported, import_scope="copy", input_map={"$unbound_inputs_outside": feed})
        assert list(imported) == ["w:0"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(graph2.get_tensor_by_name("copy/out:0")) == 6.0


def test_clear_devices_and_strip_default_attrs():
    with tf.Graph().as_default():
        with tf.device("/device:CPU:0"):
            tf.placeholder(tf.float32, name="x")
        plain = tf.train.export_meta_graph()
        cleared = tf.train.export_meta_graph(clear_devices=True)
        stripped = tf.train.export_meta_graph(strip_default_attrs=True)
    assert plain.graph_def.node[0].device == "/device:CPU:0"
    assert cleared.graph_def.node[0].device == ""
    assert "shape" in plain.graph_def.node[0].attr  # unknown shape: Placeholder's default
    assert "shape" not in stripped.graph_def.node[0].attr
    assert stripped.meta_info_def.stripped_default_attrs


def test_text_and_binary_files(tmp_path):
    with tf.Graph().as_default():
        tf.Variable([1.0, 2.0], name="v")
        binary = tf.train.export_meta_graph(filename=str(tmp_path / "m.meta"))
        text = tf.train.export_meta_graph(filename=str(tmp_path / "m.meta.txt"), as_text=True)
    with open(tmp_path / "m.meta", "rb") as f:
        assert f.read() == binary.SerializeToString(deterministic=True)
    with open(tmp_path / "m.meta.txt") as f:
        assert f.read().startswith("meta_info_def {\n  stripped_op_list {")
    assert meta_graph.read_meta_graph_file(str(tmp_path / "m.meta.txt")) == text
    assert meta_graph.read_meta_graph_file(str(tmp_path / "m.meta")) == binary
    with pytest.raises(IOError, match="File does not exist"):
        meta_graph.read_meta_graph_file(str(tmp_path / "missing.meta"))
    (tmp_path / "garbage.meta").write_bytes(b"\xff\xfe not a proto {")
    with pytest.raises(IOError, match="Cannot parse file"):
        meta_graph.read_meta_graph_file(str(tmp_path / "garbage.meta"))


def test_write_graph_text_and_binary(tmp_path):
    with tf.Graph().as_default() as graph:
        tf.constant([0.1, 2.0], name="c")
        text_path = tf.train.write_graph(graph, str(tmp_path / "new" / "dir"), "g.pbtxt")
        binary_path = tf.train.write_graph(graph.as_graph_def(), str(tmp_path), "g.pb",
                                           as_text=False)
        expected = graph.as_graph_def()
    assert text_path == os.path.join(str(tmp_path / "new" / "dir"), "g.pbtxt")
    with open(text_path) as f:
        text = f.read()
    assert text.startswith('node {\n  name: "c"\n  op: "Const"')
    assert graph_io.read_graph_def(text_path) == expected
    assert graph_io.read_graph_def(binary_path) == expected
    with open(binary_path, "rb") as f:
        assert f.read() == expected.SerializeToString(deterministic=True)
