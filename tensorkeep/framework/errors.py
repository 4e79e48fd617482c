"""tf.errors: TensorFlow's error classes (defined in the io layer, re-exported here)."""

from tensorkeep.io.errors import *  # noqa: F401,F403
from tensorkeep.io.errors import OpError  # noqa: F401
