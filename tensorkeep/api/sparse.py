"""tf.sparse: the TF1 sparse-tensor namespace."""

from tensorkeep.framework.sparse_tensor import SparseTensor, SparseTensorValue  # noqa: F401
from tensorkeep.ops.sparse_ops import (  # noqa: F401
    sparse_tensor_dense_matmul as sparse_dense_matmul, sparse_tensor_dense_matmul as matmul,
    sparse_add as add, sparse_reorder as reorder, sparse_reshape as reshape,
    sparse_reduce_sum as reduce_sum, sparse_reduce_sum_sparse as reduce_sum_sparse,
    sparse_reduce_max as reduce_max, sparse_reduce_max_sparse as reduce_max_sparse,
    sparse_softmax as softmax, sparse_maximum as maximum, sparse_minimum as minimum,
    sparse_tensor_to_dense as to_dense, sparse_retain as retain, sparse_transpose as transpose,
    sparse_placeholder as placeholder, sparse_concat as concat, sparse_slice as slice,
    sparse_split as split, sparse_fill_empty_rows as fill_empty_rows, sparse_mask as mask,
    sparse_merge as merge, sparse_to_indicator as to_indicator)
