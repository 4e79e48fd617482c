"""tf.random"""

from tensorkeep.ops.random_ops import (  # noqa: F401
    random_normal as normal, truncated_normal, random_uniform as uniform, random_shuffle as shuffle,
    set_random_seed, get_seed)
