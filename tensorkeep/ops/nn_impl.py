"""tf.nn functions that build several ops: softmax over any axis, the cross-entropies, moments,
batch normalization, l2_normalize, dropout, embedding_lookup, depthwise/separable conv.

Each follows TensorFlow's Python builder op for op (same name scopes, same conversions), so the
graphs and node names match what TensorFlow writes. One-op builders live in nn_ops.py.
"""

import numbers

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.ops import array_ops
from tensorkeep.ops import math_ops
from tensorkeep.ops import nn_ops
from tensorkeep.ops import resource_variable_ops


def _deprecated_alias(new_name, new_value, old_name, old_value):
    if new_value is not None and old_value is not None:
        raise ValueError("Cannot specify both '%s' and '%s'" % (old_name, new_name))
    return new_value if new_value is not None else old_value


# --- softmax over an axis ------------------------------------------------------------------------

def _swap_axis(tensor, dim_index, last_index, name=None):
    """Transposes dims dim_index and last_index (last_index may be a tensor)."""
    perm = array_ops.concat([math_ops.range(dim_index), [last_index],
                             math_ops.range(dim_index + 1, last_index), [dim_index]], 0)
    return array_ops.transpose(tensor, perm, name=name)


def _wrap_2d_function(inputs, compute_op, dim=-1, name=None):
    """Applies a last-axis op along `dim` by swapping that axis to the end and back."""
    inputs = ops.convert_to_tensor(inputs)
    shape = inputs.get_shape()
    if dim == -1 or dim == shape.ndims - 1:
        return compute_op(inputs, name=name)
    dim_value = tensor_util.constant_value(dim) if isinstance(dim, ops.Tensor) else dim
    if dim_value is not None and not -shape.ndims <= dim_value < shape.ndims:
        raise errors.InvalidArgumentError(
            None, None, "`dim` must be in the range [%d, %d) where %d is the number of "
            "dimensions in the input. Received: dim=%d" % (-shape.ndims, shape.ndims,
                                                          shape.ndims, dim_value))
    ndims = array_ops.rank(inputs)
    if not isinstance(dim, ops.Tensor):
        if dim < 0:
            dim += ndims
    else:
        dim = array_ops.where(math_ops.less(dim, 0), dim + ndims, dim)
    input_rank = array_ops.rank(inputs)
    dim_axis = dim % shape.ndims
    inputs = _swap_axis(inputs, dim_axis, math_ops.subtract(input_rank, 1))
    output = compute_op(inputs)
    output = _swap_axis(output, dim_axis, math_ops.subtract(input_rank, 1), name=name)
    output.set_shape(shape)
    return output


def softmax(logits, axis=None, name=None, dim=None):
    axis = _deprecated_alias("axis", axis, "dim", dim)
    return _wrap_2d_function(logits, nn_ops.softmax, -1 if axis is None else axis, name)


def log_softmax(logits, axis=None, name=None, dim=None):
    axis = _deprecated_alias("axis", axis, "dim", dim)
    return _wrap_2d_function(logits, nn_ops.log_softmax, -1 if axis is None else axis, name)


# --- softmax cross-entropy ---------------------------------------------------------------------

def _flatten_outer_dims(logits):
    """Reshapes [d0, ..., dn, classes] to [d0 * ... * dn, classes]."""
    rank = array_ops.rank(logits)
    last_dim_size = array_ops.slice(array_ops.shape(logits), [math_ops.subtract(rank, 1)], [1])
    output = array_ops.reshape(logits, array_ops.concat([[-1], last_dim_size], 0))
    shape = logits.get_shape()
    if shape.ndims is not None:
        dims = shape.as_list()
        if all(d is not None for d in dims[:-1]):
            output.set_shape([int(np.prod(dims[:-1], dtype=np.int64)), dims[-1]])
    return output


def _ensure_xent_args(name, labels, logits):
    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided for %s. Received: "
                         "labels=%s and logits=%s" % (name, labels, logits))


