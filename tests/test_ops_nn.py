"""Neural-network ops and tf.nn / tf.losses builders.

Forward values, gradients, static shapes, OpDefs and the graphs builders create are compared
with real TensorFlow: one subprocess (tests/tf_oracle_nn.py) evaluates every case of
tests/nn_cases.py. Registered gradients are also checked against central finite differences in
float64, without TensorFlow.
"""

import os
import pickle

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import dtypes
from tensorkeep.framework import op_def as op_def_lib
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.ops import nn_kernels

import nn_cases
from tf_oracle import require_tensorflow, run_tensorflow_process

HERE = os.path.dirname(os.path.abspath(__file__))
OP_CASES = [c for c in nn_cases.op_cases() if not c["unknown_shapes"]]
ERROR_CASES = [c for c in nn_cases.op_cases() if c["unknown_shapes"]]
SHAPE_CASES = nn_cases.shape_cases()
BUILDER_CASES = nn_cases.builder_cases()

NN_OP_TYPES = sorted({
    "Relu", "ReluGrad", "Relu6", "Relu6Grad", "Elu", "EluGrad", "Selu", "SeluGrad", "LeakyRelu",
    "LeakyReluGrad", "Sigmoid", "SigmoidGrad", "Tanh", "TanhGrad", "Softplus", "SoftplusGrad",
    "Softsign", "SoftsignGrad", "Softmax", "LogSoftmax", "SoftmaxCrossEntropyWithLogits",
    "SparseSoftmaxCrossEntropyWithLogits", "BiasAdd", "BiasAddGrad", "BiasAddV1", "L2Loss",
    "Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "DepthwiseConv2dNative",
    "DepthwiseConv2dNativeBackpropInput", "DepthwiseConv2dNativeBackpropFilter", "MaxPool",
    "MaxPoolV2", "MaxPoolGrad", "MaxPoolGradV2", "MaxPoolGradGrad", "MaxPoolGradGradV2",
    "AvgPool", "AvgPoolGrad", "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3",
    "FusedBatchNormGrad", "FusedBatchNormGradV2", "FusedBatchNormGradV3", "LRN", "LRNGrad",
    "InTopK"})


@pytest.fixture(scope="module")
def tf_results(tmp_path_factory):
    require_tensorflow()
    work = tmp_path_factory.mktemp("tf_oracle_nn")
    request, result = work / "request.pkl", work / "result.pkl"
    with open(request, "wb") as f:
        pickle.dump({"cases": nn_cases.all_cases(), "op_types": NN_OP_TYPES}, f)
    run_tensorflow_process([os.path.join(HERE, "tf_oracle_nn.py"), request, result])
    with open(result, "rb") as f:
        return pickle.load(f)


def _theirs(tf_results, case_id):
    result = tf_results[case_id]
    if "needs tf_keras" in result.get("error", ""):
        pytest.skip("real TensorFlow's tf.layers.batch_normalization lives in tf_keras: install "
                    "it into .venv-tf (pip install tf-keras==<TensorFlow's version>)")
    assert "error" not in result, "TensorFlow failed on this case: " + result["error"]
    return result


def _assert_close(ours, theirs, what, rtol=None):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype, "%s: dtype %s, TensorFlow %s" % (what, ours.dtype,
                                                                        theirs.dtype)
    assert ours.shape == theirs.shape, "%s: shape %s, TensorFlow %s" % (what, ours.shape,
                                                                        theirs.shape)
    if ours.dtype.kind in "biu":
        np.testing.assert_array_equal(ours, theirs, err_msg=what)
        return
    if rtol is None:
        rtol = {2: 2e-3, 4: 1e-5, 8: 1e-12}.get(ours.dtype.itemsize, 1e-5)
    scale = np.max(np.abs(theirs.astype(np.float64)), initial=1.0)
    np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64), rtol=rtol,
                               atol=rtol * scale, err_msg=what)


# --- our side of an op case ---------------------------------------------------------------------

def _flat(value):
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flat(v)]
    return [value]


