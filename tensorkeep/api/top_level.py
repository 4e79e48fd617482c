"""The top-level TensorFlow 1.x namespace (`tf.X`): a thin map from TF's names to the layers.

tensorkeep/__init__.py loads this module on the first `tf.X` that needs it (PEP 562), so
that `import tensorkeep` itself imports neither NumPy nor the layers. Every public name here,
and every private one, becomes an attribute of the tensorkeep package then.
"""

# tensorkeep's own subpackages that are also names of the namespace: bound here so that the
# namespace holds them whatever was imported first (tf.io is the files-and-formats layer).
import tensorkeep.api as api  # noqa: F401
import tensorkeep.compat as compat  # noqa: F401
import tensorkeep.framework as framework  # noqa: F401
import tensorkeep.io as io  # noqa: F401
import tensorkeep.ops as ops  # noqa: F401
import tensorkeep.runtime as runtime  # noqa: F401
import tensorkeep.training as training  # noqa: F401

# --- framework ---------------------------------------------------------------------------------
from tensorkeep.framework import errors  # noqa: F401
from tensorkeep.framework.dtypes import (  # noqa: F401
    DType, as_dtype, float16, half, float32, float64, double, bfloat16, int8, int16, int32,
    int64, uint8, uint16, uint32, uint64, bool_ as bool, string, complex64, complex128, qint8,
    quint8, qint16, quint16, qint32, resource, variant, float16_ref, float32_ref, float64_ref,
    bfloat16_ref, int8_ref, int16_ref, int32_ref, int64_ref, uint8_ref, uint16_ref, uint32_ref,
    uint64_ref, bool_ref, string_ref, complex64_ref, complex128_ref)
from tensorkeep.framework.tensor_shape import (  # noqa: F401
    TensorShape, Dimension)
from tensorkeep.framework.device import DeviceSpec  # noqa: F401
from tensorkeep.framework.ops import (  # noqa: F401
    Graph, Operation, Tensor, GraphKeys, get_default_graph, reset_default_graph,
    name_scope, control_dependencies, device, colocate_with, add_to_collection,
    add_to_collections, get_collection, get_collection_ref, get_default_session,
    convert_to_tensor, register_tensor_conversion_function, op_scope, is_tensor)
from tensorkeep.framework.tensor_util import (  # noqa: F401
    make_tensor_proto, make_ndarray)
from tensorkeep.framework.tensor_util import constant_value as get_static_value  # noqa: F401

# --- ops ---------------------------------------------------------------------------------------
from tensorkeep.ops.array_ops import (  # noqa: F401
    constant, placeholder, placeholder_with_default, identity, stop_gradient, shape, shape_n,
    size, rank, reshape, fill, zeros, ones, zeros_like, ones_like, stack, unstack,
    parallel_stack, concat, split, transpose, matrix_transpose, invert_permutation, tile,
    expand_dims, squeeze, slice, strided_slice, pad, gather, gather_nd, scatter_nd, where,
    where_v2, one_hot, reverse, reverse_v2, broadcast_to, broadcast_dynamic_shape,
    broadcast_static_shape, unique, setdiff1d, dynamic_stitch, dynamic_partition,
    sparse_to_dense, bitcast, boolean_mask, sequence_mask, meshgrid, newaxis)
from tensorkeep.ops.math_ops import (  # noqa: F401
    add, subtract, multiply, realdiv, floordiv, floormod, truncatediv, truncatemod, maximum,
    minimum, squared_difference, less, less_equal, greater, greater_equal, logical_and,
    logical_or, logical_not, logical_xor, equal, not_equal, pow, negative, square, sqrt, rsqrt,
    exp, log, log1p, expm1, sign, reciprocal, floor, ceil, rint, round, sin, cos, tan, asin, acos,
    atan, atan2, sinh, cosh, abs, truediv, divide, div, div_no_nan, cast, to_float, to_double,
    to_int32, to_int64, matmul, reduce_sum, reduce_mean, reduce_prod, reduce_max, reduce_min,
    reduce_all, reduce_any, add_n, is_nan, is_inf, is_finite, asinh, acosh, atanh, conj,
    floor_div, scalar_mul, accumulate_n, argmax, argmin, cumsum, cumprod, range, linspace,
    lin_space, segment_sum, unsorted_segment_sum, count_nonzero, reduce_logsumexp, tensordot,
    norm, einsum, clip_by_value, clip_by_norm, clip_by_global_norm, global_norm)
