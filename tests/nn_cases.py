"""The neural-network cases that tensorkeep and real TensorFlow both evaluate.

Imported by test_ops_nn.py (tensorkeep side) and, through a pickle of `all_cases()`, by
tf_oracle_nn.py (TensorFlow side). NumPy only.

Two kinds of case:
* op cases run one raw op (`tf.raw_ops.<op>` there, `apply_op` here) on fed inputs; with
  `grad`, the gradient of output `grad_output` (weighted by a fixed random `dy`) with respect
  to the named inputs.
* builder cases call a public function (`nn.softmax`, `losses.log_loss`, ...) on placeholders
  and record its values and the graph nodes it created.
"""

import numpy as np


def tensor(value):
    """Marks a builder argument that is fed through a placeholder."""
    return {"tensor": np.asarray(value)}


def function(path):
    """Marks a builder argument that is a public function (e.g. an activation)."""
    return {"function": path}


def _rng(seed):
    return np.random.default_rng(seed)


def _away_from(values, points, margin=0.05):
    """Nudges values off kinks (finite differences must not straddle them)."""
    values = np.array(values, copy=True)
    for p in points:
        close = np.abs(values - p) < margin
        values[close] = p + np.where(values[close] >= p, margin, -margin) * 2
    return values


def _f32(x):
    return np.asarray(x, dtype=np.float32)


def op_case(case_id, op, inputs, attrs=None, grad=(), grad_output=0, unknown_shapes=False):
    """inputs: list of (arg name, array); grad: the inputs to differentiate. With
    unknown_shapes the placeholders have no static shape (run-time checks, not shape fns)."""
    return {"id": case_id, "kind": "op", "op": op, "inputs": list(inputs),
            "attrs": dict(attrs or {}), "grad": list(grad), "grad_output": grad_output,
            "unknown_shapes": unknown_shapes}


def shape_case(case_id, op, inputs, attrs=None):
    """Static shape inference only: inputs are (arg name, dtype name, shape or None); a shape
    may hold None dims. Const inputs are given as (arg name, ndarray)."""
    return {"id": case_id, "kind": "shape", "op": op, "inputs": list(inputs),
            "attrs": dict(attrs or {})}


def builder_case(case_id, fn, args=(), kwargs=None, grad=True):
    return {"id": case_id, "kind": "builder", "fn": fn, "args": list(args),
            "kwargs": dict(kwargs or {}), "grad": grad}


# --- op cases ------------------------------------------------------------------------------------

def _activation_cases():
    r = _rng(1)
    x = _f32(_away_from(r.uniform(-3, 3, (3, 4)), [0.0]))
    x6 = _f32(_away_from(r.uniform(-2, 8, (3, 4)), [0.0, 6.0]))
    wide = _f32([[-30.0, -15.0, -1e-3, 0.0], [1e-3, 14.5, 20.0, 90.0]])
    cases = []
    for op in ("Relu", "Elu", "Selu", "Softplus", "Softsign"):
        cases.append(op_case(op, op, [("features", x)], grad=["features"]))
    cases.append(op_case("Relu6", "Relu6", [("features", x6)], grad=["features"]))
    cases.append(op_case("LeakyRelu", "LeakyRelu", [("features", x)], {"alpha": 0.3},
                         grad=["features"]))
    for op in ("Sigmoid", "Tanh"):
        cases.append(op_case(op, op, [("x", x)], grad=["x"]))
        cases.append(op_case(op + "_wide", op, [("x", wide)]))
    for op in ("Softplus", "Elu", "Selu", "Softsign"):
        cases.append(op_case(op + "_wide", op, [("features", wide)]))
    cases.append(op_case("Relu_float64", "Relu", [("features", x.astype(np.float64))],
                         grad=["features"]))
    cases.append(op_case("Relu_int32", "Relu", [("features", np.int32([[-3, 0, 4]]))]))
    cases.append(op_case("Elu_half", "Elu", [("features", x.astype(np.float16))]))
    g = _f32(r.standard_normal((3, 4)))
    y_sig = _f32(1 / (1 + np.exp(-x)))
    for op, second in (("ReluGrad", x), ("Relu6Grad", x6), ("SoftplusGrad", x),
                       ("SoftsignGrad", x)):
        cases.append(op_case(op, op, [("gradients", g), ("features", second)],
                             grad=["gradients", "features"] if op == "SoftplusGrad" else
                             ["gradients"] if op != "SoftsignGrad" else []))
    cases.append(op_case("LeakyReluGrad", "LeakyReluGrad", [("gradients", g), ("features", x)],
                         {"alpha": 0.1}, grad=["gradients"]))
    for op in ("EluGrad", "SeluGrad"):
        cases.append(op_case(op, op, [("gradients", g), ("outputs", _f32(np.tanh(x)))],
                             grad=["gradients", "outputs"]))
    for op in ("SigmoidGrad", "TanhGrad"):
        cases.append(op_case(op, op, [("y", y_sig), ("dy", g)], grad=["y", "dy"]))
    return cases


