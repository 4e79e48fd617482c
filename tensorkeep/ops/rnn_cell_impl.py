"""tf.nn.rnn_cell (TF1): recurrent cells whose variables, node names and math are TensorFlow's
(`<scope>/basic_lstm_cell/kernel`, GRU's `gates/` and `candidate/` weights, MultiRNNCell's
`cell_<i>/` scopes), so checkpoints of RNN models move between the two."""

import collections
import hashlib

from tensorkeep.framework import dtypes, ops, tensor_shape, tensor_util
from tensorkeep.ops import array_ops, init_ops, math_ops, nn_ops
from tensorkeep.ops.control_flow_ops import _nest_flatten, _nest_pack
from tensorkeep.training import layers as base_layer
from tensorkeep.training import variable_scope as vs

_WEIGHTS_VARIABLE_NAME = "kernel"
_BIAS_VARIABLE_NAME = "bias"


def is_nested(value):
    return isinstance(value, (list, tuple, dict))


def map_structure(fn, structure):
    return _nest_pack(structure, [fn(leaf) for leaf in _nest_flatten(structure)])


def assert_like_rnncell(cell_name, cell):
    """Raises TypeError naming what `cell` lacks to be used as an RNN cell."""
    checks = [
        (hasattr(cell, "output_size"), "'output_size' property is missing"),
        (hasattr(cell, "state_size"), "'state_size' property is missing"),
        (hasattr(cell, "get_initial_state") or hasattr(cell, "zero_state"),
         "either 'zero_state' or 'get_initial_state' method is required"),
        (callable(cell), "is not callable"),
    ]
    missing = [message for passed, message in checks if not passed]
    if missing:
        raise TypeError("The argument %r (%s) is not an RNNCell: %s."
                        % (cell_name, cell, ", ".join(missing)))


def _as_size_vector(part, role):
    """(1-D int32 tensor or None, static list or None) for a size given as a Tensor or a shape;
    a fully known python shape becomes a Const (TensorFlow builds it even when only the static
    list is used)."""
    if isinstance(part, ops.Tensor):
        static = tensor_util.constant_value(part)
        if part.shape.ndims == 0:
            part = array_ops.expand_dims(part, 0)
        elif part.shape.ndims != 1:
            raise ValueError("%s tensor must be either a scalar or vector, but saw tensor: %s"
                             % (role, part))
        return part, static
    shape = tensor_shape.TensorShape(part)
    static = shape.as_list() if shape.ndims is not None else None
    tensor = (array_ops.constant(shape.as_list(), dtype=dtypes.int32)
              if shape.is_fully_defined() else None)
    return tensor, static


def _concat(prefix, suffix, static=False):
    """[prefix..., suffix...] as a 1-D int32 tensor, or (static=True) as a list with Nones."""
    prefix_tensor, prefix_static = _as_size_vector(prefix, "prefix")
    suffix_tensor, suffix_static = _as_size_vector(suffix, "suffix")
    if static:
        shape = tensor_shape.TensorShape(prefix_static).concatenate(suffix_static)
        return shape.as_list() if shape.ndims is not None else None
    if prefix_tensor is None or suffix_tensor is None:
        raise ValueError("Provided a prefix or suffix of None: %s and %s" % (prefix, suffix))
    return array_ops.concat((prefix_tensor, suffix_tensor), 0)


def _zero_state_tensors(state_size, batch_size, dtype):
    def zeros_for(size):
        zeros = array_ops.zeros(_concat(batch_size, size), dtype=dtype)
        zeros.set_shape(_concat(batch_size, size, static=True))
        return zeros
    return map_structure(zeros_for, state_size)


class RNNCell(base_layer.Layer):
    """Abstract recurrent cell: `(output, new_state) = cell(inputs, state)`."""

    def __init__(self, trainable=True, name=None, dtype=None, _reuse=None, **kwargs):
        super().__init__(trainable=trainable, name=name, dtype=dtype, _reuse=_reuse, **kwargs)
        self._is_tf_rnn_cell = True

    def __call__(self, inputs, state, scope=None):
        if scope is not None:
            with vs.variable_scope(scope) as scope:
                return base_layer.Layer.__call__(self, inputs, state, scope=scope)
        # Every call re-enters the variable scope current at the first call, which opens a
        # name scope named like it (`rnn/while/rnn/multi_rnn_cell/...`, as TensorFlow).
        if getattr(self, "_rnncell_scope", None) is None:
            self._rnncell_scope = vs.get_variable_scope()
        with vs.variable_scope(self._rnncell_scope):
            return base_layer.Layer.__call__(self, inputs, state)

    @property
    def state_size(self):
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self):
        raise NotImplementedError("Abstract method")

    def build(self, _):
        self.built = True

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        if inputs is not None:
            inputs = ops.convert_to_tensor(inputs, name="inputs")
            batch_size = (tensor_shape.dimension_value(inputs.shape[0])
                          or array_ops.shape(inputs)[0])
            dtype = inputs.dtype
        if batch_size is None or dtype is None:
            raise ValueError("batch_size and dtype cannot be None while constructing initial "
                             "state: batch_size={}, dtype={}".format(batch_size, dtype))
        return self.zero_state(batch_size, dtype)

    def zero_state(self, batch_size, dtype):
        """Zero-filled state tensors shaped [batch_size, state_size] (nested like state_size)."""
        with ops.name_scope(type(self).__name__ + "ZeroState"):
            return _zero_state_tensors(self.state_size, batch_size, dtype)


