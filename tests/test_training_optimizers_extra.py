"""FtrlOptimizer, ProximalAdagradOptimizer and AdagradDAOptimizer against real TensorFlow: one
TensorFlow subprocess runs the programs of training_extra_scenarios.py (dense and sparse
updates, float32 and float64, ref and resource variables); tensorkeep runs the same programs
here and must agree on the losses, the final variables and slots, the graph's nodes and the
training ops' OpDefs in the meta graph; checkpoints with the slots restore both ways. The new
training ops alone (every variant, on fixed inputs) give TensorFlow's bits, except where its
vectorized pow and rsqrt are not correctly rounded."""

import os

import numpy as np
import pytest

import tensorkeep as tf
import training_extra_scenarios as scenarios
from tensorkeep.ops import training_ops
from tf_oracle import require_tensorflow, run_tensorflow

CASES = scenarios.CASES
CASE_IDS = [scenarios.case_id(case) for case in CASES]

# Checkpoints written by one side and restored by the other.
CHECKPOINT_CASES = [("ftrl_shrinkage", "float32", False), ("ftrl", "float64", True),
                    ("ftrl_power", "float32", False), ("proximal_adagrad", "float32", False),
                    ("adagrad_da", "float64", False)]
CHECKPOINT_IDS = [scenarios.case_id(case) for case in CHECKPOINT_CASES]

ORACLE = """
from tensorflow.python.ops import gen_training_ops
import training_extra_scenarios as scenarios

data = scenarios.make_data()
ours_dir, theirs_dir = %r, %r
runs, op_defs, restored = {}, {}, {}
for case in scenarios.CASES:
    key = scenarios.case_id(case)
    runs[key] = scenarios.run_case(tf, data, case)
    op_defs[key] = scenarios.training_op_defs(tf, data, case)
for case in %r:
    key = scenarios.case_id(case)
    runs[key]["saved"] = scenarios.run_case(tf, data, case,
                                            checkpoint=os.path.join(theirs_dir, key, "model"))
    restored[key] = scenarios.restore_case(tf, data, case, os.path.join(ours_dir, key, "model"))
kernels = {scenarios.kernel_case_id(case): scenarios.run_kernel(tf, gen_training_ops, case)
           for case in scenarios.KERNEL_CASES}
emit({"runs": runs, "op_defs": op_defs, "restored": restored, "kernels": kernels})
"""

def _tolerances(dtype):
    return {"rtol": 1e-5, "atol": 1e-7} if dtype == "float32" else {"rtol": 1e-12,
                                                                      "atol": 1e-14}


def _assert_values_close(ours, theirs, dtype):
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_allclose(np.asarray(ours[name], np.float64),
                                   np.asarray(theirs[name], np.float64),
                                   err_msg=name, **_tolerances(dtype))


@pytest.fixture(scope="module")
def data():
    return scenarios.make_data()


@pytest.fixture(scope="module")
def checkpoint_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("optimizer_checkpoints")
    ours, theirs = root / "ours", root / "theirs"
    ours.mkdir()
    theirs.mkdir()
    return str(ours), str(theirs)


@pytest.fixture(scope="module")
def our_saved_runs(data, checkpoint_dirs):
    """Our checkpoint cases, trained and saved before TensorFlow restores them."""
    ours_dir = checkpoint_dirs[0]
    return {key: scenarios.run_case(tf, data, case,
                                    checkpoint=os.path.join(ours_dir, key, "model"))
            for key, case in zip(CHECKPOINT_IDS, CHECKPOINT_CASES)}


@pytest.fixture(scope="module")
def oracle(checkpoint_dirs, our_saved_runs):
    require_tensorflow()
    return run_tensorflow(ORACLE % (checkpoint_dirs + (CHECKPOINT_CASES,)))


@pytest.mark.tf
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_training_matches_tensorflow(oracle, data, case):
    theirs = oracle["runs"][scenarios.case_id(case)]
    ours = scenarios.run_case(tf, data, case)
    np.testing.assert_allclose(ours["losses"], theirs["losses"], **_tolerances(case[1]))
    _assert_values_close(ours["values"], theirs["values"], case[1])


@pytest.mark.tf
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_graph_matches_tensorflow(oracle, data, case):
    theirs = oracle["runs"][scenarios.case_id(case)]["nodes"]
    ours = scenarios.run_case(tf, data, case)["nodes"]
    assert [n[:2] for n in ours] == [n[:2] for n in theirs]
    assert ours == theirs


