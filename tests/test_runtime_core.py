"""Runtime core: TensorFlow-exact random ops through the graph, TensorFlow's node names for the
seed's graphs, Session semantics and errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.io import protos
from tf_oracle import run_tensorflow


def _golden_random(shared_dir):
    folder = os.path.join(shared_dir, "golden", "random")
    with open(os.path.join(folder, "random_cases.json")) as f:
        cases = json.load(f)
    return cases, np.load(os.path.join(folder, "random_golden.npz"))


def test_every_golden_random_case_bit_exact_through_the_graph(shared_dir):
    cases, golden = _golden_random(shared_dir)
    assert len(cases) == 17
    for case in cases:
        graph = tf.Graph()
        with graph.as_default():
            if case["graph_seed"] is not None:
                tf.set_random_seed(case["graph_seed"])
            fetch = eval(case["code"], {"tf": tf})  # the code TensorFlow ran, verbatim
            with tf.Session() as sess:
                for run in range(case["runs"]):
                    got = sess.run(fetch)
                    want = golden["%s__run%d" % (case["name"], run)]
                    got = np.asarray(got)
                    assert got.dtype == want.dtype, case["name"]
                    assert got.shape == want.shape, case["name"]
                    assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), \
                        "%s run %d differs" % (case["name"], run)


def _meta_node_names(path):
    meta = protos.MetaGraphDef()
    with open(path, "rb") as f:
        meta.ParseFromString(f.read())
    return [(n.name, n.op, list(n.input)) for n in meta.graph_def.node]


def _build_seed_graph_01():
    v1 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
    v2 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
    result = v1 + v2
    tf.global_variables_initializer()
    return result


def _build_seed_graph_05():
    v1 = tf.Variable(tf.constant(1.0, shape=[1]), name="v1")
    v2 = tf.Variable(tf.constant(2.0, shape=[1]), name="v2")
    result = v1 + v2
    tf.global_variables_initializer()
    return result


@pytest.mark.parametrize("folder,builder", [("tt", _build_seed_graph_01),
                                            ("qq", _build_seed_graph_05)])
def test_seed_graph_node_names_equal_tensorflows(shared_dir, folder, builder):
    """The nodes before the Saver's (`save/...`) have TensorFlow's names, types and inputs."""
    golden = [n for n in _meta_node_names(
        os.path.join(shared_dir, "golden", "seed_files", folder, "model.ckpt.meta"))
        if not n[0].startswith("save/")]
    graph = tf.Graph()
    with graph.as_default():
        builder()
    ours = [(n.name, n.op, list(n.input)) for n in graph.as_graph_def().node]
    assert ours == golden


def test_seed_value_and_attrs_match_golden_meta(shared_dir):
    meta = protos.MetaGraphDef()
    with open(os.path.join(shared_dir, "golden", "seed_files", "tt", "model.ckpt.meta"),
              "rb") as f:
        meta.ParseFromString(f.read())
    theirs = {n.name: n for n in meta.graph_def.node}
    graph = tf.Graph()
    with graph.as_default():
        result = _build_seed_graph_01()
        ours = {n.name: n for n in graph.as_graph_def(add_shapes=True).node}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert np.allclose(sess.run(result), [-1.6226364])
    for name, node in ours.items():
        # Every attr TensorFlow wrote is present with the same value.
        for key, value in theirs[name].attr.items():
            assert key in node.attr, (name, key)
            assert node.attr[key] == value, (name, key)


def test_unique_naming_and_scopes():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.constant(1.0)
        b = tf.constant(2.0)
        c = a + b
        d = a + b
        with tf.name_scope("outer"):
            with tf.name_scope("inner"):
                e = tf.add(c, d)
            f = tf.multiply(c, 2.0)
        with tf.name_scope("outer"):
            g = tf.identity(f)
        v = tf.Variable(1.0, name="v1")
        v_again = tf.Variable(1.0, name="v1")
        Add = tf.constant(0.0, name="Add")  # noqa: N806 (case-insensitive clash with "add")
    assert [a.name, b.name, c.name, d.name] == ["Const:0", "Const_1:0", "add:0", "add_1:0"]
    assert e.name == "outer/inner/Add:0"
    assert f.name == "outer/Mul:0"
    assert g.name == "outer_1/Identity:0"
    assert v.name == "v1:0" and v_again.name == "v1_1:0"
    assert Add.name == "Add_2:0"  # TensorFlow counts names case-insensitively
    assert repr(v) == "<tf.Variable 'v1:0' shape=() dtype=float32_ref>"
    assert v.dtype == tf.float32_ref and v.dtype.base_dtype == tf.float32


def test_session_fetch_structures_and_feeds():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = tf.reduce_sum(x * 2.0, axis=1)
        z = tf.reduce_mean(y)
        with tf.Session() as sess:
            feed = {x: np.arange(6, dtype=np.float32).reshape(2, 3)}
            got = sess.run({"y": y, "pair": (y, [z])}, feed)
            assert np.array_equal(got["y"], [6.0, 24.0])
            assert got["pair"][1][0] == np.float32(15.0)
            assert isinstance(got["pair"][1][0], np.float32)
            assert np.array_equal(sess.run("Sum:0", {"x:0": [[1, 1, 1]]}), [6.0])
            assert y.eval({x: [[0.5, 0.5, 0.5]]}).tolist() == [3.0]


def test_variables_keep_state_and_assign_ops():
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(0, dtype=tf.float32, name="v")
        inc = tf.assign_add(v, 1.5)
        reset = tf.assign(v, 10.0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(inc)
            sess.run(inc)
            assert sess.run(v) == np.float32(3.0)
            sess.run(reset)
            assert sess.run(v.read_value()) == np.float32(10.0)
            v.load(4.0, sess)
            assert sess.run(v) == np.float32(4.0)
            fetched = sess.run(v)
            uninit = sess.run(tf.report_uninitialized_variables())
            assert list(uninit) == []
        # A fresh session starts uninitialized.
        with tf.Session() as sess:
            assert list(sess.run(tf.report_uninitialized_variables())) == [b"v"]
        assert fetched == np.float32(4.0)


def test_bad_input_errors():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        y = x + 1.0
        v = tf.Variable(1.0, name="w")
        with tf.Session() as sess:
            with pytest.raises(ValueError, match=r"Cannot feed value of shape \(3,\) for Tensor "
                                                 r"'x:0', which has shape '\(2,\)'"):
                sess.run(y, {x: [1.0, 2.0, 3.0]})
            with pytest.raises(ValueError, match="could not convert|Cannot feed"):
                sess.run(y, {x: ["a", "b"]})
            with pytest.raises(ValueError, match="The operation, 'missing', does not exist"):
                sess.run("missing:0")
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match="You must feed a value for placeholder tensor 'x'"):
                sess.run(y)
            with pytest.raises(tf.errors.FailedPreconditionError,
                               match="Attempting to use uninitialized value w"):
                sess.run(v)
        with pytest.raises(ValueError, match="refers to an Operation, not a Tensor"):
            graph.get_tensor_by_name("add")
    other = tf.Graph()
    with other.as_default():
        with tf.Session() as sess:
            with pytest.raises(ValueError, match="is not an element of this graph"):
                sess.run(y)
    with pytest.raises(TypeError, match="Tensor.*Python `bool`"):
        bool(y)


def test_control_dependencies_and_group():
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(0.0)
        with tf.control_dependencies([tf.assign_add(v, 1.0)]):
            out = v.read_value()
        step = tf.group(tf.assign_add(v, 10.0), name="step")
        with tf.Session() as sess:
            sess.run(v.initializer)
            assert sess.run(out) == np.float32(1.0)
            sess.run(step)
            assert sess.run(v) == np.float32(11.0)
    assert step.name == "step" and step.type == "NoOp"
    assert [op.name for op in out.op.control_inputs] == ["AssignAdd"]
    assert out.op.inputs[0].op is v.op  # reads the ref after the update


@pytest.mark.tf
def test_graph_def_built_here_imports_and_runs_in_tensorflow(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        w = tf.constant([[1.0, -1.0], [0.5, 2.0]], name="w")
        with tf.name_scope("layer"):
            h = tf.matmul(x, w)
            out = tf.reduce_max(h * 3.0 - 1.0, axis=1, name="out")
        r = tf.random_normal([4], seed=3, name="noise")
        with tf.Session() as sess:
            ours = sess.run([out, r], {x: [[1.0, 2.0], [3.0, 4.0]]})
    path = tmp_path / "graph.pb"
    path.write_bytes(graph.as_graph_def().SerializeToString())
    theirs = run_tensorflow("""
        g = tf.GraphDef()
        g.ParseFromString(open(%r, "rb").read())
        tf.import_graph_def(g, name="")
        with tf.Session() as s:
            a, b = s.run(["layer/out:0", "noise:0"], {"x:0": [[1.0, 2.0], [3.0, 4.0]]})
        emit([a.tolist(), b.tolist()])
    """ % str(path))
    assert np.array_equal(np.float32(theirs[0]), ours[0])
    assert np.array_equal(np.float32(theirs[1]), ours[1])


def test_exec_runs_a_tf1_script_with_submodule_imports(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(
        "import tensorflow as tf\n"
        "import tensorflow.compat.v1 as tf1\n"
        "from tensorflow.python.framework import ops\n"
        "from tensorflow.python.framework import graph_util\n"
        "from tensorflow.python.platform import gfile\n"
        "from tensorflow.examples.tutorials.mnist import input_data\n"
        "import tensorflow.contrib.layers as layers\n"
        "assert tf1 is tf and ops.Graph is tf.Graph\n"
        "assert graph_util.convert_variables_to_constants is "
        "tf.graph_util.convert_variables_to_constants\n"
        "assert gfile.FastGFile and input_data.read_data_sets and layers.l2_regularizer\n"
        "a = tf.constant([1.0, 2.0])\n"
        "with tf.Session() as s:\n"
        "    print(s.run(a * 2))\n")
    proc = subprocess.run([sys.executable, "-m", "tensorkeep", "exec", str(script)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[2. 4.]\n"


def test_reads_of_a_variable_see_updates_ordered_before_them():
    """TensorFlow's `v/read` aliases the variable's buffer: an op that runs after an update
    (through a control dependency) reads the new value, even through the old snapshot."""
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(0.0, name="v")
        with tf.control_dependencies([tf.assign_add(v, 1.0)]):
            through_snapshot = tf.identity(v.value())
            doubled = v * 2.0
        w = tf.Variable(1.0, name="w", constraint=lambda x: tf.clip_by_value(x, -10.0, 10.0))
        step = tf.train.GradientDescentOptimizer(0.1).minimize(2.0 * w)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(through_snapshot) == np.float32(1.0)
            assert sess.run(doubled) == np.float32(4.0)
            sess.run(step)
            # The constraint runs after the update and sees it (TensorFlow prints 0.8).
            assert sess.run(w) == np.float32(0.8)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value v"):
                sess.run(v.value())
