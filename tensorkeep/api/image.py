"""tf.image (the parts tensorkeep implements)."""

from tensorkeep.ops.misc_ops import adjust_contrast, depth_to_space, space_to_depth  # noqa: F401