def softmax_cross_entropy_with_logits_v2(labels=None, logits=None, axis=None, name=None,
                                         dim=None):
    """tf.nn.softmax_cross_entropy_with_logits_v2 (gradients also flow into labels)."""
    _ensure_xent_args("softmax_cross_entropy_with_logits", labels, logits)
    axis = _deprecated_alias("axis", axis, "dim", dim)
    if axis is None:
        axis = -1
    with ops.name_scope(name, "softmax_cross_entropy_with_logits", [logits, labels]) as scope:
        logits = ops.convert_to_tensor(logits, name="logits")
        labels = ops.convert_to_tensor(labels, name="labels")
        to_float32 = logits.dtype.base_dtype in (dtypes.float16, dtypes.bfloat16)
        precise_logits = math_ops.cast(logits, dtypes.float32) if to_float32 else logits
        labels = math_ops.cast(labels, precise_logits.dtype)
        input_rank = array_ops.rank(precise_logits)
        shape = logits.get_shape()
        if axis != -1:
            def move_dim_to_end(tensor, dim_index, rank):
                return array_ops.transpose(tensor, array_ops.concat(
                    [math_ops.range(dim_index), math_ops.range(dim_index + 1, rank),
                     [dim_index]], 0))
            precise_logits = move_dim_to_end(precise_logits, axis, input_rank)
            labels = move_dim_to_end(labels, axis, input_rank)
        input_shape = array_ops.shape(precise_logits)
        precise_logits = _flatten_outer_dims(precise_logits)
        labels = _flatten_outer_dims(labels)
        cost, _ = nn_ops.softmax_cross_entropy_with_logits(precise_logits, labels, name=scope)
        output_shape = array_ops.slice(input_shape, [0], [math_ops.subtract(input_rank, 1)])
        cost = array_ops.reshape(cost, output_shape)
        if shape.ndims is not None:
            dims = shape.as_list()
            del dims[axis]
            cost.set_shape(dims)
        return math_ops.cast(cost, logits.dtype) if to_float32 else cost


def softmax_cross_entropy_with_logits(labels=None, logits=None, dim=-1, name=None, axis=None):
    """tf.nn.softmax_cross_entropy_with_logits (TF1): no gradient into labels."""
    dim = _deprecated_alias("axis", axis, "dim", dim)
    _ensure_xent_args("softmax_cross_entropy_with_logits", labels, logits)
    with ops.name_scope(name, "softmax_cross_entropy_with_logits_sg",
                        [logits, labels]) as scope:
        labels = array_ops.stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=dim,
                                                name=scope)


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    _ensure_xent_args("sparse_softmax_cross_entropy_with_logits", labels, logits)
    with ops.name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [labels, logits]):
        labels = ops.convert_to_tensor(labels)
        logits = ops.convert_to_tensor(logits)
        is_half = logits.dtype.base_dtype is dtypes.float16
        precise_logits = math_ops.cast(logits, dtypes.float32) if is_half else logits
        labels_static_shape = labels.get_shape()
        labels_shape = array_ops.shape(labels)
        logits_shape = logits.get_shape()
        if logits_shape.ndims == 0:
            raise ValueError("`logits` cannot be a scalar. Received logits=%s`" % logits)
        if logits_shape.ndims is not None and labels_static_shape.ndims is not None and \
                labels_static_shape.ndims != logits_shape.ndims - 1:
            raise ValueError("`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
                             "labels.shape=%s of rank %d and logits.shape=%s of rank %d"
                             % (labels_static_shape, labels_static_shape.ndims, logits_shape,
                                logits_shape.ndims))
        static_shapes_known = labels_static_shape.is_fully_defined() and \
            logits_shape[:-1].is_fully_defined()
        if static_shapes_known and labels_static_shape != logits_shape[:-1]:
            raise ValueError("`labels.shape` must equal `logits.shape` except for the last "
                             "dimension. Received: labels.shape=%s and logits.shape=%s"
                             % (labels_static_shape, logits_shape))
        if logits_shape.ndims == 2:
            cost, _ = nn_ops.sparse_softmax_cross_entropy_with_logits(precise_logits, labels,
                                                                      name=name)
            return math_ops.cast(cost, dtypes.float16) if is_half else cost
        if not static_shapes_known:
            raise NotImplementedError(
                "tensorkeep's sparse_softmax_cross_entropy_with_logits needs statically known "
                "shapes for logits of rank != 2 (TensorFlow adds a runtime assert_equal here)")
        num_classes = array_ops.shape(logits)[array_ops.rank(logits) - 1]
        precise_logits = array_ops.reshape(precise_logits, [-1, num_classes])
        labels = array_ops.reshape(labels, [-1])
        cost, _ = nn_ops.sparse_softmax_cross_entropy_with_logits(precise_logits, labels,
                                                                  name=name)
        cost = array_ops.reshape(cost, labels_shape)
        cost.set_shape(labels_static_shape)
        return math_ops.cast(cost, dtypes.float16) if is_half else cost


