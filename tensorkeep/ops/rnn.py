"""tf.nn.dynamic_rnn, static_rnn and bidirectional_dynamic_rnn (TF1): the recurrence unrolled
in a tf.while_loop over TensorArrays (dynamic) or in Python (static), with TensorFlow's
scopes (`rnn/while/...`, variables under `rnn/<cell>/`) and sequence_length semantics (outputs
zero past a sequence's end, its state copied through)."""

from tensorkeep.framework import dtypes, ops, tensor_shape, tensor_util
from tensorkeep.ops import array_ops, control_flow_ops, math_ops
from tensorkeep.ops import array_ops_extra
from tensorkeep.ops.control_flow_ops import _nest_flatten, _nest_pack
from tensorkeep.ops.rnn_cell_impl import _concat, assert_like_rnncell, is_nested, map_structure
from tensorkeep.ops.tensor_array_ops import TensorArray
from tensorkeep.training import variable_scope as vs


def _transpose_batch_time(x):
    """x with its first two axes swapped (tensors of rank < 2 unchanged), static shape kept."""
    static = x.shape
    if static.ndims is not None and static.ndims < 2:
        return x
    rank = array_ops.rank(x)
    transposed = array_ops.transpose(
        x, array_ops.concat(([1, 0], math_ops.range(2, rank)), axis=0))
    transposed.set_shape(tensor_shape.TensorShape(
        [static.dims[1].value, static.dims[0].value]).concatenate(static[2:])
        if static.ndims is not None else tensor_shape.unknown_shape())
    return transposed


def _best_effort_input_batch_size(flat_input):
    """The static batch size (axis 1 of time-major inputs), else a scalar tensor."""
    for value in flat_input:
        shape = value.shape
        if shape.ndims is None:
            continue
        if shape.ndims < 2:
            raise ValueError("Input tensor should have rank >= 2. Received input=%s of rank %d"
                             % (value, shape.ndims))
        batch_size = tensor_shape.dimension_value(shape[1])
        if batch_size is not None:
            return batch_size
    return array_ops.shape(flat_input[0])[1]


def _infer_state_dtype(explicit_dtype, state):
    if explicit_dtype is not None:
        return explicit_dtype
    if is_nested(state):
        inferred = [element.dtype for element in _nest_flatten(state)]
        if not inferred:
            raise ValueError("Unable to infer dtype from argument state=%s." % (state,))
        if any(dtype != inferred[0] for dtype in inferred):
            raise ValueError("Argument state=%s has tensors of different inferred dtypes. "
                             "Unable to infer a single representative dtype. Dtypes received: "
                             "%s" % (state, inferred))
        return inferred[0]
    return state.dtype


def _maybe_tensor_shape_from_tensor(shape):
    if isinstance(shape, ops.Tensor):
        return tensor_shape.as_shape(tensor_util.constant_value(shape))
    return shape


def _rnn_step(time, sequence_length, min_sequence_length, max_sequence_length, zero_output,
              state, call_cell, skip_conditionals=False):
    """One step of the cell where rows whose sequence has ended (time >= sequence_length) get
    zero_output and keep their state; without skip_conditionals, tf.conds skip the selects
    when no row (time < min length) or every row (time >= max length) has ended."""
    flat_state = _nest_flatten(state)
    flat_zero_output = _nest_flatten(zero_output)
    copy_cond = time >= sequence_length

    def copy_one_through(old, new):
        if isinstance(old, TensorArray) or old.shape.ndims == 0:
            return new
        with ops.colocate_with(new):
            return array_ops.where(copy_cond, old, new)

    def copy_some_through(flat_new_output, flat_new_state):
        return ([copy_one_through(z, n) for z, n in zip(flat_zero_output, flat_new_output)]
                + [copy_one_through(s, n) for s, n in zip(flat_state, flat_new_state)])

    def call_and_flatten():
        new_output, new_state = call_cell()
        control_flow_ops._assert_same_structure(zero_output, new_output, "output")
        control_flow_ops._assert_same_structure(state, new_state, "state")
        return _nest_flatten(new_output), _nest_flatten(new_state)

    def maybe_copy_some_through():
        flat_new_output, flat_new_state = call_and_flatten()
        return control_flow_ops.cond(
            time < min_sequence_length, lambda: flat_new_output + flat_new_state,
            lambda: copy_some_through(flat_new_output, flat_new_state))

    if skip_conditionals:
        final = copy_some_through(*call_and_flatten())
    else:
        final = control_flow_ops.cond(time >= max_sequence_length,
                                      lambda: flat_zero_output + flat_state,
                                      maybe_copy_some_through)
    final_output = final[:len(flat_zero_output)]
    final_state = final[len(flat_zero_output):]
    for output, zero in zip(final_output, flat_zero_output):
        output.set_shape(zero.shape)
    for substate, old in zip(final_state, flat_state):
        if not isinstance(substate, TensorArray):
            substate.set_shape(old.shape)
    return _nest_pack(zero_output, final_output), _nest_pack(state, final_state)


