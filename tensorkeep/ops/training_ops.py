"""Training ops: the Apply*/SparseApply* updates that optimizers run on ref variables, and their
ResourceApply* twins.

Schemas are TensorFlow's OpDefs. The update math follows TensorFlow's CPU kernels term by term
(same operations, same order, in the variable's dtype) so that results agree to a few ulps.
A kernel reads the current values of its ref inputs and updates them: in place when nothing
else holds their arrays, else into new arrays stored in the VarRefs (never writing into an array
that an earlier read, a fetch or a view may still hold; see _kernel_factory); it outputs the
variable's ref.
"""

import re

import threading

import numpy as np

from tensorkeep.framework import errors
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import get_schema, register_gradient, register_op
from tensorkeep.ops import _helpers, kernel_threads

# TensorFlow's `numbertype`, in its OpDef order.
_NUMBER_TYPE = ("T: {float, double, int32, uint8, int16, int8, complex64, int64, qint8, quint8, "
                "qint32, bfloat16, qint16, quint16, uint16, complex128, half, uint32, uint64}")
_INDICES = "Tindices: {int32, int64}"
_USE_LOCKING = "use_locking: bool = false"


# --- the update math, one function per kernel ---------------------------------------------------
# Each takes the current values of the ref inputs followed by the other inputs, in the op's
# input order, and returns the new values of the ref inputs.

def _rsqrt(x):
    return np.reciprocal(np.sqrt(x))


def _gradient_descent(attrs, var, alpha, delta):
    return (var - delta * alpha,)


def _proximal_gradient_descent(attrs, var, alpha, l1, l2, delta):
    prox = var - delta * alpha
    one = np.ones((), var.dtype)
    if l1 > 0:
        shrunk = np.maximum(np.abs(prox) - alpha * l1, np.zeros((), var.dtype))
        return (np.sign(prox) * shrunk / (one + l2 * alpha),)
    return (prox / (one + l2 * alpha),)


def _momentum(attrs, var, accum, lr, grad, momentum):
    accum = accum * momentum + grad
    if attrs["use_nesterov"]:
        return var - (grad * lr + accum * momentum * lr), accum
    return var - accum * lr, accum


def _adam(attrs, var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad):
    one = np.ones((), var.dtype)
    alpha = lr * np.sqrt(one - beta2_power) / (one - beta1_power)
    m = m + (grad - m) * (one - beta1)
    v = v + (np.square(grad) - v) * (one - beta2)
    if attrs["use_nesterov"]:
        step = ((grad * (one - beta1) + beta1 * m) * alpha) / (np.sqrt(v) + epsilon)
    else:
        step = (m * alpha) / (np.sqrt(v) + epsilon)
    return var - step, m, v


def _rms_prop(attrs, var, ms, mom, lr, rho, momentum, epsilon, grad):
    one = np.ones((), var.dtype)
    ms = ms + (np.square(grad) - ms) * (one - rho)
    mom = mom * momentum + (grad * lr) / np.sqrt(ms + epsilon)
    return var - mom, ms, mom


def _centered_rms_prop(attrs, var, mg, ms, mom, lr, rho, momentum, epsilon, grad):
    one = np.ones((), var.dtype)
    ms = ms + (np.square(grad) - ms) * (one - rho)
    mg = mg + (grad - mg) * (one - rho)
    denom = (ms - np.square(mg)) + epsilon
    mom = mom * momentum + (grad * lr) / np.sqrt(denom)
    return var - mom, mg, ms, mom


def _adagrad(attrs, var, accum, lr, grad):
    if attrs["update_slots"]:
        accum = accum + np.square(grad)
    return var - grad * lr * _rsqrt(accum), accum


def _adagrad_v2(attrs, var, accum, lr, epsilon, grad):
    if attrs["update_slots"]:
        accum = accum + np.square(grad)
    return var - grad * lr / (np.sqrt(accum) + epsilon), accum


def _adadelta(attrs, var, accum, accum_update, lr, rho, epsilon, grad):
    one = np.ones((), var.dtype)
    accum = accum * rho + np.square(grad) * (one - rho)
    update = np.sqrt(accum_update + epsilon) * _rsqrt(accum + epsilon) * grad
    var = var - update * lr
    accum_update = accum_update * rho + np.square(update) * (one - rho)
    return var, accum, accum_update


def _accum_power(lr_power):
    """x ** -lr_power, as FTRL takes it of the accumulator: sqrt for the usual lr_power -0.5."""
    if lr_power == -0.5:
        return np.sqrt
    return lambda x: np.power(x, -lr_power)


def _ftrl_common(attrs, var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power):
    two = np.asarray(2, var.dtype)
    new_accum = accum + np.square(grad)
    shrunk_grad = grad if l2_shrinkage is None else grad + two * l2_shrinkage * var
    power = _accum_power(lr_power)
    if attrs["multiply_linear_by_lr"]:
        linear = linear + (shrunk_grad * lr - (power(new_accum) - power(accum)) * var)
        l1_lr = l1 * lr
        quadratic = power(new_accum) + two * l2 * lr
        pre_shrink = (l1_lr * np.sign(linear) - linear) / quadratic
        new_var = np.where(np.abs(linear) > l1_lr, pre_shrink, np.zeros((), var.dtype))
    else:
        linear = linear + (shrunk_grad - (power(new_accum) - power(accum)) / lr * var)
        quadratic = power(new_accum) / lr + two * l2
        pre_shrink = (l1 * np.sign(linear) - linear) / quadratic
        new_var = np.where(np.abs(linear) > l1, pre_shrink, np.zeros((), var.dtype))
    return new_var.astype(var.dtype, copy=False), new_accum, linear


