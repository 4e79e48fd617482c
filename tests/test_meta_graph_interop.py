"""Live interop with real TensorFlow (one subprocess for the whole module): TensorFlow imports
tensorkeep's .meta (binary and text) and restores its checkpoint, imports its frozen graphs
(.pb and .pbtxt), and evaluates the same tensors; tensorkeep does the same with TensorFlow's
files; both report the same errors for malformed GraphDefs and create imported nodes in the
same order."""

import json
import os

import numpy as np
import pytest
from google.protobuf import text_format

import tensorkeep as tf
from tensorkeep.framework import graph_io
from tensorkeep.io import protos
from test_import_graph_def import MALFORMED
from tf_oracle import run_tensorflow

pytestmark = pytest.mark.tf

FEED_X = [[1.0, -2.0, 0.5], [0.25, 1.5, -1.0]]
FEED_A = [[1.0, 2.0], [3.0, -4.0], [0.5, 0.5]]
FEED_B = 1.5
OURS_FETCHES = ["head/logits:0", "head/probs:0", "total:0"]
THEIRS_FETCHES = ["out/sum:0", "out/prod:0", "out/scaled/mean:0"]


def _build_and_write_ours(folder):
    """tensorkeep's model: placeholders, name scopes, variables changed after initialization,
    several outputs, collections; saved, exported as text, frozen to .pb and .pbtxt."""
    os.makedirs(folder)
    with tf.Graph().as_default() as graph:
        with tf.name_scope("input"):
            x = tf.placeholder(tf.float32, [None, 3], name="x")
        with tf.name_scope("layer1"):
            w1 = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 4) / 10.0, name="w")
            b1 = tf.Variable(tf.constant(0.5, shape=[4]), name="b")
            hidden = tf.nn.relu(tf.matmul(x, w1) + b1, name="h")
        with tf.name_scope("head"):
            w2 = tf.Variable(tf.constant([[1.0, -1.0]] * 4), name="w")
            logits = tf.matmul(hidden, w2, name="logits")
            probs = tf.nn.softmax(logits, name="probs")
        total = tf.reduce_sum(probs * logits, name="total")
        counter = tf.Variable(0, name="counter", trainable=False)
        bump = tf.assign_add(counter, 1)
        tf.add_to_collection("outputs", logits)
        tf.add_to_collection("outputs", probs)
        tf.add_to_collection("train_op", bump.op)
        tf.add_to_collection("my_int", 3)
        tf.add_to_collection("my_float", 0.25)
        tf.add_to_collection("my_string", "hello")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run([tf.assign(w1, w1 * 2.0), bump])
            sess.run(bump)
            values = sess.run([logits, probs, total], {x: FEED_X})
            prefix = saver.save(sess, os.path.join(folder, "model.ckpt"))
            tf.train.export_meta_graph(os.path.join(folder, "model_text.meta"), as_text=True,
                                       saver_def=saver.as_saver_def())
            frozen = tf.graph_util.convert_variables_to_constants(
                sess, graph.as_graph_def(), ["head/logits", "head/probs", "total"])
    with tf.gfile.GFile(os.path.join(folder, "frozen.pb"), "wb") as f:
        f.write(frozen.SerializeToString())
    tf.train.write_graph(frozen, folder, "frozen.pbtxt")
    return prefix, [np.asarray(v).tolist() for v in values], frozen


