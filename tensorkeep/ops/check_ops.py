"""TensorFlow 1.x's assertion builders (tf.assert_equal, tf.assert_rank, ...; tf.debugging.*):
graphs of comparisons, ReduceAll and Assert named as TensorFlow names them, with TensorFlow's
static checks (an assertion whose inputs are constants fails while the graph is built) and its
messages."""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_util
from tensorkeep.framework.sparse_tensor import SparseTensor
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops import math_ops
from tensorkeep.ops.misc_ops import Assert


def _message_prefix(message):
    return "%s.  " % message if message else ""


def _constant_text(value):
    """A data item as the static failure message shows it: constants by value."""
    if not isinstance(value, ops.Tensor):
        return str(value)
    constant = tensor_util.constant_value(value)
    return str(constant) if constant is not None else value


def _fail_statically(condition, data):
    if not condition:
        raise errors.InvalidArgumentError(
            None, None, "\n".join(str(_constant_text(item)) for item in data))


def _binary_assert(symbol, default_name, compare, static_compare, x, y, data, summarize,
                   message, name):
    with ops.name_scope(name, default_name, [x, y, data]):
        x = ops.convert_to_tensor(x, name="x")
        y = ops.convert_to_tensor(y, name="y")
        if data is None:
            data = ["Condition x %s y did not hold element-wise:" % symbol,
                    "x (%s) = " % x.name, x, "y (%s) = " % y.name, y]
        if message is not None:
            data = [message] + list(data)
        condition = math_ops.reduce_all(compare(x, y))
        x_static = tensor_util.constant_value(x)
        y_static = tensor_util.constant_value(y)
        if x_static is not None and y_static is not None:
            _fail_statically(np.all(static_compare(x_static, y_static)), data)
        return Assert(condition, data, summarize=summarize)


def assert_equal(x, y, data=None, summarize=None, message=None, name=None):
    # TensorFlow opens the scope once to short-circuit `x is y`: the second scope is uniquified.
    with ops.name_scope(name, "assert_equal", [x, y, data]):
        if x is y:
            return control_flow_ops.no_op()
    return _binary_assert("==", "assert_equal", math_ops.equal, np.equal, x, y, data,
                          summarize, message, name)


