"""Resource variables, TensorArray, TensorList, hash tables, Example parsing, summaries, fake
quantization, depth/space rearrangement, DecodeRaw, set operations, AdjustContrastv2: the same
TF1 programs build the same GraphDefs and compute the same values in tensorkeep and in real
TensorFlow, and each side's GraphDef runs on the other. Plus behaviour checks that need no
TensorFlow."""

import re

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep import errors
from tensorkeep.ops import list_ops, resource_variable_ops

from control_flow_cases import DRIVER
from driver_interop import (assert_graph_defs_run_on_both_sides, assert_same_nodes,
                            assert_same_results, describe_in_both)
from misc_op_cases import CASES
from tf_oracle import run_tensorflow

_SCOPE = {"tf": tf, "EXTRA_SCOPE": {"rvo": resource_variable_ops, "list_ops": list_ops}}
exec(DRIVER, _SCOPE)  # noqa: S102 (the shared driver, run with tensorkeep as tf)

# Table names embed a random UUID in both systems.
_UUID = re.compile(r"_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _normalized(nodes):
    return sorted(_UUID.sub("_<uuid>", node) for node in nodes)


@pytest.fixture(scope="module")
def tensorflow_results():
    ours, theirs, _ = describe_in_both(_SCOPE, CASES, tensorflow_prelude="""
from tensorflow.python.ops import list_ops, resource_variable_ops
EXTRA_SCOPE = {"rvo": resource_variable_ops, "list_ops": list_ops}
""")
    return ours, theirs


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_graphs_match_tensorflow(tensorflow_results, name):
    ours, theirs = tensorflow_results
    assert_same_nodes(_normalized(ours[name]["nodes"]), _normalized(theirs[name]["nodes"]))


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_tensorflow(tensorflow_results, name):
    ours, theirs = tensorflow_results
    assert_same_results(ours[name]["results"], theirs[name]["results"], name)


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_graph_defs_run_on_the_other_side(tensorflow_results, name):
    ours, theirs = tensorflow_results
    assert_graph_defs_run_on_both_sides(_SCOPE, CASES[name], theirs[name], name)


# --- behaviour without TensorFlow ---------------------------------------------------------------

def test_uninitialized_resource_variable_read_is_a_failed_precondition():
    with tf.Graph().as_default():
        v = resource_variable_ops.ResourceVariable([1.0], name="v")
        with tf.Session() as sess:
            with pytest.raises(errors.FailedPreconditionError, match="resource variable v"):
                sess.run(v.value())
            assert not sess.run(v.is_initialized())
            sess.run(v.initializer)
            assert sess.run(v.is_initialized())


def test_resource_variable_proto_round_trip():
    with tf.Graph().as_default():
        v = resource_variable_ops.ResourceVariable([1.0, 2.0], name="v")
        proto = v.to_proto()
        assert proto.is_resource and proto.variable_name == "v:0"
        assert proto.snapshot_name == "v/Read/ReadVariableOp:0"
        again = resource_variable_ops.ResourceVariable.from_proto(proto)
        assert again.name == "v:0" and again.shape.as_list() == [2]
        with tf.Session() as sess:
            sess.run(again.initializer)
            assert sess.run(again.value()).tolist() == [1.0, 2.0]


def test_tensor_array_misuse_is_reported():
    with tf.Graph().as_default():
        ta = tf.TensorArray(tf.float32, size=2)
        twice = ta.write(0, 1.0).write(0, 2.0)
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="already been written"):
                sess.run(twice.flow)
            with pytest.raises(errors.InvalidArgumentError, match="not resizeable"):
                sess.run(ta.write(5, 1.0).flow)
        read = tf.TensorArray(tf.float32, size=1).write(0, 3.0)
        value = read.read(0)
        with tf.Session() as sess:
            assert sess.run(value) == 3.0


def test_table_lookup_before_initialization_fails():
    with tf.Graph().as_default():
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            ["a"], np.array([1], np.int64)), -1)
        found = table.lookup(tf.constant(["a"]))
        with tf.Session() as sess:
            with pytest.raises(errors.FailedPreconditionError, match="not initialized"):
                sess.run(found)


def test_text_file_table(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("cat\ndog\nbird\n")
    with tf.Graph().as_default():
        initializer = tf.lookup.TextFileInitializer(
            str(vocab), tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64,
            tf.lookup.TextFileIndex.LINE_NUMBER)
        table = tf.lookup.StaticHashTable(initializer, -1)
        found = table.lookup(tf.constant(["dog", "fish", "cat"]))
        with tf.Session() as sess:
            sess.run(tf.tables_initializer())
            assert sess.run(found).tolist() == [1, -1, 0]


def test_parse_example_reports_a_missing_required_feature():
    with tf.Graph().as_default():
        features = tf.parse_example(tf.constant([b""]),
                                    {"x": tf.FixedLenFeature([1], tf.float32)})
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="Feature: x .*is required"):
                sess.run(features["x"])


@pytest.mark.tf
def test_image_summary_pixels_match_tensorflow():
    """PNG encoders differ byte-wise (zlib/libpng settings), so the decoded pixels, tags and
    sizes are compared; TensorFlow decodes both PNGs."""
    images = np.linspace(-1.0, 2.0, 72, dtype=np.float32).reshape(2, 3, 4, 3)
    images[0, 0, 0, 0] = np.nan
    images[1] = np.abs(images[1])
    with tf.Graph().as_default():
        summary = tf.summary.image("img", tf.constant(images), max_outputs=2)
        with tf.Session() as sess:
            ours = sess.run(summary)
    result = run_tensorflow("""
        import numpy as np
        from tensorflow.core.framework import summary_pb2
        images = np.frombuffer(bytes.fromhex(%r), np.float32).reshape(2, 3, 4, 3)
        theirs = tf.Session().run(tf.summary.image("img", tf.constant(images), max_outputs=2))
        out = {}
        for label, data in (("ours", bytes.fromhex(%r)), ("theirs", theirs)):
            summary = summary_pb2.Summary()
            summary.ParseFromString(data)
            out[label] = [[v.tag, v.image.height, v.image.width, v.image.colorspace,
                           tf.Session().run(tf.image.decode_png(
                               v.image.encoded_image_string)).tolist()] for v in summary.value]
        emit(out)
    """ % (images.tobytes().hex(), ours.hex()))
    assert result["ours"] == result["theirs"]
