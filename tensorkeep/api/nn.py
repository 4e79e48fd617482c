"""tf.nn"""

from tensorkeep.ops.nn_ops import (  # noqa: F401
    relu, relu6, elu, selu, leaky_relu, sigmoid, tanh, softplus, softsign, l2_loss, bias_add,
    bias_add_v1, conv2d, conv2d_backprop_input, conv2d_backprop_filter, conv2d_transpose,
    depthwise_conv2d_native, max_pool, avg_pool, in_top_k,
    local_response_normalization)
from tensorkeep.ops.nn_ops import local_response_normalization as lrn  # noqa: F401
from tensorkeep.ops.nn_ops import max_pool as max_pool2d  # noqa: F401
from tensorkeep.ops.nn_ops import avg_pool as avg_pool2d  # noqa: F401
from tensorkeep.ops.math_ops import top_k  # noqa: F401
from tensorkeep.ops.nn_impl import (  # noqa: F401
    softmax, log_softmax, softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2, sparse_softmax_cross_entropy_with_logits,
    sigmoid_cross_entropy_with_logits, weighted_cross_entropy_with_logits, l2_normalize,
    moments, batch_normalization, fused_batch_norm, xw_plus_b, xw_plus_b_v1, relu_layer,
    embedding_lookup, dropout, depthwise_conv2d, separable_conv2d)
from tensorkeep.ops.misc_ops import depth_to_space, space_to_depth  # noqa: F401,E402
from tensorkeep.ops.array_ops_extra import space_to_batch  # noqa: F401
from tensorkeep.ops.rnn import (  # noqa: F401,E402
    dynamic_rnn, static_rnn, bidirectional_dynamic_rnn, static_bidirectional_rnn)
from tensorkeep.api import rnn_cell  # noqa: F401,E402
