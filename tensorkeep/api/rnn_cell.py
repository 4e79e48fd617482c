"""tf.nn.rnn_cell"""

from tensorkeep.ops.rnn_cell_impl import (  # noqa: F401
    RNNCell, BasicRNNCell, BasicLSTMCell, LSTMCell, GRUCell, MultiRNNCell, LSTMStateTuple,
    DropoutWrapper, ResidualWrapper, DeviceWrapper)