def _check_same_shape(labels, logits):
    try:
        labels.get_shape().assert_is_compatible_with(logits.get_shape())
    except ValueError:
        raise ValueError("`logits` and `labels` must have the same shape, received (%s vs %s)."
                         % (logits.get_shape(), labels.get_shape()))


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """max(x, 0) - x * z + log(1 + exp(-abs(x))), the stable form TensorFlow builds."""
    _ensure_xent_args("sigmoid_cross_entropy_with_logits", labels, logits)
    with ops.name_scope(name, "logistic_loss", [logits, labels]) as scope:
        logits = ops.convert_to_tensor(logits, name="logits")
        labels = ops.convert_to_tensor(labels, name="labels")
        _check_same_shape(labels, logits)
        zeros = array_ops.zeros_like(logits, dtype=logits.dtype)
        cond = logits >= zeros
        relu_logits = array_ops.where(cond, logits, zeros)
        neg_abs_logits = array_ops.where(cond, -logits, logits)
        return math_ops.add(relu_logits - logits * labels,
                            math_ops.log1p(math_ops.exp(neg_abs_logits)), name=scope)


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name=None,
                                       targets=None):
    labels = _deprecated_alias("labels", labels, "targets", targets)
    with ops.name_scope(name, "logistic_loss", [logits, labels]) as scope:
        logits = ops.convert_to_tensor(logits, name="logits")
        labels = ops.convert_to_tensor(labels, name="labels")
        _check_same_shape(labels, logits)
        log_weight = 1 + (pos_weight - 1) * labels
        return math_ops.add(
            (1 - labels) * logits,
            log_weight * (math_ops.log1p(math_ops.exp(-math_ops.abs(logits))) +
                          nn_ops.relu(-logits)),
            name=scope)


# --- normalization -----------------------------------------------------------------------------

def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    axis = _deprecated_alias("axis", axis, "dim", dim)
    with ops.name_scope(name, "l2_normalize", [x]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        square_sum = math_ops.reduce_sum(math_ops.square(x), axis, keepdims=True)
        x_inv_norm = math_ops.rsqrt(math_ops.maximum(square_sum, epsilon))
        return math_ops.multiply(x, x_inv_norm, name=scope)


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """Mean and (biased) variance of x over `axes`."""
    keep_dims = _deprecated_alias("keepdims", keepdims, "keep_dims", keep_dims)
    with ops.name_scope(name, "moments", [x, axes]):
        y = math_ops.cast(x, dtypes.float32) if x.dtype.base_dtype is dtypes.float16 else x
        mean = math_ops.reduce_mean(y, axes, keepdims=True, name="mean")
        variance = math_ops.reduce_mean(
            math_ops.squared_difference(y, array_ops.stop_gradient(mean)), axes,
            keepdims=True, name="variance")
        if not keep_dims:
            mean = array_ops.squeeze(mean, axes)
            variance = array_ops.squeeze(variance, axes)
        if x.dtype.base_dtype is dtypes.float16:
            return (math_ops.cast(mean, dtypes.float16), math_ops.cast(variance, dtypes.float16))
        return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    with ops.name_scope(name, "batchnorm", [x, mean, variance, scale, offset]):
        inv = math_ops.rsqrt(variance + variance_epsilon)
        if scale is not None:
            inv *= scale
        return x * math_ops.cast(inv, x.dtype) + math_ops.cast(
            offset - mean * inv if offset is not None else -mean * inv, x.dtype)


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None,
                     exponential_avg_factor=1.0):
    """Returns (y, running mean, running variance) from one FusedBatchNormV3 op."""
    if (not is_training or exponential_avg_factor != 1.0) and (mean is None or variance is None):
        raise ValueError("Both `mean` and `variance` must be a 1D tensor when `is_training` is "
                         "False or `exponential_avg_factor` != 1.0. Received: `mean` %r and "
                         "`variance` %r" % (mean, variance))
    x = ops.convert_to_tensor(x, name="input")
    scale = ops.convert_to_tensor(scale, name="scale")
    offset = ops.convert_to_tensor(offset, name="offset")
    if mean is None:
        mean = array_ops.constant([])
    if variance is None:
        variance = array_ops.constant([])
    y, running_mean, running_var, _, _, _ = nn_ops.fused_batch_norm_v3(
        x, scale, offset, mean, variance, epsilon=epsilon,
        exponential_avg_factor=exponential_avg_factor, data_format=data_format,
        is_training=is_training, name=name)
    return y, running_mean, running_var


