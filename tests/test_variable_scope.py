"""tf.variable_scope / tf.get_variable against real TensorFlow: node names, reuse semantics,
initial values bit for bit, regularization losses, partitioning, custom getters and TF's error
messages. Plus TensorFlow-free checks of the same semantics."""

import numpy as np
import pytest

import tensorkeep as tf
from varscope_oracle import case, tensorflow_results, tensorkeep_result

case("scopes_and_reuse", """
    tf.set_random_seed(42)
    with tf.variable_scope("foo"):
        w = tf.get_variable("w", [3, 2])
        with tf.variable_scope("bar"):
            b = tf.get_variable("b", [2], initializer=tf.zeros_initializer())
        y = tf.matmul(tf.ones([1, 3]), w) + b
    with tf.variable_scope("foo", reuse=True):
        assert tf.get_variable("w") is w
        z = tf.identity(w)
    with tf.variable_scope("foo") as scope:
        scope.reuse_variables()
        assert tf.get_variable("bar/b", [2]) is b
    with tf.variable_scope("foo", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("w", [3, 2]) is w
        c = tf.get_variable("c", [4], dtype=tf.float64)
    with tf.name_scope("ns"):
        n = tf.get_variable("n", [2, 2])
        with tf.variable_scope("inner"):
            m = tf.get_variable("m", [1])
            k = tf.add(m, 1.0)
    extra = {"names": [v.name for v in (w, b, c, n, m)], "ops": [y.name, z.name, k.name],
             "scope": tf.get_variable_scope().name}
""")

case("scope_objects_and_default_names", """
    tf.set_random_seed(3)
    with tf.variable_scope("outer") as outer:
        pass
    with tf.variable_scope(outer):
        a = tf.get_variable("a", [1])
        op_a = tf.identity(a)
    with tf.variable_scope(outer, reuse=True):
        assert tf.get_variable("a") is a
    names = []
    for _ in range(3):
        with tf.variable_scope(None, default_name="layer") as s:
            names.append(s.name)
            tf.get_variable("kernel", [2, 2])
            tf.identity(1.0)
    with tf.variable_scope("keep", auxiliary_name_scope=False) as keep:
        kept = tf.get_variable("kept", [1])
        kept_op = tf.identity(kept)
    with tf.variable_scope(keep, auxiliary_name_scope=False):
        again = tf.identity(kept)
    extra = {"names": names, "outer": [outer.name, outer.original_name_scope],
             "keep": keep.original_name_scope, "ops": [op_a.name, kept_op.name, again.name]}
""")

case("initializer_kinds", """
    tf.set_random_seed(1234)
    with tf.variable_scope("init", initializer=tf.random_normal_initializer(stddev=0.5)):
        a = tf.get_variable("scope_default", [3, 4])
        b = tf.get_variable("uniform", [5], initializer=tf.random_uniform_initializer(-1., 2.))
    c = tf.get_variable("glorot", [4, 6])
    d = tf.get_variable("glorot_f64", [4, 6], dtype=tf.float64)
    e = tf.get_variable("ints", [3], dtype=tf.int32)
    f = tf.get_variable("from_list", initializer=[1.5, 2.5])
    g = tf.get_variable("from_tensor", initializer=tf.constant([[1, 2]], dtype=tf.int64))
    h = tf.get_variable("const", [2, 3], initializer=tf.constant_initializer(7.25))
    i = tf.get_variable("ones", [2], initializer=tf.ones_initializer(), trainable=False)
    j = tf.get_variable("flag", [2], dtype=tf.bool)
    k = tf.get_local_variable("local", [2], initializer=tf.zeros_initializer())
    l = tf.get_variable("truncated", [2, 2], initializer=tf.truncated_normal_initializer(seed=5))
""")

case("unseeded_initializer_names", """
    w = tf.get_variable("w", [2, 3])
    tf.get_variable("n", [2], initializer=tf.random_normal_initializer())
    tf.get_variable("big_zeros", [40, 30], initializer=tf.zeros_initializer())
    tf.get_variable("big_ones", [40, 30], initializer=tf.ones_initializer())
""")

case("regularizers", """
    with tf.variable_scope("reg", regularizer=tf.contrib.layers.l2_regularizer(0.5)):
        w = tf.get_variable("w", [3, 2], initializer=tf.constant_initializer(-2.0))
        b = tf.get_variable("b", [2], initializer=tf.ones_initializer(),
                            regularizer=tf.no_regularizer)
    v = tf.get_variable("v", [2, 2], initializer=tf.constant_initializer(3.0),
                        regularizer=tf.contrib.layers.l2_regularizer(0.1))
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    total = tf.add_n(losses, name="total")
    fetch = ["total:0"] + [l.name for l in losses]
""")

