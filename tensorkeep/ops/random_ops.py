"""Random ops reproducing TensorFlow bit for bit: RandomStandardNormal, TruncatedNormal,
RandomUniform, RandomUniformInt, and the TF1 builders random_normal, truncated_normal,
random_uniform, set_random_seed.

The numerics (Philox4x32-10 and TensorFlow's distributions) are in random_kernels.py; the seed
rules in framework/random_seed.py. Each op keeps one Philox stream per session, so successive
runs continue the sequence as TensorFlow's kernels do.
"""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import random_seed
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.ops import math_ops
from tensorkeep.ops import random_kernels


def _stream(ctx, op):
    stream = ctx.random_streams.get(op._name)
    if stream is None:
        stream = random_kernels.PhiloxStream(op._attrs["seed"], op._attrs["seed2"])
        ctx.random_streams[op._name] = stream
    return stream


def _float_kernel(sample):
    def factory(op, ctx):
        dtype = op._attrs["dtype"].as_numpy

        def run(shape):
            dims = [int(d) for d in np.ravel(shape)]
            return sample(_stream(ctx, op), dims, dtype)
        return run
    return factory


def _random_shape(op):
    return [tensor_util.constant_value_as_shape(op._inputs[0])]


for _op_type, _sample in (("RandomStandardNormal", random_kernels.random_standard_normal),
                          ("TruncatedNormal", random_kernels.truncated_normal),
                          ("RandomUniform", random_kernels.random_uniform)):
    register_op(_op_type, inputs=["shape: T"], outputs=["output: dtype"],
                attrs=["seed: int = 0", "seed2: int = 0",
                       "dtype: {half, bfloat16, float, double}", "T: {int32, int64}"],
                stateful=True, kernel=_float_kernel(_sample), shape=_random_shape)
    register_gradient(_op_type, None)


def _uniform_int_kernel(op, ctx):
    dtype = op._attrs["Tout"].as_numpy

    def run(shape, minval, maxval):
        dims = [int(d) for d in np.ravel(shape)]
        return random_kernels.random_uniform_int(_stream(ctx, op), dims, minval, maxval, dtype)
    return run


register_op("RandomUniformInt", inputs=["shape: T", "minval: Tout", "maxval: Tout"],
            outputs=["output: Tout"],
            attrs=["seed: int = 0", "seed2: int = 0", "Tout: {int32, int64}", "T: {int32, int64}"],
            stateful=True, kernel=_uniform_int_kernel, shape=_random_shape)
register_gradient("RandomUniformInt", None)


# --- seeds -------------------------------------------------------------------------------------

def set_random_seed(seed):
    """Sets the default graph's random seed (tf.set_random_seed)."""
    ops.get_default_graph().seed = seed


def get_seed(op_seed):
    """The (seed, seed2) pair for a new random op in the default graph (tf.get_seed)."""
    graph = ops.get_default_graph()
    seeds = random_seed.get_seed(graph.seed, op_seed, graph._random_seed_counter)
    if random_seed.uses_graph_op_counter(graph.seed, op_seed):
        graph._random_seed_counter += 1
    return seeds


def _seed_attrs(seed):
    return random_seed.kernel_seed_attrs(*get_seed(seed))


# --- builders ----------------------------------------------------------------------------------

def _shape_tensor(shape):
    if isinstance(shape, (ops.Tensor,)) or hasattr(shape, "_as_graph_element"):
        return ops.convert_to_tensor(shape, name="shape")
    if isinstance(shape, tensor_shape.TensorShape):
        shape = shape.as_list()
    values = list(shape) if isinstance(shape, (list, tuple, np.ndarray)) else [shape]
    if any(isinstance(v, ops.Tensor) for v in values):
        from tensorkeep.ops import array_ops
        return array_ops.stack(values, name="shape")
    wide = any(int(v) >= 2 ** 31 for v in values)
    return ops.convert_to_tensor(values, dtype=dtypes.int64 if wide else dtypes.int32,
                                 name="shape")