def _build_op(case, dtype_override=None):
    """Builds the case's op on placeholders; returns (op, placeholders by name, feeds)."""
    placeholders, feeds = {}, {}
    for name, value in case["inputs"]:
        value = np.asarray(value)
        if dtype_override is not None and value.dtype.kind == "f":
            value = value.astype(dtype_override)
        placeholder = tf.placeholder(dtypes.as_dtype(value.dtype),
                                     None if case["unknown_shapes"] else value.shape, name=name)
        placeholders[name] = placeholder
        feeds[placeholder] = value
    outputs = _flat(apply_op(case["op"], **placeholders, **case["attrs"]))
    return outputs[0].op, placeholders, feeds


def _registered_gradients(op, case, dy):
    """Our gradient function for op, applied to upstream gradient dy on output grad_output."""
    fn, registered = op_def_lib.gradient_function(op.type)
    assert registered and fn is not None, "no gradient registered for %s" % op.type
    upstream = [None] * len(op.outputs)
    upstream[case["grad_output"]] = tf.constant(dy)
    grads = fn(op, *upstream)
    arg_names = [arg.name for arg in op._schema.inputs]
    assert len(grads) == len(arg_names), "%s gradient returned %d entries for %d inputs" % (
        op.type, len(grads), len(arg_names))
    return [grads[arg_names.index(name)] for name in case["grad"]]


def _run_op_case(case, dy=None):
    graph = tf.Graph()
    with graph.as_default():
        op, placeholders, feeds = _build_op(case)
        fetches = list(op.outputs)
        grads = _registered_gradients(op, case, dy) if dy is not None else []
        with tf.Session() as sess:
            values = sess.run(fetches + [g for g in grads if g is not None], feeds)
    outputs, grad_values = values[:len(fetches)], iter(values[len(fetches):])
    static = [t.shape.as_list() if t.shape.ndims is not None else None for t in op.outputs]
    return outputs, static, [None if g is None else next(grad_values) for g in grads]


@pytest.mark.tf
@pytest.mark.parametrize("case", OP_CASES, ids=lambda c: c["id"])
def test_op_forward_and_static_shape_match_tensorflow(case, tf_results):
    theirs = _theirs(tf_results, case["id"])
    outputs, static, _ = _run_op_case(case)
    assert len(outputs) == len(theirs["outputs"])
    for i, (ours, expected) in enumerate(zip(outputs, theirs["outputs"])):
        _assert_close(ours, expected, "%s output %d" % (case["id"], i))
    for i, (ours, expected) in enumerate(zip(static, theirs["static_shapes"])):
        if expected is not None:
            assert ours == expected, "%s static shape of output %d" % (case["id"], i)


@pytest.mark.tf
@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c["id"])
def test_op_runtime_error_matches_tensorflow(case, tf_results):
    expected = tf_results[case["id"]].get("error_type")
    assert expected is not None, "TensorFlow accepted these inputs"
    with pytest.raises(getattr(tf.errors, expected)):
        _run_op_case(case)


@pytest.mark.tf
@pytest.mark.parametrize("case", SHAPE_CASES, ids=lambda c: c["id"])
def test_shape_inference_matches_tensorflow(case, tf_results):
    theirs = tf_results[case["id"]]

    def build():
        with tf.Graph().as_default():
            inputs = {}
            for arg in case["inputs"]:
                if len(arg) == 2:
                    inputs[arg[0]] = tf.constant(arg[1], name=arg[0])
                else:
                    inputs[arg[0]] = tf.placeholder(arg[1], arg[2], name=arg[0])
            outputs = _flat(apply_op(case["op"], **inputs, **case["attrs"]))
            return [t.shape.as_list() if t.shape.ndims is not None else None for t in outputs]

    if "error" in theirs:
        assert theirs["error_type"] == "ValueError", theirs["error"]
        with pytest.raises(ValueError):
            build()
    else:
        assert build() == theirs["static_shapes"]


GRAD_CASES = [c for c in OP_CASES if c["grad"]]


@pytest.mark.tf
@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: c["id"])
def test_op_gradient_matches_tensorflow(case, tf_results):
    theirs = _theirs(tf_results, case["id"])
    _, _, grads = _run_op_case(case, dy=theirs["dy"])
    for name, ours, expected in zip(case["grad"], grads, theirs["grads"]):
        if expected is None:
            assert ours is None, "%s: TensorFlow has no gradient for %s" % (case["id"], name)
        else:
            _assert_close(ours, expected, "%s d/d%s" % (case["id"], name), rtol=1e-4)


