"""Neural-network ops: activations, softmax and cross-entropy, bias, L2 loss, convolutions,
pooling, fused batch normalization, LRN and in-top-k, with the helper ops their gradients use
(ReluGrad, Conv2DBackpropInput, MaxPoolGrad, FusedBatchNormGradV3, ...).

Each op: schema (TensorFlow's OpDef spelling, attr order included), NumPy kernel, shape
function, gradient and its one-op builder, side by side. tf.nn's multi-op functions live in
nn_impl.py; the array math of convolutions, pooling and batch normalization in nn_kernels.py.
"""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.ops import _helpers
from tensorkeep.ops import nn_kernels

# Allowed types, in the order TensorFlow's OpDefs list them.
_RELU_TYPES = ("T: {float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, "
               "uint32, uint64, qint8}")
_REAL_TYPES = ("T: {float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, "
               "uint32, uint64}")
_FLOAT_TYPES = "T: {half, bfloat16, float, double}"
_FLOAT_COMPLEX_TYPES = "T: {bfloat16, half, float, double, complex64, complex128}"
_BIAS_TYPES = ("T: {float, double, int32, uint8, int16, int8, complex64, int64, qint8, quint8, "
               "qint32, bfloat16, qint16, quint16, uint16, complex128, half, uint32, uint64}")
_DATA_FORMAT = "data_format: {'NHWC', 'NCHW'} = 'NHWC'"
_PADDING = "padding: {'SAME', 'VALID'}"
_PADDING_EXPLICIT = "padding: {'SAME', 'VALID', 'EXPLICIT'}"
_EXPLICIT_PADDINGS = "explicit_paddings: list(int) = []"
_DILATIONS = "dilations: list(int) = [1, 1, 1, 1]"

# SELU's constants (Klambauer et al. 2017), as TensorFlow's kernel spells them.
_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_SCALE_ALPHA = 1.7580993408473768599402175208123


def _str_attr(op, name):
    value = op._attrs[name]
    return value.decode() if isinstance(value, bytes) else value


def _in_dtype(fn):
    """Wraps fn(*arrays) so its result has the first input's dtype (NumPy and ml_dtypes
    promote bfloat16/half with python floats)."""
    def run(*args):
        dtype = args[0].dtype
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return np.asarray(fn(*args)).astype(dtype, copy=False)
    return run


def _merged_input_shapes(op):
    """Elementwise ops over two same-shaped inputs (the *Grad activations)."""
    a, b = op._inputs[0]._shape_val, op._inputs[1]._shape_val
    try:
        return [a.merge_with(b)]
    except ValueError:
        raise ValueError("Incompatible shapes %s and %s for '{{node %s}} = %s'"
                         % (_helpers._shape_str(a), _helpers._shape_str(b), op.name, op.type))


def _rank_error(op, index, want, at_least=False):
    shape = op._inputs[index]._shape_val
    return ValueError("Shape must be %srank %d but is rank %d for '{{node %s}} = %s' with input "
                      "shapes: %s." % ("at least " if at_least else "", want, shape.ndims,
                                       op.name, op.type, ", ".join(
                                           _helpers._shape_str(t._shape_val)
                                           for t in op._inputs)))


def _dims(op, index, rank=None, at_least=None):
    """The input's dims as a list (None = unknown), checking its rank; None if rank unknown."""
    shape = op._inputs[index]._shape_val
    if shape.ndims is None:
        return None
    if rank is not None and shape.ndims != rank:
        raise _rank_error(op, index, rank)
    if at_least is not None and shape.ndims < at_least:
        raise _rank_error(op, index, at_least, at_least=True)
    return shape.as_list()


def _merge_dim(a, b, op, what):
    if a is None:
        return b
    if b is not None and a != b:
        raise ValueError("Dimensions must be equal, but are %d and %d for '{{node %s}} = %s' "
                         "(%s) with input shapes: %s." % (
                             a, b, op.name, op.type, what,
                             ", ".join(_helpers._shape_str(t._shape_val) for t in op._inputs)))
    return a


# --- activations ---------------------------------------------------------------------------------

def _unary(op_type, compute, attrs, input_name="features", output_name="activations"):
    register_op(op_type, inputs=["%s: T" % input_name], outputs=["%s: T" % output_name],
                attrs=attrs, compute=_in_dtype(compute), shape=_helpers.unchanged_shape)


def _activation_grad(op_type, compute, attrs, inputs=("gradients", "features")):
    register_op(op_type, inputs=["%s: T" % name for name in inputs], outputs=["backprops: T"],
                attrs=attrs, compute=_in_dtype(compute), shape=_merged_input_shapes)


# TensorFlow runs its CPU kernels with denormal numbers flushed to zero: a float32, float64,
# bfloat16 (computed in float32) or complex result under the smallest normal number comes out
# as a zero of its sign. float16 is computed in float32 and rounded to half afterwards, so half
# denormals survive.
_FLUSHED_BELOW = {np.dtype(np.float32): np.finfo(np.float32).tiny,
                  np.dtype(np.float64): np.finfo(np.float64).tiny,
                  np.dtype(dtypes.bfloat16.as_numpy): np.finfo(np.float32).tiny,
                  np.dtype(np.complex64): np.finfo(np.float32).tiny,
                  np.dtype(np.complex128): np.finfo(np.float64).tiny}


def _flush_denormals(values):
    """Zeroes in place (keeping signs) what TensorFlow's flush-to-zero would in `values`, an
    array of the caller's own: magnitudes under the smallest normal number, per component for
    complex numbers."""
    tiny = _FLUSHED_BELOW.get(values.dtype)
    if tiny is None or not values.size:
        return values
    if values.dtype.kind == "c":
        parts = values.view(np.float32 if values.dtype == np.complex64 else np.float64)
    else:
        parts = values.reshape(-1)
    # (in float32 for bfloat16, whose reductions in ml_dtypes are ten times slower)
    magnitudes = np.abs(parts.astype(np.float32) if parts.dtype.itemsize == 2 else parts)
    if not magnitudes.min() >= tiny:  # seldom (or a NaN): a pass more
        np.multiply(parts, 0, out=parts, where=magnitudes < tiny)
    return values


def _sigmoid(x):
    x = np.asarray(x)
    if x.dtype.kind == "c" or x.dtype.itemsize == 2:
        # Eigen's logistic for complex, half and bfloat16: e^x / (1 + e^x), each step rounded
        # to the dtype (as NumPy's and ml_dtypes' arithmetic in these types does), and 1 where
        # (the real part of) e^x overflows.
        e = _flush_denormals(np.exp(x))
        return np.where(np.isinf(e.real), np.ones_like(e), e / (1 + e))
    # float32/float64 without branches: from e = e^-|x|, which never overflows, sigmoid(|x|) is
    # 1/(1 + e) and sigmoid(-|x|) is e/(1 + e). Two buffers, every step writing into them.
    of_minus_magnitude = np.negative(x, out=np.empty_like(x))
    np.minimum(x, of_minus_magnitude, out=of_minus_magnitude)  # -|x|
    e = np.exp(of_minus_magnitude, out=of_minus_magnitude)
    of_magnitude = np.add(e, 1, out=np.empty_like(x))
    np.divide(1, of_magnitude, out=of_magnitude)  # (NumPy's reciprocal takes twice as long)
    np.multiply(e, of_magnitude, out=of_minus_magnitude)
    # One pass finds the rare inputs needing more: a result under the smallest normal number
    # (x below -87.3 in float32, -708.4 in float64), which TensorFlow flushes to 0, or a NaN,
    # which TensorFlow returns as it came (NumPy's float32 exp makes every NaN the default one).
    tiny = _FLUSHED_BELOW[x.dtype]
    if of_minus_magnitude.size and not of_minus_magnitude.min() >= tiny:
        np.copyto(of_minus_magnitude, 0, where=of_minus_magnitude < tiny)
        np.add(x, 0, out=of_magnitude, where=np.isnan(x))
    return _helpers.select(x < 0, of_minus_magnitude, of_magnitude, overwrite_t=True)


def _softplus(x):
    # Above -log(eps)-2 softplus(x) == x and below log(eps)+2 it is exp(x) in this precision.
    threshold = np.log(np.finfo(x.dtype).eps) + 2 if x.dtype.kind == "f" else \
        np.log(np.finfo(np.float32).eps) + 2
    e = np.exp(x)
    return np.where(x > -threshold, x, np.where(x < threshold, e, np.log1p(e)))


def _typed(x, value):
    return np.asarray(value, dtype=x.dtype)


_ZEROS = {}  # dtype -> a zero array never written (calloc'd: its pages stay the shared zero page)
_ZEROS_FROM = 4096  # elements


def _cached_zeros(x):
    """Zeros of x's shape and dtype, a read-only view of a cached array."""
    zeros = _ZEROS.get(x.dtype)
    if zeros is None or zeros.size < x.size:
        zeros = np.zeros(x.size, x.dtype)
        zeros.flags.writeable = False
        _ZEROS[x.dtype] = zeros
    return zeros[:x.size].reshape(x.shape)


def _relu(x):
    # NumPy's maximum against a scalar takes five times as long as against an array of the
    # same shape (NumPy 2.4, float32: 15 against 3 µs for 100x500), with the same bits.
    if x.size >= _ZEROS_FROM and x.dtype.kind == "f":
        return np.maximum(x, _cached_zeros(x))
    return np.maximum(x, _typed(x, 0))


_unary("Relu", _relu, [_RELU_TYPES])
_unary("Relu6", lambda x: np.minimum(np.maximum(x, _typed(x, 0)), _typed(x, 6)), [_REAL_TYPES])
_unary("Elu", lambda x: _helpers.select(x < 0, np.exp(x) - _typed(x, 1), x), [_FLOAT_TYPES])
_unary("Selu", lambda x: _helpers.select(
    x < 0, _typed(x, _SELU_SCALE_ALPHA) * (np.exp(x) - _typed(x, 1)), _typed(x, _SELU_SCALE) * x),
    [_FLOAT_TYPES])
_unary("Softplus", _softplus, [_FLOAT_TYPES])
_unary("Softsign", lambda x: x / (np.abs(x) + _typed(x, 1)), [_FLOAT_TYPES])
_unary("Sigmoid", _sigmoid, [_FLOAT_COMPLEX_TYPES], input_name="x", output_name="y")
_unary("Tanh", np.tanh, [_FLOAT_COMPLEX_TYPES], input_name="x", output_name="y")


def _leaky_relu_kernel(op, ctx):
    alpha = op._attrs["alpha"]
    return _in_dtype(lambda x: _helpers.select(x > 0, x, x * _typed(x, alpha)))