@pytest.mark.tf
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_meta_graph_training_op_defs_match_tensorflow(oracle, data, case):
    theirs = oracle["op_defs"][scenarios.case_id(case)]
    assert theirs  # the case does run training ops
    assert scenarios.training_op_defs(tf, data, case) == theirs


@pytest.mark.tf
@pytest.mark.parametrize("case", CHECKPOINT_CASES, ids=CHECKPOINT_IDS)
def test_tensorflow_restores_our_checkpoint(oracle, data, our_saved_runs, checkpoint_dirs, case):
    key = scenarios.case_id(case)
    theirs = oracle["restored"][key]
    # Restored exactly (slots included), and TensorFlow's next step from there is ours.
    assert theirs["restored"] == our_saved_runs[key]["values"]
    ours = scenarios.restore_case(tf, data, case,
                                  os.path.join(checkpoint_dirs[0], key, "model"))
    _assert_values_close(ours["stepped"], theirs["stepped"], case[1])


@pytest.mark.tf
@pytest.mark.parametrize("case", CHECKPOINT_CASES, ids=CHECKPOINT_IDS)
def test_we_restore_tensorflows_checkpoint(oracle, data, checkpoint_dirs, case):
    key = scenarios.case_id(case)
    theirs = oracle["runs"][key]["saved"]["values"]
    ours = scenarios.restore_case(tf, data, case,
                                  os.path.join(checkpoint_dirs[1], key, "model"))
    assert ours["restored"] == theirs
    reader = tf.train.NewCheckpointReader(os.path.join(checkpoint_dirs[1], key, "model"))
    slot_keys = [name for name in reader.get_variable_to_shape_map()
                 if name.startswith(("w/", "embedding/", "bias_table/", "b/"))]
    assert slot_keys  # the slots are in TensorFlow's checkpoint under the names we use


KERNEL_IDS = [scenarios.kernel_case_id(case) for case in scenarios.KERNEL_CASES]


def _bit_exact(case):
    """False where TensorFlow's results depend on Eigen's vectorized pow (lr_power other than
    -0.5) or float rsqrt (dense ProximalAdagrad), which are not correctly rounded."""
    kernel, dtype, layout = case
    if "power" in kernel:
        return False
    return not (kernel.startswith("proximal_adagrad") and dtype == "float32"
                and layout.endswith("dense"))


@pytest.mark.tf
@pytest.mark.parametrize("case", scenarios.KERNEL_CASES, ids=KERNEL_IDS)
def test_training_op_matches_tensorflow(oracle, case):
    theirs = oracle["kernels"][scenarios.kernel_case_id(case)]
    ours = scenarios.run_kernel(tf, training_ops, case)
    assert len(ours) == len(theirs)
    for name, our_value, their_value in zip(["var", "slot", "slot_1"], ours, theirs):
        if _bit_exact(case):
            assert our_value == their_value, name
        else:
            np.testing.assert_allclose(our_value, their_value, err_msg=name,
                                       **_tolerances(case[1]))


def test_invalid_hyper_parameters_are_rejected():
    # The checks TensorFlow's constructors make.
    with pytest.raises(ValueError, match="learning_rate_power"):
        tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        tf.train.FtrlOptimizer(0.1, initial_accumulator_value=-1.0)
    with pytest.raises(ValueError, match="l2_shrinkage_regularization_strength"):
        tf.train.FtrlOptimizer(0.1, l2_shrinkage_regularization_strength=-0.1)
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive"):
        tf.train.ProximalAdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with pytest.raises(ValueError, match="initial_gradient_squared_accumulator_value"):
        tf.train.AdagradDAOptimizer(0.1, None, initial_gradient_squared_accumulator_value=0.0)


def test_proximal_adagrad_feeds_float32_hyper_parameters_to_float64_ref_variables_uncast():
    # TensorFlow raises this TypeError too: its ProximalAdagrad casts only for resource
    # variables' sparse updates.
    with tf.Graph().as_default():
        v = tf.Variable(np.ones(3))
        with pytest.raises(TypeError, match="ApplyProximalAdagrad"):
            tf.train.ProximalAdagradOptimizer(0.1).minimize(tf.reduce_sum(v * v))
