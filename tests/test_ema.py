"""tf.train.ExponentialMovingAverage against real TensorFlow: shadow variable names, update
values over several steps (with and without num_updates, zero_debias on tensors), the update
ops' names, average_name and variables_to_restore; and the seed programs' printed values."""

import os
import subprocess
import sys

import numpy as np
import pytest

import tensorkeep as tf
from tf_oracle import SHARED
from varscope_oracle import case, tensorflow_results, tensorkeep_result

case("ema_variables", """
    v = tf.Variable(0, dtype=tf.float32, name="v")
    w = tf.get_variable("w", [2], initializer=tf.constant_initializer([1.0, -3.0]))
    ema = tf.train.ExponentialMovingAverage(0.99)
    update = ema.apply(tf.global_variables())
    extra = {"names": [ema.average(v).name, ema.average(w).name, update.name],
             "average_names": [ema.average_name(v), ema.average_name(w)],
             "restore": sorted((k, x.name) for k, x in ema.variables_to_restore().items())}
    def steps(sess):
        yield [tf.assign(v, 10)]
        for value in (10.0, -4.0, 7.5):
            yield [tf.assign(v, value), tf.assign_add(w, [0.5, 0.25])]
            yield [update]
            yield [v, ema.average(v), w, ema.average(w)]
""")

case("ema_num_updates", """
    step = tf.Variable(0, trainable=False, name="global_step")
    v = tf.Variable([1.0, 2.0], name="v")
    ema = tf.train.ExponentialMovingAverage(0.999, num_updates=step)
    update = ema.apply([v])
    fixed = tf.train.ExponentialMovingAverage(0.5, num_updates=3, name="Fixed")
    fixed_update = fixed.apply([v])
    def steps(sess):
        for i in range(4):
            yield [tf.assign_add(v, [1.0, -0.5]), tf.assign_add(step, 7)]
            yield [update, fixed_update]
            yield [ema.average(v), fixed.average(v)]
""")

case("ema_tensors", """
    v = tf.Variable([1.0, 2.0, 3.0], name="v")
    doubled = v * 2.0
    total = tf.square(v - 1.0)
    ema = tf.train.ExponentialMovingAverage(0.9, zero_debias=True)
    update = ema.apply([doubled, total])
    plain = tf.train.ExponentialMovingAverage(0.8, name="Plain")
    plain_update = plain.apply([doubled])
    extra = {"names": [ema.average(doubled).name, ema.average(total).name,
                       plain.average(doubled).name]}
    def steps(sess):
        for i in range(3):
            yield [tf.assign_add(v, [0.5, -1.0, 2.0])]
            yield [update, plain_update]
            yield [ema.average(doubled), ema.average(total), plain.average(doubled)]
""")

case("ema_variables_to_restore", """
    with tf.variable_scope("net"):
        w = tf.get_variable("w", [2], initializer=tf.zeros_initializer())
        frozen = tf.get_variable("frozen", [1], initializer=tf.zeros_initializer(),
                                 trainable=False)
    other = tf.Variable(1.0, name="other")
    ema = tf.train.ExponentialMovingAverage(0.9)
    before = sorted((k, x.name) for k, x in ema.variables_to_restore().items())
    only = sorted((k, x.name) for k, x in ema.variables_to_restore([w]).items())
    with tf.name_scope("somewhere"):
        pending = ema.average_name(other)
    ema.apply([w])
    after = sorted((k, x.name) for k, x in ema.variables_to_restore().items())
    extra = {"before": before, "only": only, "after": after, "pending": pending}
""")

case("ema_partitioned", """
    tf.set_random_seed(11)
    p = tf.get_variable("emb", [5, 3], partitioner=tf.fixed_size_partitioner(2))
    ema = tf.train.ExponentialMovingAverage(0.75)
    update = ema.apply(list(p))
    extra = {"slots": [[ema.average(v).name, ema.average(v)._get_save_slice_info().spec,
                        ema.average(v)._get_save_slice_info().full_name] for v in p]}
    def steps(sess):
        yield [tf.assign_add(v, tf.ones_like(v)) for v in p]
        yield [update]
        yield [ema.average(v) for v in p]
""")

case("ema_in_scopes", """
    with tf.variable_scope("model"):
        w = tf.get_variable("w", [2], initializer=tf.constant_initializer(2.0))
        t = tf.identity(w * 3.0, name="t")
    with tf.variable_scope("train"):
        with tf.name_scope("averaging"):
            ema = tf.train.ExponentialMovingAverage(0.6, zero_debias=True)
            first = ema.apply([t])
            second = ema.apply([t])
    extra = {"names": [ema.average(t).name, first.name, second.name,
                       ema.average_name(t)]}
    def steps(sess):
        for _ in range(2):
            yield [tf.assign_add(w, [1.0, -1.0])]
            yield [first]
            yield [second]
            yield [ema.average(t)]
""")