register_op("LeakyRelu", inputs=["features: T"], outputs=["activations: T"],
            attrs=["alpha: float = 0.2", "T: {half, bfloat16, float, double} = DT_FLOAT"],
            kernel=_leaky_relu_kernel, shape=_helpers.unchanged_shape)


def _leaky_relu_grad_kernel(op, ctx):
    alpha = op._attrs["alpha"]
    return _in_dtype(lambda g, x: _helpers.select(x > 0, g, g * _typed(g, alpha)))


register_op("LeakyReluGrad", inputs=["gradients: T", "features: T"], outputs=["backprops: T"],
            attrs=["alpha: float = 0.2", "T: {half, bfloat16, float, double} = DT_FLOAT"],
            kernel=_leaky_relu_grad_kernel, shape=_merged_input_shapes)

def _relu_grad(g, x):
    if g.dtype.kind == "f" and x.dtype == g.dtype and x.shape == g.shape:
        # Same bits as np.where(x > 0, g, +0.0) at a tenth of the cost: the mask, widened to
        # all-ones or all-zeros integers of g's width, ANDed with g's bits.
        bits = np.dtype("i%d" % g.itemsize)
        keep = np.greater(x, 0).view(np.int8).astype(bits)
        np.negative(keep, out=keep)
        np.bitwise_and(keep, g.view(bits), out=keep)
        return keep.view(g.dtype)
    return np.where(x > 0, g, _typed(g, 0))


_activation_grad("ReluGrad", _relu_grad, [_REAL_TYPES])
_activation_grad("Relu6Grad", lambda g, x: np.where((x > 0) & (x < 6), g, _typed(g, 0)),
                 [_REAL_TYPES])
_activation_grad("EluGrad", lambda g, y: _helpers.select(y < 0, g * (y + _typed(y, 1)), g),
                 [_FLOAT_TYPES], inputs=("gradients", "outputs"))
_activation_grad("SeluGrad", lambda g, y: _helpers.select(
    y < 0, g * (y + _typed(y, _SELU_SCALE_ALPHA)), g * _typed(g, _SELU_SCALE)),
    [_FLOAT_TYPES], inputs=("gradients", "outputs"))
_activation_grad("SoftplusGrad", lambda g, x: g / (np.exp(-x) + _typed(x, 1)), [_FLOAT_TYPES])
_activation_grad("SoftsignGrad", lambda g, x: g / np.square(np.abs(x) + _typed(x, 1)),
                 [_FLOAT_TYPES])


def _sigmoid_grad_kernel(y, dy):
    # Eigen's order, dy * (y * (1 - y)), in a buffer of its own, flushed as TensorFlow does.
    z = np.subtract(_typed(y, 1), y)
    if not isinstance(z, np.ndarray):  # a NumPy scalar, of 0-d inputs
        z = np.asarray(z)
    np.multiply(y, z, out=z)
    if z.dtype == dtypes.bfloat16.as_numpy:
        # Eigen multiplies bfloat16 in float32, flushing a denormal product before rounding it
        product = np.multiply(dy.astype(np.float32), z.astype(np.float32))
        return _flush_denormals(np.asarray(product)).astype(z.dtype)
    return _flush_denormals(np.multiply(dy, z, out=z))


register_op("SigmoidGrad", inputs=["y: T", "dy: T"], outputs=["z: T"],
            attrs=[_FLOAT_COMPLEX_TYPES], compute=_in_dtype(_sigmoid_grad_kernel),
            shape=_merged_input_shapes)
register_op("TanhGrad", inputs=["y: T", "dy: T"], outputs=["z: T"],
            attrs=[_FLOAT_COMPLEX_TYPES],
            compute=_in_dtype(lambda y, dy: dy * (_typed(y, 1) - y * y)),
            shape=_merged_input_shapes)


def relu(features, name=None):
    return apply_op("Relu", features=features, name=name)


def _scoped_unary(op_type, arg_name, value, name):
    """The op on `value`, converted (named after its argument) inside the op's name scope, as
    TensorFlow's wrappers of these ops build it."""
    with ops.name_scope(name, op_type, [value]) as scope:
        value = ops.convert_to_tensor(value, name=arg_name)
        return apply_op(op_type, name=scope, **{arg_name: value})


def relu6(features, name=None):
    return _scoped_unary("Relu6", "features", features, name)


def elu(features, name=None):
    return apply_op("Elu", features=features, name=name)


def selu(features, name=None):
    return apply_op("Selu", features=features, name=name)


def leaky_relu(features, alpha=0.2, name=None):
    with ops.name_scope(name, "LeakyRelu", [features, alpha]) as scope:
        features = ops.convert_to_tensor(features, name="features")
        if features.dtype.is_integer:
            from tensorkeep.ops import math_ops
            features = math_ops.cast(features, dtypes.float32)
        if isinstance(alpha, np.ndarray):
            alpha = alpha.item()
        return apply_op("LeakyRelu", features=features, alpha=alpha, name=scope)


def softplus(features, name=None):
    return apply_op("Softplus", features=features, name=name)


def softsign(features, name=None):
    return apply_op("Softsign", features=features, name=name)


def sigmoid(x, name=None):
    return _scoped_unary("Sigmoid", "x", x, name)


def tanh(x, name=None):
    return _scoped_unary("Tanh", "x", x, name)


def _zeros_like(tensor):
    from tensorkeep.ops import array_ops
    return array_ops.zeros_like(tensor)


def _where(condition, x, y):
    from tensorkeep.ops import array_ops
    return array_ops.where(condition, x, y)


register_gradient("Relu", lambda op, grad: [
    apply_op("ReluGrad", gradients=grad, features=op.outputs[0])])
register_gradient("Relu6", lambda op, grad: [
    apply_op("Relu6Grad", gradients=grad, features=op.outputs[0])])
register_gradient("Elu", lambda op, grad: [
    apply_op("EluGrad", gradients=grad, outputs=op.outputs[0])])
register_gradient("Selu", lambda op, grad: [
    apply_op("SeluGrad", gradients=grad, outputs=op.outputs[0])])
register_gradient("LeakyRelu", lambda op, grad: [
    apply_op("LeakyReluGrad", gradients=grad, features=op.inputs[0],
             alpha=op.get_attr("alpha"))])
register_gradient("Softsign", lambda op, grad: [
    apply_op("SoftsignGrad", gradients=grad, features=op.inputs[0])])
register_gradient("Softplus", lambda op, grad: [grad * sigmoid(op.inputs[0])])
register_gradient("ReluGrad", lambda op, grad: [
    apply_op("ReluGrad", gradients=grad, features=op.inputs[1]), _zeros_like(op.inputs[1])])
register_gradient("Relu6Grad", lambda op, grad: [
    apply_op("Relu6Grad", gradients=grad, features=op.inputs[1]), _zeros_like(op.inputs[1])])
register_gradient("LeakyReluGrad", lambda op, grad: [
    apply_op("LeakyReluGrad", gradients=grad, features=op.inputs[1],
             alpha=op.get_attr("alpha")), _zeros_like(op.inputs[1])])


def _elu_grad_grad(op, grad):
    elu_x = op.inputs[1]
    return [apply_op("EluGrad", gradients=grad, outputs=elu_x),
            _where(elu_x < 0, grad * op.inputs[0], _zeros_like(elu_x))]


def _selu_grad_grad(op, grad):
    selu_x = op.inputs[1]
    return [apply_op("SeluGrad", gradients=grad, outputs=selu_x),
            _where(selu_x < 0., grad * op.inputs[0], _zeros_like(selu_x))]


def _softplus_grad_grad(op, grad):
    from tensorkeep.ops import math_ops
    dy, x = op.inputs
    with ops.control_dependencies([grad]):
        ddy = apply_op("SoftplusGrad", gradients=grad, features=x)
        d2x = grad * dy / (math_ops.exp(-x) + 2.0 + math_ops.exp(x))
        return [ddy, d2x]


def _sigmoid_grad(op, grad):
    with ops.control_dependencies([grad]):
        return [apply_op("SigmoidGrad", y=op.outputs[0], dy=grad)]


def _sigmoid_grad_grad(op, grad):
    with ops.control_dependencies([grad]):
        a, b = op.inputs
        gb = grad * b
        return [gb - 2.0 * gb * a, apply_op("SigmoidGrad", y=a, dy=grad)]


def _tanh_grad(op, grad):
    with ops.control_dependencies([grad]):
        return [apply_op("TanhGrad", y=op.outputs[0], dy=grad)]


def _tanh_grad_grad(op, grad):
    with ops.control_dependencies([grad]):
        a, b = op.inputs
        return [grad * -2.0 * b * a, apply_op("TanhGrad", y=a, dy=grad)]


register_gradient("EluGrad", _elu_grad_grad)
register_gradient("SeluGrad", _selu_grad_grad)
register_gradient("SoftplusGrad", _softplus_grad_grad)
register_gradient("Sigmoid", _sigmoid_grad)
register_gradient("SigmoidGrad", _sigmoid_grad_grad)
register_gradient("Tanh", _tanh_grad)
register_gradient("TanhGrad", _tanh_grad_grad)


# --- softmax and cross-entropy -----------------------------------------------------------------

def _softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _check_softmax_rank(fn):
    def run(logits):
        if logits.ndim < 1:
            raise ValueError("logits must have >= 1 dimension, got %s" % (list(logits.shape),))
        return fn(logits)
    return run


def _softmax_shape(op):
    _dims(op, 0, at_least=1)
    return [op._inputs[0]._shape_val]


register_op("Softmax", inputs=["logits: T"], outputs=["softmax: T"], attrs=[_FLOAT_TYPES],
            compute=_check_softmax_rank(_in_dtype(_softmax)), shape=_softmax_shape)
register_op("LogSoftmax", inputs=["logits: T"], outputs=["logsoftmax: T"], attrs=[_FLOAT_TYPES],
            compute=_check_softmax_rank(_in_dtype(_log_softmax)), shape=_softmax_shape)


def _softmax_xent(features, labels):
    if features.ndim != 2 or labels.ndim > 2:
        raise ValueError("logits and labels must be either 2-dimensional, or broadcasted to be "
                         "2-dimensional")
    try:
        features, labels = np.broadcast_arrays(features, labels)
    except ValueError:
        raise ValueError("logits and labels must be broadcastable: logits_size=[%s] "
                         "labels_size=[%s]" % (",".join(map(str, features.shape)),
                                               ",".join(map(str, labels.shape))))
    dtype = features.dtype
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        shifted = features - features.max(axis=1, keepdims=True)
        exp_shifted = np.exp(shifted)
        sum_exp = exp_shifted.sum(axis=1, keepdims=True)
        loss = (labels * (np.log(sum_exp) - shifted)).sum(axis=1)
        backprop = exp_shifted / sum_exp - labels
    return [loss.astype(dtype, copy=False), backprop.astype(dtype, copy=False)]