# l1 regularizers reduce with tf.reduce_sum over all axes.
case("regularizers_l1", """
    w = tf.get_variable("w", [3, 2], initializer=tf.constant_initializer(-2.0),
                        regularizer=tf.contrib.layers.l1_regularizer(0.5))
    s = tf.get_variable("s", [2], initializer=tf.constant_initializer(1.0),
                        regularizer=tf.contrib.layers.sum_regularizer(
                            [tf.contrib.layers.l1_regularizer(1.0),
                             tf.contrib.layers.l2_regularizer(0.5)]))
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    fetch = [l.name for l in losses] + [tf.add_n(losses).name]
""")

case("partitioned", """
    tf.set_random_seed(7)
    with tf.variable_scope("part", partitioner=tf.fixed_size_partitioner(3)):
        p = tf.get_variable("emb", [7, 2])
        q = tf.get_variable("scalar", [], initializer=tf.zeros_initializer())
    with tf.variable_scope("part", reuse=True):
        assert tf.get_variable("emb", [7, 2]) is p
    q = tf.get_variable("from_tensor", initializer=tf.constant([[1., 2.], [3., 4.], [5., 6.]]),
                        partitioner=tf.fixed_size_partitioner(2))
    r = tf.get_variable("cols", [2, 5], partitioner=tf.fixed_size_partitioner(2, axis=1),
                        initializer=tf.random_normal_initializer())
    fetch = [tf.convert_to_tensor(v).name for v in (p, q, r)]
    extra = {"parts": [[v.name, v._get_save_slice_info().spec] for x in (p, q, r) for v in x],
             "full": [p.name, p.get_shape().as_list()]}
""")

case("custom_getter", """
    calls = []
    def outer_getter(getter, name, *args, **kwargs):
        calls.append("outer:" + name)
        return getter(name + "_o", *args, **kwargs)
    def inner_getter(getter, name, *args, **kwargs):
        calls.append("inner:" + name)
        kwargs["trainable"] = False
        return getter(name + "_i", *args, **kwargs)
    with tf.variable_scope("cg", custom_getter=outer_getter):
        with tf.variable_scope("sub", custom_getter=inner_getter):
            v = tf.get_variable("v", [2], initializer=tf.zeros_initializer())
    extra = {"calls": calls, "name": v.name}
""")

for _name, _code in {
    "error_exists": 'tf.get_variable("v", [1])\ntf.get_variable("v", [1])',
    "error_missing": 'with tf.variable_scope("foo", reuse=True):\n    tf.get_variable("v", [1])',
    "error_shape": 'with tf.variable_scope("foo"):\n    tf.get_variable("v", [3, 2])\n'
                   'with tf.variable_scope("foo", reuse=True):\n    tf.get_variable("v", [3, 3])',
    "error_dtype": 'with tf.variable_scope("foo"):\n    tf.get_variable("v", [1])\n'
                   'with tf.variable_scope("foo", reuse=True):\n'
                   '    tf.get_variable("v", [1], dtype=tf.int32)',
    "error_const_with_shape": 'tf.get_variable("v", [2], initializer=[1., 2.])',
    "error_no_shape": 'tf.get_variable("v")',
    "error_init_dtype": 'tf.get_variable("v", dtype=tf.float32, initializer=[1, 2])',
    "error_reuse_without_name": 'with tf.variable_scope(None, default_name="d", reuse=True):\n'
                                '    pass',
    "error_partitioned_exists": 'p = tf.fixed_size_partitioner(2)\n'
                                'tf.get_variable("v", [4], partitioner=p)\n'
                                'tf.get_variable("v", [4], partitioner=p)',
    "error_unpartitioned_exists": 'tf.get_variable("v", [4])\n'
                                  'tf.get_variable("v", [4], partitioner='
                                  'tf.fixed_size_partitioner(2))',
}.items():
    case(_name, "expect_error = True\n" + _code)

ERROR_CASES = [name for name in ("error_exists", "error_missing", "error_shape", "error_dtype",
                                 "error_const_with_shape", "error_no_shape", "error_init_dtype",
                                 "error_reuse_without_name", "error_partitioned_exists",
                                 "error_unpartitioned_exists")]
SEEDED_CASES = ["scopes_and_reuse", "scope_objects_and_default_names", "initializer_kinds",
                "regularizers", "regularizers_l1", "partitioned", "custom_getter"]


def _structure(result):
    return [node[:5] for node in result["nodes"]]