# The module-level helpers (tensorflow.python.training.moving_averages in TensorFlow).
case("assign_moving_average", """
    v = tf.Variable([2.0, -1.0], name="v")
    avg = tf.get_variable("avg", [2], initializer=tf.zeros_initializer(), trainable=False)
    debiased = tf.get_variable("debiased", [2], initializer=tf.zeros_initializer(),
                               trainable=False)
    plain = moving_averages.assign_moving_average(avg, v, 0.9, zero_debias=False)
    unbiased = moving_averages.assign_moving_average(debiased, v, tf.constant(0.8),
                                                     zero_debias=True, name="Debias")
    weighted = moving_averages.weighted_moving_average(v, 0.7, tf.constant([1.0, 3.0]))
    def steps(sess):
        for _ in range(3):
            yield [tf.assign_add(v, [1.0, 0.5])]
            yield [plain, unbiased, weighted]
""")

ALL_CASES = ["ema_variables", "ema_num_updates", "ema_tensors", "ema_variables_to_restore",
             "ema_partitioned", "ema_in_scopes", "assign_moving_average"]


@pytest.mark.tf
@pytest.mark.parametrize("name", ALL_CASES)
def test_values_names_and_collections_match_tensorflow(name):
    theirs = tensorflow_results()[name]
    ours = tensorkeep_result(name)
    assert ours["extra"] == theirs["extra"]
    assert ours["collections"] == theirs["collections"]
    assert ours["initial"] == theirs["initial"]
    assert ours.get("steps") == theirs.get("steps")


def _update_ops(result):
    """The update part of the graph: ops under the EMA name scopes, with their inputs."""
    return [node[:4] for node in result["nodes"]
            if node[0].split("/")[0] in ("ExponentialMovingAverage", "Fixed", "Plain",
                                         "AssignMovingAvg", "Debias", "WeightedMovingAvg")]


@pytest.mark.tf
@pytest.mark.parametrize("name", ALL_CASES)
def test_update_ops_match_tensorflow(name):
    assert _update_ops(tensorkeep_result(name)) == _update_ops(tensorflow_results()[name])


@pytest.mark.tf
@pytest.mark.parametrize("name", ALL_CASES)
def test_whole_graph_matches_tensorflow(name):
    # Variable shadows start from tf.cond(is_variable_initialized(v), v.read_value,
    # lambda: v.initial_value), rewritten by the shadow's guard against uninitialized reads.
    ours = tensorkeep_result(name)
    theirs = tensorflow_results()[name]
    assert [n[:5] for n in ours["nodes"]] == [n[:5] for n in theirs["nodes"]]


# --- without TensorFlow ---------------------------------------------------------------------------

def test_seed_value_after_one_update():
    # The seed's comment: 0.99 decay, v = 10 after one update gives 0.099999905 (float32 Sub).
    with tf.Graph().as_default():
        v = tf.Variable(0, dtype=tf.float32, name="v")
        ema = tf.train.ExponentialMovingAverage(0.99)
        update = ema.apply(tf.global_variables())
        assert [x.name for x in tf.global_variables()] == ["v:0", "v/ExponentialMovingAverage:0"]
        assert tf.moving_average_variables() == [v]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.assign(v, 10))
            sess.run(update)
            assert sess.run([v, ema.average(v)]) == [np.float32(10.0), np.float32(0.099999905)]


def test_rejects_non_float_variables():
    with tf.Graph().as_default():
        counter = tf.Variable(0, name="counter")
        with pytest.raises(TypeError, match="The variables must be half, float, or double: "
                                            "counter:0"):
            tf.train.ExponentialMovingAverage(0.9).apply([counter])


def test_shadow_follows_variable_initial_value():
    with tf.Graph().as_default():
        v = tf.Variable([3.0, 4.0], name="v")
        ema = tf.train.ExponentialMovingAverage(0.5)
        ema.apply([v])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert np.array_equal(sess.run(ema.average(v)), [3.0, 4.0])


@pytest.mark.skipif(not os.path.isdir(os.path.join(SHARED, "seed")),
                    reason="../shared/seed not found")
@pytest.mark.parametrize("program", ["06_ema_save", "07_ema_variables_to_restore"])
def test_seed_programs_print_tensorflows_output(program, tmp_path):
    pytest.importorskip("tensorkeep.training.saver",
                        reason="tf.train.Saver (training/saver.py) is not there yet")
    seed = os.path.join(SHARED, "seed")
    if program.startswith("07"):
        # 07 restores the checkpoint that 06 writes.
        _run_seed_program(os.path.join(seed, "programs", "06_ema_save.py"), tmp_path)
    output = _run_seed_program(os.path.join(seed, "programs", program + ".py"), tmp_path)
    with open(os.path.join(seed, "expected", program + ".out")) as f:
        assert output == f.read()


def _run_seed_program(path, cwd):
    proc = subprocess.run([sys.executable, "-m", "tensorkeep", "exec", path], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout
