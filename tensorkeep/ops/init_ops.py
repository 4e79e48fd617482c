"""TF1 initializers (tf.zeros_initializer, tf.glorot_uniform_initializer, ...).

An initializer is a callable `init(shape, dtype=None, partition_info=None)` that builds the ops
producing a variable's first value. They build exactly the ops TensorFlow's builders build
(random_uniform's `shape`/`min`/`max`/`RandomUniform`/`sub`/`mul`/add, ...), and random ops
take their seeds from the graph in creation order, so seeded programs get TensorFlow's values
bit for bit.
"""

import math

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import tensor_shape
from tensorkeep.ops import array_ops
from tensorkeep.ops import random_ops


class Initializer:
    """Base class: subclasses build the initial value in __call__."""

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _as_float_dtype(dtype):
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError("Argument `dtype` is expected to be floating point. Received: %s."
                         % dtype)
    return dtype


class _Filled(Initializer):
    """Every element the same: `_fill(shape, dtype)` builds the ops."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return self._fill(shape, self.dtype if dtype is None else dtype)

    def get_config(self):
        return {"dtype": self.dtype.name}


class Zeros(_Filled):
    _fill = staticmethod(array_ops.zeros)


class Ones(_Filled):
    _fill = staticmethod(array_ops.ones)


class Constant(Initializer):
    """A Const holding `value` (a scalar is broadcast to the shape; a list must fill it)."""

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError("Invalid type for initial value=%s of type: %s. Expected Python "
                            "scalar, list or tuple of values, or numpy.ndarray."
                            % (value, type(value).__name__))
        self.value = value
        self.dtype = dtypes.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        if verify_shape is None:
            verify_shape = self._verify_shape
        return array_ops.constant(self.value, dtype=self.dtype if dtype is None else dtype,
                                  shape=shape, verify_shape=verify_shape)

    def get_config(self):
        return {"value": self.value, "dtype": self.dtype.name}


class RandomUniform(Initializer):
    def __init__(self, minval=.0, maxval=None, seed=None, dtype=dtypes.float32):
        self.minval = minval
        self.maxval = maxval
        self.seed = seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_uniform(shape, self.minval, self.maxval,
                                         self.dtype if dtype is None else dtype, seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed,
                "dtype": self.dtype.name}


class _Normal(Initializer):
    """A normal distribution's samples: `_sample(shape, mean, stddev, dtype, seed=)` builds the
    ops."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed
        self.dtype = _as_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return self._sample(shape, self.mean, self.stddev, self.dtype if dtype is None else dtype,
                            seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed,
                "dtype": self.dtype.name}


class RandomNormal(_Normal):
    _sample = staticmethod(random_ops.random_normal)


class TruncatedNormal(_Normal):
    _sample = staticmethod(random_ops.truncated_normal)


class UniformUnitScaling(Initializer):
    """Uniform in [-sqrt(3 / input_size) * factor, +...]; input_size = product of all but the
    last dimension of the full (unpartitioned) shape."""

    def __init__(self, factor=1.0, seed=None, dtype=dtypes.float32):
        self.factor = factor
        self.seed = seed
        self.dtype = _as_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        full_shape = shape if partition_info is None else partition_info.full_shape
        input_size = 1.0
        for dim in full_shape[:-1]:
            input_size *= float(dim)
        limit = math.sqrt(3 / max(input_size, 1.0)) * self.factor
        return random_ops.random_uniform(shape, -limit, limit,
                                         self.dtype if dtype is None else dtype, seed=self.seed)

    def get_config(self):
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


# The standard deviation of a unit normal truncated to [-2, 2]: dividing by it makes the
# truncated distribution's stddev the requested one.
_TRUNCATED_NORMAL_STDDEV = .87962566103423978