def _softmax_xent_shape(op):
    """Same-shaped rank-2 inputs merge; otherwise they must broadcast to rank 2."""
    features, labels = op._inputs[0]._shape_val, op._inputs[1]._shape_val
    try:
        merged = features.with_rank(2).merge_with(labels)
    except ValueError:
        merged = None
    if merged is None:
        merged = _helpers.broadcast_static_shapes(features, labels)
        if merged.ndims is not None and merged.ndims != 2:
            raise ValueError("Shape must be rank 2 but is rank %d for '{{node %s}} = %s' with "
                             "input shapes: %s, %s." % (
                                 merged.ndims, op.name, op.type, _helpers._shape_str(features),
                                 _helpers._shape_str(labels)))
        merged = merged.merge_with(tensor_shape.unknown_shape(2))
    return [tensor_shape.TensorShape(merged.as_list()[:1]), merged]


register_op("SoftmaxCrossEntropyWithLogits", inputs=["features: T", "labels: T"],
            outputs=["loss: T", "backprop: T"], attrs=[_FLOAT_TYPES],
            compute=_softmax_xent, shape=_softmax_xent_shape)


def _sparse_softmax_xent(features, labels):
    if features.ndim != 2:
        raise ValueError("logits must be 2-D, but got shape [%s]"
                         % ",".join(map(str, features.shape)))
    if labels.ndim != 1:
        raise ValueError("labels must be 1-D, but got shape [%s]"
                         % ",".join(map(str, labels.shape)))
    batch, classes = features.shape
    if labels.shape[0] != batch:
        raise ValueError("logits and labels must have the same first dimension, got logits "
                         "shape [%d,%d] and labels shape [%d]" % (batch, classes,
                                                                  labels.shape[0]))
    if classes == 0 and batch:
        raise ValueError("Must have at least one class, but got logits shape [%d,0]" % batch)
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        raise ValueError("Received a label value of %d which is outside the valid range of "
                         "[0, %d).  Label values: %s" % (labels[bad][0], classes,
                                                        " ".join(map(str, labels))))
    dtype = features.dtype
    rows = np.arange(batch)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        shifted = features - features.max(axis=1, keepdims=True) if batch else features
        exp_shifted = np.exp(shifted)
        sum_exp = exp_shifted.sum(axis=1)
        loss = np.log(sum_exp) - shifted[rows, labels]
        backprop = exp_shifted / sum_exp[:, None]
    backprop[rows, labels] -= 1
    return [loss.astype(dtype, copy=False), backprop.astype(dtype, copy=False)]


def _sparse_softmax_xent_shape(op):
    features = _dims(op, 0, rank=2)
    labels = _dims(op, 1, rank=1)
    batch = None
    classes = None
    if features is not None:
        batch, classes = features
    if labels is not None:
        batch = _merge_dim(batch, labels[0], op, "batch size")
    return [tensor_shape.TensorShape([batch]), tensor_shape.TensorShape([batch, classes])]


register_op("SparseSoftmaxCrossEntropyWithLogits", inputs=["features: T", "labels: Tlabels"],
            outputs=["loss: T", "backprop: T"],
            attrs=[_FLOAT_TYPES, "Tlabels: {int32, int64} = DT_INT64"],
            compute=_sparse_softmax_xent, shape=_sparse_softmax_xent_shape)


def softmax(logits, name=None):
    """The Softmax op over the last axis (tf.nn.softmax with axis handling is in nn_impl)."""
    return apply_op("Softmax", logits=logits, name=name)


def log_softmax(logits, name=None):
    return apply_op("LogSoftmax", logits=logits, name=name)


def softmax_cross_entropy_with_logits(features, labels, name=None):
    """The raw op: returns (loss, backprop)."""
    return tuple(apply_op("SoftmaxCrossEntropyWithLogits", features=features, labels=labels,
                          name=name))


def sparse_softmax_cross_entropy_with_logits(features, labels, name=None):
    """The raw op: returns (loss, backprop)."""
    return tuple(apply_op("SparseSoftmaxCrossEntropyWithLogits", features=features,
                          labels=labels, name=name))


def _softmax_grad(op, grad_softmax):
    from tensorkeep.ops import math_ops
    softmax_out = op.outputs[0]
    sum_channels = math_ops.reduce_sum(grad_softmax * softmax_out, -1, keepdims=True)
    return [(grad_softmax - sum_channels) * softmax_out]


def _log_softmax_grad(op, grad):
    from tensorkeep.ops import math_ops
    softmax_out = math_ops.exp(op.outputs[0])
    return [grad - math_ops.reduce_sum(grad, -1, keepdims=True) * softmax_out]


def _is_zero_gradient(grad):
    """Whether an output gradient is absent or known to be all zeros (no second-order term)."""
    if grad is None or getattr(grad, "_is_zeros_tensor", False):
        return True
    if grad.op.type in ("ZerosLike", "Zeros"):
        return True
    value = tensor_util.constant_value(grad)
    return value is not None and not np.any(value)


def _broadcast_mul(vec, mat):
    from tensorkeep.ops import array_ops
    return array_ops.expand_dims(vec, -1) * mat


def _xent_second_order(op, grad_grad):
    """The softmax-Jacobian term when the backprop output itself was differentiated."""
    from tensorkeep.ops import array_ops
    from tensorkeep.ops import math_ops
    probabilities = softmax(op.inputs[0])
    return (grad_grad - array_ops.squeeze(
        math_ops.matmul(array_ops.expand_dims(grad_grad, 1),
                        array_ops.expand_dims(probabilities, 2)), axis=1)) * probabilities


def _softmax_xent_grad(op, grad_loss, grad_grad):
    grad = _broadcast_mul(grad_loss, op.outputs[1])
    if not _is_zero_gradient(grad_grad):
        grad += _xent_second_order(op, grad_grad)
    return [grad, _broadcast_mul(grad_loss, -log_softmax(op.inputs[0]))]


def _sparse_softmax_xent_grad(op, grad_loss, grad_grad):
    grad = _broadcast_mul(grad_loss, op.outputs[1])
    if not _is_zero_gradient(grad_grad):
        grad += _xent_second_order(op, grad_grad)
    return [grad, None]


register_gradient("Softmax", _softmax_grad)
register_gradient("LogSoftmax", _log_softmax_grad)
register_gradient("SoftmaxCrossEntropyWithLogits", _softmax_xent_grad)
register_gradient("SparseSoftmaxCrossEntropyWithLogits", _sparse_softmax_xent_grad)


# --- bias --------------------------------------------------------------------------------------

def _channel_axis(rank, data_format):
    return 1 if data_format == "NCHW" and rank >= 3 else rank - 1


def _bias_add_kernel(op, ctx):
    data_format = _str_attr(op, "data_format") if "data_format" in op._attrs else "NHWC"

    def run(value, bias):
        if value.ndim < 2:
            raise ValueError("Input tensor must be at least 2D: [%s]"
                             % ",".join(map(str, value.shape)))
        if bias.ndim != 1:
            raise ValueError("Biases must be 1D: [%s]" % ",".join(map(str, bias.shape)))
        axis = _channel_axis(value.ndim, data_format)
        if bias.shape[0] != value.shape[axis]:
            raise ValueError("Must provide as many biases as the channel dimension of the input "
                             "tensor: [%d] vs. [%s]" % (bias.shape[0],
                                                       ",".join(map(str, value.shape))))
        shape = [1] * value.ndim
        shape[axis] = bias.shape[0]
        return (value + bias.reshape(shape)).astype(value.dtype, copy=False)
    return run


def _bias_add_shape(op):
    nchw = "data_format" in op._attrs and _str_attr(op, "data_format") == "NCHW"
    value = _dims(op, 0, at_least=3 if nchw else 2)
    bias = _dims(op, 1, rank=1)
    if value is None:
        return [tensor_shape.unknown_shape()]
    data_format = _str_attr(op, "data_format") if "data_format" in op._attrs else "NHWC"
    axis = _channel_axis(len(value), data_format)
    if bias is not None:
        value[axis] = _merge_dim(value[axis], bias[0], op, "bias size vs channels")
    return [tensor_shape.TensorShape(value)]


register_op("BiasAdd", inputs=["value: T", "bias: T"], outputs=["output: T"],
            attrs=[_BIAS_TYPES, _DATA_FORMAT], kernel=_bias_add_kernel, shape=_bias_add_shape)
register_op("BiasAddV1", inputs=["value: T", "bias: T"], outputs=["output: T"],
            attrs=[_BIAS_TYPES], kernel=_bias_add_kernel, shape=_bias_add_shape)


def _bias_add_grad_kernel(op, ctx):
    data_format = _str_attr(op, "data_format")

    def run(out_backprop):
        if out_backprop.ndim < 2:
            raise ValueError("Input tensor must be at least 2D: [%s]"
                             % ",".join(map(str, out_backprop.shape)))
        axis = _channel_axis(out_backprop.ndim, data_format)
        others = tuple(i for i in range(out_backprop.ndim) if i != axis)
        return out_backprop.sum(axis=others, dtype=out_backprop.dtype)
    return run


def _bias_add_grad_shape(op):
    dims = _dims(op, 0, at_least=3 if _str_attr(op, "data_format") == "NCHW" else 2)
    if dims is None:
        return [tensor_shape.unknown_shape(1)]
    return [tensor_shape.TensorShape([dims[_channel_axis(len(dims),
                                                         _str_attr(op, "data_format"))]])]


register_op("BiasAddGrad", inputs=["out_backprop: T"], outputs=["output: T"],
            attrs=[_BIAS_TYPES, _DATA_FORMAT], kernel=_bias_add_grad_kernel,
            shape=_bias_add_grad_shape)


def bias_add(value, bias, data_format=None, name=None):
    with ops.name_scope(name, "BiasAdd", [value, bias]) as scope:
        if data_format is not None:
            if data_format.startswith("NC"):
                data_format = "NCHW"
            elif data_format.startswith("N") and data_format.endswith("C"):
                data_format = "NHWC"
            else:
                raise ValueError("`data_format` must be of the form `N...C` or `NC...`. "
                                 "Received: data_format=%s" % data_format)
        value = ops.convert_to_tensor(value, name="input")
        bias = ops.convert_to_tensor(bias, dtype=value.dtype, name="bias")
        return apply_op("BiasAdd", value=value, bias=bias, data_format=data_format, name=scope)


def bias_add_v1(value, bias, name=None):
    with ops.name_scope(name, "BiasAddV1", [value, bias]) as scope:
        value = ops.convert_to_tensor(value, name="input")
        bias = ops.convert_to_tensor(bias, dtype=value.dtype, name="bias")
        return apply_op("BiasAddV1", value=value, bias=bias, name=scope)