def _softmax_cases():
    r = _rng(2)
    logits = _f32(r.standard_normal((4, 5)) * 3)
    labels = r.uniform(0, 1, (4, 5))
    labels = _f32(labels / labels.sum(axis=1, keepdims=True))
    cases = [
        op_case("Softmax", "Softmax", [("logits", logits)], grad=["logits"]),
        op_case("Softmax_rank3", "Softmax", [("logits", _f32(r.standard_normal((2, 3, 4))))],
                grad=["logits"]),
        op_case("Softmax_large", "Softmax", [("logits", _f32([[1000, 1001, 999], [-50, 0, 50]]))]),
        op_case("LogSoftmax", "LogSoftmax", [("logits", logits)], grad=["logits"]),
        op_case("SoftmaxXent", "SoftmaxCrossEntropyWithLogits",
                [("features", logits), ("labels", labels)], grad=["features", "labels"]),
        op_case("SoftmaxXent_broadcast", "SoftmaxCrossEntropyWithLogits",
                [("features", logits), ("labels", labels[:1])]),
        op_case("SoftmaxXent_float64", "SoftmaxCrossEntropyWithLogits",
                [("features", logits.astype(np.float64)), ("labels", labels.astype(np.float64))],
                grad=["features", "labels"]),
    ]
    for label_dtype in (np.int32, np.int64):
        cases.append(op_case("SparseSoftmaxXent_" + np.dtype(label_dtype).name,
                             "SparseSoftmaxCrossEntropyWithLogits",
                             [("features", logits), ("labels", label_dtype([0, 4, 2, 2]))],
                             grad=["features"]))
    return cases


def _bias_cases():
    r = _rng(3)
    value = _f32(r.standard_normal((2, 3, 4, 5)))
    bias = _f32(r.standard_normal(5))
    return [
        op_case("BiasAdd", "BiasAdd", [("value", value), ("bias", bias)],
                grad=["value", "bias"]),
        op_case("BiasAdd_NCHW", "BiasAdd", [("value", value.transpose(0, 3, 1, 2)),
                                            ("bias", bias)], {"data_format": "NCHW"},
                grad=["value", "bias"]),
        op_case("BiasAdd_rank2", "BiasAdd", [("value", value[0, 0]), ("bias", bias)],
                grad=["value", "bias"]),
        op_case("BiasAddV1", "BiasAddV1", [("value", value), ("bias", bias)],
                grad=["value", "bias"]),
        op_case("BiasAddGrad", "BiasAddGrad", [("out_backprop", value)]),
        op_case("BiasAddGrad_NCHW", "BiasAddGrad", [("out_backprop", value)],
                {"data_format": "NCHW"}),
        op_case("L2Loss", "L2Loss", [("t", value)], grad=["t"]),
    ]