class VarianceScaling(Initializer):
    """Samples with variance `scale / n`, n being fan_in, fan_out or their mean."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32):
        if scale <= 0.:
            raise ValueError("Argument `scale` must be a positive float. Received: %s" % scale)
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError("Argument `mode` should be one of ('fan_in', 'fan_out', "
                             "'fan_avg'). Received: %s" % mode)
        distribution = distribution.lower()
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError("Argument `distribution` should be one of ('normal', uniform', "
                             "'truncated_normal', 'untruncated_normal'). Received: %s"
                             % distribution)
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed
        self.dtype = _as_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        if dtype is None:
            dtype = self.dtype
        fan_in, fan_out = _compute_fans(shape if partition_info is None
                                        else partition_info.full_shape)
        if self.mode == "fan_in":
            n = max(1., fan_in)
        elif self.mode == "fan_out":
            n = max(1., fan_out)
        else:
            n = max(1., (fan_in + fan_out) / 2.)
        scale = self.scale / n
        if self.distribution in ("normal", "truncated_normal"):
            return random_ops.truncated_normal(shape, 0.0,
                                               math.sqrt(scale) / _TRUNCATED_NORMAL_STDDEV,
                                               dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.random_normal(shape, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_ops.random_uniform(shape, -limit, limit, dtype, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class _Glorot(VarianceScaling):
    """Variance 2 / (fan_in + fan_out), sampled from `_distribution`.

    Like TensorFlow, the `dtype` argument is kept for the signature only: the ops are built in
    the dtype the caller passes (float32 when none)."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(scale=1.0, mode="fan_avg", distribution=self._distribution, seed=seed)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(_Glorot):
    """Uniform in [-sqrt(6 / (fan_in + fan_out)), +...]; the default of tf.get_variable."""
    _distribution = "uniform"


class GlorotNormal(_Glorot):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""
    _distribution = "truncated_normal"


def _compute_fans(shape):
    """(fan_in, fan_out) of a weight shape: convolution kernels count the receptive field."""
    shape = shape.as_list() if isinstance(shape, tensor_shape.TensorShape) else list(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    receptive_field = 1
    for dim in shape[:-2]:
        receptive_field *= dim
    return int(shape[-2] * receptive_field), int(shape[-1] * receptive_field)


def lecun_normal(seed=None):
    return VarianceScaling(scale=1., mode="fan_in", distribution="truncated_normal", seed=seed)


def lecun_uniform(seed=None):
    return VarianceScaling(scale=1., mode="fan_in", distribution="uniform", seed=seed)


def he_normal(seed=None):
    return VarianceScaling(scale=2., mode="fan_in", distribution="truncated_normal", seed=seed)


def he_uniform(seed=None):
    return VarianceScaling(scale=2., mode="fan_in", distribution="uniform", seed=seed)


# --- tf.contrib.layers initializers ---------------------------------------------------------------

def contrib_variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None,
                                         dtype=dtypes.float32):
    """tf.contrib.layers.variance_scaling_initializer: variance factor / n, n from mode
    'FAN_IN', 'FAN_OUT' or 'FAN_AVG'; the truncated normal uses stddev sqrt(1.3 * factor / n).
    """
    if not dtype.is_floating:
        raise TypeError("Cannot create initializer for non-floating point type.")
    if mode not in ("FAN_IN", "FAN_OUT", "FAN_AVG"):
        raise TypeError("Unknown mode %s [FAN_IN, FAN_OUT, FAN_AVG]" % mode)

    def initializer(shape, dtype=dtype, partition_info=None):
        if not dtype.is_floating:
            raise TypeError("Cannot create initializer for non-floating point type.")
        # The contrib version counts fans in floats and never from the full partitioned shape.
        if shape:
            fan_in = float(shape[-2]) if len(shape) > 1 else float(shape[-1])
            fan_out = float(shape[-1])
        else:
            fan_in = fan_out = 1.0
        for dim in shape[:-2]:
            fan_in *= float(dim)
            fan_out *= float(dim)
        if mode == "FAN_IN":
            n = fan_in
        elif mode == "FAN_OUT":
            n = fan_out
        else:
            n = (fan_in + fan_out) / 2.0
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return random_ops.random_uniform(shape, -limit, limit, dtype, seed=seed)
        return random_ops.truncated_normal(shape, 0.0, math.sqrt(1.3 * factor / n), dtype,
                                           seed=seed)
    return initializer


def xavier_initializer(uniform=True, seed=None, dtype=dtypes.float32):
    """tf.contrib.layers.xavier_initializer: Glorot, uniform in [-sqrt(6 / (in + out)), +...]
    or truncated normal with stddev sqrt(3 / (in + out))."""
    return contrib_variance_scaling_initializer(factor=1.0, mode="FAN_AVG", uniform=uniform,
                                                seed=seed, dtype=dtype)


zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
uniform_unit_scaling_initializer = UniformUnitScaling
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
