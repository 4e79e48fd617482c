"""tf.debugging"""

from tensorkeep.ops.array_ops_extra import check_numerics  # noqa: F401
from tensorkeep.ops.array_ops_extra import (  # noqa: F401
    verify_tensor_all_finite as assert_all_finite)
