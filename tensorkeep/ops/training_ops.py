"""Training ops: the Apply*/SparseApply* updates that optimizers run on ref variables, and their
ResourceApply* twins.

Schemas are TensorFlow's OpDefs. The update math follows TensorFlow's CPU kernels term by term
(same operations, same order, in the variable's dtype) so that results agree to a few ulps.
A kernel reads the current values of its ref inputs, computes new arrays and stores them in the
VarRefs (never writing into the old arrays, which earlier fetches may still hold); it outputs
the variable's ref.
"""

import re

import numpy as np

from tensorkeep.framework import errors
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import get_schema, register_gradient, register_op

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


def _ftrl_common(attrs, var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power):
    two = np.asarray(2, var.dtype)
    new_accum = accum + np.square(grad)
    shrunk_grad = grad if l2_shrinkage is None else grad + two * l2_shrinkage * var
    if lr_power == -0.5:
        def power(x):
            return np.sqrt(x)
    else:
        def power(x):
            return np.power(x, -lr_power)
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


# --- kernels -------------------------------------------------------------------------------------

def _dims(shape):
    return "[%s]" % ",".join(str(d) for d in shape)


def _invalid(op, message):
    return errors.InvalidArgumentError(None, op, "%s\n\t [[{{node %s}}]]" % (message, op.name))


class _Spec:
    """How one training op's inputs split into refs, scalars, the gradient and indices."""

    def __init__(self, input_names, n_refs, math, sparse):
        self.input_names = input_names
        self.n_refs = n_refs
        self.math = math
        self.sparse = sparse
        self.grad_index = input_names.index("grad" if "grad" in input_names else "delta")
        self.indices_index = input_names.index("indices") if sparse else None
        self.scalar_indices = [i for i in range(n_refs, len(input_names))
                               if i not in (self.grad_index, self.indices_index)]


def _check_scalars(op, spec, args):
    for i in spec.scalar_indices:
        if np.ndim(args[i]) != 0:
            raise _invalid(op, "%s is not a scalar: %s" % (spec.input_names[i],
                                                          _dims(np.shape(args[i]))))


def _check_slots_match_var(op, spec, currents):
    """The slots (accum, m, v, ...) must have the variable's shape."""
    var = currents[0]
    for name, value in zip(spec.input_names[1:spec.n_refs], currents[1:]):
        if value.shape != var.shape:
            raise _invalid(op, "var and %s do not have the same shape%s %s"
                           % (name, _dims(var.shape), _dims(value.shape)))
    return var


def _dense_update(op, spec, attrs, currents, args):
    var = _check_slots_match_var(op, spec, currents)
    grad = args[spec.grad_index]
    if np.shape(grad) != var.shape:
        raise _invalid(op, "var and %s do not have the same shape%s %s"
                       % (spec.input_names[spec.grad_index], _dims(var.shape),
                          _dims(np.shape(grad))))
    others = [np.asarray(a, dtype=var.dtype) for a in args[spec.n_refs:]]
    return spec.math(attrs, *currents, *others)


def _sparse_update(op, spec, attrs, currents, args):
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
    news = [np.array(c, copy=True) for c in currents]
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
    def factory(op, ctx):
        attrs = {name: value for name, value in op._attrs.items() if not name.startswith("_")}
        update = _sparse_update if spec.sparse else _dense_update

        def run(*args):
            refs = args[:spec.n_refs]
            currents = [ref.get(op.name) for ref in refs]
            _check_scalars(op, spec, args)
            news = update(op, spec, attrs, currents, args)
            for ref, current, new in zip(refs, currents, news):
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


def _define(op_type, inputs, attrs, math, sparse=False):
    """Registers op_type (ref variables) and Resource<op_type> (resource handles)."""
    names = [spec.split(":")[0].strip() for spec in inputs]
    n_refs = sum(1 for spec in inputs if spec.split(":")[1].strip() == "Ref(T)")
    spec = _Spec(names, n_refs, math, sparse)
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
apply_adagrad_v2 = _builder("ApplyAdagradV2")
apply_adam = _builder("ApplyAdam")
apply_centered_rms_prop = _builder("ApplyCenteredRMSProp")
apply_ftrl = _builder("ApplyFtrl")
apply_ftrl_v2 = _builder("ApplyFtrlV2")
apply_gradient_descent = _builder("ApplyGradientDescent")
apply_momentum = _builder("ApplyMomentum")
apply_proximal_gradient_descent = _builder("ApplyProximalGradientDescent")
apply_rms_prop = _builder("ApplyRMSProp")
resource_apply_adadelta = _builder("ResourceApplyAdadelta")
resource_apply_adagrad = _builder("ResourceApplyAdagrad")
resource_apply_adagrad_v2 = _builder("ResourceApplyAdagradV2")
resource_apply_adam = _builder("ResourceApplyAdam")
resource_apply_centered_rms_prop = _builder("ResourceApplyCenteredRMSProp")
resource_apply_ftrl = _builder("ResourceApplyFtrl")
resource_apply_ftrl_v2 = _builder("ResourceApplyFtrlV2")
resource_apply_gradient_descent = _builder("ResourceApplyGradientDescent")
resource_apply_momentum = _builder("ResourceApplyMomentum")
resource_apply_proximal_gradient_descent = _builder("ResourceApplyProximalGradientDescent")
resource_apply_rms_prop = _builder("ResourceApplyRMSProp")
resource_sparse_apply_adadelta = _builder("ResourceSparseApplyAdadelta")
resource_sparse_apply_adagrad = _builder("ResourceSparseApplyAdagrad")
resource_sparse_apply_centered_rms_prop = _builder("ResourceSparseApplyCenteredRMSProp")
resource_sparse_apply_momentum = _builder("ResourceSparseApplyMomentum")
resource_sparse_apply_proximal_gradient_descent = _builder(
    "ResourceSparseApplyProximalGradientDescent")
resource_sparse_apply_rms_prop = _builder("ResourceSparseApplyRMSProp")
sparse_apply_adadelta = _builder("SparseApplyAdadelta")
sparse_apply_adagrad = _builder("SparseApplyAdagrad")
sparse_apply_centered_rms_prop = _builder("SparseApplyCenteredRMSProp")
sparse_apply_momentum = _builder("SparseApplyMomentum")
sparse_apply_proximal_gradient_descent = _builder("SparseApplyProximalGradientDescent")
sparse_apply_rms_prop = _builder("SparseApplyRMSProp")