def _bias_add_gradient(op, received_grad):
    return [received_grad, apply_op("BiasAddGrad", out_backprop=received_grad,
                                    data_format=op.get_attr("data_format"))]


def _bias_add_grad_gradient(op, received_grad):
    from tensorkeep.ops import array_ops
    shape = array_ops.shape(op.inputs[0])
    bias_shape = array_ops.shape(received_grad)
    if op.get_attr("data_format") == b"NCHW":
        expanded_shape = array_ops.concat([array_ops.ones_like(shape[:1]), bias_shape,
                                           array_ops.ones_like(shape[2:])], 0)
        tile_multiples = array_ops.concat([shape[:1], [1], shape[2:]], 0)
    else:
        expanded_shape = array_ops.concat([array_ops.ones_like(shape[:-1]), bias_shape], 0)
        tile_multiples = array_ops.concat([shape[:-1], [1]], 0)
    expanded_grad = array_ops.reshape(received_grad, expanded_shape)
    return [array_ops.tile(expanded_grad, tile_multiples)]


def _bias_add_v1_gradient(op, received_grad):
    from tensorkeep.ops import array_ops
    from tensorkeep.ops import math_ops
    reduction_axes = math_ops.range(array_ops.rank(received_grad) - 1)
    return [received_grad, math_ops.reduce_sum(received_grad, reduction_axes)]


register_gradient("BiasAdd", _bias_add_gradient)
register_gradient("BiasAddGrad", _bias_add_grad_gradient)
register_gradient("BiasAddV1", _bias_add_v1_gradient)


# --- L2Loss --------------------------------------------------------------------------------------

register_op("L2Loss", inputs=["t: T"], outputs=["output: T"], attrs=[_FLOAT_TYPES],
            compute=_in_dtype(lambda t: np.sum(np.square(t) * _typed(t, 0.5), dtype=t.dtype)),
            shape=_helpers.scalar_shape)


def l2_loss(t, name=None):
    return apply_op("L2Loss", t=t, name=name)


register_gradient("L2Loss", lambda op, grad: [op.inputs[0] * grad])


# --- window attrs (conv and pool) ----------------------------------------------------------------

def _spatial_pair(values, data_format):
    """The (H, W) entries of a 4-element strides/ksize/dilations list."""
    return (values[2], values[3]) if data_format == "NCHW" else (values[1], values[2])


def _explicit_pairs(paddings, data_format):
    """((top, bottom), (left, right)) from an 8-element explicit_paddings list."""
    pairs = [tuple(paddings[i:i + 2]) for i in range(0, 8, 2)]
    return (pairs[2], pairs[3]) if data_format == "NCHW" else (pairs[1], pairs[2])


def _to_nhwc(x, data_format):
    return x.transpose(0, 2, 3, 1) if data_format == "NCHW" else x


def _from_nhwc(x, data_format):
    return x.transpose(0, 3, 1, 2) if data_format == "NCHW" else x


def _nhwc_dims(dims, data_format):
    if dims is None:
        return [None] * 4
    return [dims[0], dims[2], dims[3], dims[1]] if data_format == "NCHW" else list(dims)


def _format_dims(nhwc, data_format):
    return [nhwc[0], nhwc[3], nhwc[1], nhwc[2]] if data_format == "NCHW" else list(nhwc)


