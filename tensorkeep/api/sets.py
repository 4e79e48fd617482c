"""tf.sets: set operations on the last dimension of dense tensors."""

from tensorkeep.ops.misc_ops import (  # noqa: F401
    set_difference as difference, set_intersection as intersection, set_union as union)
