"""tf.contrib: the parts of TensorFlow 1.x's contrib that model code commonly reaches
(tf.contrib.layers regularizers and initializers, tf.contrib.framework variable helpers,
tf.contrib.rnn cells)."""

import sys
import types

from tensorkeep.ops import init_ops as _init_ops
from tensorkeep.ops import regularizers as _regularizers
from tensorkeep.ops import rnn as _rnn
from tensorkeep.ops import rnn_cell_impl as _rnn_cell
from tensorkeep.training import contrib_framework as _framework
from tensorkeep.training import training_util as _training_util
from tensorkeep.training import variable_scope as _variable_scope


def _namespace(name, **members):
    module = types.ModuleType(__name__ + "." + name)
    module.__dict__.update(members)
    sys.modules[module.__name__] = module
    return module


layers = _namespace(
    "layers",
    l1_regularizer=_regularizers.l1_regularizer,
    l2_regularizer=_regularizers.l2_regularizer,
    l1_l2_regularizer=_regularizers.l1_l2_regularizer,
    sum_regularizer=_regularizers.sum_regularizer,
    apply_regularization=_regularizers.apply_regularization,
    xavier_initializer=_init_ops.xavier_initializer,
    xavier_initializer_conv2d=_init_ops.xavier_initializer,
    variance_scaling_initializer=_init_ops.contrib_variance_scaling_initializer,
)

framework = _namespace(
    "framework",
    arg_scope=_framework.arg_scope,
    add_arg_scope=_framework.add_arg_scope,
    has_arg_scope=_framework.has_arg_scope,
    arg_scoped_arguments=_framework.arg_scoped_arguments,
    variable=_framework.variable,
    model_variable=_framework.model_variable,
    local_variable=_framework.local_variable,
    global_variable=_framework.global_variable,
    add_model_variable=_framework.add_model_variable,
    get_variables=_framework.get_variables,
    get_model_variables=_framework.get_model_variables,
    get_local_variables=_framework.get_local_variables,
    get_trainable_variables=_framework.get_trainable_variables,
    get_variables_to_restore=_framework.get_variables_to_restore,
    get_variables_by_suffix=_framework.get_variables_by_suffix,
    get_variables_by_name=_framework.get_variables_by_name,
    get_unique_variable=_framework.get_unique_variable,
    VariableScope=_variable_scope.VariableScope,
    get_global_step=_training_util.get_global_step,
    get_or_create_global_step=_training_util.get_or_create_global_step,
    create_global_step=_training_util.create_global_step,
    assert_global_step=_training_util.assert_global_step,
)

rnn = _namespace(
    "rnn",
    RNNCell=_rnn_cell.RNNCell,
    BasicRNNCell=_rnn_cell.BasicRNNCell,
    BasicLSTMCell=_rnn_cell.BasicLSTMCell,
    LSTMCell=_rnn_cell.LSTMCell,
    GRUCell=_rnn_cell.GRUCell,
    MultiRNNCell=_rnn_cell.MultiRNNCell,
    LSTMStateTuple=_rnn_cell.LSTMStateTuple,
    DropoutWrapper=_rnn_cell.DropoutWrapper,
    ResidualWrapper=_rnn_cell.ResidualWrapper,
    DeviceWrapper=_rnn_cell.DeviceWrapper,
    static_rnn=_rnn.static_rnn,
    static_bidirectional_rnn=_rnn.static_bidirectional_rnn,
)