def _ftrl(attrs, var, accum, linear, grad, lr, l1, l2, lr_power):
    return _ftrl_common(attrs, var, accum, linear, grad, lr, l1, l2, None, lr_power)


def _ftrl_v2(attrs, var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power):
    return _ftrl_common(attrs, var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power)


def _proximal_adagrad(attrs, var, accum, lr, l1, l2, grad):
    """FOBOS with Adagrad's per-element learning rate."""
    accum = accum + np.square(grad)
    adapted_lr = lr * _rsqrt(accum)
    prox = var - grad * adapted_lr
    one = np.ones((), var.dtype)
    if l1 > 0:
        shrunk = np.maximum(np.abs(prox) - adapted_lr * l1, np.zeros((), var.dtype))
        return np.sign(prox) * shrunk / (one + l2 * adapted_lr), accum
    return prox / (one + l2 * adapted_lr), accum


def _adagrad_da(attrs, var, gradient_accumulator, gradient_squared_accumulator, grad, lr, l1, l2,
                global_step):
    """Adagrad dual averaging: var is recomputed from the accumulated gradients."""
    g_acc = gradient_accumulator + grad
    gg_acc = gradient_squared_accumulator + np.square(grad)
    # TensorFlow's dense kernel reads the step through a float32.
    step = np.asarray(global_step).astype(np.float32).astype(var.dtype)
    minus_one = np.asarray(-1, var.dtype)
    denominator = l2 * (step * lr) + np.sqrt(gg_acc)
    if l1 > 0:
        shrunk = np.maximum(np.abs(g_acc) - step * l1, np.zeros((), var.dtype))
        return lr * minus_one * np.sign(g_acc) * shrunk / denominator, g_acc, gg_acc
    return lr * g_acc * minus_one / denominator, g_acc, gg_acc


# Dense updates of float variables run block by block over the flattened arrays: each block
# (_BLOCK_BYTES of each array) goes through all of the update's NumPy calls while it is in the
# cache, with one block of scratch memory instead of temporaries as big as the variable (freed
# big arrays make malloc hand pages back to the system and fault them in again at every step:
# 3x slower, measured). The results go into `dsts`, one 1-D array per ref input: the
# variable's own buffers when it is updated in place (see _kernel_factory), else new arrays;
# so every function here reads an element of `srcs` before writing it in `dsts`, and never
# after. Element-wise math computes each element by the same operations in the same order
# however the arrays are cut, so the blocked functions give the same bits as the functions
# above on whole arrays (the specialized ones below make the same NumPy calls, and
# _elementwise_blocks calls those very functions). Blocks of a range may also be split over
# kernel threads.

_BLOCK_BYTES = 256 << 10  # per array; the best for Adam and SGD of 64 KiB to 1.5 MiB (measured)
_BLOCKED_DTYPES = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64,
                                                  np.complex64, np.complex128))
_SPECIALIZED_DTYPES = frozenset([np.dtype(np.float32), np.dtype(np.float64)])


# A part of an update split over kernel threads works through its range in bigger blocks:
# between two NumPy calls a thread takes the GIL, and when the other thread holds it that
# costs a wake-up (tens of µs here), so fewer, longer calls pay more than cache-sized blocks
# (Adam over 784x500 float32 on two threads: 311 µs with 256 KiB blocks, 266 with 1 MiB;
# on one thread 256 KiB is the best).
_SPLIT_BLOCK_BYTES = 1 << 20
_SPLIT_QUANTUM = 4096  # elements: where a range may be cut (any cut gives the same bits)
_in_split_part = threading.local()