from tensorkeep.ops.math_ops import floormod as mod  # noqa: F401
from tensorkeep.ops.math_ops import negative as neg  # noqa: F401
from tensorkeep.ops.math_ops import subtract as sub  # noqa: F401
from tensorkeep.ops.math_ops import multiply as mul  # noqa: F401
from tensorkeep.ops.state_ops import (  # noqa: F401
    assign, assign_add, assign_sub, is_variable_initialized, scatter_update, scatter_add,
    scatter_sub, scatter_mul, scatter_div, scatter_max, scatter_min)
from tensorkeep.ops.random_ops import (  # noqa: F401
    random_normal, truncated_normal, random_uniform, random_shuffle, set_random_seed, get_seed)
from tensorkeep.ops.control_flow_ops import (  # noqa: F401
    no_op, group, tuple, with_dependencies, cond, while_loop, case)
from tensorkeep.ops import resource_variable_ops as _resource_variable_ops  # noqa: F401
from tensorkeep.ops.tensor_array_ops import TensorArray  # noqa: F401
from tensorkeep.ops import list_ops as _list_ops  # noqa: F401
from tensorkeep.ops.lookup_ops import tables_initializer  # noqa: F401
from tensorkeep.ops.parsing_ops import (  # noqa: F401
    parse_example, parse_single_example, FixedLenFeature, FixedLenSequenceFeature,
    VarLenFeature)
from tensorkeep.framework.sparse_tensor import SparseTensor, SparseTensorValue  # noqa: F401
from tensorkeep.framework.indexed_slices import IndexedSlices, IndexedSlicesValue  # noqa: F401
from tensorkeep.ops.misc_ops import (  # noqa: F401
    Assert, Print, depth_to_space, space_to_depth, fake_quant_with_min_max_vars,
    fake_quant_with_min_max_args, decode_raw)
from tensorkeep.ops.string_ops import (  # noqa: F401
    as_string, string_to_number, substr, regex_replace, encode_base64, decode_base64,
    string_strip, string_split, string_to_hash_bucket_fast, string_to_hash_bucket_strong,
    string_to_hash_bucket, reduce_join)
from tensorkeep.ops.io_ops import string_join  # noqa: F401
from tensorkeep.api import strings  # noqa: F401
from tensorkeep.ops.linalg_ops import (  # noqa: F401
    cholesky, cholesky_solve, matrix_inverse, matrix_determinant, matrix_solve,
    matrix_triangular_solve, matrix_solve_ls, qr, svd, self_adjoint_eig, self_adjoint_eigvals,
    matrix_band_part, matrix_diag, matrix_diag_part, matrix_set_diag, diag, diag_part, trace,
    eye)
from tensorkeep.ops.array_ops_extra import (  # noqa: F401
    count_up_to, roll, reverse_sequence, segment_max, segment_min, segment_mean, segment_prod,
    unsorted_segment_max, unsorted_segment_min, unsorted_segment_prod, unsorted_segment_mean,
    unsorted_segment_sqrt_n, scatter_nd_update, scatter_nd_add, scatter_nd_sub,
    tensor_scatter_nd_update, tensor_scatter_nd_add, tensor_scatter_nd_sub, tensor_scatter_nd_max,
    tensor_scatter_nd_min, space_to_batch, space_to_batch_nd, batch_to_space, batch_to_space_nd,
    cross, unique_with_counts, unravel_index, ensure_shape, check_numerics,
    verify_tensor_all_finite, histogram_fixed_width)
from tensorkeep.ops.array_ops_extra import bincount_v1 as bincount  # noqa: F401
from tensorkeep.ops.array_ops_extra import (  # noqa: F401
    tensor_scatter_nd_update as tensor_scatter_update, tensor_scatter_nd_add as tensor_scatter_add,
    tensor_scatter_nd_sub as tensor_scatter_sub)
from tensorkeep.ops.variables import (  # noqa: F401
    Variable, global_variables, all_variables, local_variables, trainable_variables,
    model_variables, moving_average_variables, variables_initializer, initialize_variables,
    global_variables_initializer, initialize_all_variables, local_variables_initializer,
    initialize_local_variables, report_uninitialized_variables, assert_variables_initialized,
    VariableSynchronization, VariableAggregation)