TF_SCRIPT = r"""
import json, os
import numpy as np
from google.protobuf import text_format
job = json.load(open(JOB))
out = {}

def run_meta(meta_path, prefix, fetches, feeds):
    with tf.Graph().as_default() as graph:
        saver = tf.train.import_meta_graph(meta_path)
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            values = sess.run(fetches, feeds)
            collections = {key: [getattr(x, "name", x) if not isinstance(x, bytes) else
                                 x.decode() for x in graph.get_collection(key)]
                           for key in ("outputs", "train_op", "my_int", "my_float",
                                       "my_string")}
            trainable = [v.name for v in tf.trainable_variables()]
            counter = sess.run("counter:0")
    return {"values": [np.asarray(v).tolist() for v in values], "collections": collections,
            "trainable": trainable, "counter": int(counter)}

def load_graph_def(path):
    graph_def = tf.GraphDef()
    data = open(path, "rb").read()
    if path.endswith(".pbtxt"):
        text_format.Merge(data.decode(), graph_def)
    else:
        graph_def.ParseFromString(data)
    return graph_def

def run_frozen(path, fetches, feeds):
    with tf.Graph().as_default() as graph:
        results = tf.import_graph_def(load_graph_def(path), return_elements=fetches, name="")
        with tf.Session() as sess:
            values = sess.run(results, feeds)
        order = [op.name for op in graph.get_operations()]
        reexported = text_format.MessageToString(graph.as_graph_def())
    return {"values": [np.asarray(v).tolist() for v in values], "order": order,
            "reexported": reexported}

ours = job["ours"]
feeds = {"input/x:0": job["feed_x"]}
out["ours_meta"] = run_meta(ours["prefix"] + ".meta", ours["prefix"], job["ours_fetches"], feeds)
out["ours_text_meta"] = run_meta(ours["text_meta"], ours["prefix"], job["ours_fetches"], feeds)
out["ours_frozen"] = run_frozen(ours["frozen"], job["ours_fetches"], feeds)
out["ours_frozen_text"] = run_frozen(ours["frozen_text"], job["ours_fetches"], feeds)

# TensorFlow's own model, the same shapes of things the other way round.
folder = job["theirs_dir"]
os.makedirs(folder)
with tf.Graph().as_default() as graph:
    with tf.name_scope("in"):
        a = tf.placeholder(tf.float32, [None, 2], name="a")
        b = tf.placeholder(tf.float32, [], name="b")
    with tf.name_scope("params"):
        w = tf.Variable(tf.constant([[2.0, 0.5], [-1.0, 1.0]]), name="w")
        bias = tf.Variable(tf.constant([0.25, -0.75]), name="bias")
    with tf.name_scope("out"):
        z = tf.matmul(a, w) + bias
        total = tf.reduce_sum(z, name="sum")
        prod = tf.multiply(z, b, name="prod")
        with tf.name_scope("scaled"):
            mean = tf.reduce_mean(prod, name="mean")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(bias, bias * 3.0))
        theirs_feeds = {a: job["feed_a"], b: job["feed_b"]}
        out["theirs_values"] = [np.asarray(v).tolist() for v in
                                sess.run(job["theirs_fetches"], theirs_feeds)]
        prefix = saver.save(sess, os.path.join(folder, "model.ckpt"))
        tf.train.export_meta_graph(os.path.join(folder, "model_text.meta"), as_text=True,
                                   saver_def=saver.as_saver_def())
        frozen = tf.graph_util.convert_variables_to_constants(
            sess, graph.as_graph_def(), ["out/sum", "out/prod", "out/scaled/mean"])
    with open(os.path.join(folder, "frozen.pb"), "wb") as f:
        f.write(frozen.SerializeToString())
    tf.train.write_graph(frozen, folder, "frozen.pbtxt")
    out["theirs_prefix"] = prefix

# The same reversed GraphDef imported: TensorFlow's creation order.
reversed_def = tf.GraphDef()
reversed_def.node.extend(reversed(frozen.node))
with tf.Graph().as_default() as graph:
    tf.import_graph_def(reversed_def, name="")
    out["reversed_order"] = [op.name for op in graph.get_operations()]

# A while loop (back edges into Merge) and control inputs created out of name order,
# GraphDef reversed: TensorFlow's creation order, result and re-exported nodes.
with tf.Graph().as_default() as graph:
    loop = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [tf.constant(0)], name="loop")
    late, early = tf.no_op(name="z_late"), tf.no_op(name="a_early")
    with tf.control_dependencies([late, early]):
        tf.identity(loop, name="result")
    loop_def = tf.GraphDef()
    loop_def.node.extend(reversed(graph.as_graph_def().node))
with open(os.path.join(folder, "loop.pb"), "wb") as f:
    f.write(loop_def.SerializeToString())
with tf.Graph().as_default() as graph:
    (result,) = tf.import_graph_def(loop_def, return_elements=["result:0"], name="")
    with tf.Session() as sess:
        out["loop"] = {"order": [op.name for op in graph.get_operations()],
                       "value": int(sess.run(result)),
                       "reexported": text_format.MessageToString(graph.as_graph_def())}

# Errors for malformed GraphDefs.
errors = []
for case, text, kwargs in job["malformed"]:
    with tf.Graph().as_default():
        tf.constant(0.0, name="existing")
        graph_def = tf.GraphDef()
        text_format.Merge(text, graph_def)
        try:
            tf.import_graph_def(graph_def, **kwargs)
            errors.append([case, None, None])
        except Exception as error:
            errors.append([case, type(error).__name__, str(error)])
out["errors"] = errors
emit(out)
"""


@pytest.fixture(scope="module")
def interop(tmp_path_factory):
    folder = tmp_path_factory.mktemp("interop")
    prefix, our_values, frozen = _build_and_write_ours(str(folder / "ours"))
    job = {
        "ours": {"prefix": prefix, "text_meta": str(folder / "ours" / "model_text.meta"),
                 "frozen": str(folder / "ours" / "frozen.pb"),
                 "frozen_text": str(folder / "ours" / "frozen.pbtxt")},
        "ours_fetches": OURS_FETCHES, "feed_x": FEED_X,
        "theirs_dir": str(folder / "theirs"), "theirs_fetches": THEIRS_FETCHES,
        "feed_a": FEED_A, "feed_b": FEED_B,
        "malformed": [[case, text, kwargs] for case, text, kwargs, _ in MALFORMED],
    }
    job_path = folder / "job.json"
    job_path.write_text(json.dumps(job))
    result = run_tensorflow("JOB = %r\n" % str(job_path) + TF_SCRIPT)
    return {"ours_values": our_values, "frozen": frozen, "theirs_dir": str(folder / "theirs"),
            "tf": result}