class LayerRNNCell(RNNCell):
    """An RNNCell whose variables are created in build() with add_weight; called as a plain
    layer (no re-entered variable scope)."""

    def __call__(self, inputs, state, scope=None):
        return base_layer.Layer.__call__(self, inputs, state, scope=scope)

    def add_variable(self, name, shape, initializer=None, partitioner=None, dtype=None):
        return self.add_weight(name, shape, dtype=dtype, initializer=initializer,
                               partitioner=partitioner)


def _input_depth(inputs_shape):
    depth = tensor_shape.dimension_value(tensor_shape.as_shape(inputs_shape)[-1])
    if depth is None:
        raise ValueError("Expected inputs.shape[-1] to be known, saw shape: %s"
                         % str(inputs_shape))
    return depth


def _zeros(cell):
    return init_ops.zeros_initializer(dtype=cell.dtype)


class BasicRNNCell(LayerRNNCell):
    """output = new_state = activation(W * [input, state] + b)."""

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units = num_units
        self._activation = activation or nn_ops.tanh

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape):
        depth = _input_depth(inputs_shape)
        self._kernel = self.add_variable(_WEIGHTS_VARIABLE_NAME,
                                         shape=[depth + self._num_units, self._num_units])
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, shape=[self._num_units],
                                       initializer=_zeros(self))
        self.built = True

    def call(self, inputs, state):
        gate_inputs = math_ops.matmul(array_ops.concat([inputs, state], 1), self._kernel)
        output = self._activation(nn_ops.bias_add(gate_inputs, self._bias))
        return output, output


class GRUCell(LayerRNNCell):
    """Gated Recurrent Unit (Cho et al. 2014) with `gates/` and `candidate/` weights."""

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units = num_units
        self._activation = activation or nn_ops.tanh
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape):
        depth = _input_depth(inputs_shape)
        units = self._num_units
        self._gate_kernel = self.add_variable(
            "gates/" + _WEIGHTS_VARIABLE_NAME, shape=[depth + units, 2 * units],
            initializer=self._kernel_initializer)
        self._gate_bias = self.add_variable(
            "gates/" + _BIAS_VARIABLE_NAME, shape=[2 * units],
            initializer=(self._bias_initializer if self._bias_initializer is not None
                         else init_ops.constant_initializer(1.0, dtype=self.dtype)))
        self._candidate_kernel = self.add_variable(
            "candidate/" + _WEIGHTS_VARIABLE_NAME, shape=[depth + units, units],
            initializer=self._kernel_initializer)
        self._candidate_bias = self.add_variable(
            "candidate/" + _BIAS_VARIABLE_NAME, shape=[units],
            initializer=(self._bias_initializer if self._bias_initializer is not None
                         else _zeros(self)))
        self.built = True

    def call(self, inputs, state):
        gate_inputs = math_ops.matmul(array_ops.concat([inputs, state], 1), self._gate_kernel)
        value = nn_ops.sigmoid(nn_ops.bias_add(gate_inputs, self._gate_bias))
        reset, update = array_ops.split(value=value, num_or_size_splits=2, axis=1)
        candidate = math_ops.matmul(array_ops.concat([inputs, reset * state], 1),
                                    self._candidate_kernel)
        candidate = self._activation(nn_ops.bias_add(candidate, self._candidate_bias))
        new_h = update * state + (1 - update) * candidate
        return new_h, new_h


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """(c, h): the cell state and the output of an LSTM cell."""
    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError("Inconsistent internal state: %s vs %s" % (str(c.dtype),
                                                                        str(h.dtype)))
        return c.dtype