# --- finite differences (float64, no TensorFlow) -------------------------------------------------

def _float64_capable(case):
    schema = op_def_lib.get_schema(case["op"])
    spec = schema.attrs.get("T")
    return spec is not None and dtypes.float64 in (spec.allowed_values or [])


FD_CASES = [c for c in GRAD_CASES if _float64_capable(c)]


@pytest.mark.parametrize("case", FD_CASES, ids=lambda c: c["id"])
def test_op_gradient_matches_finite_differences(case):
    graph = tf.Graph()
    with graph.as_default():
        op, placeholders, feeds = _build_op(case, dtype_override=np.float64)
        kernel = op._schema.kernel(op, None)
        inputs = [feeds[placeholders[name]] for name, _ in case["inputs"]]
        output_shape = np.shape(_flat(kernel(*inputs))[case["grad_output"]])
        dy = np.random.default_rng(11).standard_normal(output_shape)
        grads = _registered_gradients(op, case, dy)
        with tf.Session() as sess:
            analytic = sess.run(grads, feeds)
    names = [name for name, _ in case["inputs"]]
    step = 1e-6
    for name, ours in zip(case["grad"], analytic):
        index = names.index(name)
        numeric = np.zeros_like(inputs[index])
        for position in np.ndindex(inputs[index].shape):
            values = []
            for sign in (1, -1):
                shifted = list(inputs)
                shifted[index] = inputs[index].copy()
                shifted[index][position] += sign * step
                values.append(_flat(kernel(*shifted))[case["grad_output"]])
            numeric[position] = np.sum((values[0] - values[1]) * dy) / (2 * step)
        np.testing.assert_allclose(ours, numeric, rtol=1e-5, atol=1e-6,
                                   err_msg="%s d/d%s" % (case["id"], name))


def test_batch_norm_kernels_match_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 2, 4)) * 2 + 1
    scale, offset = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    dy = rng.standard_normal(x.shape)
    eps = 1e-3
    for training in (True, False):
        mean, var = (x.reshape(-1, 4).mean(0), x.reshape(-1, 4).var(0)) if training else \
            (rng.standard_normal(4) * 0.1, rng.uniform(0.5, 2, 4))

        def loss(x_, scale_, offset_):
            if training:
                y = nn_kernels.batch_norm_training(x_, scale_, offset_, None, None, eps, 1.0)[0]
            else:
                y = nn_kernels.batch_norm_inference(x_, scale_, offset_, mean, var, eps)
            return np.sum(y * dy)

        dx, dscale, doffset = nn_kernels.batch_norm_grad(dy, x, scale, mean, var, eps, training)
        for analytic, index in ((dx, 0), (dscale, 1), (doffset, 2)):
            args = [x, scale, offset]
            numeric = np.zeros_like(args[index])
            for position in np.ndindex(numeric.shape):
                plus, minus = [a.copy() for a in args], [a.copy() for a in args]
                plus[index][position] += 1e-6
                minus[index][position] -= 1e-6
                numeric[position] = (loss(*plus) - loss(*minus)) / 2e-6
            np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


# --- OpDefs --------------------------------------------------------------------------------------

@pytest.mark.tf
@pytest.mark.parametrize("op_type", NN_OP_TYPES)
def test_op_def_matches_tensorflow(op_type, tf_results):
    from tensorkeep.io import protos
    theirs = tf_results["__opdefs__"][op_type]
    assert theirs is not None, "TensorFlow has no op %s" % op_type
    ours = op_def_lib.get_schema(op_type).op_def
    expected = protos.OpDef.FromString(theirs)
    assert str(ours) == str(expected)


# --- builders ------------------------------------------------------------------------------------

