"""Special functions and complex-number parts: Erf, Erfc, Lgamma, Digamma, Igamma, Igammac,
IgammaGradA, Betainc, Zeta, Polygamma, Xlogy, Xlog1py, Complex, Real, Imag, Angle, ComplexAbs.

Each op: schema (TensorFlow's OpDef), NumPy kernel, shape function, builder and gradient side
by side. Erf, Erfc, Lgamma, Digamma, Zeta and Polygamma are vectorized kernels that reproduce
TensorFlow's own algorithms (special_kernels.py). The incomplete gamma and beta functions are
evaluated elementwise in float64 (series and continued fractions written here: SciPy is not a
dependency) and cast to the op's dtype.
"""

import math

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.ops import _helpers
from tensorkeep.ops import array_ops
from tensorkeep.ops import math_ops
from tensorkeep.ops import special_kernels

_FLOAT = "{bfloat16, half, float, double}"
_REAL = "{float, double}"
_EPSILON = np.finfo(np.float64).eps
_TINY = 1e-300
_NON_NUMERIC = (dtypes.string, dtypes.bool_, dtypes.resource, dtypes.variant)


# --- scalar float64 implementations (the incomplete gamma and beta functions) -------------------

def _log_gamma_prefactor(a, x):
    """log(x ** a * exp(-x) / Gamma(a))."""
    return a * math.log(x) - x - math.lgamma(a)


def _lower_gamma_series(a, x):
    term = total = 1.0 / a
    k = 1
    while abs(term) > abs(total) * _EPSILON and k < 100000:
        term *= x / (a + k)
        total += term
        k += 1
    return total * math.exp(_log_gamma_prefactor(a, x))


def _upper_gamma_fraction(a, x):
    """Q(a, x) by Lentz's method on the continued fraction (valid for x > a + 1)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 100000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPSILON:
            break
    return math.exp(_log_gamma_prefactor(a, x)) * h


def _incomplete_gamma(a, x, upper):
    """Regularized incomplete gamma: the upper Q(a, x) if `upper`, else the lower P(a, x) =
    1 - Q(a, x); each from the expansion that converges fast for these arguments."""
    if math.isnan(a) or math.isnan(x) or x < 0 or a <= 0:
        return math.nan
    if x == 0:
        lower = 0.0
    elif math.isinf(x):
        lower = 1.0
    elif math.isinf(a):
        lower = 0.0
    elif x < a + 1.0:
        lower = _lower_gamma_series(a, x)
    else:
        value = _upper_gamma_fraction(a, x)
        return value if upper else 1.0 - value
    return 1.0 - lower if upper else lower


def _igamma(a, x):
    """Regularized lower incomplete gamma P(a, x)."""
    return _incomplete_gamma(a, x, upper=False)


def _igammac(a, x):
    """Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x)."""
    return _incomplete_gamma(a, x, upper=True)


def _igamma_grad_a(a, x):
    """dP(a, x)/da by a fourth-order central difference of P (~1e-12 relative)."""
    if math.isnan(a) or math.isnan(x) or x < 0 or a <= 0:
        return math.nan
    if x == 0 or math.isinf(x):
        return 0.0
    h = min(1e-3 * max(a, 1.0), a / 4.0)
    return (8.0 * (_igamma(a + h, x) - _igamma(a - h, x)) -
            (_igamma(a + 2.0 * h, x) - _igamma(a - 2.0 * h, x))) / (12.0 * h)


def _beta_fraction(a, b, x):
    """The continued fraction of I_x(a, b) (Lentz), converging for x < (a + 1) / (a + b + 2)."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, 100000):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
                          -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))):
            d = 1.0 + numerator * d
            d = _TINY if abs(d) < _TINY else d
            c = 1.0 + numerator / c
            c = _TINY if abs(c) < _TINY else c
            d = 1.0 / d
            delta = d * c
            h *= delta
        if abs(delta - 1.0) < _EPSILON:
            break
    return h


def _betainc(a, b, x):
    """Regularized incomplete beta I_x(a, b)."""
    if math.isnan(a) or math.isnan(b) or math.isnan(x) or a <= 0 or b <= 0 or x < 0 or x > 1:
        return math.nan
    if x == 0 or x == 1:
        return x
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _betainc(b, a, 1.0 - x)
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) +
                 b * math.log1p(-x))
    return math.exp(log_front) * _beta_fraction(a, b, x) / a