def _initial_state(cell, initial_state, batch_size, dtype):
    if initial_state is not None:
        return initial_state
    if not dtype:
        raise ValueError("If no initial_state is provided, argument `dtype` must be specified")
    if getattr(cell, "get_initial_state", None) is not None:
        return cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype)
    return cell.zero_state(batch_size, dtype)


def _assert_has_shape(x, shape):
    from tensorkeep.ops import misc_ops

    x_shape = array_ops.shape(x)
    packed_shape = array_ops.stack(shape)
    return misc_ops.Assert(
        math_ops.reduce_all(math_ops.equal(x_shape, packed_shape)),
        ["Expected shape for Tensor %s is " % x.name, packed_shape, " but saw shape: ", x_shape])


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """tf.nn.dynamic_rnn: (outputs, final_state) of `cell` run over the time axis of
    `inputs` ([batch, time, ...], or [time, batch, ...] when time_major)."""
    assert_like_rnncell("cell", cell)
    with vs.variable_scope(scope or "rnn"):
        flat_input = _nest_flatten(inputs)
        if not time_major:
            flat_input = [ops.convert_to_tensor(value) for value in flat_input]
            flat_input = tuple(_transpose_batch_time(value) for value in flat_input)
        parallel_iterations = parallel_iterations or 32
        if sequence_length is not None:
            sequence_length = math_ops.cast(sequence_length, dtypes.int32)
            if sequence_length.shape.ndims not in (None, 1):
                raise ValueError("Argument sequence_length must be a vector of length "
                                 "batch_size. Received sequence_length=%s of shape: %s"
                                 % (sequence_length, sequence_length.shape))
            sequence_length = array_ops.identity(sequence_length, name="sequence_length")
        batch_size = _best_effort_input_batch_size(flat_input)
        state = _initial_state(cell, initial_state, batch_size, dtype)
        if sequence_length is not None:
            with ops.control_dependencies([_assert_has_shape(sequence_length, [batch_size])]):
                sequence_length = array_ops.identity(sequence_length, name="CheckSeqLen")
        inputs = _nest_pack(inputs, list(flat_input))
        outputs, final_state = _dynamic_rnn_loop(
            cell, inputs, state, parallel_iterations=parallel_iterations,
            swap_memory=swap_memory, sequence_length=sequence_length, dtype=dtype)
        if not time_major:
            outputs = map_structure(_transpose_batch_time, outputs)
        return outputs, final_state


