"""Training against real TensorFlow: one TensorFlow subprocess runs the programs of
training_scenarios.py (and reports the training ops' OpDefs); tensorkeep runs the same programs
here and must agree: losses of a 784-64-10 MLP trained 20 steps with every optimizer (5
significant digits), tf.gradients values and names, optimizer variable and node names,
learning-rate schedules and the global step."""

import numpy as np
import pytest

import tensorkeep as tf
import training_scenarios as scenarios
from tensorkeep.framework import op_def
from tensorkeep.io import protos
from tensorkeep.ops import training_ops  # noqa: F401 (registers the training ops)
from tf_oracle import run_tensorflow

pytestmark = pytest.mark.tf

TRAINING_OP_TYPES = sorted(name for name in op_def.load_all_ops()
                           if name.startswith(("Apply", "SparseApply", "ResourceApply",
                                               "ResourceSparseApply")))

ORACLE = """
import training_scenarios as scenarios
from tf_oracle import stripped_op_def

data = scenarios.make_data()
emit({"mlp": {name: scenarios.mlp_losses(tf, data, name) for name in scenarios.OPTIMIZERS},
      "graphs": {name: scenarios.optimizer_graph(tf, data, name)
                 for name in scenarios.OPTIMIZERS},
      "applied": {name: scenarios.apply_gradients_graph(tf, name)
                  for name in scenarios.OPTIMIZERS},
      "sparse": {name: scenarios.sparse_training(tf, name) for name in scenarios.OPTIMIZERS},
      "gradients": scenarios.gradient_cases(tf),
      "hessians": scenarios.hessian_values(tf),
      "schedules": scenarios.learning_rate_schedules(tf),
      "global_step": scenarios.global_step_graph(tf),
      "op_defs": {name: stripped_op_def(name).hex() for name in %r}})
"""


@pytest.fixture(scope="module")
def oracle():
    return run_tensorflow(ORACLE % (TRAINING_OP_TYPES,))


@pytest.fixture(scope="module")
def data():
    return scenarios.make_data()


def test_training_op_defs_equal_tensorflows(oracle):
    for name in TRAINING_OP_TYPES:
        theirs = protos.OpDef.FromString(bytes.fromhex(oracle["op_defs"][name]))
        assert op_def.get_schema(name).op_def == theirs, name


@pytest.mark.parametrize("optimizer", sorted(scenarios.OPTIMIZERS))
def test_mlp_losses_match_tensorflow(oracle, data, optimizer):
    ours = scenarios.mlp_losses(tf, data, optimizer)
    theirs = oracle["mlp"][optimizer]
    assert ours["global_step"] == theirs["global_step"] == 20
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-5)


@pytest.mark.parametrize("optimizer", sorted(scenarios.OPTIMIZERS))
def test_apply_gradients_graph_matches_tensorflow(oracle, optimizer):
    ours = scenarios.apply_gradients_graph(tf, optimizer)
    theirs = dict(oracle["applied"][optimizer])
    assert ours.pop("nodes") == theirs.pop("nodes")
    our_values, their_values = ours.pop("values"), theirs.pop("values")
    assert ours == theirs
    assert sorted(our_values) == sorted(their_values)
    for name, want in their_values.items():
        np.testing.assert_allclose(our_values[name], want, rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("optimizer", sorted(scenarios.OPTIMIZERS))
def test_minimize_graph_matches_tensorflow(oracle, data, optimizer):
    ours = scenarios.optimizer_graph(tf, data, optimizer)
    theirs = dict(oracle["graphs"][optimizer])
    assert ours.pop("nodes") == theirs.pop("nodes")
    assert ours == theirs


@pytest.mark.parametrize("optimizer", sorted(scenarios.OPTIMIZERS))
def test_sparse_updates_match_tensorflow(oracle, optimizer):
    ours = scenarios.sparse_training(tf, optimizer)
    theirs = oracle["sparse"][optimizer]
    assert ours["nodes"] == theirs["nodes"]
    assert sorted(ours["values"]) == sorted(theirs["values"])
    for name, want in theirs["values"].items():
        np.testing.assert_allclose(ours["values"][name], want, rtol=1e-5, atol=1e-7,
                                   err_msg=name)


@pytest.mark.parametrize("case", ["dense_tanh", "fan_out", "grad_ys_and_two_ys",
                                  "stop_and_unconnected", "integer_path", "gated",
                                  "through_cond"])
def test_gradients_match_tensorflow(oracle, case):
    ours = scenarios.gradient_cases(tf)[case]
    theirs = oracle["gradients"][case]
    assert ours["names"] == theirs["names"]
    assert ours["grad_nodes"] == theirs["grad_nodes"]
    for got, want in zip(ours["values"], theirs["values"]):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_hessians_match_tensorflow(oracle):
    for got, want in zip(scenarios.hessian_values(tf), oracle["hessians"]):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def _without_case_assert(nodes):
    return [[name, op, [i for i in inputs if "/case/Assert/" not in i],
             [i for i in controls if "/case/Assert/" not in i], colocation]
            for name, op, inputs, controls, colocation in nodes if "/case/Assert/" not in name]


@pytest.mark.parametrize("schedule", ["exponential", "exponential_staircase", "natural_exp",
                                      "inverse_time", "polynomial", "polynomial_cycle",
                                      "cosine", "piecewise_constant"])
def test_learning_rate_schedules_match_tensorflow(oracle, schedule):
    ours = scenarios.learning_rate_schedules(tf)[schedule]
    theirs = oracle["schedules"][schedule]
    assert ours["name"] == theirs["name"]
    # tf.case's exclusivity Assert is tf.case's own business (ops/control_flow_ops.py).
    assert _without_case_assert(ours["nodes"]) == _without_case_assert(theirs["nodes"])
    # float32 pow and cos may differ from Eigen's in the last bit or two.
    np.testing.assert_allclose(ours["values"], theirs["values"], rtol=1e-6)


def test_global_step_graph(oracle):
    assert scenarios.global_step_graph(tf) == oracle["global_step"]