# --- dense helpers -------------------------------------------------------------------------------

def _dense(default_name, x, weights, biases, name, finish):
    """finish(matmul(x, weights), biases, scope) inside TensorFlow's scope for dense helpers,
    where x, weights and biases are converted under their own names first."""
    with ops.name_scope(name, default_name, [x, weights, biases]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        weights = ops.convert_to_tensor(weights, name="weights")
        biases = ops.convert_to_tensor(biases, name="biases")
        return finish(math_ops.matmul(x, weights), biases, scope)


def xw_plus_b(x, weights, biases, name=None):
    return _dense("xw_plus_b", x, weights, biases, name, lambda product, biases, scope:
                  nn_ops.bias_add(product, biases, name=scope))


def xw_plus_b_v1(x, weights, biases, name=None):
    return _dense("xw_plus_b_v1", x, weights, biases, name, lambda product, biases, scope:
                  nn_ops.bias_add_v1(product, biases, name=scope))


def relu_layer(x, weights, biases, name=None):
    return _dense("relu_layer", x, weights, biases, name, lambda product, biases, scope:
                  nn_ops.relu(nn_ops.bias_add(product, biases), name=scope))


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    """Gathers rows of `params` (one tensor or variable; sharded lists are not supported)."""
    if params is None:
        raise ValueError("params must be specified")
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("Length of params is currently 0. Need at least one param.")
        if len(params) > 1:
            raise NotImplementedError("tensorkeep's embedding_lookup takes one params tensor; "
                                      "sharded (partitioned) params are not supported")
        params = params[0]
    if max_norm is not None:
        raise NotImplementedError("tensorkeep's embedding_lookup does not support max_norm")
    with ops.name_scope(name, "embedding_lookup", [params, ids]) as scope:
        # A resource variable stays a variable so the gather reads only the wanted rows
        # (ResourceGather on its handle), as in TensorFlow.
        if not isinstance(params, resource_variable_ops.ResourceVariable):
            params = ops.convert_to_tensor(params, name="params")
        ids = ops.convert_to_tensor(ids, name="ids")
        with ops.colocate_with(params.op):
            result = array_ops.gather(params, ids, name=scope)
        return array_ops.identity(result)


# --- dropout -----------------------------------------------------------------------------------

def _noise_shape(x, noise_shape):
    if noise_shape is None:
        return array_ops.shape(x)
    try:
        wanted = tensor_shape.as_shape(noise_shape)
    except (TypeError, ValueError):
        return noise_shape
    if x.shape.ndims is not None and x.shape.ndims == wanted.ndims:
        return [d if w is None and d is not None else w
                for d, w in zip(x.shape.as_list(), wanted.as_list())]
    return noise_shape


def dropout_v2(x, rate, noise_shape=None, seed=None, name=None):
    """Zeroes elements with probability `rate` and scales the rest by 1 / (1 - rate)."""
    from tensorkeep.ops import random_ops
    with ops.name_scope(name, "dropout", [x]):
        is_rate_number = isinstance(rate, numbers.Real)
        if is_rate_number and (rate < 0 or rate >= 1):
            raise ValueError("`rate` must be a scalar tensor or a float in the range [0, 1). "
                             "Received: rate=%s" % rate)
        x = ops.convert_to_tensor(x, name="x")
        x_dtype = x.dtype.base_dtype
        if not x_dtype.is_floating:
            raise ValueError("`x.dtype` must be a floating point tensor as `x` will be scaled. "
                             "Received: x_dtype=%s" % x_dtype.name)
        if is_rate_number and rate == 0:
            return x
        if is_rate_number:
            scale = ops.convert_to_tensor(1 / (1 - rate), dtype=x_dtype)
            ret = apply_op("Mul", x=x, y=scale)
        elif isinstance(rate, ops.Tensor):
            rate.get_shape().assert_has_rank(0)
            if rate.dtype.base_dtype != x_dtype:
                rate = math_ops.cast(rate, x_dtype, name="rate")
            one = array_ops.constant(1, dtype=x_dtype)
            ret = apply_op("RealDiv", x=x, y=apply_op("Sub", x=one, y=rate))
        else:
            raise ValueError("`rate` must be a scalar or scalar tensor. Received: rate=%s"
                             % (rate,))
        random_tensor = random_ops.random_uniform(_noise_shape(x, noise_shape), seed=seed,
                                                  dtype=x_dtype)
        keep_mask = random_tensor >= rate
        ret = array_ops.where_v2(keep_mask, ret, array_ops.constant(0, dtype=x_dtype))
        ret.set_shape(x.get_shape())
        return ret


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """tf.nn.dropout (TF1 signature): pass keep_prob, or rate = 1 - keep_prob."""
    try:
        rate_from_keep_prob = 1. - keep_prob if keep_prob is not None else None
    except TypeError:
        raise ValueError("`keep_prob` must be a floating point number or Tensor. Received: "
                         "keep_prob=%s" % (keep_prob,))
    rate = _deprecated_alias("rate", rate, "keep_prob", rate_from_keep_prob)
    if rate is None:
        raise ValueError("`rate` must be provided. Received: rate=None")
    return dropout_v2(x, rate, noise_shape=noise_shape, seed=seed, name=name)


# --- depthwise and separable convolution ---------------------------------------------------------

def _dilated(rate, strides, padding, data_format, build):
    """TensorFlow routes these through with_space_to_batch; for rate 1 that only converts the
    rate to a constant before building the op. Larger rates become the op's dilations attr."""
    rate = [1, 1] if rate is None else list(rate)
    ops.convert_to_tensor(rate, dtypes.int32, name="dilation_rate")
    if any(r != 1 for r in rate):
        if any(s != 1 for s in strides):
            raise ValueError("When dilation rate is greater than 1, all values of strides must "
                             "be 1. Received: dilation rate %s and strides %s" % (rate, strides))
        nc = data_format is not None and data_format.startswith("NC")
        return build([1, 1] + rate if nc else [1] + rate + [1])
    return build([1, 1, 1, 1])


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None,  # noqa: A002
                     data_format=None, dilations=None):
    rate = _deprecated_alias("dilations", dilations, "rate", rate)
    with ops.name_scope(name, "depthwise", [input, filter]) as scope:
        input = ops.convert_to_tensor(input, name="tensor_in")  # noqa: A001
        filter = ops.convert_to_tensor(filter, name="filter_in")  # noqa: A001
        array_ops.shape(filter)
        return _dilated(rate, strides, padding, data_format, lambda dilation_attr:
                        nn_ops.depthwise_conv2d_native(input, filter, strides, padding,
                                                       data_format=data_format,
                                                       dilations=dilation_attr, name=scope))


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,  # noqa: A002
                     rate=None, name=None, data_format=None, dilations=None):
    rate = _deprecated_alias("dilations", dilations, "rate", rate)
    with ops.name_scope(name, "separable_conv2d",
                        [input, depthwise_filter, pointwise_filter]) as scope:
        input = ops.convert_to_tensor(input, name="tensor_in")  # noqa: A001
        depthwise_filter = ops.convert_to_tensor(depthwise_filter, name="depthwise_filter")
        pointwise_filter = ops.convert_to_tensor(pointwise_filter, name="pointwise_filter")
        pointwise_shape = pointwise_filter.get_shape().with_rank(4)
        for d in pointwise_shape.as_list()[:2]:
            if d not in (None, 1):
                raise ValueError("pointwise_filter must be 1x1, got shape %s" % pointwise_shape)
        array_ops.shape(depthwise_filter)
        depthwise = _dilated(rate, strides, padding, data_format, lambda dilation_attr:
                             nn_ops.depthwise_conv2d_native(input, depthwise_filter, strides,
                                                            padding, data_format=data_format,
                                                            dilations=dilation_attr,
                                                            name="depthwise"))
        return nn_ops.conv2d(depthwise, pointwise_filter, [1, 1, 1, 1], padding="VALID",
                             data_format=data_format or "NHWC", name=scope)
