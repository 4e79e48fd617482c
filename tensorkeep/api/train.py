"""tf.train"""
# Saver and checkpoint management
from tensorkeep.training.saver import Saver  # noqa: E402,F401
from tensorkeep.training.meta_graph_api import (  # noqa: E402,F401
    import_meta_graph, export_meta_graph, write_graph)
from tensorkeep.training.checkpoint_management import (  # noqa: E402,F401
    latest_checkpoint, get_checkpoint_state, update_checkpoint_state, checkpoint_exists,
    get_checkpoint_mtimes, remove_checkpoint, generate_checkpoint_state_proto)
from tensorkeep.training.checkpoint_utils import (  # noqa: E402,F401
    NewCheckpointReader, list_variables, load_variable, load_checkpoint, checkpoints_iterator,
    init_from_checkpoint)
# Optimizers and schedules
from tensorkeep.training.optimizer import Optimizer  # noqa: E402,F401
from tensorkeep.training.optimizers import (  # noqa: E402,F401
    GradientDescentOptimizer, ProximalGradientDescentOptimizer, MomentumOptimizer,
    AdamOptimizer, RMSPropOptimizer, AdagradOptimizer, AdadeltaOptimizer, FtrlOptimizer,
    ProximalAdagradOptimizer, AdagradDAOptimizer)
from tensorkeep.training.learning_rate_decay import (  # noqa: E402,F401
    exponential_decay, natural_exp_decay, inverse_time_decay, polynomial_decay, cosine_decay,
    piecewise_constant)
from tensorkeep.training.training_util import (  # noqa: E402,F401
    global_step, get_global_step, create_global_step, get_or_create_global_step,
    assert_global_step)
# Moving averages
from tensorkeep.training.moving_averages import ExponentialMovingAverage  # noqa: E402,F401


def __getattr__(name):
    # Protobuf message classes load on first use (tf.train.SaverDef, tf.train.CheckpointState).
    if name in ("SaverDef", "CheckpointState"):
        from tensorkeep.io import protos
        return getattr(protos, name)
    raise AttributeError("module 'tensorflow.train' has no attribute %r" % name)
