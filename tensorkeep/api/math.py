"""tf.math"""

from tensorkeep.ops.math_ops import (  # noqa: F401
    abs, accumulate_n, acos, acosh, add, add_n, argmax, argmin, asin, asinh, atan, atan2, atanh,
    ceil, conj, cos, cosh, count_nonzero, cumprod, cumsum, divide, div_no_nan, equal, exp, expm1,
    floor, floordiv, floormod, greater, greater_equal, is_finite, is_inf,
    is_nan, less, less_equal, log, log1p, logical_and, logical_not, logical_or, logical_xor,
    maximum, minimum, multiply, multiply_no_nan, negative, not_equal, pow, reciprocal,
    reduce_all, reduce_any, reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod,
    reduce_std, reduce_sum, reduce_variance, rint, round, rsqrt, scalar_mul, segment_sum, sign,
    sin, sinh, sqrt, square, squared_difference, subtract, tan, top_k, truediv,
    unsorted_segment_sum)
from tensorkeep.ops.math_ops import div_no_nan as divide_no_nan  # noqa: F401
from tensorkeep.ops.math_ops import floormod as mod  # noqa: F401
from tensorkeep.ops.array_ops import invert_permutation  # noqa: F401
from tensorkeep.ops.nn_ops import in_top_k, sigmoid, tanh, softplus, softsign  # noqa: F401
from tensorkeep.ops.nn_impl import softmax, log_softmax, l2_normalize  # noqa: F401
from tensorkeep.ops.array_ops_extra import (  # noqa: F401
    segment_max, segment_min, segment_mean, segment_prod, unsorted_segment_max,
    unsorted_segment_min, unsorted_segment_prod, unsorted_segment_mean, unsorted_segment_sqrt_n)
from tensorkeep.ops.array_ops_extra import bincount_v1 as bincount  # noqa: F401
from tensorkeep.ops.special_math_ops import (  # noqa: F401,E402
    erf, erfc, lgamma, digamma, igamma, igammac, betainc, zeta, polygamma, xlogy, xlog1py, xdivy,
    real, imag, angle)
from tensorkeep.ops.math_ops import log_sigmoid  # noqa: F401,E402