class BasicLSTMCell(LayerRNNCell):
    """LSTM without peepholes or projection (Zaremba et al. 2014), forget_bias added to f."""

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
                 reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation or nn_ops.tanh

    @property
    def state_size(self):
        if self._state_is_tuple:
            return LSTMStateTuple(self._num_units, self._num_units)
        return 2 * self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape):
        depth = _input_depth(inputs_shape)
        self._kernel = self.add_variable(_WEIGHTS_VARIABLE_NAME,
                                         shape=[depth + self._num_units, 4 * self._num_units])
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, shape=[4 * self._num_units],
                                       initializer=_zeros(self))
        self.built = True

    def call(self, inputs, state):
        one = array_ops.constant(1, dtype=dtypes.int32)
        if self._state_is_tuple:
            c, h = state
        else:
            c, h = array_ops.split(value=state, num_or_size_splits=2, axis=one)
        gate_inputs = math_ops.matmul(array_ops.concat([inputs, h], 1), self._kernel)
        gate_inputs = nn_ops.bias_add(gate_inputs, self._bias)
        i, j, f, o = array_ops.split(value=gate_inputs, num_or_size_splits=4, axis=one)
        forget_bias = array_ops.constant(self._forget_bias, dtype=f.dtype)
        new_c = math_ops.add(
            math_ops.multiply(c, nn_ops.sigmoid(math_ops.add(f, forget_bias))),
            math_ops.multiply(nn_ops.sigmoid(i), self._activation(j)))
        new_h = math_ops.multiply(self._activation(new_c), nn_ops.sigmoid(o))
        if self._state_is_tuple:
            return new_h, LSTMStateTuple(new_c, new_h)
        return new_h, array_ops.concat([new_c, new_h], 1)


class LSTMCell(LayerRNNCell):
    """LSTM with optional peepholes (`w_f_diag`, `w_i_diag`, `w_o_diag`), cell clipping and
    a projection (`projection/kernel`) of the output."""

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
                 forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None,
                 dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._num_unit_shards = num_unit_shards
        self._num_proj_shards = num_proj_shards
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation or nn_ops.tanh
        output = num_proj if num_proj else num_units
        if state_is_tuple:
            self._state_size = LSTMStateTuple(num_units, output)
        else:
            self._state_size = num_units + output
        self._output_size = output

    @property
    def state_size(self):
        return self._state_size

    @property
    def output_size(self):
        return self._output_size

    def build(self, inputs_shape):
        from tensorkeep.ops import partitioned_variables

        depth = _input_depth(inputs_shape)
        h_depth = self._num_units if self._num_proj is None else self._num_proj
        unit_partitioner = (partitioned_variables.fixed_size_partitioner(self._num_unit_shards)
                            if self._num_unit_shards is not None else None)
        self._kernel = self.add_variable(
            _WEIGHTS_VARIABLE_NAME, shape=[depth + h_depth, 4 * self._num_units],
            initializer=self._initializer, partitioner=unit_partitioner)
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, shape=[4 * self._num_units],
                                       initializer=_zeros(self))
        if self._use_peepholes:
            self._w_f_diag = self.add_variable("w_f_diag", shape=[self._num_units],
                                               initializer=self._initializer)
            self._w_i_diag = self.add_variable("w_i_diag", shape=[self._num_units],
                                               initializer=self._initializer)
            self._w_o_diag = self.add_variable("w_o_diag", shape=[self._num_units],
                                               initializer=self._initializer)
        if self._num_proj is not None:
            proj_partitioner = (
                partitioned_variables.fixed_size_partitioner(self._num_proj_shards)
                if self._num_proj_shards is not None else None)
            self._proj_kernel = self.add_variable(
                "projection/" + _WEIGHTS_VARIABLE_NAME, shape=[self._num_units, self._num_proj],
                initializer=self._initializer, partitioner=proj_partitioner)
        self.built = True

    def call(self, inputs, state):
        num_proj = self._num_units if self._num_proj is None else self._num_proj
        sigmoid = nn_ops.sigmoid
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev = array_ops.slice(state, [0, 0], [-1, self._num_units])
            m_prev = array_ops.slice(state, [0, self._num_units], [-1, num_proj])
        if tensor_shape.dimension_value(inputs.shape.with_rank(2)[1]) is None:
            raise ValueError("Could not infer input size from inputs.get_shape()[-1]")
        lstm_matrix = math_ops.matmul(array_ops.concat([inputs, m_prev], 1), self._kernel)
        lstm_matrix = nn_ops.bias_add(lstm_matrix, self._bias)
        i, j, f, o = array_ops.split(value=lstm_matrix, num_or_size_splits=4, axis=1)
        if self._use_peepholes:
            c = (sigmoid(f + self._forget_bias + self._w_f_diag * c_prev) * c_prev
                 + sigmoid(i + self._w_i_diag * c_prev) * self._activation(j))
        else:
            c = sigmoid(f + self._forget_bias) * c_prev + sigmoid(i) * self._activation(j)
        if self._cell_clip is not None:
            c = math_ops.clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            m = sigmoid(o + self._w_o_diag * c) * self._activation(c)
        else:
            m = sigmoid(o) * self._activation(c)
        if self._num_proj is not None:
            m = math_ops.matmul(m, self._proj_kernel)
            if self._proj_clip is not None:
                m = math_ops.clip_by_value(m, -self._proj_clip, self._proj_clip)
        if self._state_is_tuple:
            return m, LSTMStateTuple(c, m)
        return m, array_ops.concat([c, m], 1)


