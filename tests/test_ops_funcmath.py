"""map_fn/foldl/foldr/scan, sort/argsort/searchsorted/repeat, special functions, complex parts,
top-level aliases and assertion builders: the same TF1 programs build the same GraphDefs and
compute the same values (and gradients) in tensorkeep and in real TensorFlow, each side's
GraphDef runs on the other, and the new ops' OpDefs equal TensorFlow's."""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import op_def as op_registry
from tensorkeep.io import protos

from control_flow_cases import DRIVER
from driver_interop import assert_same_nodes, describe_in_both
from funcmath_cases import CASES, FAILING_ASSERTIONS, FAILURE_DRIVER
from tf_oracle import require_tensorflow

_SCOPE = {"tf": tf}
exec(DRIVER + FAILURE_DRIVER, _SCOPE)  # noqa: S102 (the shared drivers, with tensorkeep as tf)

NEW_OPS = ["Erf", "Erfc", "Lgamma", "Digamma", "Igamma", "Igammac", "IgammaGradA", "Betainc",
           "Zeta", "Polygamma", "Xlogy", "Xlog1py", "Xdivy", "Complex", "Real", "Imag", "Angle",
           "ComplexAbs", "LowerBound", "UpperBound"]

# Special functions: TensorFlow's float64 kernels and ours are different algorithms; they agree
# to ~1e-13 on values, and IgammaGradA (our fourth-order difference) to ~2e-9.
_RTOL = {"special_functions": 5e-9}


# What TensorFlow reports besides the cases, in the same process: the new ops' OpDefs and the
# failing assertions' errors.
_TENSORFLOW_EXTRAS = """
from tf_oracle import stripped_op_def
extras["op_defs"] = {name: stripped_op_def(name).hex() for name in request["op_types"]}
extras["failures"] = {name: describe_failure(code)
                      for name, code in request["failures"].items()}
"""


@pytest.fixture(scope="module")
def tensorflow_results():
    """(ours, theirs, extras), as driver_interop.describe_in_both."""
    require_tensorflow()
    return describe_in_both(_SCOPE, CASES, tensorflow_prelude=FAILURE_DRIVER,
                            tensorflow_extras=_TENSORFLOW_EXTRAS,
                            request={"op_types": NEW_OPS, "failures": FAILING_ASSERTIONS})


def _assert_results_close(ours, theirs, where, rtol):
    assert len(ours) == len(theirs), where
    for run_index, (mine, reference) in enumerate(zip(ours, theirs)):
        if isinstance(reference, dict) or isinstance(mine, dict):
            assert mine == reference, "%s run %d" % (where, run_index)
            continue
        for index, (value, expected) in enumerate(zip(mine, reference)):
            assert value["dtype"] == expected["dtype"], where
            assert value["shape"] == expected["shape"], where
            # float32 kernels differ in the last bits: TensorFlow evaluates them in float32.
            tolerance = max(rtol, 1e-6) if value["dtype"] == "float32" else rtol
            np.testing.assert_allclose(value["values"], expected["values"], rtol=tolerance,
                                       atol=1e-300, err_msg="%s run %d fetch %d"
                                       % (where, run_index, index))


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_graphs_match_tensorflow(tensorflow_results, name):
    ours, theirs, _ = tensorflow_results
    assert_same_nodes(ours[name]["nodes"], theirs[name]["nodes"])


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_tensorflow(tensorflow_results, name):
    ours, theirs, _ = tensorflow_results
    _assert_results_close(ours[name]["results"], theirs[name]["results"], name,
                          _RTOL.get(name, 1e-6))


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_graph_defs_run_on_the_other_side(tensorflow_results, name):
    ours, theirs, _ = tensorflow_results
    rtol = _RTOL.get(name, 1e-6)
    reference = theirs[name]
    _assert_results_close(reference["runs_ours"], reference["results"],
                          name + " (tensorkeep's GraphDef in TensorFlow)", rtol)
    runs = _SCOPE["build_case"](CASES[name])[3]
    mine = _SCOPE["run_graph_def"](reference["graph_def"], reference["fetches"],
                                   reference["init"], runs)
    _assert_results_close(mine, reference["results"],
                          name + " (TensorFlow's GraphDef in tensorkeep)", rtol)