class _Window:
    """A conv/pool op's window attrs read once: format, strides, dilations, padding."""

    def __init__(self, op, ksize=None):
        self.op = op
        self.data_format = _str_attr(op, "data_format")
        if self.data_format not in ("NHWC", "NCHW"):
            raise ValueError("tensorkeep supports data_format NHWC and NCHW, not %s for %s"
                             % (self.data_format, op.name))
        self.padding = _str_attr(op, "padding")
        strides = list(op._attrs["strides"]) if "strides" in op._attrs else None
        self.strides = self._check_four("strides", strides) if strides is not None else None
        self.dilations = self._check_four("dilations", list(op._attrs.get("dilations",
                                                                          [1, 1, 1, 1])))
        self.ksize = self._check_four("ksize", list(ksize)) if ksize is not None else None
        explicit = list(op._attrs.get("explicit_paddings", []))
        if self.padding == "EXPLICIT":
            if len(explicit) != 8:
                raise ValueError("explicit_paddings attribute must contain 8 values, but got: "
                                 "%d" % len(explicit))
            if any(p < 0 for p in explicit):
                raise ValueError("All elements of explicit_paddings must be nonnegative")
            self.explicit = _explicit_pairs(explicit, self.data_format)
        else:
            if explicit:
                raise ValueError("explicit_paddings attribute must be empty if the padding "
                                 "attribute is not EXPLICIT")
            self.explicit = ((0, 0), (0, 0))

    def _check_four(self, name, values):
        if len(values) != 4:
            raise ValueError("%s on data format %s requires the %s attribute to contain 4 "
                             "values, but got: %d for '{{node %s}}'"
                             % (self.op.type, self.data_format, name, len(values), self.op.name))
        self._full = getattr(self, "_full", {})
        self._full[name] = list(values)
        return _spatial_pair(values, self.data_format)

    def check_supported(self):
        """Run-time check (TensorFlow's shape functions accept these; its kernels do not)."""
        channel = 1 if self.data_format == "NCHW" else 3
        for name, values in self._full.items():
            if values[0] != 1 or values[channel] != 1:
                if "Pool" in self.op.type:
                    raise ValueError("Pooling is not yet supported on the batch or depth "
                                     "dimension (%s=%s)." % (name, values))
                raise ValueError("Current implementation does not yet support %s in the batch "
                                 "and depth dimensions." % name)

    def geometry(self, in_h, in_w, k_h, k_w):
        return nn_kernels.Geometry(in_h, in_w, k_h, k_w, self.strides, self.dilations,
                                   self.padding, self.explicit)

    def output_dims(self, in_h, in_w, k_h, k_w):
        """Static (out_h, out_w), None where unknown."""
        out = []
        for size, k, stride, dilation, explicit in (
                (in_h, k_h, self.strides[0], self.dilations[0], self.explicit[0]),
                (in_w, k_w, self.strides[1], self.dilations[1], self.explicit[1])):
            if size is not None and self.padding == "SAME":
                out.append((size + stride - 1) // stride)
                continue
            if size is None or k is None:
                out.append(None)
                continue
            effective_k = (k - 1) * dilation + 1
            if self.padding == "VALID" and effective_k > size:
                raise ValueError("Negative dimension size caused by subtracting %d from %d for "
                                 "'{{node %s}} = %s'" % (effective_k, size, self.op.name,
                                                         self.op.type))
            out.append(nn_kernels.output_size_and_padding(size, k, stride, dilation,
                                                          self.padding, explicit)[0])
        return out


def _work(x):
    """Half types compute in float32."""
    dtype = nn_kernels.compute_dtype(x.dtype)
    return x if x.dtype == dtype else x.astype(dtype)


def _check_rank4(name, value):
    if value.ndim != 4:
        raise ValueError("%s must be 4-dimensional: [%s]" % (name, ",".join(map(str,
                                                                              value.shape))))


def _read_window_inputs(window, ksize, strides):
    """MaxPoolV2 and its gradients take ksize and strides as inputs."""
    window.ksize = window._check_four("ksize", [int(v) for v in np.ravel(ksize)])
    window.strides = window._check_four("strides", [int(v) for v in np.ravel(strides)])


def _window_kernel(body, window_from=None):
    """The kernel factory of a conv/pool op: run(*inputs) = body(window, *inputs), the op's
    _Window read and checked once. window_from: None (convolutions, no ksize), "attrs" (the
    ksize attr) or "inputs" (ksize and strides are the last two inputs, read at each run)."""
    def factory(op, ctx):
        window = _Window(op, ksize=op._attrs["ksize"] if window_from == "attrs" else None)
        window.check_supported()
        if window_from != "inputs":
            return lambda *inputs: body(window, *inputs)

        def run(*inputs):
            _read_window_inputs(window, *inputs[-2:])
            window.check_supported()
            return body(window, *inputs[:-2])
        return run
    return factory


# --- Conv2D --------------------------------------------------------------------------------------

_CONV_ATTRS = ["strides: list(int)", "use_cudnn_on_gpu: bool = true", _PADDING_EXPLICIT,
               _EXPLICIT_PADDINGS, _DATA_FORMAT, _DILATIONS]


def _conv2d_kernel(window, x, w):
    _check_rank4("input", x)
    _check_rank4("filter", w)
    x_nhwc = _to_nhwc(x, window.data_format)
    n, in_h, in_w, channels = x_nhwc.shape
    k_h, k_w, filter_channels, _ = w.shape
    if channels % max(filter_channels, 1):
        raise ValueError("input depth must be evenly divisible by filter depth: %d vs %d"
                         % (channels, filter_channels))
    if channels != filter_channels:
        raise ValueError("Grouped convolution is not supported by tensorkeep (input depth "
                         "%d, filter depth %d)" % (channels, filter_channels))
    geom = window.geometry(in_h, in_w, k_h, k_w)
    out = nn_kernels.conv2d(_work(x_nhwc), _work(w), geom)
    return _from_nhwc(out.astype(x.dtype, copy=False), window.data_format)


def _conv2d_shape(op):
    window = _Window(op)
    x = _dims(op, 0, rank=4)
    w = _dims(op, 1, rank=4)
    n, in_h, in_w, channels = _nhwc_dims(x, window.data_format)
    k_h, k_w, filter_channels, out_channels = w if w is not None else [None] * 4
    if channels is not None and filter_channels is not None and \
            channels % filter_channels:
        raise ValueError("Depth of input (%d) is not a multiple of input depth of filter (%d) "
                         "for '{{node %s}} = Conv2D'" % (channels, filter_channels, op.name))
    out_h, out_w = window.output_dims(in_h, in_w, k_h, k_w)
    return [tensor_shape.TensorShape(_format_dims([n, out_h, out_w, out_channels],
                                                  window.data_format))]


register_op("Conv2D", inputs=["input: T", "filter: T"], outputs=["output: T"],
            attrs=["T: {half, bfloat16, float, double, int32}"] + _CONV_ATTRS,
            kernel=_window_kernel(_conv2d_kernel), shape=_conv2d_shape)


def _sizes_input_shape(op, index):
    """The static shape given by a sizes input (input_sizes, filter_sizes, orig_input_shape)."""
    value = tensor_util.constant_value(op._inputs[index])
    if value is not None:
        return tensor_shape.TensorShape([int(d) for d in np.ravel(value)])
    return tensor_util.constant_value_as_shape(op._inputs[index]).merge_with(
        tensor_shape.unknown_shape(4))


def _shape_from_sizes(index):
    return lambda op: [_sizes_input_shape(op, index)]


def _backprop_input_shape(op):
    """input_sizes gives the shape, except the batch size, which comes from out_backprop."""
    sizes = _sizes_input_shape(op, 0)
    dims = sizes.as_list() if sizes.ndims == 4 else [None] * 4
    out_backprop = _dims(op, 2, rank=4)
    batch = out_backprop[0] if out_backprop is not None else None
    _merge_dim(dims[0], batch, op, "batch size of input_sizes vs out_backprop")
    dims[0] = batch
    return [tensor_shape.TensorShape(dims)]


def _conv2d_backprop_input_kernel(window, input_sizes, w, dy):
    sizes = [int(d) for d in np.ravel(input_sizes)]
    if len(sizes) != 4:
        raise ValueError("input_sizes must be 4-dimensional, got: %d" % len(sizes))
    n, in_h, in_w, channels = _nhwc_dims(sizes, window.data_format)
    k_h, k_w = w.shape[:2]
    geom = window.geometry(in_h, in_w, k_h, k_w)
    dy_nhwc = _to_nhwc(dy, window.data_format)
    if dy_nhwc.shape != (n, geom.out_h, geom.out_w, w.shape[3]):
        raise ValueError("Conv2DCustomBackpropInput: Size of out_backprop doesn't match "
                         "computed: actual = %s, computed = %s"
                         % (list(dy_nhwc.shape), [n, geom.out_h, geom.out_w, w.shape[3]]))
    dx = nn_kernels.conv2d_backprop_input((n, in_h, in_w, channels), _work(w),
                                          _work(dy_nhwc), geom)
    return _from_nhwc(dx.astype(dy.dtype, copy=False), window.data_format)


def _conv2d_backprop_filter_kernel(window, x, filter_sizes, dy):
    sizes = [int(d) for d in np.ravel(filter_sizes)]
    if len(sizes) != 4:
        raise ValueError("filter_sizes must be 4-dimensional, got: %d" % len(sizes))
    x_nhwc = _to_nhwc(x, window.data_format)
    geom = window.geometry(x_nhwc.shape[1], x_nhwc.shape[2], sizes[0], sizes[1])
    dw = nn_kernels.conv2d_backprop_filter(_work(x_nhwc), sizes,
                                           _work(_to_nhwc(dy, window.data_format)), geom)
    return dw.astype(x.dtype, copy=False)


register_op("Conv2DBackpropInput", inputs=["input_sizes: int32", "filter: T",
                                           "out_backprop: T"],
            outputs=["output: T"], attrs=["T: {half, bfloat16, float, double, int32}"] +
            _CONV_ATTRS, kernel=_window_kernel(_conv2d_backprop_input_kernel), shape=_backprop_input_shape)
register_op("Conv2DBackpropFilter", inputs=["input: T", "filter_sizes: int32",
                                            "out_backprop: T"],
            outputs=["output: T"], attrs=["T: {half, bfloat16, float, double}"] + _CONV_ATTRS,
            kernel=_window_kernel(_conv2d_backprop_filter_kernel), shape=_shape_from_sizes(1))


def _conv_attrs(op, with_cudnn=True):
    attrs = dict(dilations=op.get_attr("dilations"), strides=op.get_attr("strides"),
                 padding=op.get_attr("padding"),
                 explicit_paddings=op.get_attr("explicit_paddings"),
                 data_format=op.get_attr("data_format"))
    if with_cudnn:
        attrs["use_cudnn_on_gpu"] = op.get_attr("use_cudnn_on_gpu")
    return attrs


def _conv2d_grad(op, grad):
    from tensorkeep.ops import array_ops
    shape_0, shape_1 = array_ops.shape_n([op.inputs[0], op.inputs[1]])
    attrs = _conv_attrs(op)
    return [apply_op("Conv2DBackpropInput", input_sizes=shape_0, filter=op.inputs[1],
                     out_backprop=grad, **attrs),
            apply_op("Conv2DBackpropFilter", input=op.inputs[0], filter_sizes=shape_1,
                     out_backprop=grad, **attrs)]


def _backprop_input_grad(conv_type, backprop_filter_type, with_cudnn):
    """The gradient of a convolution's input backprop (inputs: sizes, filter, out_backprop)."""
    def grad_fn(op, grad):
        from tensorkeep.ops import array_ops
        attrs = _conv_attrs(op, with_cudnn)
        return [None,
                apply_op(backprop_filter_type, input=grad,
                         filter_sizes=array_ops.shape(op.inputs[1]), out_backprop=op.inputs[2],
                         **attrs),
                apply_op(conv_type, input=grad, filter=op.inputs[1], **attrs)]
    return grad_fn


def _backprop_filter_grad(conv_type, backprop_input_type, with_cudnn):
    """The gradient of a convolution's filter backprop (inputs: input, sizes, out_backprop)."""
    def grad_fn(op, grad):
        from tensorkeep.ops import array_ops
        attrs = _conv_attrs(op, with_cudnn)
        return [apply_op(backprop_input_type, input_sizes=array_ops.shape(op.inputs[0]),
                         filter=grad, out_backprop=op.inputs[2], **attrs),
                None,
                apply_op(conv_type, input=op.inputs[0], filter=grad, **attrs)]
    return grad_fn


register_gradient("Conv2D", _conv2d_grad)
register_gradient("Conv2DBackpropInput", _backprop_input_grad(
    "Conv2D", "Conv2DBackpropFilter", with_cudnn=True))
register_gradient("Conv2DBackpropFilter", _backprop_filter_grad(
    "Conv2D", "Conv2DBackpropInput", with_cudnn=True))


def _get_sequence(value, n, channel_index, name):
    """Expands an int or short list of strides/ksize/dilations to the 4-element form."""
    if value is None:
        return [1] * (n + 2)
    if isinstance(value, (int, np.integer)):
        value = [int(value)]
    value = list(value)
    if len(value) == n + 2:
        return value
    if len(value) == 1:
        value = value * n
    elif len(value) != n:
        raise ValueError("%s should be of length 1, %d or %d. Received: %s=%s of length %d"
                         % (name, n, n + 2, name, value, len(value)))
    return [1, 1] + value if channel_index == 1 else [1] + value + [1]


def _window_lists(data_format, **values):
    """data_format (NHWC when None) and each of `values` (strides, ksize, dilations: an int or
    a short list) in the 4-element form that format's ops take."""
    if data_format is None:
        data_format = "NHWC"
    channel_index = 1 if data_format.startswith("NC") else 3
    return data_format, [_get_sequence(value, 2, channel_index, name)
                         for name, value in values.items()]


def convert_padding(padding, expected_length=4):
    """A padding string passes through; a list of [before, after] pairs becomes EXPLICIT."""
    explicit_paddings = []
    if padding == "EXPLICIT":
        raise ValueError("'EXPLICIT' is not a valid value for `padding`. To use explicit "
                         "padding, `padding` must be a list.")
    if isinstance(padding, (list, tuple)):
        for i, dim_paddings in enumerate(padding):
            if not isinstance(dim_paddings, (list, tuple)) or len(dim_paddings) != 2:
                raise ValueError("When `padding` is a list, each element of `padding` must be a "
                                 "list/tuple of size 2. Received: padding=%s" % (padding,))
            explicit_paddings.extend(int(p) for p in dim_paddings)
        if len(padding) != expected_length:
            raise ValueError("When padding is a list, it must be of size %d. Received: "
                             "padding=%s of size %d" % (expected_length, padding, len(padding)))
        padding = "EXPLICIT"
    return padding, explicit_paddings


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,  # noqa: A002
           data_format="NHWC", dilations=(1, 1, 1, 1), name=None, filters=None):
    """tf.nn.conv2d (TF1 signature)."""
    if filter is None:
        filter = filters
    padding, explicit_paddings = convert_padding(padding)
    data_format, (strides, dilations) = _window_lists(data_format, strides=strides,
                                                      dilations=dilations)
    return apply_op("Conv2D", input=input, filter=filter, strides=strides, padding=padding,
                    use_cudnn_on_gpu=use_cudnn_on_gpu, explicit_paddings=explicit_paddings,
                    data_format=data_format, dilations=dilations, name=name)


def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None,  # noqa: A002
                          strides=None, padding=None, use_cudnn_on_gpu=True,
                          data_format="NHWC", dilations=(1, 1, 1, 1), name=None,
                          filters=None):
    if filter is None:
        filter = filters
    padding, explicit_paddings = convert_padding(padding)
    return apply_op("Conv2DBackpropInput", input_sizes=input_sizes, filter=filter,
                    out_backprop=out_backprop, strides=strides, padding=padding,
                    use_cudnn_on_gpu=use_cudnn_on_gpu, explicit_paddings=explicit_paddings,
                    data_format=data_format, dilations=dilations, name=name)


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                           use_cudnn_on_gpu=True, data_format="NHWC",
                           dilations=(1, 1, 1, 1), name=None):
    padding, explicit_paddings = convert_padding(padding)
    return apply_op("Conv2DBackpropFilter", input=input, filter_sizes=filter_sizes,
                    out_backprop=out_backprop, strides=strides, padding=padding,
                    use_cudnn_on_gpu=use_cudnn_on_gpu, explicit_paddings=explicit_paddings,
                    data_format=data_format, dilations=dilations, name=name)


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None,  # noqa: A002
                     padding="SAME", data_format="NHWC", name=None, input=None,  # noqa: A002
                     filters=None, dilations=None):
    """tf.nn.conv2d_transpose: the gradient of conv2d with respect to its input."""
    value = input if value is None else value
    filter = filters if filter is None else filter  # noqa: A001
    with ops.name_scope(name, "conv2d_transpose", [value, filter, output_shape]) as scope:
        data_format, (strides, dilations) = _window_lists(data_format, strides=strides,
                                                          dilations=dilations)
        padding, explicit_paddings = convert_padding(padding)
        return apply_op("Conv2DBackpropInput", input_sizes=output_shape, filter=filter,
                        out_backprop=value, strides=strides, padding=padding,
                        explicit_paddings=explicit_paddings, data_format=data_format,
                        dilations=dilations, name=scope)


# --- DepthwiseConv2dNative -----------------------------------------------------------------------

_DEPTHWISE_ATTRS = ["T: {half, bfloat16, float, double}", "strides: list(int)",
                    _PADDING_EXPLICIT, _EXPLICIT_PADDINGS, _DATA_FORMAT, _DILATIONS]


def _depthwise_kernel(window, x, w):
    _check_rank4("input", x)
    _check_rank4("filter", w)
    x_nhwc = _to_nhwc(x, window.data_format)
    n, in_h, in_w, channels = x_nhwc.shape
    if w.shape[2] != channels:
        raise ValueError("input and filter must have the same depth: %d vs %d"
                         % (channels, w.shape[2]))
    geom = window.geometry(in_h, in_w, w.shape[0], w.shape[1])
    out = nn_kernels.depthwise_conv2d(_work(x_nhwc), _work(w), geom)
    return _from_nhwc(out.astype(x.dtype, copy=False), window.data_format)