class MultiRNNCell(RNNCell):
    """Cells stacked in sequence, each in variable scope `cell_<i>`."""

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not is_nested(cells):
            raise TypeError("cells must be a list or tuple, but saw: %s." % cells)
        self._cells = cells
        self._state_is_tuple = state_is_tuple
        if not state_is_tuple and any(is_nested(c.state_size) for c in cells):
            raise ValueError("Some cells return tuples of states, but the flag state_is_tuple "
                             "is not set.  State sizes are: %s"
                             % str([c.state_size for c in cells]))

    @property
    def state_size(self):
        if self._state_is_tuple:
            return tuple(cell.state_size for cell in self._cells)
        return sum(cell.state_size for cell in self._cells)

    @property
    def output_size(self):
        return self._cells[-1].output_size

    def zero_state(self, batch_size, dtype):
        with ops.name_scope(type(self).__name__ + "ZeroState"):
            if self._state_is_tuple:
                return tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)
            return super().zero_state(batch_size, dtype)

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for cell in self._cells for w in cell.trainable_weights]

    @property
    def non_trainable_weights(self):
        weights = [w for cell in self._cells for w in cell.non_trainable_weights]
        if not self.trainable:
            return [w for cell in self._cells for w in cell.trainable_weights] + weights
        return weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def call(self, inputs, state):
        position = 0
        current = inputs
        new_states = []
        for index, cell in enumerate(self._cells):
            with vs.variable_scope("cell_%d" % index):
                if self._state_is_tuple:
                    if not is_nested(state):
                        raise ValueError("Expected state to be a tuple of length %d, but "
                                         "received: %s" % (len(self.state_size), state))
                    cell_state = state[index]
                else:
                    cell_state = array_ops.slice(state, [0, position], [-1, cell.state_size])
                    position += cell.state_size
                current, new_state = cell(current, cell_state)
                new_states.append(new_state)
        if self._state_is_tuple:
            return current, tuple(new_states)
        return current, array_ops.concat(new_states, 1)


def _default_dropout_state_filter_visitor(substate):
    """Which parts of a state get dropout by default: never an LSTM's memory c."""
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    from tensorkeep.ops.tensor_array_ops import TensorArray

    return not isinstance(substate, TensorArray)


def _traverse_shallow_structure(visitor, structure):
    """The bool structure that visitor(node) decides, descending into nodes it returns True
    for (TensorFlow's nest.get_traverse_shallow_structure)."""
    decision = visitor(structure)
    if decision is True and is_nested(structure) and not isinstance(structure, dict):
        items = [_traverse_shallow_structure(visitor, item) for item in structure]
        if hasattr(structure, "_fields"):
            return type(structure)(*items)
        return type(structure)(items)
    return decision


def _enumerated_map_up_to(shallow, fn, *structures):
    """fn(index, shallow_leaf, *leaves) over the leaves of `shallow`, indices counted in order;
    the results rebuilt in `shallow`'s structure."""
    def leaves(node, shape):
        if is_nested(shape):
            return [leaf for sub_node, sub_shape in zip(node, shape)
                    for leaf in leaves(sub_node, sub_shape)]
        return [node]
    flat = [leaves(structure, shallow) for structure in structures]
    results = [fn(i, *parts) for i, parts in enumerate(zip(*flat))]
    if not is_nested(shallow):
        return results[0]
    return _nest_pack(shallow, results)