def _dynamic_rnn_loop(cell, inputs, initial_state, parallel_iterations, swap_memory,
                      sequence_length=None, dtype=None):
    state = initial_state
    flat_input = _nest_flatten(inputs)
    flat_output_size = _nest_flatten(cell.output_size)
    time_steps = array_ops.shape(flat_input[0])[0]
    batch_size = _best_effort_input_batch_size(flat_input)
    inputs_got_shape = tuple(value.shape.with_rank_at_least(3) for value in flat_input)
    const_time_steps, const_batch_size = inputs_got_shape[0].as_list()[:2]
    for value, shape in zip(flat_input, inputs_got_shape):
        if not shape[2:].is_fully_defined():
            raise ValueError("Input size (depth of inputs) must be accessible via shape "
                             "inference, but saw value None for input=%s." % value)
        if const_time_steps != tensor_shape.dimension_value(shape[0]):
            raise ValueError("Time steps is not the same for all the elements in the input in "
                             "a batch. Received time steps=%s for input=%s."
                             % (tensor_shape.dimension_value(shape[0]), value))
        if const_batch_size != tensor_shape.dimension_value(shape[1]):
            raise ValueError("Batch_size is not the same for all the elements in the input. "
                             "Received batch size=%s for input=%s."
                             % (tensor_shape.dimension_value(shape[1]), value))
    state_dtype = _infer_state_dtype(dtype, state)
    flat_zero_output = tuple(
        array_ops.zeros(array_ops.stack(_concat(batch_size, size)), state_dtype)
        for size in flat_output_size)
    zero_output = _nest_pack(cell.output_size, list(flat_zero_output))
    if sequence_length is not None:
        min_sequence_length = math_ops.reduce_min(sequence_length)
        max_sequence_length = math_ops.reduce_max(sequence_length)
    else:
        max_sequence_length = time_steps
    time = array_ops.constant(0, dtype=dtypes.int32, name="time")
    with ops.name_scope("dynamic_rnn") as base_name:
        pass

    def create_ta(name, element_shape, ta_dtype):
        return TensorArray(dtype=ta_dtype, size=time_steps, element_shape=element_shape,
                           tensor_array_name=base_name + name)

    output_ta = tuple(
        create_ta("output_%d" % i,
                  element_shape=tensor_shape.TensorShape([const_batch_size]).concatenate(
                      _maybe_tensor_shape_from_tensor(size)),
                  ta_dtype=state_dtype)
        for i, size in enumerate(flat_output_size))
    input_ta = tuple(create_ta("input_%d" % i, element_shape=value.shape[1:],
                               ta_dtype=value.dtype)
                     for i, value in enumerate(flat_input))
    input_ta = tuple(ta.unstack(value) for ta, value in zip(input_ta, flat_input))

    def time_step(time, output_ta_t, state):
        input_t = tuple(ta.read(time) for ta in input_ta)
        for value, shape in zip(input_t, inputs_got_shape):
            value.set_shape(shape[1:])
        input_t = _nest_pack(inputs, list(input_t))

        def call_cell():
            return cell(input_t, state)

        if sequence_length is not None:
            output, new_state = _rnn_step(time, sequence_length, min_sequence_length,
                                          max_sequence_length, zero_output, state, call_cell,
                                          skip_conditionals=True)
        else:
            output, new_state = call_cell()
        output = _nest_flatten(output)
        output_ta_t = tuple(ta.write(time, out) for ta, out in zip(output_ta_t, output))
        return (time + 1, output_ta_t, new_state)

    loop_bound = math_ops.minimum(time_steps, math_ops.maximum(1, max_sequence_length))
    _, output_final_ta, final_state = control_flow_ops.while_loop(
        cond=lambda time, *_: time < loop_bound, body=time_step,
        loop_vars=(time, output_ta, state), parallel_iterations=parallel_iterations,
        maximum_iterations=time_steps, swap_memory=swap_memory)
    final_outputs = tuple(ta.stack() for ta in output_final_ta)
    for output, size in zip(final_outputs, flat_output_size):
        output.set_shape(_concat([const_time_steps, const_batch_size], size, static=True))
    return _nest_pack(cell.output_size, list(final_outputs)), final_state


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """tf.nn.static_rnn: the cell applied to each tensor of the list `inputs` in turn;
    returns (list of outputs, final state)."""
    assert_like_rnncell("cell", cell)
    if not is_nested(inputs):
        raise TypeError("Argument `inputs` must be a sequence. Received: %s" % (inputs,))
    if not inputs:
        raise ValueError("Argument `inputs` must not be empty.")
    outputs = []
    with vs.variable_scope(scope or "rnn") as varscope:
        first_input = inputs
        while is_nested(first_input):
            first_input = first_input[0]
        if first_input.shape.ndims != 1:
            fixed_batch_size = first_input.shape.with_rank_at_least(2)[0]
            for flat_input in _nest_flatten(inputs):
                input_shape = flat_input.shape.with_rank_at_least(2)
                fixed_batch_size.assert_is_compatible_with(input_shape[0])
                for i, size in enumerate(input_shape[1:].dims):
                    if tensor_shape.dimension_value(size) is None:
                        raise ValueError("Input size (dimension %d of input %s) must be "
                                         "accessible via shape inference, but saw value None."
                                         % (i, flat_input))
        else:
            fixed_batch_size = first_input.shape.with_rank_at_least(1)[0]
        static_batch = tensor_shape.dimension_value(fixed_batch_size)
        batch_size = static_batch if static_batch else array_ops.shape(first_input)[0]
        state = _initial_state(cell, initial_state, batch_size, dtype)
        if sequence_length is not None:
            sequence_length = ops.convert_to_tensor(sequence_length, name="sequence_length")
            if sequence_length.shape.ndims not in (None, 1):
                raise ValueError("Argument `sequence_length` must be a vector of length %s. "
                                 "Received sequence_length=%s." % (batch_size, sequence_length))

            def create_zero_output(size):
                output = array_ops.zeros(array_ops.stack(_concat(batch_size, size)),
                                         _infer_state_dtype(dtype, state))
                output.set_shape(tensor_shape.TensorShape(
                    _concat(static_batch, size, static=True)))
                return output

            flat_zero_output = [create_zero_output(size)
                                for size in _nest_flatten(cell.output_size)]
            zero_output = _nest_pack(cell.output_size, flat_zero_output)
            sequence_length = math_ops.cast(sequence_length, dtypes.int32)
            min_sequence_length = math_ops.reduce_min(sequence_length)
            max_sequence_length = math_ops.reduce_max(sequence_length)
        for time, input_ in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()

            def call_cell(input_=input_, state=state):
                return cell(input_, state)

            if sequence_length is not None:
                output, state = _rnn_step(time, sequence_length, min_sequence_length,
                                          max_sequence_length, zero_output, state, call_cell)
            else:
                output, state = call_cell()
            outputs.append(output)
        return outputs, state