from tensorkeep.ops.init_ops import (  # noqa: F401
    zeros_initializer, ones_initializer, constant_initializer, random_uniform_initializer,
    random_normal_initializer, truncated_normal_initializer, uniform_unit_scaling_initializer,
    variance_scaling_initializer, glorot_uniform_initializer, glorot_normal_initializer)
from tensorkeep.ops.partitioned_variables import (  # noqa: F401
    PartitionedVariable, fixed_size_partitioner, min_max_variable_partitioner,
    variable_axis_size_partitioner)
from tensorkeep.training.variable_scope import (  # noqa: F401
    AUTO_REUSE, VariableScope, variable_scope, variable_op_scope, get_variable,
    get_local_variable, get_variable_scope, no_regularizer, create_partitioned_variables)
from tensorkeep.training.gradients import (  # noqa: F401
    gradients, hessians, custom_gradient, AggregationMethod, UnconnectedGradients)

# --- runtime -----------------------------------------------------------------------------------
from tensorkeep.runtime.session import Session, InteractiveSession  # noqa: F401
from tensorkeep.runtime import functions as _functions  # noqa: F401

# --- graph files (tf.GraphDef, tf.ConfigProto, ...: tensorkeep/__init__.py, on first use) ------
from tensorkeep.framework.importer import import_graph_def  # noqa: F401

# --- namespaces --------------------------------------------------------------------------------
from tensorkeep.api import graph_util, gfile, logging  # noqa: F401
from tensorkeep.api import train, nn, random  # noqa: F401
from tensorkeep.api import math, linalg  # noqa: F401
from tensorkeep.api import initializers, contrib  # noqa: F401
from tensorkeep.api import saved_model  # noqa: F401
from tensorkeep.api import lookup, summary, quantization, sets, image  # noqa: F401
from tensorkeep.api import layers, losses  # noqa: F401
from tensorkeep.api import app  # noqa: F401
from tensorkeep.api import debugging, manip  # noqa: F401
from tensorkeep.api.app import flags  # noqa: F401

# --- special functions, complex parts (ops/special_math_ops.py) --------------------------------
from tensorkeep.ops.special_math_ops import (  # noqa: F401,E402
    erf, erfc, lgamma, digamma, igamma, igammac, betainc, zeta, polygamma, complex, real, imag,
    angle)

# --- TF1 top-level aliases of tf.math / tf.nn functions ----------------------------------------
from tensorkeep.ops.nn_ops import sigmoid, tanh  # noqa: F401,E402
from tensorkeep.ops.math_ops import log_sigmoid  # noqa: F401,E402

# --- assertions (ops/check_ops.py) -------------------------------------------------------------
from tensorkeep.ops.check_ops import (  # noqa: F401,E402
    assert_equal, assert_none_equal, assert_less, assert_less_equal, assert_greater,
    assert_greater_equal, assert_negative, assert_positive, assert_non_negative,
    assert_non_positive, assert_near, assert_rank, assert_rank_at_least, assert_scalar,
    assert_type, assert_integer)

# --- sorting and searching (ops/sort_ops.py) ---------------------------------------------------
from tensorkeep.ops.sort_ops import sort, argsort, searchsorted, repeat  # noqa: F401,E402

# --- higher-order functions (ops/functional_ops.py) --------------------------------------------
from tensorkeep.ops.functional_ops import map_fn, foldl, foldr, scan  # noqa: F401,E402

# --- sparse tensors (ops/sparse_ops.py) -----------------------------------------------------------
from tensorkeep.ops.sparse_ops import (  # noqa: F401,E402
    sparse_tensor_dense_matmul, sparse_add, sparse_reorder, sparse_reshape, sparse_reduce_sum,
    sparse_reduce_sum_sparse, sparse_reduce_max, sparse_reduce_max_sparse, sparse_softmax,
    sparse_maximum, sparse_minimum, sparse_tensor_to_dense, sparse_retain, sparse_transpose,
    sparse_placeholder, sparse_concat, sparse_slice, sparse_split, sparse_fill_empty_rows,
    sparse_mask, sparse_merge, sparse_to_indicator)
from tensorkeep.api import sparse  # noqa: F401,E402