def _depthwise_shape(op):
    window = _Window(op)
    x = _dims(op, 0, rank=4)
    w = _dims(op, 1, rank=4)
    n, in_h, in_w, channels = _nhwc_dims(x, window.data_format)
    k_h, k_w, filter_channels, multiplier = w if w is not None else [None] * 4
    channels = _merge_dim(channels, filter_channels, op, "input depth vs filter depth")
    out_h, out_w = window.output_dims(in_h, in_w, k_h, k_w)
    out_channels = channels * multiplier if channels is not None and multiplier is not None \
        else None
    return [tensor_shape.TensorShape(_format_dims([n, out_h, out_w, out_channels],
                                                  window.data_format))]


def _depthwise_backprop_input_kernel(window, input_sizes, w, dy):
    n, in_h, in_w, channels = _nhwc_dims([int(d) for d in np.ravel(input_sizes)],
                                         window.data_format)
    geom = window.geometry(in_h, in_w, w.shape[0], w.shape[1])
    dx = nn_kernels.depthwise_conv2d_backprop_input(
        (n, in_h, in_w, channels), _work(w), _work(_to_nhwc(dy, window.data_format)), geom)
    return _from_nhwc(dx.astype(dy.dtype, copy=False), window.data_format)


def _depthwise_backprop_filter_kernel(window, x, filter_sizes, dy):
    sizes = [int(d) for d in np.ravel(filter_sizes)]
    x_nhwc = _to_nhwc(x, window.data_format)
    geom = window.geometry(x_nhwc.shape[1], x_nhwc.shape[2], sizes[0], sizes[1])
    dw = nn_kernels.depthwise_conv2d_backprop_filter(
        _work(x_nhwc), sizes, _work(_to_nhwc(dy, window.data_format)), geom)
    return dw.astype(x.dtype, copy=False)


register_op("DepthwiseConv2dNative", inputs=["input: T", "filter: T"], outputs=["output: T"],
            attrs=_DEPTHWISE_ATTRS, kernel=_window_kernel(_depthwise_kernel), shape=_depthwise_shape)
register_op("DepthwiseConv2dNativeBackpropInput",
            inputs=["input_sizes: int32", "filter: T", "out_backprop: T"],
            outputs=["output: T"], attrs=_DEPTHWISE_ATTRS,
            kernel=_window_kernel(_depthwise_backprop_input_kernel), shape=_backprop_input_shape)
register_op("DepthwiseConv2dNativeBackpropFilter",
            inputs=["input: T", "filter_sizes: int32", "out_backprop: T"],
            outputs=["output: T"], attrs=_DEPTHWISE_ATTRS,
            kernel=_window_kernel(_depthwise_backprop_filter_kernel), shape=_shape_from_sizes(1))


def _depthwise_grad(op, grad):
    from tensorkeep.ops import array_ops
    attrs = _conv_attrs(op, with_cudnn=False)
    return [apply_op("DepthwiseConv2dNativeBackpropInput",
                     input_sizes=array_ops.shape(op.inputs[0]), filter=op.inputs[1],
                     out_backprop=grad, **attrs),
            apply_op("DepthwiseConv2dNativeBackpropFilter", input=op.inputs[0],
                     filter_sizes=array_ops.shape(op.inputs[1]), out_backprop=grad, **attrs)]


register_gradient("DepthwiseConv2dNative", _depthwise_grad)
register_gradient("DepthwiseConv2dNativeBackpropInput", _backprop_input_grad(
    "DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropFilter", with_cudnn=False))
register_gradient("DepthwiseConv2dNativeBackpropFilter", _backprop_filter_grad(
    "DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput", with_cudnn=False))


def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC",  # noqa: A002
                            dilations=(1, 1, 1, 1), name=None):
    padding, explicit_paddings = convert_padding(padding)
    return apply_op("DepthwiseConv2dNative", input=input, filter=filter, strides=strides,
                    padding=padding, explicit_paddings=explicit_paddings,
                    data_format=data_format or "NHWC", dilations=dilations, name=name)


# --- pooling -------------------------------------------------------------------------------------

_MAX_POOL_TYPES = ("T: {half, bfloat16, float, double, int32, int64, uint8, int16, int8, "
                   "uint16, qint8} = DT_FLOAT")
_POOL_GRAD_TYPES = ("T: {float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, "
                    "half, uint32, uint64} = DT_FLOAT")


def _pool_shape(op, ksize):
    window = _Window(op, ksize=ksize)
    x = _dims(op, 0, rank=4)
    n, in_h, in_w, channels = _nhwc_dims(x, window.data_format)
    out_h, out_w = window.output_dims(in_h, in_w, *window.ksize)
    return [tensor_shape.TensorShape(_format_dims([n, out_h, out_w, channels],
                                                  window.data_format))]


def _pool_kernel(pool_fn):
    def run(window, x):
        _check_rank4("input", x)
        x_nhwc = _to_nhwc(x, window.data_format)
        geom = window.geometry(x_nhwc.shape[1], x_nhwc.shape[2], *window.ksize)
        out = pool_fn(_work(x_nhwc), geom)
        return _from_nhwc(out.astype(x.dtype, copy=False), window.data_format)
    return run


def _max_pool_grad_kernel(window, orig_input, orig_output, grad):
    x = _to_nhwc(orig_input, window.data_format)
    geom = window.geometry(x.shape[1], x.shape[2], *window.ksize)
    dy = _to_nhwc(grad, window.data_format)
    if dy.shape != (x.shape[0], geom.out_h, geom.out_w, x.shape[3]):
        raise ValueError("Expected grad shape to be %s, but got %s"
                         % ([x.shape[0], geom.out_h, geom.out_w, x.shape[3]], list(dy.shape)))
    dx = nn_kernels.max_pool_grad(x, dy, geom)
    return _from_nhwc(dx.astype(grad.dtype, copy=False), window.data_format)


def _max_pool_grad_grad_kernel(window, orig_input, orig_output, grad):
    x = _to_nhwc(orig_input, window.data_format)
    geom = window.geometry(x.shape[1], x.shape[2], *window.ksize)
    out = nn_kernels.max_pool_grad_grad(x, _to_nhwc(grad, window.data_format), geom)
    return _from_nhwc(out.astype(grad.dtype, copy=False), window.data_format)


def _static_pool_shape(op):
    return _pool_shape(op, op._attrs["ksize"])


def _input_window_pool_shape(op):
    ksize = tensor_util.constant_value(op._inputs[1])
    strides = tensor_util.constant_value(op._inputs[2])
    if ksize is None or strides is None:
        return [tensor_shape.unknown_shape(4)]
    window = _Window(op)
    _read_window_inputs(window, ksize, strides)
    n, in_h, in_w, channels = _nhwc_dims(_dims(op, 0, rank=4), window.data_format)
    out_h, out_w = window.output_dims(in_h, in_w, *window.ksize)
    return [tensor_shape.TensorShape(_format_dims([n, out_h, out_w, channels],
                                                  window.data_format))]


def _first_input_shape(op):
    return [op._inputs[0]._shape_val]


register_op("MaxPool", inputs=["input: T"], outputs=["output: T"],
            attrs=[_MAX_POOL_TYPES, "ksize: list(int) >= 4", "strides: list(int) >= 4",
                   _PADDING_EXPLICIT, _EXPLICIT_PADDINGS,
                   "data_format: {'NHWC', 'NCHW', 'NCHW_VECT_C'} = 'NHWC'"],
            kernel=_window_kernel(_pool_kernel(nn_kernels.max_pool), "attrs"),
            shape=_static_pool_shape)
register_op("MaxPoolV2", inputs=["input: T", "ksize: int32", "strides: int32"],
            outputs=["output: T"],
            attrs=[_MAX_POOL_TYPES, _PADDING,
                   "data_format: {'NHWC', 'NCHW', 'NCHW_VECT_C'} = 'NHWC'"],
            kernel=_window_kernel(_pool_kernel(nn_kernels.max_pool), "inputs"),
            shape=_input_window_pool_shape)
register_op("MaxPoolGrad", inputs=["orig_input: T", "orig_output: T", "grad: T"],
            outputs=["output: T"],
            attrs=["ksize: list(int) >= 4", "strides: list(int) >= 4", _PADDING_EXPLICIT,
                   _EXPLICIT_PADDINGS, _DATA_FORMAT, _POOL_GRAD_TYPES],
            kernel=_window_kernel(_max_pool_grad_kernel, "attrs"), shape=_first_input_shape)
register_op("MaxPoolGradV2", inputs=["orig_input: T", "orig_output: T", "grad: T",
                                     "ksize: int32", "strides: int32"],
            outputs=["output: T"], attrs=[_PADDING, _DATA_FORMAT, _POOL_GRAD_TYPES],
            kernel=_window_kernel(_max_pool_grad_kernel, "inputs"),
            shape=_first_input_shape)
register_op("MaxPoolGradGrad", inputs=["orig_input: T", "orig_output: T", "grad: T"],
            outputs=["output: T"],
            attrs=["ksize: list(int) >= 4", "strides: list(int) >= 4", _PADDING, _DATA_FORMAT,
                   _REAL_TYPES],
            kernel=_window_kernel(_max_pool_grad_grad_kernel, "attrs"), shape=lambda op: [op._inputs[1]._shape_val])
register_op("MaxPoolGradGradV2", inputs=["orig_input: T", "orig_output: T", "grad: T",
                                         "ksize: int32", "strides: int32"],
            outputs=["output: T"], attrs=[_PADDING, _DATA_FORMAT, _REAL_TYPES],
            kernel=_window_kernel(_max_pool_grad_grad_kernel, "inputs"),
            shape=lambda op: [op._inputs[1]._shape_val])

_AVG_POOL_ATTRS = ["ksize: list(int) >= 4", "strides: list(int) >= 4", _PADDING, _DATA_FORMAT,
                   _FLOAT_TYPES]
register_op("AvgPool", inputs=["value: T"], outputs=["output: T"], attrs=_AVG_POOL_ATTRS,
            kernel=_window_kernel(_pool_kernel(nn_kernels.avg_pool), "attrs"),
            shape=_static_pool_shape)


def _avg_pool_grad_kernel(window, orig_input_shape, grad):
    sizes = [int(d) for d in np.ravel(orig_input_shape)]
    if len(sizes) != 4:
        raise ValueError("orig_input_shape must have 4 elements")
    n, in_h, in_w, channels = _nhwc_dims(sizes, window.data_format)
    geom = window.geometry(in_h, in_w, *window.ksize)
    dx = nn_kernels.avg_pool_grad((n, in_h, in_w, channels),
                                  _work(_to_nhwc(grad, window.data_format)), geom)
    return _from_nhwc(dx.astype(grad.dtype, copy=False), window.data_format)


