"""SavedModels: tensorkeep's builder / simple_save / loader round trips, signature def utils,
TF2 object-based variables; and live interop with real TensorFlow both ways (TF1 builder
SavedModels with assets and init ops, TF2 `tf.saved_model.save` models run through the TF1
loader, whose functions tensorkeep calls)."""

import json
import os
import subprocess

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.training import saved_model as sm
from tensorkeep.training import trackable
from tf_oracle import SHARED, SKIP_REASON, run_tensorflow, tf_python

X = [[1.0, 2.0], [-3.0, 0.5]]


def _build_and_save(export_dir, **kwargs):
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        w = tf.Variable([[1.0, -1.0, 0.5], [2.0, 0.0, 1.0]], name="w")
        b = tf.Variable([0.1, 0.2, 0.3], name="b")
        y = tf.nn.relu(tf.matmul(x, w) + b, name="y")
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.assign_add(b, [1.0, 1.0, 1.0]))
            expected = sess.run(y, {x: X})
            tf.saved_model.simple_save(sess, export_dir, {"x": x}, {"y": y}, **kwargs)
    return expected


def test_simple_save_and_load_round_trip(tmp_path):
    export_dir = str(tmp_path / "model")
    expected = _build_and_save(export_dir)
    assert sorted(os.listdir(export_dir)) == ["saved_model.pb", "variables"]
    assert tf.saved_model.contains_saved_model(export_dir)
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        meta_graph_def = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING],
                                                    export_dir)
        signature = meta_graph_def.signature_def["serving_default"]
        assert signature.method_name == "tensorflow/serving/predict"
        assert signature.inputs["x"].name == "x:0"
        assert [d.size for d in signature.inputs["x"].tensor_shape.dim] == [-1, 2]
        assert signature.outputs["y"].name == "y:0"
        x = tf.saved_model.utils.get_tensor_from_tensor_info(signature.inputs["x"])
        y = tf.saved_model.utils.get_tensor_from_tensor_info(signature.outputs["y"])
        np.testing.assert_array_equal(sess.run(y, {x: X}), expected)
        assert list(meta_graph_def.meta_info_def.tags) == ["serve"]


def test_builder_assets_main_op_and_several_tag_sets(tmp_path):
    asset = tmp_path / "vocab.txt"
    asset.write_text("a\nb\n")
    export_dir = str(tmp_path / "model")
    with tf.Graph().as_default() as graph:
        path = tf.constant(str(asset), name="asset_path")
        tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, path)
        counter = tf.Variable(5, name="counter")
        seen_path = tf.Variable("", name="seen_path")
        main_op = tf.group(tf.assign_add(counter, 10), tf.assign(seen_path, path),
                           name="main_op")
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            builder = tf.saved_model.builder.SavedModelBuilder(export_dir)
            builder.add_meta_graph_and_variables(
                sess, ["serve"], assets_collection=tf.get_collection(
                    tf.GraphKeys.ASSET_FILEPATHS), main_op=main_op)
            builder.add_meta_graph(["train", "gpu"])
            builder.save(as_text=True)
    assert os.path.exists(os.path.join(export_dir, "saved_model.pbtxt"))
    assert (tmp_path / "model" / "assets" / "vocab.txt").read_text() == "a\nb\n"
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        tf.saved_model.loader.load(sess, ["serve"], export_dir)
        # The main op ran after the restore, with the asset path fed from assets/.
        assert sess.run("counter:0") == 15
        assert sess.run("seen_path:0").decode() == os.path.join(export_dir, "assets",
                                                                "vocab.txt")
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        # The second meta graph is the same graph: its collections still name the main op.
        tf.saved_model.loader.load(sess, ["gpu", "train"], export_dir)
        assert sess.run("counter:0") == 15
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        with pytest.raises(RuntimeError, match="could not be found in SavedModel"):
            tf.saved_model.loader.load(sess, ["eval"], export_dir)
    with pytest.raises(AssertionError, match="already exists, and isn't empty"):
        tf.saved_model.builder.SavedModelBuilder(export_dir)


def test_missing_saved_model_is_an_io_error(tmp_path):
    with tf.Session(graph=tf.Graph()) as sess:
        with pytest.raises(IOError, match="SavedModel file does not exist"):
            tf.saved_model.loader.load(sess, ["serve"], str(tmp_path))