def _conv_cases():
    r = _rng(4)
    x = _f32(r.standard_normal((2, 7, 6, 3)))
    w = _f32(r.standard_normal((3, 2, 3, 4)))
    cases = []
    configs = [
        ("VALID", [1, 1, 1, 1], [1, 1, 1, 1], []),
        ("SAME", [1, 2, 2, 1], [1, 1, 1, 1], []),
        ("SAME", [1, 3, 1, 1], [1, 1, 1, 1], []),
        ("VALID", [1, 2, 3, 1], [1, 1, 1, 1], []),
        ("SAME", [1, 1, 1, 1], [1, 2, 2, 1], []),
        ("VALID", [1, 1, 1, 1], [1, 2, 1, 1], []),
        ("EXPLICIT", [1, 2, 1, 1], [1, 1, 1, 1], [0, 0, 1, 2, 0, 3, 0, 0]),
    ]
    for i, (padding, strides, dilations, explicit) in enumerate(configs):
        attrs = {"strides": strides, "padding": padding, "dilations": dilations,
                 "explicit_paddings": explicit}
        cases.append(op_case("Conv2D_%d_%s" % (i, padding), "Conv2D",
                             [("input", x), ("filter", w)], attrs, grad=["input", "filter"]))
    dy = _f32(r.standard_normal((2, 4, 3, 4)))
    attrs = {"strides": [1, 2, 2, 1], "padding": "SAME"}
    cases.append(op_case("Conv2DBackpropInput", "Conv2DBackpropInput",
                         [("input_sizes", np.int32([2, 7, 6, 3])), ("filter", w),
                          ("out_backprop", dy)], attrs, grad=["filter", "out_backprop"]))
    cases.append(op_case("Conv2DBackpropFilter", "Conv2DBackpropFilter",
                         [("input", x), ("filter_sizes", np.int32([3, 2, 3, 4])),
                          ("out_backprop", dy)], attrs, grad=["input", "out_backprop"]))
    cases.append(op_case("Conv2D_1x1", "Conv2D", [("input", x), ("filter", w[:1, :1])],
                         {"strides": [1, 1, 1, 1], "padding": "VALID"}, grad=["input", "filter"]))
    cases.append(op_case("Conv2D_float64", "Conv2D",
                         [("input", x.astype(np.float64)), ("filter", w.astype(np.float64))],
                         {"strides": [1, 2, 1, 1], "padding": "SAME"}, grad=["input", "filter"]))
    dw = _f32(r.standard_normal((3, 3, 3, 2)))
    for i, (padding, strides) in enumerate((("SAME", [1, 2, 2, 1]), ("VALID", [1, 1, 1, 1]))):
        cases.append(op_case("Depthwise_%d_%s" % (i, padding), "DepthwiseConv2dNative",
                             [("input", x), ("filter", dw)],
                             {"strides": strides, "padding": padding}, grad=["input", "filter"]))
    return cases


