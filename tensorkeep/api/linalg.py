"""tf.linalg"""

from tensorkeep.ops.math_ops import einsum, matmul, matvec, norm, tensordot  # noqa: F401
from tensorkeep.ops.array_ops import matrix_transpose  # noqa: F401
from tensorkeep.ops.array_ops import matrix_transpose as transpose  # noqa: F401
from tensorkeep.ops.array_ops_extra import cross  # noqa: F401