def _elementwise(scalar_fn):
    """A kernel applying scalar_fn to broadcast float64 copies of its inputs, cast back to the
    first input's dtype."""
    vectorized = np.frompyfunc(scalar_fn, scalar_fn.__code__.co_argcount, 1)

    def run(*inputs):
        dtype = np.asarray(inputs[0]).dtype
        wide = [np.asarray(value, dtype=np.float64) for value in inputs]
        with np.errstate(all="ignore"):
            result = vectorized(*wide)
        return np.asarray(result, dtype=np.float64).astype(dtype)
    return run


def _in_float32_or_wider(kernel):
    """A unary kernel of special_kernels for any float type: half and bfloat16 are evaluated in
    float32 and rounded back, as TensorFlow's kernels do."""
    def run(x):
        x = np.asarray(x)
        if x.dtype == np.float32 or x.dtype == np.float64:
            return kernel(x)
        with np.errstate(over="ignore"):  # beyond half's range: infinity, as in TensorFlow
            return kernel(x.astype(np.float32)).astype(x.dtype)
    return run


# --- special-function ops ----------------------------------------------------------------------

def _without_bfloat16(kernel):
    """A kernel factory: TensorFlow registers Lgamma and Digamma for half, float and double
    only, and a bfloat16 node fails when run."""
    def factory(op, ctx):
        if op._attrs["T"] != dtypes.bfloat16:
            return kernel
        message = ("No OpKernel was registered to support Op '%s' used by {{node %s}} with these "
                   "attrs: [T=DT_BFLOAT16]\nRegistered devices: [CPU]\nRegistered kernels:\n"
                   "  device='CPU'; T in [DT_DOUBLE]\n  device='CPU'; T in [DT_HALF]\n"
                   "  device='CPU'; T in [DT_FLOAT]\n\n\t [[%s]]" % (op.type, op.name, op.name))

        def fail(x):
            raise errors.InvalidArgumentError(None, op, message)
        return fail
    return factory


for _op_type, _kernel in (("Erf", special_kernels.erf), ("Erfc", special_kernels.erfc)):
    register_op(_op_type, inputs=["x: T"], outputs=["y: T"], attrs=["T: " + _FLOAT],
                compute=_in_float32_or_wider(_kernel), shape=_helpers.unchanged_shape)
for _op_type, _kernel in (("Lgamma", special_kernels.lgamma),
                          ("Digamma", special_kernels.digamma)):
    register_op(_op_type, inputs=["x: T"], outputs=["y: T"], attrs=["T: " + _FLOAT],
                kernel=_without_bfloat16(_in_float32_or_wider(_kernel)),
                shape=_helpers.unchanged_shape)

for _op_type, _fn, _types in (("Igamma", _igamma, _FLOAT), ("Igammac", _igammac, _FLOAT),
                              ("IgammaGradA", _igamma_grad_a, _REAL)):
    register_op(_op_type, inputs=["a: T", "x: T"], outputs=["z: T"], attrs=["T: " + _types],
                compute=_elementwise(_fn), shape=_helpers.broadcast_shape)

register_op("Zeta", inputs=["x: T", "q: T"], outputs=["z: T"], attrs=["T: " + _REAL],
            compute=special_kernels.zeta, shape=_helpers.broadcast_shape)
register_op("Polygamma", inputs=["a: T", "x: T"], outputs=["z: T"], attrs=["T: " + _REAL],
            compute=special_kernels.polygamma, shape=_helpers.broadcast_shape)


def _betainc_shape(op):
    """a, b and x are scalars or all of one shape (Betainc does not broadcast otherwise)."""
    merged = tensor_shape.unknown_shape()
    for tensor in op._inputs:
        shape = tensor._shape_val
        if shape.ndims == 0:
            continue
        try:
            merged = merged.merge_with(shape)
        except ValueError:
            raise array_ops.shape_error(
                op, "Shapes must be equal rank, but are %d and %d" % (merged.ndims, shape.ndims)
                if merged.ndims != shape.ndims else "Dimensions must be equal")
    if merged.ndims is None and all(t._shape_val.ndims == 0 for t in op._inputs):
        merged = tensor_shape.TensorShape([])
    return [merged]


_betainc_elementwise = _elementwise(_betainc)


def _betainc_kernel(a, b, x):
    shapes = [np.shape(a), np.shape(b), np.shape(x)]
    non_scalar = [shape for shape in shapes if shape != ()]
    if any(shape != non_scalar[0] for shape in non_scalar):
        raise errors.InvalidArgumentError(
            None, None, "Shapes of a, b, and x are inconsistent: [%s] vs. [%s] vs. [%s]"
            % tuple(",".join(str(d) for d in shape) for shape in shapes))
    return _betainc_elementwise(a, b, x)