def _resolve(path):
    obj = tf
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _run_builder_case(case, dy=None):
    graph = tf.Graph()
    with graph.as_default():
        feeds, placeholders = {}, []

        def convert(arg):
            if isinstance(arg, dict) and "tensor" in arg:
                value = arg["tensor"]
                placeholder = tf.placeholder(dtypes.as_dtype(value.dtype), value.shape,
                                             name="in%d" % len(placeholders))
                placeholders.append(placeholder)
                feeds[placeholder] = value
                return placeholder
            if isinstance(arg, dict) and "function" in arg:
                return _resolve(arg["function"])
            return arg

        args = [convert(a) for a in case["args"]]
        kwargs = {k: convert(v) for k, v in case["kwargs"].items()}
        existing = set(op.name for op in graph.get_operations())
        tf.set_random_seed(case["id"].count("_") + 7)
        outputs = _flat(_resolve(case["fn"])(*args, **kwargs))
        nodes = [(op.name, op.type, [t.name for t in op.inputs],
                  sorted(c.name for c in op.control_inputs))
                 for op in graph.get_operations() if op.name not in existing]
        variables = tf.global_variables()
        grads = []
        if dy is not None:
            xs = [p for p in placeholders if p.dtype.is_floating]
            grads = [_dense(g) for g in tf.gradients(outputs[0], xs, grad_ys=tf.constant(dy))]
        # The same runs in the same order as tf_oracle_nn.py, so that stateful random ops
        # (dropout) draw the same numbers on both sides.
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            result = {"outputs": sess.run(outputs, feeds), "nodes": nodes,
                      "output_names": [t.name for t in outputs], "collections": _collections(),
                      "variables": sess.run(variables)}
            updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
            if updates:
                sess.run(updates, feeds)
                result["variables_after_updates"] = sess.run(variables)
            grad_values = iter(sess.run([g for g in grads if g is not None], feeds))
        result["grads"] = [None if g is None else next(grad_values) for g in grads]
        return result


def _dense(gradient):
    """IndexedSlices (embedding_lookup's gradient) as a dense tensor."""
    if gradient is not None and not isinstance(gradient, tf.Tensor):
        return tf.convert_to_tensor(gradient)
    return gradient


def _collections():
    keys = (tf.GraphKeys.LOSSES, tf.GraphKeys.REGULARIZATION_LOSSES, tf.GraphKeys.UPDATE_OPS,
            tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.TRAINABLE_VARIABLES)
    return {key: [item.name for item in tf.get_collection(key)] for key in keys}


def _builder_available(case):
    try:
        _resolve(case["fn"])
        return True
    except AttributeError:
        return False


@pytest.mark.tf
@pytest.mark.parametrize("case", BUILDER_CASES, ids=lambda c: c["id"])
def test_builder_values_and_graph_match_tensorflow(case, tf_results):
    if not _builder_available(case):
        pytest.skip("tf.%s is not part of tensorkeep yet" % case["fn"])
    theirs = _theirs(tf_results, case["id"])
    ours = _run_builder_case(case)
    assert ours["output_names"] == theirs["output_names"]
    for i, (value, expected) in enumerate(zip(ours["outputs"], theirs["outputs"])):
        _assert_close(value, expected, "%s output %d" % (case["id"], i), rtol=2e-5)
    assert ours["nodes"] == [tuple(n) for n in theirs["nodes"]]
    assert ours["collections"] == theirs["collections"]
    for key in ("variables", "variables_after_updates"):
        assert len(ours.get(key, [])) == len(theirs.get(key, [])), key
        for i, (value, expected) in enumerate(zip(ours.get(key, []), theirs.get(key, []))):
            _assert_close(value, expected, "%s %s %d" % (case["id"], key, i), rtol=2e-5)


@pytest.mark.tf
@pytest.mark.parametrize("case", [c for c in BUILDER_CASES if c["grad"]],
                         ids=lambda c: c["id"])
def test_builder_gradients_match_tensorflow(case, tf_results):
    if not hasattr(tf, "gradients"):
        pytest.skip("tf.gradients is not part of tensorkeep yet")
    if not _builder_available(case):
        pytest.skip("tf.%s is not part of tensorkeep yet" % case["fn"])
    theirs = _theirs(tf_results, case["id"])
    ours = _run_builder_case(case, dy=theirs["dy"])
    for i, (value, expected) in enumerate(zip(ours["grads"], theirs["grads"])):
        if expected is None:
            assert value is None
        else:
            _assert_close(value, expected, "%s gradient %d" % (case["id"], i), rtol=1e-4)