def test_signature_def_utils():
    with tf.Graph().as_default():
        examples = tf.placeholder(tf.string, [None])
        scores = tf.placeholder(tf.float32, [None, 3])
        classes = tf.placeholder(tf.string, [None, 3])
        classify = tf.saved_model.signature_def_utils.classification_signature_def(
            examples, classes, scores)
        assert classify.method_name == "tensorflow/serving/classify"
        assert sorted(classify.outputs) == ["classes", "scores"]
        assert tf.saved_model.signature_def_utils.is_valid_signature(classify)
        regress = tf.saved_model.signature_def_utils.regression_signature_def(
            examples, tf.placeholder(tf.float32, [None, 1]))
        assert tf.saved_model.signature_def_utils.is_valid_signature(regress)
        with pytest.raises(ValueError, match="must be of type string"):
            tf.saved_model.signature_def_utils.regression_signature_def(scores, scores)
        predict = tf.saved_model.signature_def_utils.predict_signature_def(
            {"e": examples}, {"s": scores})
        assert tf.saved_model.signature_def_utils.is_valid_signature(predict)
        predict.method_name = "other"
        assert not tf.saved_model.signature_def_utils.is_valid_signature(predict)


def _corpus_checkpoint(relative):
    path = os.path.join(SHARED, "corpus", relative)
    if not os.path.exists(path + ".index"):
        pytest.skip("corpus file %s not found" % path)
    return path


def test_object_graph_lists_variables_by_object_path():
    prefix = _corpus_checkpoint("Nighthawks829+save-load-model/training_2/cp-0000.ckpt")
    listed = trackable.list_object_variables(prefix)
    keys = set(tf.train.load_checkpoint(prefix).get_variable_to_shape_map())
    assert {entry.checkpoint_key for entry in listed} == keys - {"_CHECKPOINTABLE_OBJECT_GRAPH"}
    by_path = trackable.variables_by_object_path(prefix)
    assert by_path["layer_with_weights-0/kernel"] == \
        "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    values = trackable.read_variables_by_object_path(prefix)
    np.testing.assert_array_equal(values["layer_with_weights-0/kernel"],
                                  tf.train.load_variable(prefix, by_path[
                                      "layer_with_weights-0/kernel"]))


def test_name_based_checkpoint_has_no_object_graph(tmp_path):
    from tensorkeep import io as tkio

    prefix = str(tmp_path / "ckpt")
    tkio.write_checkpoint(prefix, {"v": np.zeros(2, np.float32)})
    assert not trackable.is_object_based(prefix)
    with pytest.raises(ValueError, match="name-based"):
        trackable.read_object_graph(prefix)


# --- against real TensorFlow ------------------------------------------------------------------------

@pytest.mark.tf
def test_tensorflow_loads_and_runs_our_saved_model(tmp_path):
    export_dir = str(tmp_path / "ours")
    expected = _build_and_save(export_dir)
    result = run_tensorflow("""
        with tf.Session(graph=tf.Graph()) as sess:
            meta = tf.saved_model.loader.load(sess, ["serve"], %r)
            sig = meta.signature_def["serving_default"]
            y = sess.run(sig.outputs["y"].name, {sig.inputs["x"].name: %r})
            emit(y.tolist())
    """ % (export_dir, X))
    np.testing.assert_array_equal(np.array(result, np.float32), expected)


@pytest.mark.tf
def test_we_load_tensorflow_tf1_saved_model_with_assets(tmp_path):
    export_dir = str(tmp_path / "theirs")
    asset = tmp_path / "words.txt"
    asset.write_text("hello\n")
    result = run_tensorflow("""
        with tf.Graph().as_default() as g:
            x = tf.placeholder(tf.float32, [None, 2], name="x")
            w = tf.get_variable("w", initializer=tf.constant([[1.0, 2.0], [3.0, 4.0]]))
            step = tf.get_variable("step", initializer=tf.constant(0), trainable=False)
            path = tf.constant(%r, name="asset")
            tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, path)
            y = tf.nn.softmax(tf.matmul(x, w), name="y")
            main_op = tf.group(tf.assign_add(step, 7), name="main")
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                b = tf.saved_model.builder.SavedModelBuilder(%r)
                sig = tf.saved_model.signature_def_utils.predict_signature_def({"x": x}, {"y": y})
                b.add_meta_graph_and_variables(sess, ["serve"], {"serving_default": sig},
                                               assets_collection=tf.get_collection(
                                                   tf.GraphKeys.ASSET_FILEPATHS),
                                               main_op=main_op)
                b.save()
                emit(sess.run(y, {x: %r}).tolist())
    """ % (str(asset), export_dir, X))
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], export_dir)
        signature = meta.signature_def["serving_default"]
        y = sess.run(signature.outputs["y"].name, {signature.inputs["x"].name: X})
        np.testing.assert_allclose(y, result, rtol=1e-6)
        assert sess.run("step:0") == 7
    assert (tmp_path / "theirs" / "assets" / "words.txt").exists()