register_op("Betainc", inputs=["a: T", "b: T", "x: T"], outputs=["z: T"],
            attrs=["T: " + _REAL], compute=_betainc_kernel, shape=_betainc_shape)


def _xlogy(x, y):
    with np.errstate(all="ignore"):
        result = np.where(x == 0, np.zeros_like(x), np.multiply(x, np.log(y)))
    return np.asarray(result, dtype=np.asarray(x).dtype)


def _xlog1py(x, y):
    with np.errstate(all="ignore"):
        result = np.where(x == 0, np.zeros_like(x), np.multiply(x, np.log1p(y)))
    return np.asarray(result, dtype=np.asarray(x).dtype)


def _xdivy(x, y):
    with np.errstate(all="ignore"):
        result = np.where(x == 0, np.zeros_like(x), np.true_divide(x, y))
    return np.asarray(result, dtype=np.asarray(x).dtype)


for _op_type, _fn in (("Xlogy", _xlogy), ("Xlog1py", _xlog1py), ("Xdivy", _xdivy)):
    register_op(_op_type, inputs=["x: T", "y: T"], outputs=["z: T"],
                attrs=["T: {half, bfloat16, float, double, complex64, complex128}"],
                compute=_fn, shape=_helpers.broadcast_shape)


# --- complex parts -------------------------------------------------------------------------------

def _complex_kernel(op, ctx):
    out_dtype = _helpers.np_dtype(op, "Tout")

    def run(real_part, imag_part):
        return (np.asarray(real_part) + 1j * np.asarray(imag_part)).astype(out_dtype)
    return run


def _part_kernel(part):
    def factory(op, ctx):
        out_dtype = _helpers.np_dtype(op, "Tout")

        def run(value):
            return np.asarray(part(np.asarray(value))).astype(out_dtype)
        return run
    return factory


register_op("Complex", inputs=["real: T", "imag: T"], outputs=["out: Tout"],
            attrs=["T: {float, double} = DT_FLOAT", "Tout: {complex64, complex128} = DT_COMPLEX64"],
            kernel=_complex_kernel, shape=_helpers.broadcast_shape)
for _op_type, _part in (("Real", np.real), ("Imag", np.imag), ("Angle", np.angle)):
    register_op(_op_type, inputs=["input: T"], outputs=["output: Tout"],
                attrs=["T: {complex64, complex128} = DT_COMPLEX64",
                       "Tout: {float, double} = DT_FLOAT"],
                kernel=_part_kernel(_part), shape=_helpers.unchanged_shape)
register_op("ComplexAbs", inputs=["x: T"], outputs=["y: Tout"],
            attrs=["T: {complex64, complex128} = DT_COMPLEX64",
                   "Tout: {float, double} = DT_FLOAT"],
            kernel=_part_kernel(np.abs), shape=_helpers.unchanged_shape)


# --- builders ------------------------------------------------------------------------------------

def _gen(op_type, *arg_names):
    def build(*args, name=None):
        return apply_op(op_type, name=name, **dict(zip(arg_names, args)))
    build.__name__ = op_type.lower()
    return build


erf = _gen("Erf", "x")
erfc = _gen("Erfc", "x")
lgamma = _gen("Lgamma", "x")
digamma = _gen("Digamma", "x")
igamma = _gen("Igamma", "a", "x")
igammac = _gen("Igammac", "a", "x")
igamma_grad_a = _gen("IgammaGradA", "a", "x")
betainc = _gen("Betainc", "a", "b", "x")
zeta = _gen("Zeta", "x", "q")
polygamma = _gen("Polygamma", "a", "x")


xlogy = _gen("Xlogy", "x", "y")


def xlog1py(x, y, name=None):
    """x * log1p(y), 0 where x == 0."""
    with ops.name_scope(name, "xlog1py", [x]):
        return apply_op("Xlog1py", x=x, y=y)


def xdivy(x, y, name=None):
    """x / y, 0 where x == 0."""
    with ops.name_scope(name, "xdivy", [x]):
        return apply_op("Xdivy", x=x, y=y)