def _assert_same_structure(ours, theirs):
    assert [n[0] for n in ours["nodes"]] == [n[0] for n in theirs["nodes"]]
    assert _structure(ours) == _structure(theirs)
    assert ours["collections"] == theirs["collections"]


@pytest.mark.tf
@pytest.mark.parametrize("name", SEEDED_CASES)
def test_same_graph_and_values_as_tensorflow(name):
    theirs = tensorflow_results()[name]
    ours = tensorkeep_result(name)
    _assert_same_structure(ours, theirs)
    assert ours["extra"] == theirs["extra"]
    # Bit-identical initial values (seeded, so TensorFlow's Philox streams).
    assert ours["initial"] == theirs["initial"]
    assert ours["fetch"] == theirs["fetch"]


@pytest.mark.tf
def test_unseeded_initializers_build_tensorflows_ops():
    theirs = tensorflow_results()["unseeded_initializer_names"]
    ours = tensorkeep_result("unseeded_initializer_names")
    _assert_same_structure(ours, theirs)


@pytest.mark.tf
@pytest.mark.parametrize("name", ERROR_CASES)
def test_error_messages_match_tensorflow(name):
    theirs = tensorflow_results()[name]
    ours = tensorkeep_result(name)
    assert ours["error"] == theirs["error"]


@pytest.mark.tf
def test_initializer_ops_colocated_like_tensorflow():
    theirs = tensorflow_results()["scopes_and_reuse"]
    ours = tensorkeep_result("scopes_and_reuse")
    assert [(n[0], n[5]) for n in ours["nodes"]] == [(n[0], n[5]) for n in theirs["nodes"]]


# --- without TensorFlow ---------------------------------------------------------------------------

def test_store_is_per_graph():
    with tf.Graph().as_default():
        first = tf.get_variable("v", [1])
    with tf.Graph().as_default():
        second = tf.get_variable("v", [1])
    assert first.graph is not second.graph
    assert first.name == second.name == "v:0"


def test_already_exists_error_says_where_it_was_defined():
    with tf.Graph().as_default():
        tf.get_variable("v", [1])
        with pytest.raises(ValueError) as info:
            tf.get_variable("v", [1])
    message = str(info.value)
    assert message.startswith("Variable v already exists, disallowed. Did you mean to set "
                              "reuse=True or reuse=tf.AUTO_REUSE in VarScope? Originally "
                              "defined at:")
    assert "test_variable_scope.py" in message


def test_reuse_is_inherited_and_reset_by_scope_exit():
    with tf.Graph().as_default():
        with tf.variable_scope("a"):
            v = tf.get_variable("v", [1])
        with tf.variable_scope("a", reuse=True):
            with tf.variable_scope("b"):
                assert tf.get_variable_scope().reuse is True
            assert tf.get_variable("v") is v
        assert tf.get_variable_scope().reuse is False


def test_partitioned_variable_slices_and_partitioners():
    with tf.Graph().as_default():
        shape = tf.TensorShape([10, 3])
        assert tf.fixed_size_partitioner(4)(shape=shape, dtype=tf.float32) == [4, 1]
        assert tf.variable_axis_size_partitioner(48)(shape, tf.float32) == [3, 1]
        assert tf.min_max_variable_partitioner(8, min_slice_size=32)(shape, tf.float32) == [4, 1]
        part = tf.get_variable("v", [10, 3], partitioner=tf.fixed_size_partitioner(4),
                               initializer=tf.ones_initializer())
        assert [v.op.name for v in part] == ["v/part_%d" % i for i in range(4)]
        assert [v.get_shape().as_list() for v in part] == [[3, 3], [3, 3], [2, 3], [2, 3]]
        assert [v._get_save_slice_info().spec for v in part] == [
            "10 3 0,3:0,3", "10 3 3,3:0,3", "10 3 6,2:0,3", "10 3 8,2:0,3"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert np.array_equal(np.concatenate(sess.run(list(part))), np.ones((10, 3)))


def test_regularization_loss_is_rebuilt_at_each_use():
    with tf.Graph().as_default() as graph:
        tf.get_variable("w", [2], initializer=tf.constant_initializer(3.0),
                        regularizer=tf.contrib.layers.l1_regularizer(0.5))
        (loss,) = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        assert loss.name == "w/Regularizer/l1_regularizer:0"
        rebuilt = tf.convert_to_tensor(loss)
        assert rebuilt.name == "w/Regularizer/l1_regularizer_1:0"
        assert graph.get_operation_by_name("l1_regularizer").type == "Mul"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(loss) == sess.run(rebuilt) == np.float32(3.0)