class _CellWrapper(RNNCell):
    """A cell around another (`cell`): its state and output sizes and, under the wrapper's own
    name scope, its zero state."""

    def __init__(self, cell, dtype=None):
        super().__init__(dtype=dtype)
        assert_like_rnncell("cell", cell)
        self.cell = cell

    @property
    def wrapped_cell(self):
        return self.cell

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return self.cell.output_size

    def zero_state(self, batch_size, dtype):
        with ops.name_scope(type(self).__name__ + "ZeroState"):
            return self.cell.zero_state(batch_size, dtype)


class DropoutWrapper(_CellWrapper):
    """Dropout on a cell's inputs, state (not an LSTM's c by default) and outputs, a new mask
    every step (tf.nn.dropout with seeds derived from `seed` as TensorFlow derives them)."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None):
        super().__init__(cell, dtype=dtype)
        if variational_recurrent:
            raise NotImplementedError("DropoutWrapper(variational_recurrent=True) is not "
                                      "implemented in tensorkeep")
        if dropout_state_filter_visitor is not None and not callable(
                dropout_state_filter_visitor):
            raise TypeError("dropout_state_filter_visitor must be callable")
        self._dropout_state_filter = (dropout_state_filter_visitor
                                      or _default_dropout_state_filter_visitor)
        with ops.name_scope("DropoutWrapperInit"):
            for prob, attr in ((input_keep_prob, "input_keep_prob"),
                               (state_keep_prob, "state_keep_prob"),
                               (output_keep_prob, "output_keep_prob")):
                tensor = ops.convert_to_tensor(prob)
                static = tensor_util.constant_value(tensor)
                if static is not None:
                    if static < 0 or static > 1:
                        raise ValueError("Parameter %s must be between 0 and 1: %d"
                                         % (attr, static))
                    setattr(self, "_" + attr, float(static))
                else:
                    setattr(self, "_" + attr, tensor)
        self._variational_recurrent = variational_recurrent
        self._input_size = input_size
        self._seed = seed

    def _gen_seed(self, salt_prefix, index):
        if self._seed is None:
            return None
        text = (str(self._seed) + "%s_%d" % (salt_prefix, index)).encode("utf-8")
        return int(hashlib.md5(text).hexdigest()[:8], 16) & 0x7FFFFFFF

    def _dropout(self, values, salt_prefix, keep_prob, shallow=None):
        from tensorkeep.ops import nn_impl

        def dropout(index, do_dropout, value):
            if not isinstance(do_dropout, bool) or do_dropout:
                return nn_impl.dropout_v2(value, rate=1. - keep_prob,
                                          seed=self._gen_seed(salt_prefix, index))
            return value
        shallow = values if shallow is None else shallow
        return _enumerated_map_up_to(shallow, dropout, shallow, values)

    def __call__(self, inputs, state, scope=None):
        def should_dropout(prob):
            return not isinstance(prob, float) or prob < 1

        if should_dropout(self._input_keep_prob):
            inputs = self._dropout(inputs, "input", self._input_keep_prob)
        output, new_state = self.cell(inputs, state, scope=scope)
        if should_dropout(self._state_keep_prob):
            shallow = _traverse_shallow_structure(self._dropout_state_filter, new_state)
            new_state = self._dropout(new_state, "state", self._state_keep_prob, shallow)
        if should_dropout(self._output_keep_prob):
            output = self._dropout(output, "output", self._output_keep_prob)
        return output, new_state


class ResidualWrapper(_CellWrapper):
    """A cell whose outputs are residual_fn(inputs, cell outputs), by default their sum."""

    def __init__(self, cell, residual_fn=None):
        super().__init__(cell)
        self._residual_fn = residual_fn

    def __call__(self, inputs, state, scope=None):
        outputs, new_state = self.cell(inputs, state, scope=scope)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, outputs), new_state
        from tensorkeep.ops.control_flow_ops import _assert_same_structure

        _assert_same_structure(inputs, outputs, "inputs and outputs")
        flat_inputs = _nest_flatten(inputs)
        flat_outputs = _nest_flatten(outputs)
        for value, output in zip(flat_inputs, flat_outputs):
            value.shape.assert_is_compatible_with(output.shape)
        return _nest_pack(inputs, [value + output for value, output
                                   in zip(flat_inputs, flat_outputs)]), new_state


class DeviceWrapper(_CellWrapper):
    """A cell whose ops (and zero state) are placed on `device`."""

    def __init__(self, cell, device):
        super().__init__(cell)
        self._device = device

    def zero_state(self, batch_size, dtype):
        with ops.name_scope(type(self).__name__ + "ZeroState"):
            with ops.device(self._device):
                return self.cell.zero_state(batch_size, dtype)

    def __call__(self, inputs, state, scope=None):
        with ops.device(self._device):
            return self.cell(inputs, state, scope=scope)