def _run_tensorflow2(script, *args):
    """Runs a TensorFlow 2 (eager) script in the oracle interpreter; returns the JSON it prints
    last."""
    python = tf_python()
    if python is None:
        pytest.skip(SKIP_REASON)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([python, "-c", script] + list(args), capture_output=True, text=True,
                          env=env, timeout=600)
    if proc.returncode:
        raise RuntimeError("TensorFlow subprocess failed:\n" + proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


_TF2_MODULE = """
import json, sys
import numpy as np
import tensorflow as tf
class Model(tf.Module):
    def __init__(self):
        self.w = tf.Variable([[1.0, -2.0, 0.5], [0.25, 1.0, -1.0]], name="w")
        self.b = tf.Variable([0.5, 0.0, -0.5], name="b")
        self.steps = tf.Variable(3, name="steps")
    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def __call__(self, x):
        h = tf.matmul(x, self.w) + self.b
        out = tf.nn.softmax(tf.where(h > 0, h, 0.1 * h)) * tf.cast(self.steps, tf.float32)
        return {"out": out}
m = Model()
tf.saved_model.save(m, sys.argv[1], signatures=m.__call__)
x = np.array(json.loads(sys.argv[2]), np.float32)
print(json.dumps({"out": m(x)["out"].numpy().tolist(), "w": m.w.numpy().tolist()}))
"""

_TF2_CHECKPOINT = """
import json, sys
import tensorflow as tf
kernel = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
bias = tf.Variable([0.5, -0.5])
model = tf.Module()
model.kernel, model.bias = kernel, bias
opt = tf.compat.v1.train.MomentumOptimizer(0.1, momentum=0.9)
opt.minimize(lambda: tf.reduce_sum(tf.matmul(tf.ones([1, 2]), kernel) + bias),
             var_list=[kernel, bias])
path = tf.train.Checkpoint(model=model, optimizer=opt).write(sys.argv[1])
print(json.dumps(sorted(tf.train.load_checkpoint(path).get_variable_to_shape_map())))
"""


@pytest.mark.tf
def test_we_run_tensorflow2_saved_model_functions(tmp_path):
    """A TF2 SavedModel (object graph, functions, resource variables): the TF1 loader restores
    its variables through the saver function and runs the signature function."""
    export_dir = str(tmp_path / "tf2")
    result = _run_tensorflow2(_TF2_MODULE, export_dir, json.dumps(X))
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], export_dir)
        signature = meta.signature_def["serving_default"]
        out = sess.run(signature.outputs["out"].name, {signature.inputs["x"].name: X})
        np.testing.assert_allclose(out, result["out"], rtol=1e-6)
    variables = tf.saved_model.read_variables(export_dir)
    np.testing.assert_array_equal(variables["w"], np.array(result["w"], np.float32))
    assert variables["steps"] == 3


@pytest.mark.tf
def test_object_graph_paths_match_tensorflow_checkpoint(tmp_path):
    """tf.train.Checkpoint with a model and an optimizer (slot variables): every saved tensor is
    listed under an object path."""
    prefix = str(tmp_path / "ckpt")
    keys = _run_tensorflow2(_TF2_CHECKPOINT, prefix)
    listed = trackable.list_object_variables(prefix)
    assert sorted({e.checkpoint_key for e in listed} | {"_CHECKPOINTABLE_OBJECT_GRAPH"}) == keys
    paths = {e.path for e in listed}
    assert {"model/kernel", "model/bias", "model/kernel/.OPTIMIZER_SLOT/optimizer/momentum",
            "model/bias/.OPTIMIZER_SLOT/optimizer/momentum"} <= paths
