"""tf.summary (TensorFlow 1.x graph summaries): scalar, histogram, merge, merge_all."""

from tensorkeep.ops.misc_ops import (  # noqa: F401
    scalar_summary as scalar, histogram_summary as histogram, image_summary as image,
    merge_summary as merge,
    merge_all_summaries as merge_all)
