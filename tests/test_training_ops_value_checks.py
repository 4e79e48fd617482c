"""The hyper-parameter checks of TensorFlow's training kernels against real TensorFlow 2.21:
SparseApplyFtrl / SparseApplyFtrlV2 reject lr <= 0 (lr == 0 is allowed with
multiply_linear_by_lr), negative l1, l2 and l2_shrinkage and lr_power > 0;
(Sparse)ApplyProximalAdagrad reject lr <= 0 and negative l1, l2; NaN fails every check; the
Resource twins behave alike. Kernels without such checks (ApplyFtrl, ProximalGradientDescent)
accept the same values. Compared: which runs fail, the error class, the message's line
naming the check, and the variable after the runs that succeed. Real TensorFlow runs every
case once, in one subprocess for this file."""

import itertools
import json

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.ops import training_ops
from tf_oracle import require_tensorflow, run_tensorflow

# Shared verbatim by both runs (exec'd with `tf`, `np` and `gen` (the op builders) bound).
RUNNER = r'''
GRAD_ROWS = np.array([[0.5, -1.0], [2.0, 0.25]])
INDICES = np.array([0, 2], np.int32)
FULL_GRAD = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])


def _build(op_type, resource, h, var, accum, linear, c):
    def ref(variable):
        return variable.handle if resource else variable

    prefix = "resource_" if resource else ""
    grad, indices = c(GRAD_ROWS), INDICES
    if op_type == "SparseApplyFtrl":
        return getattr(gen, prefix + "sparse_apply_ftrl")(
            ref(var), ref(accum), ref(linear), grad, indices, c(h["lr"]), c(h["l1"]),
            c(h["l2"]), c(h["lr_power"]), multiply_linear_by_lr=h["multiply"])
    if op_type == "SparseApplyFtrlV2":
        return getattr(gen, prefix + "sparse_apply_ftrl_v2")(
            ref(var), ref(accum), ref(linear), grad, indices, c(h["lr"]), c(h["l1"]),
            c(h["l2"]), c(h["l2_shrinkage"]), c(h["lr_power"]),
            multiply_linear_by_lr=h["multiply"])
    if op_type == "SparseApplyProximalAdagrad":
        return getattr(gen, prefix + "sparse_apply_proximal_adagrad")(
            ref(var), ref(accum), c(h["lr"]), c(h["l1"]), c(h["l2"]), grad, indices)
    if op_type == "ApplyProximalAdagrad":
        return getattr(gen, prefix + "apply_proximal_adagrad")(
            ref(var), ref(accum), c(h["lr"]), c(h["l1"]), c(h["l2"]), c(FULL_GRAD))
    if op_type == "ApplyFtrl":
        return getattr(gen, prefix + "apply_ftrl")(
            ref(var), ref(accum), ref(linear), c(FULL_GRAD), c(h["lr"]), c(h["l1"]),
            c(h["l2"]), c(h["lr_power"]), multiply_linear_by_lr=h["multiply"])
    if op_type == "SparseApplyProximalGradientDescent":
        return getattr(gen, prefix + "sparse_apply_proximal_gradient_descent")(
            ref(var), c(h["lr"]), c(h["l1"]), c(h["l2"]), grad, indices)
    raise ValueError(op_type)


def run_case(op_type, resource, dtype, h):
    """Runs the op once: ["ok", the variable after] or [error class, the message's first
    line]."""
    graph = tf.Graph()
    with graph.as_default():
        np_dtype = np.dtype(dtype)
        kwargs = {"use_resource": True} if resource else {}
        var = tf.Variable(np.linspace(-1, 1, 6).reshape(3, 2).astype(np_dtype), name="var",
                          **kwargs)
        accum = tf.Variable(np.full((3, 2), 0.1, np_dtype), name="accum", **kwargs)
        linear = tf.Variable(np.full((3, 2), 0.2, np_dtype), name="linear", **kwargs)
        op = _build(op_type, resource, h, var, accum, linear,
                    lambda value: tf.constant(value, dtype=np_dtype))
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            try:
                sess.run(op)
            except tf.errors.OpError as error:
                lines = [line for line in str(error).splitlines() if line.strip()]
                return [type(error).__name__,
                        next((line for line in lines if "scalar" in line), lines[0])]
            return ["ok", sess.run(var.value() if resource else var).tolist()]
'''

