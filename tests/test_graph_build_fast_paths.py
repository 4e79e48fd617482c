"""Fast paths of graph building keep TensorFlow's results: Consts of equal small literals share
one TensorProto (tensor_util.constant_proto_and_value) without one op's value leaking into
another's, and variable initial values that read no variable skip the guard's rewrite."""

import math
import struct

import numpy as np
import pytest

import tensorkeep as tf


def _const_value(tensor):
    return tf.make_ndarray(tensor.op.get_attr("value"))


@pytest.mark.parametrize("first,second", [
    (0.0, -0.0), (1, 1.0), (1, True), (0, False), ([1, 2], [1.0, 2.0]), ([1, 2], (1, 2, 3)),
    (2.5, [2.5]), (float("nan"), 0.0),
])
def test_literals_that_differ_give_their_own_values(first, second):
    with tf.Graph().as_default():
        a, b = tf.constant(first), tf.constant(second)
        for literal, tensor in ((first, a), (second, b)):
            expected = np.asarray(literal)
            value = _const_value(tensor)
            assert value.shape == expected.shape
            if expected.dtype.kind == "f":
                assert tensor.dtype == tf.float32
                # bit for bit: the sign of zero and NaN survive
                assert value.astype(np.float32).tobytes() == expected.astype(np.float32).tobytes()
            elif expected.dtype.kind == "b":
                assert tensor.dtype == tf.bool and value.tolist() == expected.tolist()
            else:
                assert tensor.dtype == tf.int32 and value.tolist() == expected.tolist()
        with tf.Session() as sess:
            got_a, got_b = sess.run([a, b])
        assert np.asarray(got_a).tobytes() == _const_value(a).tobytes()
        assert np.asarray(got_b).tobytes() == _const_value(b).tobytes()


def test_negative_zero_keeps_its_sign_through_a_session():
    with tf.Graph().as_default():
        zero, negative_zero = tf.constant(0.0), tf.constant(-0.0)
        with tf.Session() as sess:
            values = sess.run([zero, negative_zero])
    assert [math.copysign(1.0, float(v)) for v in values] == [1.0, -1.0]


def test_changing_the_proto_get_attr_returns_changes_no_op():
    with tf.Graph().as_default() as graph:
        a = tf.constant([1.0, 2.0], name="a")
        b = tf.constant([1.0, 2.0], name="b")
        proto = a.op.get_attr("value")
        proto.tensor_content = struct.pack("<2f", 7.0, 8.0)
        assert _const_value(a).tolist() == [1.0, 2.0]
        assert _const_value(b).tolist() == [1.0, 2.0]
        graph_def = graph.as_graph_def()
        with tf.Session() as sess:
            assert sess.run(a).tolist() == [1.0, 2.0]
    for node in graph_def.node:
        assert tf.make_ndarray(node.attr["value"].tensor).tolist() == [1.0, 2.0]


def test_shared_literals_serialize_like_fresh_ones():
    with tf.Graph().as_default() as graph:
        for _ in range(3):
            tf.constant(0.05)
            tf.constant([784, 500])
            tf.constant(3, dtype=tf.int64)
            tf.constant(1.0, shape=[4])
        nodes = graph.as_graph_def().node
    by_kind = {}
    for node in nodes:
        by_kind.setdefault(node.attr["value"].tensor.SerializeToString(), []).append(node.name)
    assert sorted(len(names) for names in by_kind.values()) == [3, 3, 3, 3]
    filled = [n for n in nodes if n.attr["value"].tensor.tensor_shape.dim
              and n.attr["value"].tensor.tensor_shape.dim[0].size == 4]
    assert all(list(n.attr["value"].tensor.float_val) == [1.0] for n in filled)


def test_initial_value_reading_another_variable_is_still_guarded():
    with tf.Graph().as_default():
        first = tf.Variable(tf.fill([3], 2.0), name="first")
        plain = tf.Variable(tf.fill([3], 5.0), name="plain")
        second = tf.Variable(first * 3.0, name="second")
        # TensorFlow rewrites the read of `first` through its initialized_value (a cond);
        # an initial value that reads no variable is used as it is.
        assert plain.initial_value.op.type == "Fill"
        assert second.initial_value.op.name != (first * 3.0).op.name
        assert any(op.type == "IsVariableInitialized" for op in
                   tf.get_default_graph().get_operations())
        with tf.Session() as sess:
            sess.run(tf.variables_initializer([second, first, plain]))  # any order
            assert sess.run(second).tolist() == [6.0, 6.0, 6.0]


def test_a_conversion_registered_later_is_used_for_types_already_converted():
    from tensorkeep.framework import ops

    class Celsius(float):
        pass

    with tf.Graph().as_default():
        assert tf.convert_to_tensor(Celsius(21.5)).dtype == tf.float32  # as a float: cached
        ops.register_tensor_conversion_function(
            Celsius, lambda value, dtype=None, name=None, as_ref=False:
            tf.constant(float(value) + 273.15, dtype=tf.float64, name=name), priority=1)
        kelvin = tf.convert_to_tensor(Celsius(21.5))
        assert kelvin.dtype == tf.float64
        with tf.Session() as sess:
            assert sess.run(kelvin) == pytest.approx(294.65)


def test_colocate_with_none_needs_ignore_existing_when_entered():
    with tf.Graph().as_default() as graph:
        scope = graph.colocate_with(None)
        with pytest.raises(ValueError, match="ignore_existing"):
            with scope:
                pass
        a = tf.constant(1.0, name="a")
        with graph.colocate_with(a.op):
            with graph.colocate_with(None, ignore_existing=True):
                free = tf.constant(2.0, name="free")
            bound = tf.constant(3.0, name="bound")
        assert free.op.colocation_groups == [b"loc:@free"]
        assert bound.op.colocation_groups == [b"loc:@a"]
        assert bound.op.get_attr("_class") == [b"loc:@a"]
        assert graph.as_graph_def().node[2].attr["_class"].list.s == [b"loc:@a"]


def test_unknown_shapes_are_one_shared_immutable_value():
    from tensorkeep.framework import tensor_shape

    assert tensor_shape.TensorShape(None) is tensor_shape.unknown_shape()
    assert tensor_shape.unknown_shape().ndims is None
    assert tensor_shape.unknown_shape(rank=2).as_list() == [None, None]
    merged = tensor_shape.unknown_shape().merge_with([2, 3])
    assert merged.as_list() == [2, 3] and tensor_shape.unknown_shape().ndims is None
    # merging known shapes gives the interned shape
    assert tensor_shape.TensorShape([None, 3]).merge_with([2, None]) is \
        tensor_shape.TensorShape([2, 3])


def test_variable_kernels_keep_assign_semantics_across_runs():
    # The initializer's Assign kernel remembers the variable's declared shape between runs;
    # a value of another shape is still rejected as TensorFlow rejects it.
    with tf.Graph().as_default():
        v = tf.Variable(tf.zeros([2, 3]), name="v")
        feed = tf.placeholder(tf.float32, None)
        assign = tf.assign(v, feed)
        with tf.Session() as sess:
            sess.run(v.initializer)
            sess.run(assign, {feed: np.ones((2, 3), np.float32)})
            assert sess.run(v).tolist() == [[1.0] * 3] * 2
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=r"Assign requires shapes of both tensors to match. "
                                     r"lhs shape= \[2,3\] rhs shape= \[3,2\]"):
                sess.run(assign, {feed: np.ones((3, 2), np.float32)})
            assert sess.run(v).tolist() == [[1.0] * 3] * 2