def _pool_cases():
    r = _rng(5)
    x = _f32(r.permutation(2 * 7 * 6 * 3).reshape(2, 7, 6, 3) / 10.0 - 10)
    cases = []
    for i, (ksize, strides, padding) in enumerate((
            ([1, 2, 2, 1], [1, 2, 2, 1], "VALID"), ([1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
            ([1, 3, 2, 1], [1, 1, 1, 1], "SAME"), ([1, 2, 3, 1], [1, 3, 2, 1], "VALID"))):
        attrs = {"ksize": ksize, "strides": strides, "padding": padding}
        cases.append(op_case("MaxPool_%d" % i, "MaxPool", [("input", x)], attrs, grad=["input"]))
        cases.append(op_case("AvgPool_%d" % i, "AvgPool", [("value", x)], attrs, grad=["value"]))
    cases.append(op_case("MaxPool_explicit", "MaxPool", [("input", x)],
                         {"ksize": [1, 3, 3, 1], "strides": [1, 2, 2, 1], "padding": "EXPLICIT",
                          "explicit_paddings": [0, 0, 1, 1, 2, 0, 0, 0]}, grad=["input"]))
    cases.append(op_case("MaxPoolV2", "MaxPoolV2", [("input", x), ("ksize", np.int32([1, 3, 3, 1])),
                                                    ("strides", np.int32([1, 2, 2, 1]))],
                         {"padding": "SAME"}, grad=["input"]))
    cases.append(op_case("MaxPool_float64", "MaxPool", [("input", x.astype(np.float64))],
                         {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "SAME"},
                         grad=["input"]))
    out = _f32(r.standard_normal((2, 4, 3, 3)))
    pool_attrs = {"ksize": [1, 3, 3, 1], "strides": [1, 2, 2, 1], "padding": "SAME"}
    cases.append(op_case("AvgPoolGrad", "AvgPoolGrad",
                         [("orig_input_shape", np.int32([2, 7, 6, 3])), ("grad", out)],
                         pool_attrs, grad=["grad"]))
    return cases


def _batch_norm_cases():
    r = _rng(6)
    x = _f32(r.standard_normal((2, 3, 4, 5)) * 2 + 1)
    scale = _f32(r.uniform(0.5, 2, 5))
    offset = _f32(r.standard_normal(5))
    mean = _f32(r.standard_normal(5) * 0.1)
    var = _f32(r.uniform(0.5, 2, 5))
    empty = np.zeros((0,), np.float32)
    cases = []
    for op in ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"):
        cases.append(op_case(op + "_train", op, [("x", x), ("scale", scale), ("offset", offset),
                                                 ("mean", empty), ("variance", empty)],
                             {"epsilon": 0.001}, grad=["x", "scale", "offset"]))
        cases.append(op_case(op + "_infer", op, [("x", x), ("scale", scale), ("offset", offset),
                                                 ("mean", mean), ("variance", var)],
                             {"epsilon": 0.001, "is_training": False},
                             grad=["x", "scale", "offset"]))
    cases.append(op_case("FusedBatchNormV3_ema", "FusedBatchNormV3",
                         [("x", x), ("scale", scale), ("offset", offset), ("mean", mean),
                          ("variance", var)], {"exponential_avg_factor": 0.3}))
    for training in (True, False):
        cases.append(op_case("FusedBatchNormV3_NCHW_%s" % training, "FusedBatchNormV3",
                             [("x", x.transpose(0, 3, 1, 2)), ("scale", scale),
                              ("offset", offset), ("mean", mean if not training else empty),
                              ("variance", var if not training else empty)],
                             {"data_format": "NCHW", "is_training": training},
                             grad=["x", "scale", "offset"]))
    return cases


def _misc_cases():
    r = _rng(7)
    x = _f32(r.standard_normal((2, 3, 4, 9)))
    predictions = _f32([[0.1, 0.3, 0.3, 0.2], [0.5, 0.1, 0.2, 0.2], [0.1, np.nan, 0.5, 0.3],
                        [0.4, 0.3, 0.2, 0.1], [0.0, 0.0, 0.0, 0.0]])
    targets = np.int32([1, 0, 2, 5, 3])
    return [
        op_case("LRN", "LRN", [("input", x)], {"depth_radius": 2, "bias": 1.5, "alpha": 0.3,
                                               "beta": 0.75}, grad=["input"]),
        op_case("LRN_default", "LRN", [("input", x)], grad=["input"]),
        op_case("InTopK", "InTopK", [("predictions", predictions), ("targets", targets)],
                {"k": 2}),
        op_case("InTopKV2", "InTopKV2", [("predictions", predictions), ("targets", targets),
                                         ("k", np.int32(1))]),
        op_case("InTopKV2_int64", "InTopKV2", [("predictions", predictions),
                                               ("targets", targets.astype(np.int64)),
                                               ("k", np.int64(3))]),
    ]


def _runtime_error_cases():
    r = _rng(10)
    logits = _f32(r.standard_normal((3, 4)))
    images = _f32(r.standard_normal((1, 5, 5, 3)))
    return [
        op_case("error_SparseSoftmaxXent_label_range", "SparseSoftmaxCrossEntropyWithLogits",
                [("features", logits), ("labels", np.int32([0, 4, 1]))], unknown_shapes=True),
        op_case("error_SparseSoftmaxXent_negative_label", "SparseSoftmaxCrossEntropyWithLogits",
                [("features", logits), ("labels", np.int64([0, -1, 1]))], unknown_shapes=True),
        op_case("error_Conv2D_depth", "Conv2D",
                [("input", images), ("filter", _f32(r.standard_normal((3, 3, 2, 2))))],
                {"strides": [1, 1, 1, 1], "padding": "SAME"}, unknown_shapes=True),
        op_case("error_BiasAdd_channels", "BiasAdd",
                [("value", logits), ("bias", _f32([1, 2, 3]))], unknown_shapes=True),
        op_case("error_BiasAdd_rank", "BiasAdd",
                [("value", _f32([1, 2, 3])), ("bias", _f32([1, 2, 3]))], unknown_shapes=True),
        op_case("error_FusedBatchNormV3_mean_size", "FusedBatchNormV3",
                [("x", images), ("scale", _f32([1, 1, 1])), ("offset", _f32([0, 0, 0])),
                 ("mean", _f32([0, 0])), ("variance", _f32([1, 1]))],
                {"is_training": False}, unknown_shapes=True),
        op_case("error_SoftmaxXent_shapes", "SoftmaxCrossEntropyWithLogits",
                [("features", logits), ("labels", _f32(r.uniform(0, 1, (3, 5))))],
                unknown_shapes=True),
    ]


def shape_cases():
    conv = {"strides": [1, 2, 2, 1], "padding": "SAME"}
    return [
        shape_case("shape_Conv2D_batch", "Conv2D",
                   [("input", "float32", [None, 28, 28, 3]), ("filter", "float32", [5, 5, 3, 8])],
                   conv),
        shape_case("shape_Conv2D_spatial", "Conv2D",
                   [("input", "float32", [None, None, 9, 3]), ("filter", "float32", [3, 3, 3, 8])],
                   {"strides": [1, 1, 2, 1], "padding": "VALID", "dilations": [1, 2, 1, 1]}),
        shape_case("shape_Conv2D_unknown_rank", "Conv2D",
                   [("input", "float32", None), ("filter", "float32", [3, 3, 3, 8])], conv),
        shape_case("shape_Conv2D_unknown_filter", "Conv2D",
                   [("input", "float32", [2, 8, 8, 3]), ("filter", "float32", None)], conv),
        shape_case("shape_Conv2D_depth_mismatch", "Conv2D",
                   [("input", "float32", [1, 5, 5, 3]), ("filter", "float32", [3, 3, 4, 2])],
                   conv),
        shape_case("shape_Conv2D_rank", "Conv2D",
                   [("input", "float32", [5, 5, 3]), ("filter", "float32", [3, 3, 3, 2])], conv),
        shape_case("shape_Conv2D_explicit_length", "Conv2D",
                   [("input", "float32", [1, 5, 5, 3]), ("filter", "float32", [3, 3, 3, 2])],
                   {"strides": [1, 1, 1, 1], "padding": "EXPLICIT",
                    "explicit_paddings": [0, 0, 1, 1]}),
        shape_case("shape_Conv2D_batch_stride", "Conv2D",
                   [("input", "float32", [1, 5, 5, 3]), ("filter", "float32", [3, 3, 3, 2])],
                   {"strides": [2, 1, 1, 1], "padding": "SAME"}),
        shape_case("shape_Conv2DBackpropInput", "Conv2DBackpropInput",
                   [("input_sizes", np.int32([4, 9, 9, 3])), ("filter", "float32", [3, 3, 3, 8]),
                    ("out_backprop", "float32", [None, 5, 5, 8])], conv),
        shape_case("shape_Conv2DBackpropFilter", "Conv2DBackpropFilter",
                   [("input", "float32", [None, 9, 9, 3]),
                    ("filter_sizes", np.int32([3, 3, 3, 8])),
                    ("out_backprop", "float32", [None, 5, 5, 8])], conv),
        shape_case("shape_Depthwise", "DepthwiseConv2dNative",
                   [("input", "float32", [None, 8, 8, 3]), ("filter", "float32", [3, 3, 3, 2])],
                   conv),
        shape_case("shape_MaxPool", "MaxPool", [("input", "float32", [None, 7, 7, 3])],
                   {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}),
        shape_case("shape_AvgPool_NCHW", "AvgPool", [("value", "float32", [None, 3, 7, 7])],
                   {"ksize": [1, 1, 3, 3], "strides": [1, 1, 2, 2], "padding": "SAME",
                    "data_format": "NCHW"}),
        shape_case("shape_MaxPool_batch_window", "MaxPool", [("input", "float32", [2, 7, 7, 3])],
                   {"ksize": [2, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}),
        shape_case("shape_BiasAdd", "BiasAdd", [("value", "float32", [None, None, 5]),
                                                ("bias", "float32", [5])]),
        shape_case("shape_BiasAdd_rank1", "BiasAdd", [("value", "float32", [5]),
                                                      ("bias", "float32", [5])]),
        shape_case("shape_BiasAdd_mismatch", "BiasAdd", [("value", "float32", [2, 4]),
                                                         ("bias", "float32", [5])]),
        shape_case("shape_BiasAddGrad_NCHW", "BiasAddGrad",
                   [("out_backprop", "float32", [None, 3, 4, 5])], {"data_format": "NCHW"}),
        shape_case("shape_Softmax_scalar", "Softmax", [("logits", "float32", [])]),
        shape_case("shape_SoftmaxXent", "SoftmaxCrossEntropyWithLogits",
                   [("features", "float32", [None, 5]), ("labels", "float32", [4, 5])]),
        shape_case("shape_SoftmaxXent_rank", "SoftmaxCrossEntropyWithLogits",
                   [("features", "float32", [2, 3, 5]), ("labels", "float32", [2, 3, 5])]),
        shape_case("shape_SparseXent", "SparseSoftmaxCrossEntropyWithLogits",
                   [("features", "float32", [None, 5]), ("labels", "int32", [4])]),
        shape_case("shape_SparseXent_labels_rank", "SparseSoftmaxCrossEntropyWithLogits",
                   [("features", "float32", [4, 5]), ("labels", "int32", [4, 1])]),
        shape_case("shape_SparseXent_batch", "SparseSoftmaxCrossEntropyWithLogits",
                   [("features", "float32", [3, 5]), ("labels", "int32", [4])]),
        shape_case("shape_FusedBatchNormV3", "FusedBatchNormV3",
                   [("x", "float32", [None, 4, 4, 3]), ("scale", "float32", [3]),
                    ("offset", "float32", [None]), ("mean", "float32", [0]),
                    ("variance", "float32", [0])]),
        shape_case("shape_FusedBatchNormV3_NCHW_infer", "FusedBatchNormV3",
                   [("x", "float32", [None, None, 4, 4]), ("scale", "float32", [None]),
                    ("offset", "float32", [None]), ("mean", "float32", [3]),
                    ("variance", "float32", [3])], {"data_format": "NCHW",
                                                    "is_training": False}),
        shape_case("shape_FusedBatchNormGradV3", "FusedBatchNormGradV3",
                   [("y_backprop", "float32", [None, 4, 4, 3]), ("x", "float32", [2, 4, 4, 3]),
                    ("scale", "float32", [3]), ("reserve_space_1", "float32", [3]),
                    ("reserve_space_2", "float32", [3]), ("reserve_space_3", "float32", None)]),
        shape_case("shape_LRN_rank", "LRN", [("input", "float32", [2, 3, 4])]),
        shape_case("shape_L2Loss", "L2Loss", [("t", "float32", [None, 3])]),
        shape_case("shape_InTopK", "InTopK", [("predictions", "float32", [None, 5]),
                                              ("targets", "int32", [7])], {"k": 2}),
        shape_case("shape_ReluGrad", "ReluGrad", [("gradients", "float32", [None, 3]),
                                                  ("features", "float32", [4, None])]),
    ]


def op_cases():
    return (_activation_cases() + _softmax_cases() + _bias_cases() + _conv_cases() +
            _pool_cases() + _batch_norm_cases() + _misc_cases() + _runtime_error_cases())


# --- builder cases -----------------------------------------------------------------------------

def builder_cases():
    r = _rng(8)
    x = _f32(r.standard_normal((3, 4)))
    logits = _f32(r.standard_normal((4, 5)) * 2)
    probs = r.uniform(0, 1, (4, 5))
    probs = _f32(probs / probs.sum(axis=1, keepdims=True))
    binary = _f32(r.integers(0, 2, (4, 5)))
    images = _f32(r.standard_normal((2, 6, 5, 3)))
    kernel = _f32(r.standard_normal((3, 3, 3, 4)))
    cases = []
    for fn in ("relu", "relu6", "elu", "selu", "sigmoid", "tanh", "softplus", "softsign",
               "l2_loss"):
        cases.append(builder_case("nn." + fn, "nn." + fn, [tensor(x)]))
    cases += [
        builder_case("nn.leaky_relu", "nn.leaky_relu", [tensor(x)], {"alpha": 0.1}),
        builder_case("nn.relu_named", "nn.relu", [tensor(x)], {"name": "act"}),
        builder_case("nn.softmax", "nn.softmax", [tensor(logits)]),
        builder_case("nn.softmax_axis0", "nn.softmax",
                     [tensor(_f32(r.standard_normal((2, 3, 4))))], {"axis": 0}),
        builder_case("nn.log_softmax_axis1", "nn.log_softmax",
                     [tensor(_f32(r.standard_normal((2, 3, 4))))], {"axis": 1}),
        builder_case("nn.softmax_cross_entropy_with_logits", "nn.softmax_cross_entropy_with_logits",
                     [], {"labels": tensor(probs), "logits": tensor(logits)}),
        builder_case("nn.softmax_cross_entropy_with_logits_v2",
                     "nn.softmax_cross_entropy_with_logits_v2", [],
                     {"labels": tensor(probs), "logits": tensor(logits), "name": "xent"}),
        builder_case("nn.softmax_cross_entropy_with_logits_rank3",
                     "nn.softmax_cross_entropy_with_logits_v2", [],
                     {"labels": tensor(np.stack([probs, probs[::-1]])),
                      "logits": tensor(np.stack([logits, -logits]))}),
        builder_case("nn.sparse_softmax_cross_entropy_with_logits",
                     "nn.sparse_softmax_cross_entropy_with_logits", [],
                     {"labels": tensor(np.int32([1, 0, 4, 2])), "logits": tensor(logits)}),
        builder_case("nn.sparse_softmax_cross_entropy_with_logits_named",
                     "nn.sparse_softmax_cross_entropy_with_logits", [],
                     {"labels": tensor(np.int64([1, 0, 4, 2])), "logits": tensor(logits),
                      "name": "loss"}),
        builder_case("nn.sparse_softmax_cross_entropy_with_logits_rank3",
                     "nn.sparse_softmax_cross_entropy_with_logits", [],
                     {"labels": tensor(np.int32([[1, 0], [4, 2]])),
                      "logits": tensor(logits.reshape(2, 2, 5))}),
        builder_case("nn.sigmoid_cross_entropy_with_logits",
                     "nn.sigmoid_cross_entropy_with_logits", [],
                     {"labels": tensor(binary), "logits": tensor(logits)}),
        builder_case("nn.weighted_cross_entropy_with_logits",
                     "nn.weighted_cross_entropy_with_logits", [],
                     {"labels": tensor(binary), "logits": tensor(logits), "pos_weight": 2.5}),
        builder_case("nn.l2_normalize", "nn.l2_normalize", [tensor(x)], {"axis": 1}),
        builder_case("nn.bias_add", "nn.bias_add", [tensor(x), tensor(_f32([1, 2, 3, 4]))]),
        builder_case("nn.xw_plus_b", "nn.xw_plus_b",
                     [tensor(x), tensor(_f32(r.standard_normal((4, 2)))), tensor(_f32([1, -1]))]),
        builder_case("nn.relu_layer", "nn.relu_layer",
                     [tensor(x), tensor(_f32(r.standard_normal((4, 2)))), tensor(_f32([1, -1]))]),
        builder_case("nn.conv2d", "nn.conv2d", [tensor(images), tensor(kernel)],
                     {"strides": [1, 2, 2, 1], "padding": "SAME"}),
        builder_case("nn.conv2d_explicit", "nn.conv2d", [tensor(images), tensor(kernel)],
                     {"strides": 1, "padding": [[0, 0], [1, 1], [2, 0], [0, 0]]}),
        builder_case("nn.conv2d_transpose", "nn.conv2d_transpose",
                     [tensor(_f32(r.standard_normal((2, 3, 3, 4)))), tensor(kernel),
                      [2, 6, 5, 3], [1, 2, 2, 1]]),
        builder_case("nn.depthwise_conv2d", "nn.depthwise_conv2d",
                     [tensor(images), tensor(_f32(r.standard_normal((3, 3, 3, 2))))],
                     {"strides": [1, 1, 1, 1], "padding": "SAME"}),
        builder_case("nn.separable_conv2d", "nn.separable_conv2d",
                     [tensor(images), tensor(_f32(r.standard_normal((3, 3, 3, 2)))),
                      tensor(_f32(r.standard_normal((1, 1, 6, 4))))],
                     {"strides": [1, 1, 1, 1], "padding": "VALID"}),
        builder_case("nn.max_pool", "nn.max_pool", [tensor(images)],
                     {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "SAME"}),
        builder_case("nn.avg_pool", "nn.avg_pool", [tensor(images)],
                     {"ksize": [1, 3, 3, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}),
        builder_case("nn.moments", "nn.moments", [tensor(images), [0, 1, 2]]),
        builder_case("nn.moments_keep_dims", "nn.moments", [tensor(x), [0]],
                     {"keep_dims": True}),
        builder_case("nn.batch_normalization", "nn.batch_normalization",
                     [tensor(images), tensor(_f32([0.1, 0.2, 0.3])), tensor(_f32([1, 2, 0.5])),
                      tensor(_f32([0, 1, 2])), tensor(_f32([1, 0.5, 2])), 0.001]),
        builder_case("nn.fused_batch_norm", "nn.fused_batch_norm",
                     [tensor(images), tensor(_f32([1, 2, 0.5])), tensor(_f32([0, 1, 2]))]),
        builder_case("nn.fused_batch_norm_inference", "nn.fused_batch_norm",
                     [tensor(images), tensor(_f32([1, 2, 0.5])), tensor(_f32([0, 1, 2])),
                      tensor(_f32([0.1, 0.2, 0.3])), tensor(_f32([1, 0.5, 2]))],
                     {"is_training": False}),
        builder_case("nn.embedding_lookup", "nn.embedding_lookup",
                     [tensor(x), tensor(np.int32([[2, 0], [1, 1]]))]),
        builder_case("nn.in_top_k", "nn.in_top_k",
                     [tensor(logits), tensor(np.int32([0, 1, 2, 3])), 2], grad=False),
        builder_case("nn.top_k", "nn.top_k", [tensor(logits)], {"k": 2}, grad=False),
        builder_case("nn.dropout_rate0", "nn.dropout", [tensor(x)], {"rate": 0.0}),
        builder_case("nn.dropout_keep_prob", "nn.dropout", [tensor(x), 0.7], {"seed": 3}),
        builder_case("nn.dropout_keep_prob_tensor", "nn.dropout",
                     [tensor(_f32(r.standard_normal((5, 6)))), tensor(np.float32(0.6))],
                     {"seed": 5, "noise_shape": [5, 1]}),
    ]
    weights = _f32([[1.0], [0.0], [2.0], [0.5]])
    for fn, args in (("mean_squared_error", [tensor(probs), tensor(logits)]),
                     ("absolute_difference", [tensor(probs), tensor(logits)]),
                     ("log_loss", [tensor(binary), tensor(probs)]),
                     ("hinge_loss", [tensor(binary), tensor(logits)]),
                     ("sigmoid_cross_entropy", [tensor(binary), tensor(logits)]),
                     ("softmax_cross_entropy", [tensor(probs), tensor(logits)]),
                     ("sparse_softmax_cross_entropy", [tensor(np.int32([1, 0, 4, 2])),
                                                       tensor(logits)])):
        cases.append(builder_case("losses." + fn, "losses." + fn, args))
        cases.append(builder_case("losses.%s_weighted" % fn, "losses." + fn, args,
                                  {"weights": tensor(weights[:, 0] if "sparse" in fn or
                                                     fn == "softmax_cross_entropy" else weights)}))
    cases.append(builder_case("losses.mean_squared_error_sum", "losses.mean_squared_error",
                              [tensor(probs), tensor(logits)], {"reduction": "weighted_sum"}))
    cases.append(builder_case("losses.mean_squared_error_none", "losses.mean_squared_error",
                              [tensor(probs), tensor(logits)], {"reduction": "none"}))
    cases.append(builder_case("losses.softmax_cross_entropy_smoothing",
                              "losses.softmax_cross_entropy", [tensor(probs), tensor(logits)],
                              {"label_smoothing": 0.1}))
    return cases + layer_cases()


def layer_cases():
    r = _rng(9)
    x = _f32(r.standard_normal((4, 6)))
    seq = _f32(r.standard_normal((2, 3, 6)))
    images = _f32(r.standard_normal((2, 7, 6, 3)))
    relu = function("nn.relu")
    return [
        builder_case("layers.dense", "layers.dense", [tensor(x), 5]),
        builder_case("layers.dense_relu_named", "layers.dense", [tensor(x), 3],
                     {"activation": relu, "name": "fc", "use_bias": False}),
        builder_case("layers.dense_rank3", "layers.dense", [tensor(seq), 4]),
        builder_case("layers.conv2d", "layers.conv2d", [tensor(images), 4, 3],
                     {"strides": 2, "padding": "same", "activation": relu}),
        builder_case("layers.conv2d_valid", "layers.conv2d", [tensor(images), 2, (2, 3)]),
        builder_case("layers.max_pooling2d", "layers.max_pooling2d", [tensor(images), 2, 2]),
        builder_case("layers.average_pooling2d", "layers.average_pooling2d",
                     [tensor(images), 3, 1], {"padding": "same"}),
        builder_case("layers.flatten", "layers.flatten", [tensor(images)]),
        builder_case("layers.dropout_inference", "layers.dropout", [tensor(x)], {"rate": 0.3}),
        builder_case("layers.batch_normalization_training", "layers.batch_normalization",
                     [tensor(images)], {"training": True}),
        builder_case("layers.batch_normalization_inference", "layers.batch_normalization",
                     [tensor(images)], {"momentum": 0.9}),
        builder_case("layers.batch_normalization_dense", "layers.batch_normalization",
                     [tensor(x)], {"training": True, "momentum": 0.5}),
    ]


def all_cases():
    return op_cases() + shape_cases() + builder_cases()