@pytest.mark.tf
@pytest.mark.parametrize("name", NEW_OPS)
def test_op_defs_equal_tensorflows(tensorflow_results, name):
    theirs = tensorflow_results[2]["op_defs"][name]
    assert op_registry.get_schema(name).op_def == protos.OpDef.FromString(bytes.fromhex(theirs))


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(FAILING_ASSERTIONS))
def test_failing_assertions_raise_tensorflows_errors(tensorflow_results, name):
    theirs = tensorflow_results[2]["failures"][name]
    assert theirs is not None, "TensorFlow raised nothing for " + name
    assert _SCOPE["describe_failure"](FAILING_ASSERTIONS[name]) == theirs


# --- behaviour without TensorFlow ---------------------------------------------------------------

def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def test_special_functions_meet_closed_forms():
    euler_gamma = 0.5772156649015329
    x = np.array([0.1, 0.5, 1.0, 2.0, 7.5, 30.0])
    with tf.Graph().as_default():
        values = _run({
            "lgamma_int": tf.lgamma(tf.constant([1.0, 2.0, 5.0], tf.float64)),
            "digamma_1": tf.digamma(tf.constant(1.0, tf.float64)),
            "zeta_2": tf.zeta(tf.constant(2.0, tf.float64), 1.0),
            "trigamma_1": tf.polygamma(tf.constant(1.0, tf.float64), 1.0),
            "igamma_1": tf.igamma(tf.constant(1.0, tf.float64), x),
            "igammac_1": tf.igammac(tf.constant(1.0, tf.float64), x),
            "betainc_11": tf.betainc(tf.constant(1.0, tf.float64), 1.0, x / 40.0),
            "erf_0": tf.erf(tf.constant(0.0)),
        })
    np.testing.assert_allclose(values["lgamma_int"], np.log([1.0, 1.0, 24.0]), atol=1e-15)
    assert values["digamma_1"] == pytest.approx(-euler_gamma, rel=1e-14)
    assert values["zeta_2"] == pytest.approx(np.pi ** 2 / 6, rel=1e-14)
    assert values["trigamma_1"] == pytest.approx(np.pi ** 2 / 6, rel=1e-14)
    np.testing.assert_allclose(values["igamma_1"], -np.expm1(-x), rtol=1e-13)
    np.testing.assert_allclose(values["igammac_1"], np.exp(-x), rtol=1e-12)
    np.testing.assert_allclose(values["betainc_11"], x / 40.0, rtol=1e-13)
    assert values["erf_0"] == 0.0 and values["erf_0"].dtype == np.float32


def test_betainc_needs_one_shape_or_scalars():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [None])
        z = tf.betainc(a, 2.0, tf.placeholder_with_default([0.5, 0.5, 0.5], [None]))
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"inconsistent: \[2\] vs"):
            _run(z, {a: [1.0, 2.0]})
        with pytest.raises(ValueError):
            tf.betainc(tf.zeros([2]), tf.zeros([3]), 0.5)


def test_functional_ops_agree_with_numpy():
    data = np.array([[1.0, 2.0], [3.0, -4.0], [0.5, 6.0]], np.float32)
    with tf.Graph().as_default():
        x = tf.constant(data)
        values = _run([tf.map_fn(lambda row: row * 2.0, x), tf.scan(lambda a, r: a + r, x),
                       tf.foldl(lambda a, r: a * r, x), tf.foldr(lambda a, r: a - r, x,
                                                                  initializer=tf.zeros([2]))])
    np.testing.assert_allclose(values[0], data * 2)
    np.testing.assert_allclose(values[1], np.cumsum(data, axis=0))
    np.testing.assert_allclose(values[2], np.prod(data, axis=0))
    np.testing.assert_allclose(values[3], -data.sum(axis=0))


def test_sort_rejects_bad_arguments():
    with tf.Graph().as_default():
        x = tf.constant([3.0, 1.0])
        with pytest.raises(ValueError, match="direction"):
            tf.sort(x, direction="UP")
        with pytest.raises(ValueError, match="constant scalar"):
            tf.argsort(x, axis=tf.placeholder(tf.int32, []))
        with pytest.raises(ValueError, match="side"):
            tf.searchsorted(x, x, side="middle")


def test_searchsorted_needs_matching_leading_dimensions():
    with tf.Graph().as_default():
        rows = tf.placeholder(tf.float32, [None, 3])
        out = tf.searchsorted(rows, tf.placeholder_with_default([[1.0]], [None, 1]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Leading dim_size"):
            _run(out, {rows: np.zeros([2, 3], np.float32)})