def _reverse(value, seq_lengths, seq_axis, batch_axis):
    if seq_lengths is not None:
        return array_ops_extra.reverse_sequence(value, seq_lengths=seq_lengths, seq_axis=seq_axis,
                                          batch_axis=batch_axis)
    return array_ops.reverse(value, axis=[seq_axis])


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              parallel_iterations=None, swap_memory=False, time_major=False,
                              scope=None):
    """tf.nn.bidirectional_dynamic_rnn: ((output_fw, output_bw), (state_fw, state_bw)); the
    backward cell reads each sequence reversed (up to its length) and its outputs are
    reversed back."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    time_axis, batch_axis = (0, 1) if time_major else (1, 0)
    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw") as fw_scope:
            output_fw, output_state_fw = dynamic_rnn(
                cell=cell_fw, inputs=inputs, sequence_length=sequence_length,
                initial_state=initial_state_fw, dtype=dtype,
                parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                time_major=time_major, scope=fw_scope)
        with vs.variable_scope("bw") as bw_scope:
            inputs_reverse = map_structure(
                lambda value: _reverse(value, sequence_length, time_axis, batch_axis), inputs)
            reversed_output, output_state_bw = dynamic_rnn(
                cell=cell_bw, inputs=inputs_reverse, sequence_length=sequence_length,
                initial_state=initial_state_bw, dtype=dtype,
                parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                time_major=time_major, scope=bw_scope)
    output_bw = _reverse(reversed_output, sequence_length, time_axis, batch_axis)
    return (output_fw, output_bw), (output_state_fw, output_state_bw)


def _reverse_seq(input_seq, lengths):
    """A list of per-step tensors reversed in time, each sequence up to its length."""
    if lengths is None:
        return list(reversed(input_seq))
    flat_steps = tuple(_nest_flatten(step) for step in input_seq)
    flat_results = [[] for _ in input_seq]
    for sequence in zip(*flat_steps):
        step_shape = tensor_shape.unknown_shape(rank=sequence[0].shape.ndims)
        for value in sequence:
            step_shape.assert_is_compatible_with(value.shape)
            value.set_shape(step_shape)
        reversed_steps = array_ops.unstack(
            array_ops_extra.reverse_sequence(array_ops.stack(sequence), lengths, 0, 1))
        for value, flat_result in zip(reversed_steps, flat_results):
            value.set_shape(step_shape)
            flat_result.append(value)
    return [_nest_pack(step, flat) for step, flat in zip(input_seq, flat_results)]


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None,
                             scope=None):
    """tf.nn.static_bidirectional_rnn: (outputs with forward and backward outputs
    concatenated per step, final forward state, final backward state)."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    if not is_nested(inputs):
        raise TypeError("Argument `inputs` must be a sequence. Received: %s" % (inputs,))
    if not inputs:
        raise ValueError("Argument `inputs` must not be empty.")
    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw") as fw_scope:
            output_fw, output_state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype,
                                                    sequence_length, scope=fw_scope)
        with vs.variable_scope("bw") as bw_scope:
            reversed_inputs = _reverse_seq(inputs, sequence_length)
            reversed_output, output_state_bw = static_rnn(
                cell_bw, reversed_inputs, initial_state_bw, dtype, sequence_length,
                scope=bw_scope)
    output_bw = _reverse_seq(reversed_output, sequence_length)
    flat_outputs = [array_ops.concat([fw, bw], 1)
                    for fw, bw in zip(_nest_flatten(output_fw), _nest_flatten(output_bw))]
    return _nest_pack(output_fw, flat_outputs), output_state_fw, output_state_bw