def _block_size(array):
    block_bytes = _SPLIT_BLOCK_BYTES if getattr(_in_split_part, "active", False) \
        else _BLOCK_BYTES
    return max(1, block_bytes // array.itemsize)


def _blocks(array, start, stop):
    """The [begin, end) blocks of range(start, stop) of a 1-D array."""
    size = _block_size(array)
    return [(begin, min(begin + size, stop)) for begin in range(start, stop, size)]


def _scratch(array, start, stop, count):
    """`count` arrays of one block of `array`'s dtype, for the blocks of range(start, stop)."""
    size = min(stop - start, _block_size(array))
    return [np.empty(size, array.dtype) for _ in range(count)]


def _gradient_descent_blocks(attrs, dsts, srcs, start, stop, alpha, delta):
    (var,), (new_var,) = srcs, dsts
    (step_block,) = _scratch(var, start, stop, 1)
    for begin, end in _blocks(var, start, stop):
        step = step_block[:end - begin]
        np.multiply(delta[begin:end], alpha, out=step)  # var - delta * alpha
        np.subtract(var[begin:end], step, out=new_var[begin:end])


def _momentum_blocks(attrs, dsts, srcs, start, stop, lr, grad, momentum):
    var, accum = srcs
    new_var, new_accum = dsts
    step_block, term_block = _scratch(var, start, stop, 2)
    nesterov = attrs.get("use_nesterov", False)
    for begin, end in _blocks(var, start, stop):
        step, term = step_block[:end - begin], term_block[:end - begin]
        g, a = grad[begin:end], new_accum[begin:end]
        np.multiply(accum[begin:end], momentum, out=a)  # accum * momentum + grad
        a += g
        if nesterov:  # var - (grad * lr + accum * momentum * lr)
            np.multiply(g, lr, out=step)
            np.multiply(a, momentum, out=term)
            term *= lr
            step += term
        else:  # var - accum * lr
            np.multiply(a, lr, out=step)
        np.subtract(var[begin:end], step, out=new_var[begin:end])


def _adam_blocks(attrs, dsts, srcs, start, stop, beta1_power, beta2_power, lr, beta1, beta2,
                 epsilon, grad):
    var, m, v = srcs
    new_var, new_m, new_v = dsts
    one = np.ones((), var.dtype)
    alpha = lr * np.sqrt(one - beta2_power) / (one - beta1_power)
    keep1, keep2 = one - beta1, one - beta2
    nesterov = attrs.get("use_nesterov", False)
    scratch = _scratch(var, start, stop, 3 if nesterov else 2)
    step_block, denom_block = scratch[:2]
    term_block = scratch[2] if nesterov else None
    for begin, end in _blocks(var, start, stop):
        count = end - begin
        step, denom = step_block[:count], denom_block[:count]
        g, m_new, v_new = grad[begin:end], new_m[begin:end], new_v[begin:end]
        np.subtract(g, m[begin:end], out=step)  # m + (grad - m) * (1 - beta1)
        step *= keep1
        np.add(m[begin:end], step, out=m_new)
        np.square(g, out=step)  # v + (grad² - v) * (1 - beta2)
        step -= v[begin:end]
        step *= keep2
        np.add(v[begin:end], step, out=v_new)
        np.sqrt(v_new, out=denom)  # var - step / (sqrt(v) + epsilon), with step:
        denom += epsilon
        if nesterov:  # ((grad * (1 - beta1) + beta1 * m) * alpha)
            term = term_block[:count]
            np.multiply(g, keep1, out=step)
            np.multiply(beta1, m_new, out=term)
            step += term
            step *= alpha
        else:  # (m * alpha)
            np.multiply(m_new, alpha, out=step)
        step /= denom
        np.subtract(var[begin:end], step, out=new_var[begin:end])


def _rms_prop_blocks(attrs, dsts, srcs, start, stop, lr, rho, momentum, epsilon, grad):
    var, ms, mom = srcs
    new_var, new_ms, new_mom = dsts
    keep = np.ones((), var.dtype) - rho
    term_block, step_block = _scratch(var, start, stop, 2)
    for begin, end in _blocks(var, start, stop):
        term, step = term_block[:end - begin], step_block[:end - begin]
        g, ms_new, mom_new = grad[begin:end], new_ms[begin:end], new_mom[begin:end]
        np.square(g, out=term)  # ms + (grad² - ms) * (1 - rho)
        term -= ms[begin:end]
        term *= keep
        np.add(ms[begin:end], term, out=ms_new)
        np.add(ms_new, epsilon, out=term)  # mom * momentum + (grad * lr) / sqrt(ms + epsilon)
        np.sqrt(term, out=term)
        np.multiply(g, lr, out=step)
        step /= term
        np.multiply(mom[begin:end], momentum, out=mom_new)
        mom_new += step
        np.subtract(var[begin:end], mom_new, out=new_var[begin:end])  # var - mom


def _adagrad_blocks(attrs, dsts, srcs, start, stop, lr, grad):
    var, accum = srcs
    new_var, new_accum = dsts
    step_block, rsqrt_block = _scratch(var, start, stop, 2)
    update_slots = attrs.get("update_slots", True)
    copy_accum = not update_slots and not np.may_share_memory(new_accum, accum)
    for begin, end in _blocks(var, start, stop):
        step, rsqrt = step_block[:end - begin], rsqrt_block[:end - begin]
        g, a = grad[begin:end], new_accum[begin:end]
        if update_slots:  # accum + grad²
            np.square(g, out=step)
            np.add(accum[begin:end], step, out=a)
        elif copy_accum:
            np.copyto(a, accum[begin:end])
        np.multiply(g, lr, out=step)  # var - grad * lr * rsqrt(accum)
        np.sqrt(a, out=rsqrt)
        np.reciprocal(rsqrt, out=rsqrt)
        step *= rsqrt
        np.subtract(var[begin:end], step, out=new_var[begin:end])


def _elementwise_blocks(math, grad_position):
    """A blocked function like the ones above that calls `math` (a function above) on each
    block: for the updates without a specialized twin, and dtypes other than float32/64."""
    def run(attrs, dsts, srcs, start, stop, *others):
        for begin, end in _blocks(srcs[0], start, stop):
            block_others = [a[begin:end] if i == grad_position else a
                            for i, a in enumerate(others)]
            results = math(attrs, *[src[begin:end] for src in srcs], *block_others)
            for dst, result in zip(dsts, results):
                dst[begin:end] = result
    return run


# The specialized blocked twins of the functions above, with the NumPy calls each makes per
# element (the work kernel_threads weighs); others make about _GENERIC_CALLS.
_DENSE_INTO = {_gradient_descent: (_gradient_descent_blocks, 2),
               _momentum: (_momentum_blocks, 4), _adam: (_adam_blocks, 12),
               _rms_prop: (_rms_prop_blocks, 11), _adagrad: (_adagrad_blocks, 7)}
_GENERIC_CALLS = 15


# Sparse updates touch the rows named by `indices`, one index after the other (so repeated
# indices compound, as in TensorFlow's loop), with the row-wise math below where TensorFlow's
# sparse kernels order the terms differently from the dense ones, else the dense math.

def _sparse_momentum(attrs, var, accum, lr, grad, momentum):
    accum = accum * momentum + grad
    if attrs["use_nesterov"]:
        return var - (lr * grad + lr * momentum * accum), accum
    return var - lr * accum, accum


def _sparse_adagrad(attrs, var, accum, lr, grad):
    if attrs["update_slots"]:
        accum = accum + np.square(grad)
    if attrs["_scalar_rows"]:  # TensorFlow's loop over scalar rows divides by sqrt
        return var - lr * grad / np.sqrt(accum), accum
    return var - lr * grad * _rsqrt(accum), accum


def _sparse_rms_prop(attrs, var, ms, mom, lr, rho, momentum, epsilon, grad):
    one = np.ones((), var.dtype)
    ms = ms * rho + np.square(grad) * (one - rho)
    mom = mom * momentum + _rsqrt(ms + epsilon) * lr * grad
    return var - mom, ms, mom


def _sparse_centered_rms_prop(attrs, var, mg, ms, mom, lr, rho, momentum, epsilon, grad):
    one = np.ones((), var.dtype)
    ms = ms * rho + np.square(grad) * (one - rho)
    mg = mg * rho + grad * (one - rho)
    denom = ms + epsilon - np.square(mg)
    mom = mom * momentum + _rsqrt(denom) * lr * grad
    return var - mom, mg, ms, mom


def _sparse_proximal_adagrad(attrs, var, accum, lr, l1, l2, grad):
    if not attrs["_scalar_rows"]:
        return _proximal_adagrad(attrs, var, accum, lr, l1, l2, grad)
    # TensorFlow's loop over scalar rows divides by sqrt, and by a double 1 + l2 * lr.
    accum = accum + grad * grad
    adapted_lr = lr / np.sqrt(accum)
    prox = var - adapted_lr * grad
    if l1 > 0:
        prox = np.sign(prox) * np.maximum(np.abs(prox) - adapted_lr * l1,
                                          np.zeros((), var.dtype))
    denominator = 1.0 + (l2 * adapted_lr).astype(np.float64)
    return (prox.astype(np.float64) / denominator).astype(var.dtype), accum


def _sparse_ftrl_common(attrs, var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power):
    """TensorFlow's sparse FTRL: like the dense one, but var = (clip(linear, -l1, l1) - linear)
    / quadratic (0 where |linear| <= l1), and its loop over scalar rows groups the linear
    update differently and always takes accum's power with pow."""
    two = np.asarray(2, var.dtype)
    shrunk_grad = grad if l2_shrinkage is None else grad + two * l2_shrinkage * var
    by_lr = attrs["multiply_linear_by_lr"]
    power = _accum_power(lr_power)
    new_accum = accum + grad * grad
    if attrs["_scalar_rows"]:
        sigma = np.power(new_accum, -lr_power) - np.power(accum, -lr_power)
        if by_lr:
            linear = linear + shrunk_grad * lr - sigma * var
        else:
            linear = linear + shrunk_grad - sigma / lr * var
    elif by_lr:
        linear = linear + (shrunk_grad * lr - (power(new_accum) - power(accum)) * var)
    else:
        linear = linear + (shrunk_grad - (power(new_accum) - power(accum)) / lr * var)
    if by_lr:
        l1_bound = l1 * lr
        quadratic = power(new_accum) + two * l2 * lr
    else:
        l1_bound = l1
        quadratic = power(new_accum) / lr + two * l2
    l1_adjusted = np.maximum(np.minimum(linear, l1_bound), -l1_bound)
    return (l1_adjusted - linear) / quadratic, new_accum, linear


def _sparse_ftrl(attrs, var, accum, linear, grad, lr, l1, l2, lr_power):
    return _sparse_ftrl_common(attrs, var, accum, linear, grad, lr, l1, l2, None, lr_power)


def _sparse_ftrl_v2(attrs, var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power):
    return _sparse_ftrl_common(attrs, var, accum, linear, grad, lr, l1, l2, l2_shrinkage,
                               lr_power)


def _sparse_adagrad_da(attrs, var, gradient_accumulator, gradient_squared_accumulator, grad, lr,
                       l1, l2, global_step):
    """Row-wise dual averaging, var = -(g_acc / step) / (l2 + sqrt(gg_acc) / (step * lr)) (with
    l1: soft-thresholded); TensorFlow's loop over scalar rows computes in double precision."""
    zero = np.zeros((), var.dtype)
    if not attrs["_scalar_rows"]:
        g_acc = gradient_accumulator + grad
        gg_acc = gradient_squared_accumulator + np.square(grad)
        minus_one = np.asarray(-1, var.dtype)
        denominator = l2 + np.sqrt(gg_acc) / (global_step * lr)
        if l1 > 0:
            shrunk = np.maximum(np.abs(g_acc) / global_step - l1, zero)
            return minus_one * np.sign(g_acc) * shrunk / denominator, g_acc, gg_acc
        return minus_one * (g_acc / global_step) / denominator, g_acc, gg_acc
    f64 = np.float64
    g = np.asarray(grad, f64)
    g_acc = (gradient_accumulator.astype(f64) + g).astype(var.dtype)
    gg_acc = (gradient_squared_accumulator.astype(f64) + g * g).astype(var.dtype)
    step, lr, l1, l2 = (np.asarray(x, f64) for x in (global_step, lr, l1, l2))
    denominator = step * l2 * lr + np.sqrt(gg_acc).astype(f64)
    if l1 > 0:
        shrunk = np.maximum(np.abs(g_acc).astype(f64) - step * l1, 0.0)
        new_var = np.sign(-g_acc).astype(f64) * lr * shrunk / denominator
    else:
        new_var = (-g_acc).astype(f64) * lr / denominator
    return new_var.astype(var.dtype), g_acc, gg_acc


# --- kernels -------------------------------------------------------------------------------------

def _dims(shape):
    return "[%s]" % ",".join(str(d) for d in shape)


def _invalid(op, message):
    return errors.InvalidArgumentError(None, op, "%s\n\t [[{{node %s}}]]" % (message, op.name))


class _Spec:
    """How one training op's inputs split into refs, scalars, the gradient and indices."""

    def __init__(self, input_names, n_refs, math, sparse, check=None):
        self.input_names = input_names
        self.n_refs = n_refs
        self.math = math
        self.sparse = sparse
        self.check = check
        self.grad_index = input_names.index("grad" if "grad" in input_names else "delta")
        self.indices_index = input_names.index("indices") if sparse else None
        self.scalar_indices = [i for i in range(n_refs, len(input_names))
                               if i not in (self.grad_index, self.indices_index)]
        self.generic_blocks = _elementwise_blocks(math, self.grad_index - n_refs)


def _check_scalars(op, spec, args):
    for i in spec.scalar_indices:
        if np.ndim(args[i]) != 0:
            raise _invalid(op, "%s is not a scalar: %s" % (spec.input_names[i],
                                                          _dims(np.shape(args[i]))))
    if spec.check is not None:
        spec.check(op, {spec.input_names[i]: args[i] for i in spec.scalar_indices})


# Per-op value checks of TensorFlow's kernels, called with the op and {name: scalar value}.
# Comparisons are written so that NaN fails them, as in TensorFlow.

def _require(op, holds, message, value):
    if not holds:
        raise _invalid(op, "%s: %s" % (message, _dims(np.shape(value))))


def _require_non_negative(op, scalars, name, description):
    value = scalars[name]
    _require(op, value >= 0, "%s is not a non-negative scalar" % description, value)


def _check_proximal_adagrad(op, scalars):
    lr = scalars["lr"]
    _require(op, lr > 0, "lr is not a positive scalar", lr)
    _require_non_negative(op, scalars, "l1", "l1 regularization strength")
    _require_non_negative(op, scalars, "l2", "l2 regularization strength")


def _check_sparse_ftrl(op, scalars):
    lr = scalars["lr"]
    _require(op, lr > 0 or (op._attrs["multiply_linear_by_lr"] and lr == 0),
             "lr is not a positive scalar (or zero if multiply_linear_by_lr is set)", lr)
    _require_non_negative(op, scalars, "l1", "l1 regularization strength")
    _require_non_negative(op, scalars, "l2", "l2 regularization strength")
    lr_power = scalars["lr_power"]
    _require(op, lr_power <= 0, "lr_power is not a non-positive scalar", lr_power)
    if "l2_shrinkage" in scalars:
        _require_non_negative(op, scalars, "l2_shrinkage", "l2 shrinkage regularization strength")


def _check_slots_match_var(op, spec, currents):
    """The slots (accum, m, v, ...) must have the variable's shape."""
    var = currents[0]
    for name, value in zip(spec.input_names[1:spec.n_refs], currents[1:]):
        if value.shape != var.shape:
            raise _invalid(op, "var and %s do not have the same shape%s %s"
                           % (name, _dims(var.shape), _dims(value.shape)))
    return var


def _dense_update(op, spec, attrs, currents, args, buffers, site):
    """New values of the ref inputs: `buffers` (sole_owner_buffer of each, or None) are written
    in place where the update is blocked, fresh arrays hold the others."""
    var = _check_slots_match_var(op, spec, currents)
    grad = args[spec.grad_index]
    if np.shape(grad) != var.shape:
        raise _invalid(op, "var and %s do not have the same shape%s %s"
                       % (spec.input_names[spec.grad_index], _dims(var.shape),
                          _dims(np.shape(grad))))
    others = [np.asarray(a, dtype=var.dtype) for a in args[spec.n_refs:]]
    if var.dtype not in _BLOCKED_DTYPES:
        return spec.math(attrs, *currents, *others)
    into = (spec.generic_blocks, _GENERIC_CALLS)
    if var.dtype in _SPECIALIZED_DTYPES and spec.math in _DENSE_INTO:
        into = _DENSE_INTO[spec.math]
    return _update_into(attrs, spec, into, currents, others, buffers, site)


def _update_into(attrs, spec, into, currents, others, buffers=None, site=None):
    """New values of the ref inputs by `into` (a blocked function and its NumPy calls per
    element), written into `buffers` (the current arrays themselves, or None: new arrays), split
    over kernel threads when big enough (and, given the op's kernel_threads.Site, when splitting
    has paid there)."""
    function, calls_per_element = into
    if buffers is None:
        buffers = [None] * len(currents)
    news = [np.empty(current.shape, current.dtype) if buffer is None else buffer
            for current, buffer in zip(currents, buffers)]
    dsts = [new.reshape(-1) for new in news]
    srcs = [current.reshape(-1) for current in currents]
    grad_position = spec.grad_index - spec.n_refs
    others = list(others)
    others[grad_position] = others[grad_position].reshape(-1)
    size = srcs[0].size

    def whole():
        function(attrs, dsts, srcs, 0, size, *others)

    def split(parts):
        ranges = kernel_threads.split_ranges(size, parts, quantum=_SPLIT_QUANTUM)
        # The queue of kernel_threads may keep `part` after the job (an offer that no pool
        # thread took up yet): it must not keep the arrays, whose holders count against writing
        # in place.
        arrays = [dsts, srcs, others]

        def part(index):
            part_dsts, part_srcs, part_others = arrays
            _in_split_part.active = True
            try:
                function(attrs, part_dsts, part_srcs, *ranges[index], *part_others)
            finally:
                _in_split_part.active = False
        try:
            kernel_threads.run_parts(part, len(ranges))
        finally:
            arrays.clear()

    work = size * calls_per_element * kernel_threads.WORK_PER_ELEMENT_CALL
    if site is None:
        parts = kernel_threads.parts_for(work)
        whole() if parts == 1 else split(parts)
    else:
        site.run(work, whole, split)
    return news


def _sparse_update(op, spec, attrs, currents, args, buffers, site):
    var = _check_slots_match_var(op, spec, currents)
    if var.ndim < 1:
        raise _invalid(op, "var must be at least 1 dimensional")
    indices = np.asarray(args[spec.indices_index])
    if indices.ndim != 1:
        raise _invalid(op, "indices must be one-dimensional")
    grad = np.asarray(args[spec.grad_index], dtype=var.dtype)
    if grad.shape[1:] != var.shape[1:]:
        raise _invalid(op, "var and grad must match in dimension %d" % next(
            d for d in range(1, var.ndim) if grad.shape[d] != var.shape[d]))
    if grad.shape[0] != indices.shape[0]:
        raise _invalid(op, "grad must be the same size as indices in the first dimension.")
    bad = (indices < 0) | (indices >= var.shape[0])
    if bad.any():
        offset = int(np.argmax(bad))
        raise _invalid(op, "Index %d at offset %d in indices is out of range"
                       % (int(indices[offset]), offset))
    scalars = [np.asarray(args[i], dtype=var.dtype) for i in spec.scalar_indices]
    attrs = dict(attrs, _scalar_rows=int(np.prod(var.shape[1:])) == 1)
    news = [np.array(current, copy=True) if buffer is None else buffer
            for current, buffer in zip(currents, buffers)]
    if len(np.unique(indices)) == len(indices):
        # Distinct rows: one vectorized step gives the same values as the row loop.
        rows = [n[indices] for n in news]
        updated = _call_sparse_math(spec, attrs, rows, scalars, grad)
        for new, value in zip(news, updated):
            new[indices] = value
    else:
        for i, index in enumerate(indices):
            rows = [n[index] for n in news]
            updated = _call_sparse_math(spec, attrs, rows, scalars, grad[i])
            for new, value in zip(news, updated):
                new[index] = value
    return news


def _call_sparse_math(spec, attrs, rows, scalars, grad):
    """Puts rows, scalars and grad back into the op's input order for the math function."""
    values = list(rows)
    scalar_iter = iter(scalars)
    for i in range(spec.n_refs, len(spec.input_names)):
        if i == spec.grad_index:
            values.append(grad)
        elif i != spec.indices_index:
            values.append(next(scalar_iter))
    return spec.math(attrs, *values)


def _kernel_factory(spec, resource):
    """The kernel of a training op. It updates a variable (and its slots) in place when
    nothing but the variable holds its array (_helpers.sole_owner_buffer: no value read
    earlier in the step, no array handed to the user, no view), else into new arrays, as it
    must when a holder expects its value never to change; either way with the same bits. With
    use_locking=True it always writes new arrays, so that a concurrent reader never sees an
    update half done. (TensorFlow updates in place whatever else holds the buffer, with or
    without use_locking.)"""
    def factory(op, ctx):
        attrs = {name: value for name, value in op._attrs.items() if not name.startswith("_")}
        update = _sparse_update if spec.sparse else _dense_update
        may_write_in_place = not attrs["use_locking"]
        site = kernel_threads.Site()  # whether splitting this update pays

        def run(*args):
            refs = args[:spec.n_refs]
            # Ownership first: the references taken below would count as holders.
            buffers = [_helpers.update_buffer(ref, may_write_in_place) for ref in refs]
            currents = [ref.get(op.name) if buffer is None else buffer
                        for ref, buffer in zip(refs, buffers)]
            _check_scalars(op, spec, args)
            for buffer in buffers:
                if buffer is not None:
                    buffer.setflags(write=True)
            try:
                news = update(op, spec, attrs, currents, args, buffers, site)
            finally:
                for buffer in buffers:
                    if buffer is not None:
                        buffer.setflags(write=False)
            for ref, current, new, buffer in zip(refs, currents, news, buffers):
                if new is not buffer:
                    new = np.asarray(new, dtype=current.dtype)
                    if new is current:
                        new = new.copy()
                    new.flags.writeable = False
                ref.value = new
            return None if resource else refs[0]
        return run
    return factory


def _ref_shape(op):
    """The output ref has the variable's shape."""
    return [op._inputs[0]._shape_val]


def _define(op_type, inputs, attrs, math, sparse=False, check=None):
    """Registers op_type (ref variables) and Resource<op_type> (resource handles). `check`,
    if given, is called with the op and {name: value} of its scalar inputs on every run and
    raises for values the kernel rejects."""
    names = [spec.split(":")[0].strip() for spec in inputs]
    n_refs = sum(1 for spec in inputs if spec.split(":")[1].strip() == "Ref(T)")
    spec = _Spec(names, n_refs, math, sparse, check)
    attrs = [_NUMBER_TYPE] + ([_INDICES] if sparse else []) + [_USE_LOCKING] + attrs
    register_op(op_type, inputs=inputs, outputs=["out: Ref(T)"], attrs=attrs,
                kernel=_kernel_factory(spec, resource=False), shape=_ref_shape)
    resource_inputs = [s.replace("Ref(T)", "resource") for s in inputs]
    register_op("Resource" + op_type, inputs=resource_inputs, attrs=attrs, stateful=True,
                kernel=_kernel_factory(spec, resource=True), shape=lambda op: [])
    register_gradient(op_type, None)
    register_gradient("Resource" + op_type, None)


_define("ApplyGradientDescent", ["var: Ref(T)", "alpha: T", "delta: T"], [],
        _gradient_descent)
_define("ApplyProximalGradientDescent",
        ["var: Ref(T)", "alpha: T", "l1: T", "l2: T", "delta: T"], [],
        _proximal_gradient_descent)
_define("ApplyMomentum",
        ["var: Ref(T)", "accum: Ref(T)", "lr: T", "grad: T", "momentum: T"],
        ["use_nesterov: bool = false"], _momentum)
_define("ApplyAdam",
        ["var: Ref(T)", "m: Ref(T)", "v: Ref(T)", "beta1_power: T", "beta2_power: T", "lr: T",
         "beta1: T", "beta2: T", "epsilon: T", "grad: T"],
        ["use_nesterov: bool = false"], _adam)
_define("ApplyRMSProp",
        ["var: Ref(T)", "ms: Ref(T)", "mom: Ref(T)", "lr: T", "rho: T", "momentum: T",
         "epsilon: T", "grad: T"], [], _rms_prop)
_define("ApplyCenteredRMSProp",
        ["var: Ref(T)", "mg: Ref(T)", "ms: Ref(T)", "mom: Ref(T)", "lr: T", "rho: T",
         "momentum: T", "epsilon: T", "grad: T"], [], _centered_rms_prop)
_define("ApplyAdagrad", ["var: Ref(T)", "accum: Ref(T)", "lr: T", "grad: T"],
        ["update_slots: bool = true"], _adagrad)
_define("ApplyAdagradV2", ["var: Ref(T)", "accum: Ref(T)", "lr: T", "epsilon: T", "grad: T"],
        ["update_slots: bool = true"], _adagrad_v2)
_define("ApplyAdadelta",
        ["var: Ref(T)", "accum: Ref(T)", "accum_update: Ref(T)", "lr: T", "rho: T",
         "epsilon: T", "grad: T"], [], _adadelta)
_define("ApplyFtrl",
        ["var: Ref(T)", "accum: Ref(T)", "linear: Ref(T)", "grad: T", "lr: T", "l1: T", "l2: T",
         "lr_power: T"], ["multiply_linear_by_lr: bool = false"], _ftrl)
_define("ApplyFtrlV2",
        ["var: Ref(T)", "accum: Ref(T)", "linear: Ref(T)", "grad: T", "lr: T", "l1: T", "l2: T",
         "l2_shrinkage: T", "lr_power: T"], ["multiply_linear_by_lr: bool = false"], _ftrl_v2)
_define("ApplyProximalAdagrad",
        ["var: Ref(T)", "accum: Ref(T)", "lr: T", "l1: T", "l2: T", "grad: T"], [],
        _proximal_adagrad, check=_check_proximal_adagrad)
_define("ApplyAdagradDA",
        ["var: Ref(T)", "gradient_accumulator: Ref(T)", "gradient_squared_accumulator: Ref(T)",
         "grad: T", "lr: T", "l1: T", "l2: T", "global_step: int64"], [], _adagrad_da)

_define("SparseApplyProximalGradientDescent",
        ["var: Ref(T)", "alpha: T", "l1: T", "l2: T", "grad: T", "indices: Tindices"], [],
        _proximal_gradient_descent, sparse=True)
_define("SparseApplyMomentum",
        ["var: Ref(T)", "accum: Ref(T)", "lr: T", "grad: T", "indices: Tindices", "momentum: T"],
        ["use_nesterov: bool = false"], _sparse_momentum, sparse=True)
_define("SparseApplyAdagrad",
        ["var: Ref(T)", "accum: Ref(T)", "lr: T", "grad: T", "indices: Tindices"],
        ["update_slots: bool = true"], _sparse_adagrad, sparse=True)
_define("SparseApplyRMSProp",
        ["var: Ref(T)", "ms: Ref(T)", "mom: Ref(T)", "lr: T", "rho: T", "momentum: T",
         "epsilon: T", "grad: T", "indices: Tindices"], [], _sparse_rms_prop, sparse=True)
_define("SparseApplyCenteredRMSProp",
        ["var: Ref(T)", "mg: Ref(T)", "ms: Ref(T)", "mom: Ref(T)", "lr: T", "rho: T",
         "momentum: T", "epsilon: T", "grad: T", "indices: Tindices"], [],
        _sparse_centered_rms_prop, sparse=True)
_define("SparseApplyAdadelta",
        ["var: Ref(T)", "accum: Ref(T)", "accum_update: Ref(T)", "lr: T", "rho: T",
         "epsilon: T", "grad: T", "indices: Tindices"], [], _adadelta, sparse=True)
_define("SparseApplyProximalAdagrad",
        ["var: Ref(T)", "accum: Ref(T)", "lr: T", "l1: T", "l2: T", "grad: T",
         "indices: Tindices"], [], _sparse_proximal_adagrad, sparse=True,
        check=_check_proximal_adagrad)
_define("SparseApplyAdagradDA",
        ["var: Ref(T)", "gradient_accumulator: Ref(T)", "gradient_squared_accumulator: Ref(T)",
         "grad: T", "indices: Tindices", "lr: T", "l1: T", "l2: T", "global_step: int64"], [],
        _sparse_adagrad_da, sparse=True)
_define("SparseApplyFtrl",
        ["var: Ref(T)", "accum: Ref(T)", "linear: Ref(T)", "grad: T", "indices: Tindices",
         "lr: T", "l1: T", "l2: T", "lr_power: T"], ["multiply_linear_by_lr: bool = false"],
        _sparse_ftrl, sparse=True, check=_check_sparse_ftrl)
_define("SparseApplyFtrlV2",
        ["var: Ref(T)", "accum: Ref(T)", "linear: Ref(T)", "grad: T", "indices: Tindices",
         "lr: T", "l1: T", "l2: T", "l2_shrinkage: T", "lr_power: T"],
        ["multiply_linear_by_lr: bool = false"], _sparse_ftrl_v2, sparse=True,
        check=_check_sparse_ftrl)


# --- builders (the gen_training_ops wrappers) ----------------------------------------------------

def _builder(op_type):
    """apply_x(<inputs in OpDef order>, <attrs as keywords>, name=None), like TensorFlow's
    generated wrappers."""
    schema = get_schema(op_type)
    input_names = [arg.name for arg in schema.inputs]

    def build(*args, name=None, **attrs):
        if len(args) != len(input_names):
            raise TypeError("%s() takes the inputs (%s), got %d" % (
                op_type, ", ".join(input_names), len(args)))
        return apply_op(op_type, name=name, **dict(zip(input_names, args)), **attrs)
    build.__name__ = _snake_case(op_type)
    build.__doc__ = "Builds a %s op; inputs in order: %s." % (op_type, ", ".join(input_names))
    return build


def _snake_case(op_type):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", op_type.replace("RMSProp", "RmsProp")).lower()


apply_adadelta = _builder("ApplyAdadelta")
apply_adagrad = _builder("ApplyAdagrad")
apply_adagrad_da = _builder("ApplyAdagradDA")
apply_adagrad_v2 = _builder("ApplyAdagradV2")
apply_adam = _builder("ApplyAdam")
apply_centered_rms_prop = _builder("ApplyCenteredRMSProp")
apply_ftrl = _builder("ApplyFtrl")
apply_ftrl_v2 = _builder("ApplyFtrlV2")
apply_gradient_descent = _builder("ApplyGradientDescent")
apply_momentum = _builder("ApplyMomentum")
apply_proximal_adagrad = _builder("ApplyProximalAdagrad")
apply_proximal_gradient_descent = _builder("ApplyProximalGradientDescent")
apply_rms_prop = _builder("ApplyRMSProp")
resource_apply_adadelta = _builder("ResourceApplyAdadelta")
resource_apply_adagrad = _builder("ResourceApplyAdagrad")
resource_apply_adagrad_da = _builder("ResourceApplyAdagradDA")
resource_apply_adagrad_v2 = _builder("ResourceApplyAdagradV2")
resource_apply_adam = _builder("ResourceApplyAdam")
resource_apply_centered_rms_prop = _builder("ResourceApplyCenteredRMSProp")
resource_apply_ftrl = _builder("ResourceApplyFtrl")
resource_apply_ftrl_v2 = _builder("ResourceApplyFtrlV2")
resource_apply_gradient_descent = _builder("ResourceApplyGradientDescent")
resource_apply_momentum = _builder("ResourceApplyMomentum")
resource_apply_proximal_adagrad = _builder("ResourceApplyProximalAdagrad")
resource_apply_proximal_gradient_descent = _builder("ResourceApplyProximalGradientDescent")
resource_apply_rms_prop = _builder("ResourceApplyRMSProp")
resource_sparse_apply_adadelta = _builder("ResourceSparseApplyAdadelta")
resource_sparse_apply_adagrad = _builder("ResourceSparseApplyAdagrad")
resource_sparse_apply_adagrad_da = _builder("ResourceSparseApplyAdagradDA")
resource_sparse_apply_centered_rms_prop = _builder("ResourceSparseApplyCenteredRMSProp")
resource_sparse_apply_ftrl = _builder("ResourceSparseApplyFtrl")
resource_sparse_apply_ftrl_v2 = _builder("ResourceSparseApplyFtrlV2")
resource_sparse_apply_momentum = _builder("ResourceSparseApplyMomentum")
resource_sparse_apply_proximal_adagrad = _builder("ResourceSparseApplyProximalAdagrad")
resource_sparse_apply_proximal_gradient_descent = _builder(
    "ResourceSparseApplyProximalGradientDescent")
resource_sparse_apply_rms_prop = _builder("ResourceSparseApplyRMSProp")
sparse_apply_adadelta = _builder("SparseApplyAdadelta")
sparse_apply_adagrad = _builder("SparseApplyAdagrad")
sparse_apply_adagrad_da = _builder("SparseApplyAdagradDA")
sparse_apply_centered_rms_prop = _builder("SparseApplyCenteredRMSProp")
sparse_apply_ftrl = _builder("SparseApplyFtrl")
sparse_apply_ftrl_v2 = _builder("SparseApplyFtrlV2")
sparse_apply_momentum = _builder("SparseApplyMomentum")
sparse_apply_proximal_adagrad = _builder("SparseApplyProximalAdagrad")
sparse_apply_proximal_gradient_descent = _builder("SparseApplyProximalGradientDescent")
sparse_apply_rms_prop = _builder("SparseApplyRMSProp")
