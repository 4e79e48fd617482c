"""tf.debugging"""

from tensorkeep.ops.array_ops_extra import check_numerics  # noqa: F401
from tensorkeep.ops.array_ops_extra import (  # noqa: F401
    verify_tensor_all_finite as assert_all_finite)
from tensorkeep.ops.check_ops import (  # noqa: F401
    assert_equal, assert_none_equal, assert_less, assert_less_equal, assert_greater,
    assert_greater_equal, assert_negative, assert_positive, assert_non_negative,
    assert_non_positive, assert_near, assert_rank, assert_rank_at_least, assert_scalar,
    assert_type, assert_integer)
from tensorkeep.ops.misc_ops import Assert  # noqa: F401
from tensorkeep.ops.math_ops import is_finite, is_inf, is_nan  # noqa: F401
