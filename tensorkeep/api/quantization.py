"""tf.quantization: fake quantization."""

from tensorkeep.ops.misc_ops import (  # noqa: F401
    fake_quant_with_min_max_vars, fake_quant_with_min_max_args)
