"""tf.manip"""

from tensorkeep.ops.array_ops import gather_nd, reshape, reverse, scatter_nd, tile  # noqa: F401
from tensorkeep.ops.array_ops_extra import (  # noqa: F401
    batch_to_space_nd, roll, space_to_batch_nd)
