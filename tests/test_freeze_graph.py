"""graph_util: convert_variables_to_constants (freezing), extract_sub_graph,
remove_training_nodes and friends, checked against the frozen graph TensorFlow 2.21 wrote for
the seed program."""

import logging
import os

import numpy as np
import pytest
from google.protobuf import text_format

import tensorkeep as tf
from tensorkeep.framework import graph_util
from tensorkeep.io import protos


def _seed_sum_graph():
    v1 = tf.Variable(tf.constant(1.0, shape=[1]), name="v1")
    v2 = tf.Variable(tf.constant(2.0, shape=[1]), name="v2")
    return v1 + v2


def test_seed_freeze_equals_tensorflows(shared_dir, tmp_path, caplog, capsys):
    """Seed program 08: freeze, write with tf.gfile, read back with gfile.FastGFile, import."""
    with tf.Graph().as_default():
        _seed_sum_graph()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with caplog.at_level(logging.INFO, logger="tensorflow"):
                frozen = tf.graph_util.convert_variables_to_constants(
                    sess, tf.get_default_graph().as_graph_def(), ["add"])
            path = str(tmp_path / "combined_model.pb")
            with tf.gfile.GFile(path, "wb") as f:
                f.write(frozen.SerializeToString())
    golden = os.path.join(shared_dir, "golden", "seed_files", "model", "combined_model.pb")
    with open(golden, "rb") as f:
        expected = protos.GraphDef.FromString(f.read())
    # The same bytes up to the order of map entries (which protobuf does not fix).
    assert frozen.SerializeToString(deterministic=True) == \
        expected.SerializeToString(deterministic=True)
    messages = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert messages == [("tensorflow", "INFO", "Froze 2 variables."),
                        ("tensorflow", "INFO", "Converted 2 variables to const ops.")]
    assert capsys.readouterr().out == ""
    with tf.Graph().as_default():
        with tf.Session() as sess:
            with tf.gfile.FastGFile(path, "rb") as f:
                graph_def = tf.GraphDef()
                graph_def.ParseFromString(f.read())
            result = tf.import_graph_def(graph_def, return_elements=["add:0"])
            assert repr(sess.run(result)) == "[array([3.], dtype=float32)]"


def test_whitelist_and_blacklist_choose_the_variables():
    with tf.Graph().as_default():
        _seed_sum_graph()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            graph_def = tf.get_default_graph().as_graph_def()
            only_v1 = graph_util.convert_variables_to_constants(
                sess, graph_def, ["add"], variable_names_whitelist=["v1"])
            not_v1 = graph_util.convert_variables_to_constants(
                sess, graph_def, ["add"], variable_names_blacklist=["v1"])
    ops_of = lambda g: {n.name: n.op for n in g.node}  # noqa: E731
    assert ops_of(only_v1)["v1"] == "Const" and ops_of(only_v1)["v2"] == "VariableV2"
    assert ops_of(not_v1)["v1"] == "VariableV2" and ops_of(not_v1)["v2"] == "Const"


def test_frozen_values_are_the_sessions_not_the_initial_ones():
    with tf.Graph().as_default():
        v = tf.Variable(tf.zeros([2, 3]), name="v")
        out = tf.identity(v * 2.0, name="out")
        step = tf.assign_add(v, tf.ones([2, 3]))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(step)
            expected = sess.run(out)
            frozen = graph_util.convert_variables_to_constants(
                sess, tf.get_default_graph().as_graph_def(), ["out"])
    assert [n.name for n in frozen.node if n.op in ("VariableV2", "Assign", "AssignAdd")] == []
    with tf.Graph().as_default():
        (result,) = tf.import_graph_def(frozen, return_elements=["out:0"], name="")
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(result), expected)


class _StubSession:
    """What convert_variables_to_constants needs of a session: a graph and run()."""

    def __init__(self, values):
        self.graph = tf.Graph()
        self.values = values
        self.fetched = None

    def run(self, fetches):
        self.fetched = list(fetches)
        return [self.values[name] for name in fetches]


RESOURCE_GRAPH = """
node { name: "v" op: "VarHandleOp" attr { key: "dtype" value { type: DT_FLOAT } }
       attr { key: "shape" value { shape { dim { size: 2 } } } }
       attr { key: "shared_name" value { s: "v" } } }
node { name: "v/Read/ReadVariableOp" op: "ReadVariableOp" input: "v"
       attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "read" op: "ReadVariableOp" input: "v"
       attr { key: "_class" value { list { s: "loc:@v" } } }
       attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "pass" op: "Identity" input: "v"
       attr { key: "T" value { type: DT_RESOURCE } }
       attr { key: "_output_shapes" value { list { shape { } } } } }
node { name: "out" op: "AddV2" input: "read" input: "read"
       attr { key: "T" value { type: DT_FLOAT } } }
node { name: "unused" op: "NoOp" }
"""