def complex(real, imag, name=None):  # noqa: A001
    """real + i * imag: complex64 from float32 parts, complex128 from float64 parts."""
    real = ops.convert_to_tensor(real, name="real")
    imag = ops.convert_to_tensor(imag, name="imag")
    with ops.name_scope(name, "Complex", [real, imag]) as scope:
        parts = (real.dtype.base_dtype, imag.dtype.base_dtype)
        if parts == (dtypes.float64, dtypes.float64):
            out_type = dtypes.complex128
        elif parts == (dtypes.float32, dtypes.float32):
            out_type = dtypes.complex64
        else:
            raise TypeError("The `real` and `imag` components have incorrect types: %s %s. They "
                            "must be consistent, and one of [tf.float32, tf.float64]"
                            % (real.dtype.name, imag.dtype.name))
        return apply_op("Complex", real=real, imag=imag, Tout=out_type, name=scope)


def real(input, name=None):  # noqa: A002
    """The real part; a real numeric tensor is returned unchanged."""
    with ops.name_scope(name, "Real", [input]) as scope:
        input = ops.convert_to_tensor(input, name="input")  # noqa: A001
        if input.dtype.is_complex:
            return apply_op("Real", input=input, Tout=input.dtype.real_dtype, name=scope)
        if input.dtype.base_dtype not in _NON_NUMERIC:
            return input
        raise TypeError("input must be a numeric tensor, but got tensor with dtype %s"
                        % input.dtype)


def imag(input, name=None):  # noqa: A002
    """The imaginary part; zeros for a real tensor."""
    with ops.name_scope(name, "Imag", [input]) as scope:
        input = ops.convert_to_tensor(input, name="input")  # noqa: A001
        if input.dtype.is_complex:
            return apply_op("Imag", input=input, Tout=input.dtype.real_dtype, name=scope)
        return array_ops.zeros_like(input)


def angle(input, name=None):  # noqa: A002
    """The argument atan2(imag, real); pi for negative and 0 for other real values."""
    with ops.name_scope(name, "Angle", [input]) as scope:
        input = ops.convert_to_tensor(input, name="input")  # noqa: A001
        if input.dtype.is_complex:
            return apply_op("Angle", input=input, Tout=input.dtype.real_dtype, name=scope)
        return array_ops.where(input < 0, np.pi * array_ops.ones_like(input),
                               array_ops.zeros_like(input))


def complex_abs(x, Tout=dtypes.float32, name=None):  # noqa: N803 (TensorFlow's attr name)
    return apply_op("ComplexAbs", x=x, Tout=Tout, name=name)


# --- gradients -----------------------------------------------------------------------------------

def _reduce_to(partial, grad, axes, shape):
    return array_ops.reshape(math_ops.reduce_sum(partial * grad, axes), shape)


def _erf_grad(sign):
    def grad_fn(op, grad):
        scale = array_ops.constant(sign * 2 / np.sqrt(np.pi), dtype=grad.dtype)
        with ops.control_dependencies([grad]):
            x = math_ops.conj(op._inputs[0])
            return [grad * scale * math_ops.exp(-math_ops.square(x))]
    return grad_fn


def _lgamma_grad(op, grad):
    with ops.control_dependencies([grad]):
        return [grad * digamma(math_ops.conj(op._inputs[0]))]


def _digamma_grad(op, grad):
    with ops.control_dependencies([grad]):
        x = math_ops.conj(op._inputs[0])
        return [grad * polygamma(array_ops.constant(1, dtype=x.dtype), x)]


def _igamma_grad(op, grad):
    a, x = op._inputs
    sa = array_ops.shape(a)
    sx = array_ops.shape(x)
    ra, rx = array_ops.broadcast_gradient_args(sa, sx)
    with ops.control_dependencies([grad]):
        partial_a = igamma_grad_a(a, x)
        # In log space: Gamma(a) and x ** (a - 1) overflow long before their ratio does.
        partial_x = math_ops.exp(-x + (a - 1) * math_ops.log(x) - lgamma(a))
        return [_reduce_to(partial_a, grad, ra, sa), _reduce_to(partial_x, grad, rx, sx)]


def _igammac_grad(op, grad):
    grad_a, grad_x = _igamma_grad(op, grad)
    return [-grad_a, -grad_x]


def _betainc_grad(op, grad):
    a, b, x = op._inputs
    sa = array_ops.shape(a)
    sx = array_ops.shape(x)
    _, rx = array_ops.broadcast_gradient_args(sa, sx)
    log_beta = lgamma(a) + lgamma(b) - lgamma(a + b)
    # xlogy/xlog1py keep the density finite at the ends when a or b is 1.
    partial_x = math_ops.exp(xlog1py(b - 1, -x) + xlogy(a - 1, x) - log_beta)
    return [None, None, _reduce_to(partial_x, grad, rx, sx)]