def _set_static_shape(tensor, shape):
    if isinstance(shape, (list, tuple)) and not any(isinstance(s, ops.Tensor) for s in shape):
        try:
            tensor.set_shape(shape)
        except (TypeError, ValueError):
            pass


def _normal_like(op_type, default_name):
    def build(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
        dtype = dtypes.as_dtype(dtype)
        with ops.name_scope(name, default_name, [shape, mean, stddev]) as scope:
            shape_t = _shape_tensor(shape)
            mean_t = ops.convert_to_tensor(mean, dtype=dtype, name="mean")
            stddev_t = ops.convert_to_tensor(stddev, dtype=dtype, name="stddev")
            seed1, seed2 = _seed_attrs(seed)
            rnd = apply_op(op_type, shape=shape_t, dtype=dtype, seed=seed1, seed2=seed2)
            mul = rnd * stddev_t
            value = math_ops.add(mul, mean_t, name=scope)
            _set_static_shape(value, shape)
            return value
    build.__name__ = default_name
    return build


random_normal = _normal_like("RandomStandardNormal", "random_normal")
truncated_normal = _normal_like("TruncatedNormal", "truncated_normal")


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """tf.random_uniform: floats in [minval, maxval) (default [0, 1)) or ints in [minval,
    maxval) (maxval required)."""
    dtype = dtypes.as_dtype(dtype)
    if dtype not in (dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64,
                     dtypes.int32, dtypes.int64):
        raise ValueError("Invalid dtype %r" % dtype)
    if maxval is None:
        if dtype.is_integer:
            raise ValueError("Must specify maxval for integer dtype %r" % dtype)
        maxval = 1
    with ops.name_scope(name, "random_uniform", [shape, minval, maxval]) as scope:
        shape_t = _shape_tensor(shape)
        # [0, 1) floats need no affine transform (TensorFlow skips the ops entirely).
        minval_is_zero = isinstance(minval, int) and not isinstance(minval, bool) and minval == 0
        maxval_is_one = isinstance(maxval, int) and not isinstance(maxval, bool) and maxval == 1
        if not minval_is_zero or not maxval_is_one or dtype.is_integer:
            minval = ops.convert_to_tensor(minval, dtype=dtype, name="min")
            maxval = ops.convert_to_tensor(maxval, dtype=dtype, name="max")
        seed1, seed2 = _seed_attrs(seed)
        if dtype.is_integer:
            result = apply_op("RandomUniformInt", shape=shape_t, minval=minval, maxval=maxval,
                              seed=seed1, seed2=seed2, name=scope)
        else:
            result = apply_op("RandomUniform", shape=shape_t, dtype=dtype, seed=seed1,
                              seed2=seed2)
            if minval_is_zero:
                if not maxval_is_one:
                    result = math_ops.multiply(result, maxval)
            else:
                result = math_ops.add(result * (maxval - minval), minval, name=scope)
        _set_static_shape(result, shape)
        return result


def random_shuffle(value, seed=None, name=None):
    seed1, seed2 = _seed_attrs(seed)
    return apply_op("RandomShuffle", value=value, seed=seed1, seed2=seed2, name=name)


def _shuffle_kernel(op, ctx):
    def run(value):
        stream = _stream(ctx, op)
        value = np.asarray(value)
        if value.ndim == 0 or value.shape[0] <= 1:
            return value
        # A permutation drawn from the op's stream: seeded runs repeat, but the order is not
        # TensorFlow's (its shuffle consumes the stream differently).
        n = value.shape[0]
        words = random_kernels.random_uniform(stream, [n], np.float64)
        order = np.argsort(words, kind="stable")
        return value[order]
    return run


register_op("RandomShuffle", inputs=["value: T"], outputs=["output: T"],
            attrs=["seed: int = 0", "seed2: int = 0", "T: type"], stateful=True,
            kernel=_shuffle_kernel, shape=lambda op: [op._inputs[0]._shape_val])
register_gradient("RandomShuffle", None)