def test_resource_variables_become_constants_and_their_reads_identities():
    graph_def = text_format.Parse(RESOURCE_GRAPH, protos.GraphDef())
    session = _StubSession({"v/Read/ReadVariableOp:0": np.array([1.5, 2.5], np.float32)})
    frozen = graph_util.convert_variables_to_constants(session, graph_def, ["out", "pass"])
    assert session.fetched == ["v/Read/ReadVariableOp:0"]
    nodes = {n.name: n for n in frozen.node}
    assert "unused" not in nodes and "v/Read/ReadVariableOp" not in nodes
    assert nodes["v"].op == "Const"
    np.testing.assert_array_equal(tf.make_ndarray(nodes["v"].attr["value"].tensor), [1.5, 2.5])
    read = nodes["read"]
    assert (read.op, list(read.input), read.attr["T"].type) == ("Identity", ["v"],
                                                                protos.DT_FLOAT)
    assert list(read.attr["_class"].list.s) == [b"loc:@v"]
    # A pass-through node carrying the variable takes the value's dtype and drops its shapes.
    assert nodes["pass"].attr["T"].type == protos.DT_FLOAT
    assert "_output_shapes" not in nodes["pass"].attr


def test_extract_sub_graph_keeps_order_colocation_library_and_versions():
    text = """
    node { name: "a" op: "NoOp" }
    node { name: "b" op: "NoOp" }
    node { name: "c" op: "NoOp" input: "^a" attr { key: "_class" value { list { s: "loc:@b" } } } }
    node { name: "d" op: "NoOp" }
    library { function { signature { name: "f" } } }
    versions { producer: 7 }
    """
    graph_def = text_format.Parse(text, protos.GraphDef())
    sub = graph_util.extract_sub_graph(graph_def, ["c"])
    assert [n.name for n in sub.node] == ["a", "b", "c"]
    assert sub.library == graph_def.library and sub.versions.producer == 7
    with pytest.raises(AssertionError, match="zz is not in graph"):
        graph_util.extract_sub_graph(graph_def, ["zz"])
    with pytest.raises(TypeError, match="dest_nodes must be an iterable of strings"):
        graph_util.extract_sub_graph(graph_def, "c")
    with pytest.raises(TypeError, match="graph_def must be a graph_pb2.GraphDef proto"):
        graph_util.extract_sub_graph("c", ["c"])


def test_remove_training_nodes():
    text = """
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    node { name: "check" op: "CheckNumerics" input: "x" }
    node { name: "id1" op: "Identity" input: "x" }
    node { name: "id2" op: "Identity" input: "id1" }
    node { name: "kept_ctrl" op: "Identity" input: "x" input: "^id1" }
    node { name: "coloc" op: "Identity" input: "x" }
    node { name: "user" op: "AddV2" input: "id2" input: "coloc"
           attr { key: "_class" value { list { s: "loc:@coloc" } } } }
    node { name: "protected" op: "Identity" input: "user" }
    """
    graph_def = text_format.Parse(text, protos.GraphDef())
    result = graph_util.remove_training_nodes(graph_def, protected_nodes=["protected"])
    nodes = {n.name: list(n.input) for n in result.node}
    assert "check" not in nodes and "id2" not in nodes
    assert "id1" in nodes  # used as a control input
    assert nodes["kept_ctrl"] == ["x", "^id1"]
    assert nodes["user"] == ["id1", "coloc"]
    assert nodes["protected"] == ["user"]


def test_shape_helpers_and_must_run_on_cpu():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        tf.identity(x, name="y")
        assert graph_util.tensor_shape_from_node_def_name(graph, "y").as_list() == [None, 4]
        assert graph_util.tensor_shape_from_node_def_name(graph, "x:0").as_list() == [None, 4]
        int_const = tf.constant(1, name="i")
        float_const = tf.constant(1.0, name="f")
    assert graph_util.must_run_on_cpu(int_const.op)
    assert not graph_util.must_run_on_cpu(float_const.op)
    assert graph_util.must_run_on_cpu(x.op.node_def) is False
    variable_node = protos.NodeDef(name="v", op="VariableV2")
    assert graph_util.must_run_on_cpu(variable_node, pin_variables_on_cpu=True)
    assert tf.graph_util.import_graph_def is tf.import_graph_def