def assert_none_equal(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert("!=", "assert_none_equal", math_ops.not_equal, np.not_equal, x, y,
                          data, summarize, message, name)


def assert_less(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert("<", "assert_less", math_ops.less, np.less, x, y, data, summarize,
                          message, name)


def assert_less_equal(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert("<=", "assert_less_equal", math_ops.less_equal, np.less_equal, x, y,
                          data, summarize, message, name)


def assert_greater(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert(">", "assert_greater", math_ops.greater, np.greater, x, y, data,
                          summarize, message, name)


def assert_greater_equal(x, y, data=None, summarize=None, message=None, name=None):
    return _binary_assert(">=", "assert_greater_equal", math_ops.greater_equal,
                          np.greater_equal, x, y, data, summarize, message, name)


def _sign_assert(default_name, condition_text, zero_first, compare):
    """assert_negative & co: `x` against a zero of its dtype with assert_less(_equal)."""
    def build(x, data=None, summarize=None, message=None, name=None):
        message = _message_prefix(message)
        with ops.name_scope(name, default_name, [x, data]):
            x = ops.convert_to_tensor(x, name="x")
            if data is None:
                data = [message, condition_text, "x (%s) = " % x.name, x]
                if default_name == "assert_non_positive":
                    # TensorFlow's message runs these two strings together (no comma between).
                    data[1:3] = [data[1] + data[2]]
            zero = ops.convert_to_tensor(0, dtype=x.dtype)
            left, right = (zero, x) if zero_first else (x, zero)
            return compare(left, right, data=data, summarize=summarize)
    build.__name__ = default_name
    return build


assert_negative = _sign_assert("assert_negative", "Condition x < 0 did not hold element-wise:",
                               False, assert_less)
assert_positive = _sign_assert("assert_positive", "Condition x > 0 did not hold element-wise:",
                               True, assert_less)
assert_non_negative = _sign_assert("assert_non_negative",
                                   "Condition x >= 0 did not hold element-wise:", True,
                                   assert_less_equal)
assert_non_positive = _sign_assert("assert_non_positive",
                                   "Condition x <= 0 did not hold element-wise:", False,
                                   assert_less_equal)


def assert_near(x, y, rtol=None, atol=None, data=None, summarize=None, message=None,
                name=None):
    """|x - y| < atol + rtol * |y| elementwise; tolerances default to 10 * eps of the dtype."""
    message = _message_prefix(message)
    with ops.name_scope(name, "assert_near", [x, y, rtol, atol, data]):
        x = ops.convert_to_tensor(x, name="x")
        y = ops.convert_to_tensor(y, name="y", dtype=x.dtype)
        dtype = x.dtype.real_dtype if x.dtype.is_complex else x.dtype
        eps = np.finfo(dtype.as_numpy_dtype).eps
        rtol = ops.convert_to_tensor(10 * eps if rtol is None else rtol, name="rtol",
                                     dtype=dtype)
        atol = ops.convert_to_tensor(10 * eps if atol is None else atol, name="atol",
                                     dtype=dtype)
        if data is None:
            data = [message,
                    "x and y not equal to tolerance rtol = %s, atol = %s" % (rtol, atol),
                    "x (%s) = " % x.name, x, "y (%s) = " % y.name, y]
        tolerance = atol + rtol * math_ops.abs(y)
        difference = math_ops.abs(x - y)
        condition = math_ops.reduce_all(math_ops.less(difference, tolerance))
        return Assert(condition, data, summarize=summarize)


def assert_type(tensor, tf_type, message=None, name=None):
    """Raises TypeError unless tensor's dtype is tf_type; a NoOp otherwise."""
    with ops.name_scope(name, "assert_type", [tensor]):
        if not isinstance(tensor, SparseTensor):
            tensor = ops.convert_to_tensor(tensor, name="tensor")
        if tensor.dtype != tf_type:
            raise TypeError("%s%s must be of type %r; got %r" % (
                _message_prefix(message), getattr(tensor, "name", "tensor"), tf_type,
                tensor.dtype))
        return control_flow_ops.no_op("statically_determined_correct_type")


def assert_integer(x, message=None, name=None):
    """Raises TypeError unless x is an integer tensor; a NoOp otherwise."""
    with ops.name_scope(name, "assert_integer", [x]):
        x = ops.convert_to_tensor(x, name="x")
        if not x.dtype.is_integer:
            raise TypeError('%sExpected "x" to be integer type.  Found: %s of dtype %s'
                            % (_message_prefix(message), x.name, x.dtype))
        return control_flow_ops.no_op("statically_determined_was_integer")


def assert_scalar(tensor, name=None, message=None):
    """Returns tensor (converted) if its static shape is scalar; ValueError otherwise."""
    with ops.name_scope(name, "assert_scalar", [tensor]) as scope:
        tensor = ops.convert_to_tensor(tensor, name=scope)
        shape = tensor.shape
        if shape.ndims != 0:
            raise ValueError("%sExpected scalar shape for %s, saw shape: %s."
                             % (_message_prefix(message), tensor.name, shape))
        return tensor


class _StaticRankFailure(ValueError):
    def __init__(self, actual, expected):
        super().__init__("Static rank condition failed", actual, expected)
        self.actual = actual
        self.expected = expected


def _assert_rank_condition(x, rank, static_condition, dynamic_condition, data, summarize):
    assert_type(rank, dtypes.int32)
    rank_static = tensor_util.constant_value(rank)
    if rank_static is not None:
        if np.ndim(rank_static) != 0:
            raise ValueError("Rank must be a scalar.")
        x_rank = x.shape.ndims
        if x_rank is not None:
            if not static_condition(x_rank, rank_static):
                raise _StaticRankFailure(x_rank, rank_static)
            return control_flow_ops.no_op(name="static_checks_determined_all_ok")
    condition = dynamic_condition(array_ops.rank(x), rank)
    if rank_static is None:
        rank_check = assert_rank(rank, 0, data=["Rank must be a scalar. Received rank: ", rank])
        condition = control_flow_ops.with_dependencies([rank_check], condition)
    return Assert(condition, data, summarize=summarize)


def _rank_assert(default_name, words, static_condition, dynamic_condition):
    def build(x, rank, data=None, summarize=None, message=None, name=None):
        with ops.name_scope(name, default_name, (x, rank) + tuple(data or [])):
            x = ops.convert_to_tensor(x, name="x")
            rank = ops.convert_to_tensor(rank, name="rank")
            message = _message_prefix(message)
            if data is None:
                data = [message, "Tensor %s must have %s" % (x.name, words), rank,
                        "Received shape: ", array_ops.shape(x)]
            try:
                return _assert_rank_condition(x, rank, static_condition, dynamic_condition,
                                              data, summarize)
            except _StaticRankFailure as failure:
                raise ValueError("%sTensor %s must have %s %d.  Received rank %d, shape %s" % (
                    message, x.name, words, failure.expected, failure.actual, x.shape))
    build.__name__ = default_name
    return build


assert_rank = _rank_assert("assert_rank", "rank", lambda actual, given: actual == given,
                           math_ops.equal)
assert_rank_at_least = _rank_assert("assert_rank_at_least", "rank at least",
                                    lambda actual, given: actual >= given,
                                    math_ops.greater_equal)