register_op("AvgPoolGrad", inputs=["orig_input_shape: int32", "grad: T"], outputs=["output: T"],
            attrs=_AVG_POOL_ATTRS, kernel=_window_kernel(_avg_pool_grad_kernel, "attrs"), shape=_shape_from_sizes(0))


def _pool_attrs(op, explicit=True):
    attrs = dict(ksize=op.get_attr("ksize"), strides=op.get_attr("strides"),
                 padding=op.get_attr("padding"), data_format=op.get_attr("data_format"))
    if explicit:
        attrs["explicit_paddings"] = op.get_attr("explicit_paddings")
    return attrs


def _max_pool_gradient(op, grad):
    return [apply_op("MaxPoolGrad", orig_input=op.inputs[0], orig_output=op.outputs[0],
                     grad=grad, **_pool_attrs(op))]


def _max_pool_v2_gradient(op, grad):
    return [apply_op("MaxPoolGradV2", orig_input=op.inputs[0], orig_output=op.outputs[0],
                     grad=grad, ksize=op.inputs[1], strides=op.inputs[2],
                     padding=op.get_attr("padding"), data_format=op.get_attr("data_format")),
            None, None]


def _max_pool_grad_gradient(op, grad):
    attrs = _pool_attrs(op, explicit=False)
    return [_zeros_like(op.inputs[0]), _zeros_like(op.inputs[1]),
            apply_op("MaxPoolGradGrad", orig_input=op.inputs[0], orig_output=op.inputs[1],
                     grad=grad, **attrs)]


def _max_pool_grad_v2_gradient(op, grad):
    return [_zeros_like(op.inputs[0]), _zeros_like(op.inputs[1]),
            apply_op("MaxPoolGradGradV2", orig_input=op.inputs[0], orig_output=op.inputs[1],
                     grad=grad, ksize=op.inputs[3], strides=op.inputs[4],
                     padding=op.get_attr("padding"), data_format=op.get_attr("data_format")),
            None, None]


def _max_pool_grad_grad_gradient(op, grad):
    return [_zeros_like(op.inputs[0]), _zeros_like(op.inputs[1]),
            apply_op("MaxPoolGrad", orig_input=op.inputs[0], orig_output=op.inputs[1],
                     grad=grad, **_pool_attrs(op, explicit=False))]


def _avg_pool_gradient(op, grad):
    from tensorkeep.ops import array_ops
    return [apply_op("AvgPoolGrad", orig_input_shape=array_ops.shape(op.inputs[0],
                                                                      out_type=dtypes.int32),
                     grad=grad, **_pool_attrs(op, explicit=False))]


def _avg_pool_grad_gradient(op, grad):
    from tensorkeep.ops import array_ops
    return [array_ops.stop_gradient(op.inputs[0]),
            apply_op("AvgPool", value=grad, **_pool_attrs(op, explicit=False))]


register_gradient("MaxPool", _max_pool_gradient)
register_gradient("MaxPoolV2", _max_pool_v2_gradient)
register_gradient("MaxPoolGrad", _max_pool_grad_gradient)
register_gradient("MaxPoolGradV2", _max_pool_grad_v2_gradient)
register_gradient("MaxPoolGradGrad", _max_pool_grad_grad_gradient)
register_gradient("AvgPool", _avg_pool_gradient)
register_gradient("AvgPoolGrad", _avg_pool_grad_gradient)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None,
             input=None):  # noqa: A002
    """tf.nn.max_pool (TF1 signature)."""
    if value is None:
        value = input
    with ops.name_scope(name, "MaxPool", [value]) as scope:
        data_format, (ksize, strides) = _window_lists(data_format, ksize=ksize, strides=strides)
        padding, explicit_paddings = convert_padding(padding)
        if any(v == 0 for v in ksize):
            raise ValueError("`ksize` cannot be zero. Received: ksize=%s" % (ksize,))
        return apply_op("MaxPool", input=value, ksize=ksize, strides=strides, padding=padding,
                        explicit_paddings=explicit_paddings, data_format=data_format,
                        name=scope)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None,
             input=None):  # noqa: A002
    """tf.nn.avg_pool (TF1 signature)."""
    with ops.name_scope(name, "AvgPool", [value]) as scope:
        if value is None:
            value = input
        data_format, (ksize, strides) = _window_lists(data_format, ksize=ksize, strides=strides)
        return apply_op("AvgPool", value=value, ksize=ksize, strides=strides, padding=padding,
                        data_format=data_format, name=scope)


# --- fused batch normalization -------------------------------------------------------------------

_BN_COMMON = ["epsilon: float = 0.0001", "exponential_avg_factor: float = 1"]


def _channels_last(x, data_format):
    return np.moveaxis(x, 1, -1) if data_format.startswith("NC") else x


def _channels_back(x, data_format):
    return np.moveaxis(x, -1, 1) if data_format.startswith("NC") else x


def _fused_batch_norm_kernel(with_reserve_3):
    def factory(op, ctx):
        epsilon = op._attrs["epsilon"]
        avg_factor = op._attrs["exponential_avg_factor"]
        is_training = op._attrs["is_training"]
        data_format = _str_attr(op, "data_format")

        def run(x, scale, offset, mean, variance):
            rank = 5 if data_format in ("NDHWC", "NCDHW") else 4
            if x.ndim != rank:
                raise ValueError("input must be %d-dimensional[%s]"
                                 % (rank, ",".join(map(str, x.shape))))
            channels_last = _channels_last(x, data_format)
            channels = channels_last.shape[-1]
            for name, value in (("scale", scale), ("offset", offset)):
                if value.shape != (channels,):
                    raise ValueError("%s must have the same number of elements as the "
                                     "channels of x, got %d and %d"
                                     % (name, value.size, channels))
            if (not is_training or avg_factor != 1.0) and \
                    (mean.shape != (channels,) or variance.shape != (channels,)):
                raise ValueError("When is_training=false or exponential_avg_factor != 1, mean "
                                 "and variance must have the same number of elements as the "
                                 "channels of x, got %d, %d and %d"
                                 % (mean.size, variance.size, channels))
            if is_training:
                y, new_mean, new_var, batch_mean, batch_var = \
                    nn_kernels.batch_norm_training(channels_last, scale, offset, mean, variance,
                                                   epsilon, avg_factor)
                outputs = [y, new_mean, new_var, batch_mean, batch_var]
            else:
                y = nn_kernels.batch_norm_inference(channels_last, scale, offset, mean,
                                                    variance, epsilon)
                outputs = [y, mean, variance, mean, variance]
            outputs[0] = np.ascontiguousarray(_channels_back(outputs[0], data_format))
            if with_reserve_3:
                outputs.append(np.zeros((0,), dtype=scale.dtype))
            return outputs
        return run
    return factory


def _fused_batch_norm_shape(op):
    data_format = _str_attr(op, "data_format")
    rank = 5 if data_format in ("NDHWC", "NCDHW") else 4
    x = _dims(op, 0, rank=rank)
    channels = None
    if x is not None:
        channels = x[1] if data_format.startswith("NC") else x[-1]
    for index, what in ((1, "scale"), (2, "offset")):
        dims = _dims(op, index, rank=1)
        if dims is not None:
            channels = _merge_dim(channels, dims[0], op, what + " vs channels")
    if not op._attrs["is_training"]:
        for index, what in ((3, "mean"), (4, "variance")):
            dims = _dims(op, index, rank=1)
            if dims is not None:
                channels = _merge_dim(channels, dims[0], op, what + " vs channels")
    y = op._inputs[0]._shape_val
    if x is not None and channels is not None:
        dims = list(x)
        dims[1 if data_format.startswith("NC") else -1] = channels
        y = tensor_shape.TensorShape(dims)
    vector = tensor_shape.TensorShape([channels])
    shapes = [y, vector, vector, vector, vector]
    if len(op._outputs) == 6:
        shapes.append(tensor_shape.unknown_shape())
    return shapes


register_op("FusedBatchNorm", inputs=["x: T", "scale: T", "offset: T", "mean: T",
                                      "variance: T"],
            outputs=["y: T", "batch_mean: T", "batch_variance: T", "reserve_space_1: T",
                     "reserve_space_2: T"],
            attrs=["T: {float}"] + _BN_COMMON + [_DATA_FORMAT, "is_training: bool = true"],
            kernel=_fused_batch_norm_kernel(False), shape=_fused_batch_norm_shape)
register_op("FusedBatchNormV2", inputs=["x: T", "scale: U", "offset: U", "mean: U",
                                        "variance: U"],
            outputs=["y: T", "batch_mean: U", "batch_variance: U", "reserve_space_1: U",
                     "reserve_space_2: U"],
            attrs=["T: {half, bfloat16, float}", "U: {float}"] + _BN_COMMON +
            [_DATA_FORMAT, "is_training: bool = true"],
            kernel=_fused_batch_norm_kernel(False), shape=_fused_batch_norm_shape)
_DATA_FORMAT_3D = "data_format: {'NHWC', 'NCHW', 'NDHWC', 'NCDHW'} = 'NHWC'"
register_op("FusedBatchNormV3", inputs=["x: T", "scale: U", "offset: U", "mean: U",
                                        "variance: U"],
            outputs=["y: T", "batch_mean: U", "batch_variance: U", "reserve_space_1: U",
                     "reserve_space_2: U", "reserve_space_3: U"],
            attrs=["T: {half, bfloat16, float}", "U: {bfloat16, float}"] + _BN_COMMON +
            [_DATA_FORMAT_3D, "is_training: bool = true"],
            kernel=_fused_batch_norm_kernel(True), shape=_fused_batch_norm_shape)


def _fused_batch_norm_grad_kernel(op, ctx):
    epsilon = op._attrs["epsilon"]
    is_training = op._attrs["is_training"]
    data_format = _str_attr(op, "data_format")

    def run(dy, x, scale, mean, variance, *unused_reserve_3):
        dx, dscale, doffset = nn_kernels.batch_norm_grad(
            _channels_last(dy, data_format), _channels_last(x, data_format), scale, mean,
            variance, epsilon, is_training)
        dx = np.ascontiguousarray(_channels_back(dx, data_format))
        # TensorFlow's CPU kernel returns scalar zeros for the two placeholder outputs.
        return [dx, dscale, doffset, np.zeros((), dtype=scale.dtype),
                np.zeros((), dtype=scale.dtype)]
    return run


