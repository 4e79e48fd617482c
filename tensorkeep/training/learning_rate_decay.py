"""TF1's learning-rate schedules (tf.train.exponential_decay, ...): each builds, under its own
name scope, the ops computing the decayed rate from the global step, as TensorFlow's schedules
do (same ops, same names, same float arithmetic)."""

import math

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops import math_ops


def _check_step(global_step, schedule):
    if global_step is None:
        raise ValueError("global_step is required for %s." % schedule)


def _decay_progress(learning_rate, global_step, decay_steps, decay_rate, staircase):
    """(initial rate, decay rate, p = global_step / decay_steps, floored when staircase), all in
    the learning rate's dtype: the ops the exponential and inverse-time schedules share."""
    initial_learning_rate = ops.convert_to_tensor(learning_rate, name="initial_learning_rate")
    dtype = initial_learning_rate.dtype
    decay_steps = math_ops.cast(decay_steps, dtype)
    decay_rate = math_ops.cast(decay_rate, dtype)
    p = math_ops.cast(global_step, dtype) / decay_steps
    if staircase:
        p = math_ops.floor(p)
    return initial_learning_rate, decay_rate, p


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * decay_rate ^ (global_step / decay_steps) (the exponent floored when
    staircase)."""
    _check_step(global_step, "exponential_decay")
    with ops.name_scope(name, "ExponentialDecay") as name:
        initial_learning_rate, decay_rate, p = _decay_progress(
            learning_rate, global_step, decay_steps, decay_rate, staircase)
        return math_ops.multiply(initial_learning_rate, math_ops.pow(decay_rate, p), name=name)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * exp(-decay_rate * global_step / decay_steps)."""
    _check_step(global_step, "natural_exp_decay")
    natural_exp_rate = math_ops.exp(math_ops.negative(decay_rate))
    return exponential_decay(learning_rate, global_step, decay_steps, natural_exp_rate,
                             staircase=staircase, name=name)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    """learning_rate / (1 + decay_rate * global_step / decay_steps)."""
    _check_step(global_step, "inverse_time_decay")
    with ops.name_scope(name, "InverseTimeDecay") as name:
        initial_learning_rate, decay_rate, p = _decay_progress(
            learning_rate, global_step, decay_steps, decay_rate, staircase)
        const = math_ops.cast(array_ops.constant(1), initial_learning_rate.dtype)
        denom = math_ops.add(const, math_ops.multiply(decay_rate, p))
        return math_ops.divide(initial_learning_rate, denom, name=name)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    """(learning_rate - end) * (1 - step / decay_steps) ^ power + end, the step clipped to
    decay_steps (or, cycling, decay_steps stretched to the next multiple past the step)."""
    _check_step(global_step, "polynomial_decay")
    with ops.name_scope(name, "PolynomialDecay") as name:
        initial_learning_rate = ops.convert_to_tensor(learning_rate,
                                                      name="initial_learning_rate")
        dtype = initial_learning_rate.dtype
        end_learning_rate = math_ops.cast(end_learning_rate, dtype)
        power = math_ops.cast(power, dtype)
        global_step_recomp = math_ops.cast(global_step, dtype)
        decay_steps_recomp = math_ops.cast(decay_steps, dtype)
        if cycle:
            # Step 0 divides by 1 decay period, not 0.
            multiplier = array_ops.where_v2(math_ops.equal(global_step_recomp, 0), 1.0,
                                            math_ops.ceil(global_step_recomp / decay_steps))
            decay_steps_recomp = math_ops.multiply(decay_steps_recomp, multiplier)
        else:
            global_step_recomp = math_ops.minimum(global_step_recomp, decay_steps_recomp)
        p = math_ops.divide(global_step_recomp, decay_steps_recomp)
        return math_ops.add(
            math_ops.multiply(initial_learning_rate - end_learning_rate,
                              math_ops.pow(1 - p, power)),
            end_learning_rate, name=name)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) /
    decay_steps)) + alpha)."""
    _check_step(global_step, "cosine_decay")
    with ops.name_scope(name, "CosineDecay"):
        initial_learning_rate = ops.convert_to_tensor(learning_rate,
                                                      name="initial_learning_rate")
        dtype = initial_learning_rate.dtype
        decay_steps = math_ops.cast(decay_steps, dtype)
        global_step_recomp = math_ops.cast(global_step, dtype)
        global_step_recomp = math_ops.minimum(global_step_recomp, decay_steps)
        completed_fraction = global_step_recomp / decay_steps
        cosine_decayed = 0.5 * (1.0 + math_ops.cos(array_ops.constant(math.pi) *
                                                   completed_fraction))
        decayed = (1 - alpha) * cosine_decayed + alpha
        return math_ops.multiply(initial_learning_rate, decayed)


def piecewise_constant(x, boundaries, values, name=None):
    """values[0] while x <= boundaries[0], values[i] while boundaries[i-1] < x <=
    boundaries[i], values[-1] past the last boundary."""
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    boundaries = [ops.convert_to_tensor(b) for b in boundaries]
    values = [ops.convert_to_tensor(v) for v in values]
    x_recomp = ops.convert_to_tensor(x)
    for i, b in enumerate(boundaries):
        if b.dtype.base_dtype != x_recomp.dtype.base_dtype:
            if b.dtype.base_dtype is dtypes.int32 and x_recomp.dtype.base_dtype is dtypes.int64:
                boundaries[i] = math_ops.cast(b, x_recomp.dtype.base_dtype)
            else:
                raise ValueError("Boundaries (%s) must have the same dtype as x (%s)."
                                 % (b.dtype.base_dtype, x_recomp.dtype.base_dtype))
    for v in values[1:]:
        if v.dtype.base_dtype != values[0].dtype.base_dtype:
            raise ValueError("Values must have elements all with the same dtype (%s vs %s)."
                             % (values[0].dtype.base_dtype, v.dtype.base_dtype))
    with ops.name_scope(name, "PiecewiseConstant"):
        # TensorFlow converts again inside the scope; the conversions are no-ops for tensors.
        pred_fn_pairs = [(x_recomp <= boundaries[0], lambda: values[0]),
                         (x_recomp > boundaries[-1], lambda: values[-1])]
        for low, high, v in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            pred = (x_recomp > low) & (x_recomp <= high)
            pred_fn_pairs.append((pred, lambda v=v: v))
        return control_flow_ops.case(pred_fn_pairs, lambda: values[0], exclusive=True)
