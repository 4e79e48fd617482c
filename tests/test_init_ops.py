"""Initializers against real TensorFlow: the ops they build (names, types, inputs, attrs) and
the values they produce, bit for bit, with graph seeds, op seeds, both and (names only)
neither; through tf.get_variable and called directly."""

import math

import pytest

import tensorkeep as tf
from varscope_oracle import case, tensorflow_results, tensorkeep_result

case("init_graph_seed", """
    tf.set_random_seed(2024)
    shapes = {"vec": [5], "mat": [4, 3], "conv": [3, 3, 2, 4], "scalar": []}
    kinds = {
        "zeros": tf.zeros_initializer(), "ones": tf.ones_initializer(),
        "const": tf.constant_initializer(-1.5),
        "normal": tf.random_normal_initializer(1.0, 2.0),
        "truncated": tf.truncated_normal_initializer(0.5, 0.1),
        "uniform": tf.random_uniform_initializer(),
        "uniform_range": tf.random_uniform_initializer(-3.0, 5.0),
        "glorot_uniform": tf.glorot_uniform_initializer(),
        "glorot_normal": tf.glorot_normal_initializer(),
        "unit_scaling": tf.uniform_unit_scaling_initializer(1.43),
        "vs_default": tf.variance_scaling_initializer(),
        "vs_fan_out_uniform": tf.variance_scaling_initializer(2.0, "fan_out", "uniform"),
        "vs_fan_avg_untruncated": tf.variance_scaling_initializer(0.5, "fan_avg",
                                                                   "untruncated_normal"),
        "vs_normal_alias": tf.variance_scaling_initializer(distribution="normal"),
        "he_normal": tf.initializers.he_normal(),
        "lecun_uniform": tf.initializers.lecun_uniform(),
        "xavier": tf.contrib.layers.xavier_initializer(),
        "xavier_normal": tf.contrib.layers.xavier_initializer(uniform=False),
        "contrib_vs": tf.contrib.layers.variance_scaling_initializer(),
        "contrib_vs_avg_uniform": tf.contrib.layers.variance_scaling_initializer(
            1.5, "FAN_AVG", True),
    }
    for kind, init in kinds.items():
        with tf.variable_scope(kind):
            for shape_name, shape in shapes.items():
                if kind.startswith(("xavier", "contrib")) and not shape:
                    continue
                tf.get_variable(shape_name, shape, initializer=init)
    tf.get_variable("f64", [3, 2], dtype=tf.float64, initializer=tf.random_normal_initializer())
    tf.get_variable("int_uniform", [6], dtype=tf.int32,
                    initializer=tf.random_uniform_initializer(0, 10))
    tf.get_variable("int64_uniform", [6], dtype=tf.int64,
                    initializer=tf.random_uniform_initializer(-5, 5))
""")

case("init_op_seeds", """
    for seed in (1, 7):
        with tf.variable_scope("seed%d" % seed):
            tf.get_variable("normal", [3, 3], initializer=tf.random_normal_initializer(seed=seed))
            tf.get_variable("glorot", [3, 3], initializer=tf.glorot_uniform_initializer(seed))
            tf.get_variable("vs", [2, 5], initializer=tf.variance_scaling_initializer(seed=seed))
            tf.get_variable("xavier", [5, 2],
                            initializer=tf.contrib.layers.xavier_initializer(seed=seed))
""")

case("init_called_directly", """
    tf.set_random_seed(5)
    a = tf.glorot_uniform_initializer()([3, 4])
    b = tf.truncated_normal_initializer(stddev=0.02)([2, 2], dtype=tf.float64)
    with tf.name_scope("layer"):
        c = tf.constant_initializer([[1, 2], [3, 4]])([2, 2])
        d = tf.random_uniform_initializer(maxval=4.0)(tf.TensorShape([3]))
    e = tf.zeros_initializer()([2000])
    f = tf.ones_initializer(dtype=tf.int32)([4, 300])
    fetch = [t.name for t in (a, b, c, d, e, f)]
""")

case("init_unseeded", """
    tf.get_variable("u", [2, 2], initializer=tf.random_uniform_initializer())
    tf.get_variable("n", [2, 2], initializer=tf.random_normal_initializer())
    tf.get_variable("t", [2, 2], initializer=tf.truncated_normal_initializer())
    tf.get_variable("g", [2, 2])
""")


@pytest.mark.tf
@pytest.mark.parametrize("name", ["init_graph_seed", "init_op_seeds", "init_called_directly"])
def test_ops_and_values_match_tensorflow(name):
    theirs = tensorflow_results()[name]
    ours = tensorkeep_result(name)
    assert [n[0] for n in ours["nodes"]] == [n[0] for n in theirs["nodes"]]
    assert [n[:5] for n in ours["nodes"]] == [n[:5] for n in theirs["nodes"]]
    assert ours["initial"] == theirs["initial"]
    assert ours["fetch"] == theirs["fetch"]


@pytest.mark.tf
def test_unseeded_ops_match_tensorflow():
    theirs = tensorflow_results()["init_unseeded"]
    ours = tensorkeep_result("init_unseeded")
    assert [n[:5] for n in ours["nodes"]] == [n[:5] for n in theirs["nodes"]]


# --- without TensorFlow ---------------------------------------------------------------------------

def test_variance_scaling_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Argument `scale` must be a positive float"):
        tf.variance_scaling_initializer(scale=0.0)
    with pytest.raises(ValueError, match="Argument `mode` should be one of"):
        tf.variance_scaling_initializer(mode="fan_sum")
    with pytest.raises(ValueError, match="Argument `distribution` should be one of"):
        tf.variance_scaling_initializer(distribution="cauchy")
    with pytest.raises(ValueError, match="Argument `dtype` is expected to be floating point"):
        tf.random_normal_initializer(dtype=tf.int32)


def test_partition_info_scales_from_the_full_shape():
    from tensorkeep.training.variable_scope import _PartitionInfo

    with tf.Graph().as_default() as graph:
        tf.glorot_uniform_initializer()([5, 3], partition_info=_PartitionInfo([10, 3], [5, 0]))
        limit = graph.get_operation_by_name("random_uniform/max").get_attr("value")
    assert limit.float_val[0] == pytest.approx(math.sqrt(6.0 / 13), rel=1e-6)


def test_config_round_trip():
    init = tf.variance_scaling_initializer(2.0, "fan_out", "uniform", seed=3)
    again = type(init).from_config(init.get_config())
    assert again.get_config() == init.get_config() == {
        "scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 3,
        "dtype": "float32"}