def _fused_batch_norm_grad_shape(op):
    """x_backprop has y_backprop's shape (x is only checked for rank)."""
    data_format = _str_attr(op, "data_format")
    rank = 5 if data_format in ("NDHWC", "NCDHW") else 4
    y_backprop = _dims(op, 0, rank=rank)
    _dims(op, 1, rank=rank)
    channel_axis = 1 if data_format.startswith("NC") else rank - 1
    channels = y_backprop[channel_axis] if y_backprop is not None else None
    for index, what in ((2, "scale"), (3, "reserve_space_1"), (4, "reserve_space_2")):
        dims = _dims(op, index, rank=1)
        if dims is not None:
            channels = _merge_dim(channels, dims[0], op, what + " vs channels")
    x_backprop = tensor_shape.unknown_shape(rank)
    if y_backprop is not None:
        y_backprop[channel_axis] = channels
        x_backprop = tensor_shape.TensorShape(y_backprop)
    vector = tensor_shape.TensorShape([channels])
    empty = tensor_shape.TensorShape([0])
    return [x_backprop, vector, vector, empty, empty]


_BN_GRAD_ATTRS = ["epsilon: float = 0.0001"]
register_op("FusedBatchNormGrad", inputs=["y_backprop: T", "x: T", "scale: T",
                                          "reserve_space_1: T", "reserve_space_2: T"],
            outputs=["x_backprop: T", "scale_backprop: T", "offset_backprop: T",
                     "reserve_space_3: T", "reserve_space_4: T"],
            attrs=["T: {float}"] + _BN_GRAD_ATTRS + [_DATA_FORMAT, "is_training: bool = true"],
            kernel=_fused_batch_norm_grad_kernel, shape=_fused_batch_norm_grad_shape)
register_op("FusedBatchNormGradV2", inputs=["y_backprop: T", "x: T", "scale: float",
                                            "reserve_space_1: U", "reserve_space_2: U"],
            outputs=["x_backprop: T", "scale_backprop: U", "offset_backprop: U",
                     "reserve_space_3: U", "reserve_space_4: U"],
            attrs=["T: {half, bfloat16, float}", "U: {float}"] + _BN_GRAD_ATTRS +
            [_DATA_FORMAT, "is_training: bool = true"],
            kernel=_fused_batch_norm_grad_kernel, shape=_fused_batch_norm_grad_shape)
register_op("FusedBatchNormGradV3", inputs=["y_backprop: T", "x: T", "scale: float",
                                            "reserve_space_1: U", "reserve_space_2: U",
                                            "reserve_space_3: U"],
            outputs=["x_backprop: T", "scale_backprop: U", "offset_backprop: U",
                     "reserve_space_4: U", "reserve_space_5: U"],
            attrs=["T: {half, bfloat16, float}", "U: {float}"] + _BN_GRAD_ATTRS +
            [_DATA_FORMAT_3D, "is_training: bool = true"],
            kernel=_fused_batch_norm_grad_kernel, shape=_fused_batch_norm_grad_shape)

_FUSED_BATCH_NORM_GRAD_OPS = {"FusedBatchNorm": "FusedBatchNormGrad",
                              "FusedBatchNormV2": "FusedBatchNormGradV2",
                              "FusedBatchNormV3": "FusedBatchNormGradV3"}


def _fused_batch_norm_gradient(op, *grads):
    from tensorkeep.ops import array_ops
    x = op.inputs[0]
    grad_y = grads[0]
    data_format = op.get_attr("data_format")
    is_training = op.get_attr("is_training")
    grad_op = _FUSED_BATCH_NORM_GRAD_OPS[op.type]
    args = dict(y_backprop=grad_y, x=x, scale=op.inputs[1], epsilon=op.get_attr("epsilon"),
                is_training=is_training)
    if is_training:
        args.update(reserve_space_1=op.outputs[3], reserve_space_2=op.outputs[4],
                    data_format=data_format)
    else:
        if data_format == b"NCHW":
            args["x"] = array_ops.transpose(x, [0, 2, 3, 1])
            args["y_backprop"] = array_ops.transpose(grad_y, [0, 2, 3, 1])
        elif data_format == b"NCDHW":
            args["x"] = array_ops.transpose(x, [0, 2, 3, 4, 1])
            args["y_backprop"] = array_ops.transpose(grad_y, [0, 2, 3, 4, 1])
        args.update(reserve_space_1=op.inputs[3], reserve_space_2=op.inputs[4],
                    data_format="NHWC" if data_format in (b"NCHW", b"NHWC") else "NDHWC")
    if op.type == "FusedBatchNormV3":
        args["reserve_space_3"] = op.outputs[5]
    dx, dscale, doffset, _, _ = apply_op(grad_op, **args)
    if not is_training:
        if data_format == b"NCHW":
            dx = array_ops.transpose(dx, [0, 3, 1, 2])
        elif data_format == b"NCDHW":
            dx = array_ops.transpose(dx, [0, 4, 1, 2, 3])
    return [dx, dscale, doffset, None, None]


for _op_type in _FUSED_BATCH_NORM_GRAD_OPS:
    register_gradient(_op_type, _fused_batch_norm_gradient)


def fused_batch_norm_v3(x, scale, offset, mean, variance, epsilon=0.0001,
                        exponential_avg_factor=1.0, data_format="NHWC", is_training=True,
                        name=None):
    """The raw FusedBatchNormV3 op: its six outputs."""
    return apply_op("FusedBatchNormV3", x=x, scale=scale, offset=offset, mean=mean,
                    variance=variance, epsilon=epsilon,
                    exponential_avg_factor=exponential_avg_factor, data_format=data_format,
                    is_training=is_training, name=name)


# --- LRN -----------------------------------------------------------------------------------------

def _window_sum_over_depth(values, radius):
    """sum over d' in [d - radius, d + radius] of values[..., d'] (clipped at the edges)."""
    depth = values.shape[-1]
    padded = np.concatenate([np.zeros(values.shape[:-1] + (1,), values.dtype),
                             np.cumsum(values, axis=-1, dtype=values.dtype)], axis=-1)
    upper = np.minimum(np.arange(depth) + radius + 1, depth)
    lower = np.maximum(np.arange(depth) - radius, 0)
    return padded[..., upper] - padded[..., lower]


def _lrn_kernel(op, ctx):
    radius, bias = op._attrs["depth_radius"], op._attrs["bias"]
    alpha, beta = op._attrs["alpha"], op._attrs["beta"]

    def run(x):
        _check_rank4("input", x)
        work = _work(x)
        norm = work.dtype.type(bias) + work.dtype.type(alpha) * _window_sum_over_depth(
            np.square(work), radius)
        return (work * np.power(norm, work.dtype.type(-beta))).astype(x.dtype, copy=False)
    return run


def _lrn_grad_kernel(op, ctx):
    radius, bias = op._attrs["depth_radius"], op._attrs["bias"]
    alpha, beta = op._attrs["alpha"], op._attrs["beta"]

    def run(grads, image, unused_output):
        dtype = grads.dtype
        g, x = _work(grads), _work(image)
        t = x.dtype.type
        norm = t(bias) + t(alpha) * _window_sum_over_depth(np.square(x), radius)
        scaled = g * x * np.power(norm, t(-beta - 1))
        dx = g * np.power(norm, t(-beta)) - t(2 * alpha * beta) * x * \
            _window_sum_over_depth(scaled, radius)
        return dx.astype(dtype, copy=False)
    return run


_LRN_ATTRS = ["depth_radius: int = 5", "bias: float = 1", "alpha: float = 1",
              "beta: float = 0.5", "T: {half, bfloat16, float} = DT_FLOAT"]
register_op("LRN", inputs=["input: T"], outputs=["output: T"], attrs=_LRN_ATTRS,
            kernel=_lrn_kernel, shape=lambda op: [op._inputs[0]._shape_val.merge_with(
                tensor_shape.unknown_shape(4))])
def _lrn_grad_shape(op):
    shape = tensor_shape.unknown_shape(4)
    for tensor in op._inputs:
        shape = shape.merge_with(tensor._shape_val)
    return [shape]


register_op("LRNGrad", inputs=["input_grads: T", "input_image: T", "output_image: T"],
            outputs=["output: T"], attrs=_LRN_ATTRS, kernel=_lrn_grad_kernel,
            shape=_lrn_grad_shape)


def _lrn_attrs(op):
    return {name: op.get_attr(name) for name in ("depth_radius", "bias", "alpha", "beta")}


register_gradient("LRN", lambda op, grad: [
    apply_op("LRNGrad", input_grads=grad, input_image=op.inputs[0], output_image=op.outputs[0],
             **_lrn_attrs(op))])


def local_response_normalization(input, depth_radius=5, bias=1, alpha=1, beta=0.5,  # noqa: A002
                                 name=None):
    return apply_op("LRN", input=input, depth_radius=depth_radius, bias=bias, alpha=alpha,
                    beta=beta, name=name)


# --- InTopK --------------------------------------------------------------------------------------

def _in_top_k(predictions, targets, k):
    """Whether each target scores among the k best; any non-finite score in a row (or a target
    out of range) makes that row False, as in TensorFlow's kernel."""
    if predictions.ndim != 2:
        raise ValueError("predictions must be 2-dimensional")
    if targets.ndim != 1 or targets.shape[0] != predictions.shape[0]:
        raise ValueError("First dimension of predictions %d must match length of targets %d"
                         % (predictions.shape[0], targets.size))
    batch, classes = predictions.shape
    valid = (targets >= 0) & (targets < classes)
    target_score = predictions[np.arange(batch), np.where(valid, targets, 0)]
    with np.errstate(invalid="ignore"):
        higher = (predictions > target_score[:, None]).sum(axis=1)
    row_finite = np.isfinite(predictions).all(axis=1)
    return np.asarray(valid & row_finite & (higher < k))


def _in_top_k_kernel(op, ctx):
    k = op._attrs["k"]
    return lambda predictions, targets: _in_top_k(predictions, targets, k)


def _in_top_k_shape(op):
    predictions = _dims(op, 0, rank=2)
    targets = _dims(op, 1, rank=1)
    batch = predictions[0] if predictions is not None else None
    if targets is not None:
        batch = _merge_dim(batch, targets[0], op, "batch size")
    return [tensor_shape.TensorShape([batch])]


register_op("InTopK", inputs=["predictions: float", "targets: T"], outputs=["precision: bool"],
            attrs=["k: int", "T: {int32, int64} = DT_INT32"], kernel=_in_top_k_kernel,
            shape=_in_top_k_shape)
register_gradient("InTopK", None)


def in_top_k(predictions, targets, k, name=None):
    """tf.nn.in_top_k (TF1 argument order); builds InTopKV2 (math_ops registers it)."""
    with ops.name_scope(name, "in_top_k"):
        return apply_op("InTopKV2", predictions=predictions, targets=targets, k=k, name=name)