_VALID = {"lr": 0.1, "l1": 0.01, "l2": 0.02, "l2_shrinkage": 0.03, "lr_power": -0.5,
          "multiply": False}
_CHANGES = {
    "valid": {},
    "lr_zero": {"lr": 0.0},
    "lr_negative": {"lr": -1.0},
    "lr_nan": {"lr": float("nan")},
    "lr_zero_multiply_linear_by_lr": {"lr": 0.0, "multiply": True},
    "lr_negative_multiply_linear_by_lr": {"lr": -0.5, "multiply": True},
    "l1_negative": {"l1": -0.1},
    "l2_negative": {"l2": -0.1},
    "l2_shrinkage_negative": {"l2_shrinkage": -0.1},
    "lr_power_positive": {"lr_power": 0.5},
    "lr_power_zero": {"lr_power": 0.0},
    "zero_regularization": {"l1": 0.0, "l2": 0.0, "l2_shrinkage": 0.0},
    "all_bad": {"lr": -1.0, "l1": -1.0, "l2": -1.0, "l2_shrinkage": -1.0, "lr_power": 1.0},
}
_CHECKED = ("SparseApplyFtrl", "SparseApplyFtrlV2", "SparseApplyProximalAdagrad",
            "ApplyProximalAdagrad")
# Kernels without value checks, with values the checked ones reject (and finite results).
_UNCHECKED = {"ApplyFtrl": ("l1_negative", "l2_negative", "lr_power_positive"),
              "SparseApplyProximalGradientDescent": ("lr_negative", "l1_negative",
                                                     "l2_negative")}

CASES = {}
for _op_type, _change, _resource, _dtype in itertools.product(
        _CHECKED, _CHANGES, (False, True), ("float32", "float64")):
    CASES["%s-%s-%s-%s" % (_op_type, _change, "resource" if _resource else "ref", _dtype)] = (
        _op_type, _resource, _dtype, dict(_VALID, **_CHANGES[_change]))
for _op_type, _changes in _UNCHECKED.items():
    for _change, _resource in itertools.product(_changes, (False, True)):
        CASES["%s-%s-%s-float64" % (_op_type, _change, "resource" if _resource else "ref")] = (
            _op_type, _resource, "float64", dict(_VALID, **_CHANGES[_change]))
CASE_IDS = sorted(CASES)


@pytest.fixture(scope="module")
def oracle():
    require_tensorflow()
    return run_tensorflow(
        "import numpy as np\nfrom tensorflow.python.ops import gen_training_ops as gen\n"
        + RUNNER + "\ncases = json.loads(%r)\n"
        "emit({key: run_case(*case) for key, case in cases.items()})\n" % json.dumps(CASES))


def _ours(case):
    namespace = {"tf": tf, "np": np, "gen": training_ops}
    exec(RUNNER, namespace)
    return namespace["run_case"](*CASES[case])


@pytest.mark.tf
@pytest.mark.parametrize("case", CASE_IDS)
def test_value_checks_match_tensorflow(oracle, case):
    theirs, ours = oracle[case], _ours(case)
    assert ours[0] == theirs[0]
    if theirs[0] == "ok":
        tolerance = {"rtol": 1e-5, "atol": 1e-6} if case.endswith("float32") else {
            "rtol": 1e-12, "atol": 1e-14}
        np.testing.assert_allclose(ours[1], theirs[1], **tolerance)
    else:
        assert theirs[0] == "InvalidArgumentError"
        # TensorFlow's line reads "<check>: <shape>", e.g. "lr is not a positive scalar: []".
        assert theirs[1].strip() in ours[1]