def _zeta_grad(op, grad):
    x, q = op._inputs
    sx = array_ops.shape(x)
    sq = array_ops.shape(q)
    _, rq = array_ops.broadcast_gradient_args(sx, sq)
    with ops.control_dependencies([grad]):
        x = math_ops.conj(x)
        q = math_ops.conj(q)
        partial_q = -x * zeta(x + 1, q)
        return [None, _reduce_to(partial_q, grad, rq, sq)]


def _polygamma_grad(op, grad):
    n, x = op._inputs
    sn = array_ops.shape(n)
    sx = array_ops.shape(x)
    _, rx = array_ops.broadcast_gradient_args(sn, sx)
    with ops.control_dependencies([grad]):
        n = math_ops.conj(n)
        x = math_ops.conj(x)
        partial_x = polygamma(n + 1, x)
        return [None, _reduce_to(partial_x, grad, rx, sx)]


def _x_log_grad(log_op, y_offset):
    """Xlogy / Xlog1py: d/dx = log(y + offset) where x != 0, d/dy = x / (y + offset)."""
    def grad_fn(op, grad):
        x, y = op._inputs
        sx = array_ops.shape(x)
        sy = array_ops.shape(y)
        rx, ry = array_ops.broadcast_gradient_args(sx, sy)
        with ops.control_dependencies([grad]):
            not_zero_x = math_ops.cast(math_ops.not_equal(x, math_ops.cast(0., dtype=x.dtype)),
                                       dtype=x.dtype)
            partial_x = apply_op(log_op, x=not_zero_x, y=y)
            partial_y = apply_op("Xdivy", x=x, y=y + 1. if y_offset else y)
            return [_reduce_to(partial_x, grad, rx, sx), _reduce_to(partial_y, grad, ry, sy)]
    return grad_fn


def _xdivy_grad(op, grad):
    x, y = op._inputs
    sx = array_ops.shape(x)
    sy = array_ops.shape(y)
    rx, ry = array_ops.broadcast_gradient_args(sx, sy)
    with ops.control_dependencies([grad]):
        not_zero_x = math_ops.cast(math_ops.not_equal(x, math_ops.cast(0., dtype=x.dtype)),
                                   dtype=x.dtype)
        partial_x = apply_op("Xdivy", x=not_zero_x, y=y)
        partial_y = apply_op("Xdivy", x=math_ops.negative(x), y=y ** 2)
        return [_reduce_to(partial_x, grad, rx, sx), _reduce_to(partial_y, grad, ry, sy)]


def _complex_grad(op, grad):
    real_part, imag_part = op._inputs
    return math_ops._reduce_gradient_args(real_part, imag_part, real(grad), imag(grad))


def _real_grad(op, grad):
    return [complex(grad, array_ops.constant(0, dtype=grad.dtype))]


def _imag_grad(op, grad):
    return [complex(array_ops.constant(0, dtype=grad.dtype), grad)]


def _angle_grad(op, grad):
    x = op._inputs[0]
    with ops.control_dependencies([grad]):
        z = math_ops.reciprocal(complex(imag(x), real(x)))
        complex_grad = complex(grad, array_ops.constant(0, dtype=grad.dtype))
        return [-complex_grad * z]


def _complex_abs_grad(op, grad):
    return [math_ops.div_no_nan(
        complex(grad, array_ops.zeros_like(grad)) * op._inputs[0],
        complex(op._outputs[0], array_ops.zeros_like(op._outputs[0])))]


register_gradient("Erf", _erf_grad(1))
register_gradient("Erfc", _erf_grad(-1))
register_gradient("Lgamma", _lgamma_grad)
register_gradient("Digamma", _digamma_grad)
register_gradient("Igamma", _igamma_grad)
register_gradient("Igammac", _igammac_grad)
register_gradient("Betainc", _betainc_grad)
register_gradient("Zeta", _zeta_grad)
register_gradient("Polygamma", _polygamma_grad)
register_gradient("Xlogy", _x_log_grad("Xlogy", 0))
register_gradient("Xlog1py", _x_log_grad("Xlog1py", 1))
register_gradient("Xdivy", _xdivy_grad)
register_gradient("Complex", _complex_grad)
register_gradient("Real", _real_grad)
register_gradient("Imag", _imag_grad)
register_gradient("Angle", _angle_grad)
register_gradient("ComplexAbs", _complex_abs_grad)