def _assert_close(got, expected):
    for g, e in zip(got, expected):
        np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(e, np.float64),
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ["ours_meta", "ours_text_meta"])
def test_tensorflow_restores_our_meta_graph_and_checkpoint(interop, kind):
    seen = interop["tf"][kind]
    _assert_close(seen["values"], interop["ours_values"])
    assert seen["collections"] == {
        "outputs": ["head/logits:0", "head/probs:0"], "train_op": ["AssignAdd"],
        "my_int": [3], "my_float": [0.25], "my_string": ["hello"]}
    assert seen["trainable"] == ["layer1/w:0", "layer1/b:0", "head/w:0"]
    assert seen["counter"] == 2


@pytest.mark.parametrize("kind", ["ours_frozen", "ours_frozen_text"])
def test_tensorflow_runs_our_frozen_graph(interop, kind):
    seen = interop["tf"][kind]
    _assert_close(seen["values"], interop["ours_values"])
    # TensorFlow's re-export of our frozen graph is the graph we wrote (attr defaults filled).
    reexported = text_format.Parse(seen["reexported"], protos.GraphDef())
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(interop["frozen"], name="")
        assert [op.name for op in graph.get_operations()] == seen["order"]
        assert graph.as_graph_def() == reexported


@pytest.mark.parametrize("meta_name", ["model.ckpt.meta", "model_text.meta"])
def test_we_restore_tensorflows_meta_graph(interop, meta_name):
    folder = interop["theirs_dir"]
    with tf.Graph().as_default() as graph:
        saver = tf.train.import_meta_graph(os.path.join(folder, meta_name))
        assert [v.name for v in tf.trainable_variables()] == ["params/w:0", "params/bias:0"]
        with tf.Session() as sess:
            saver.restore(sess, interop["tf"]["theirs_prefix"])
            values = sess.run(THEIRS_FETCHES, {"in/a:0": FEED_A, "in/b:0": FEED_B})
        assert graph.get_tensor_by_name("in/a:0").shape.as_list() == [None, 2]
    _assert_close(values, interop["tf"]["theirs_values"])


@pytest.mark.parametrize("file_name", ["frozen.pb", "frozen.pbtxt"])
def test_we_run_tensorflows_frozen_graph(interop, file_name):
    graph_def = graph_io.read_graph_def(os.path.join(interop["theirs_dir"], file_name))
    with tf.Graph().as_default():
        results = tf.import_graph_def(graph_def, return_elements=THEIRS_FETCHES)
        with tf.Session() as sess:
            values = sess.run(results, {"import/in/a:0": FEED_A, "import/in/b:0": FEED_B})
    _assert_close(values, interop["tf"]["theirs_values"])


def test_imported_nodes_are_created_in_tensorflows_order(interop):
    frozen = graph_io.read_graph_def(os.path.join(interop["theirs_dir"], "frozen.pb"))
    reversed_def = protos.GraphDef()
    reversed_def.node.extend(reversed(frozen.node))
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(reversed_def, name="")
        assert [op.name for op in graph.get_operations()] == interop["tf"]["reversed_order"]


def test_while_loop_import_matches_tensorflow(interop):
    loop_def = graph_io.read_graph_def(os.path.join(interop["theirs_dir"], "loop.pb"))
    expected = interop["tf"]["loop"]
    with tf.Graph().as_default() as graph:
        (result,) = tf.import_graph_def(loop_def, return_elements=["result:0"], name="")
        assert [op.name for op in graph.get_operations()] == expected["order"]
        reexported = graph.as_graph_def()
        with tf.Session() as sess:
            assert sess.run(result) == expected["value"] == 10
    # Same nodes, control inputs sorted by name, as TensorFlow writes them.
    assert reexported == text_format.Parse(expected["reexported"], protos.GraphDef())


def test_malformed_graph_errors_match_tensorflows(interop):
    for case, text, kwargs in [m[:3] for m in MALFORMED]:
        expected = next(e for e in interop["tf"]["errors"] if e[0] == case)
        with tf.Graph().as_default():
            tf.constant(0.0, name="existing")
            try:
                tf.import_graph_def(text_format.Parse(text, protos.GraphDef()), **kwargs)
                got = [case, None, None]
            except Exception as error:  # noqa: BLE001 (comparing with whatever TensorFlow raised)
                got = [case, type(error).__name__, str(error)]
        if case == "back edge" and got[1] == "NotFoundError":
            continue  # NextIteration is not registered yet
        assert got == expected
