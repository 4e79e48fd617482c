"""What tf.gradients keeps while it differentiates through TF1 while loops (TensorFlow 1.x's
algorithm, same graph structure):

* each forward loop on the path gets a GradLoopState: a counter of its iterations (`f_count`)
  and a gradient loop (a new WhileContext) that runs as many iterations backwards (`b_count`);
* a forward value that a gradient function needs inside the gradient loop is saved at every
  forward iteration on a stack (StackV2 built outside the loop, StackPushV2 in the loop) and
  popped by the gradient loop in reverse order (StackPopV2);
* control edges keep the pushes of one iteration before the next iteration's, and the pops
  likewise (`f_sync`/`b_sync` ControlTrigger ops and the counters' NextIteration ops).

The gradient functions of the loop primitives live beside the ops in control_flow_ops.py.
"""

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.tensor_util import constant_value
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops


def _outer_while_context(context):
    """The while loop enclosing `context` (itself excluded), or None."""
    outer = context.outer_context
    return outer.GetWhileContext() if outer is not None else None


class GradLoopState:
    """One forward while loop and the gradient loop that runs it backwards.

    `history_map` maps a forward tensor's name to the value standing for it in the gradient
    loop (usually a stack pop); `switch_map` maps a loop variable's Switch to the gradient
    loop's Merge built for it."""

    def __init__(self, forward_context, outer_grad_state):
        self._outer_grad_state = outer_grad_state
        self._forward_context = forward_context
        self._forward_sync = None
        self._grad_sync = None
        self.history_map = {}
        self.switch_map = {}
        self.unused_exits = []
        self.deferred_exits = []
        self.forward_loop_exits = list(forward_context.loop_exits)
        self.pending_exits_count = len(forward_context.loop_exits)

        if outer_grad_state is not None:
            outer_forward_context = outer_grad_state.forward_context
        else:
            outer_forward_context = forward_context.outer_context
        if outer_forward_context is not None:
            outer_forward_context.Enter()
        count, self._forward_index = forward_context.AddForwardLoopCounter(outer_grad_state)
        if outer_forward_context is not None:
            outer_forward_context.Exit()

        loop_args = dict(maximum_iterations=forward_context.maximum_iterations,
                         parallel_iterations=forward_context.parallel_iterations,
                         back_prop=forward_context.back_prop,
                         swap_memory=forward_context.swap_memory,
                         name=forward_context.name, grad_state=self)
        if outer_grad_state is not None:
            # A nested loop runs once per outer iteration: its iteration counts are saved by
            # the outer loop and popped by the outer gradient loop.
            outer_forward_context.AddName(count.name)
            history_count = outer_grad_state.add_forward_accumulator(count)
            outer_grad_context = outer_grad_state.grad_context
            outer_grad_context.Enter()
            self._grad_context = control_flow_ops.WhileContext(**loop_args)
            real_count = outer_grad_state.add_backprop_accumulated_value(history_count, count)
            self._grad_index = self._grad_context.AddBackpropLoopCounter(real_count,
                                                                         outer_grad_state)
            outer_grad_context.Exit()
        else:
            if outer_forward_context is not None:
                outer_forward_context.Enter()
            self._grad_context = control_flow_ops.WhileContext(**loop_args)
            self._grad_index = self._grad_context.AddBackpropLoopCounter(count,
                                                                         outer_grad_state)
            if outer_forward_context is not None:
                outer_forward_context.Exit()

    @property
    def outer_grad_state(self):
        return self._outer_grad_state

    @property
    def forward_context(self):
        return self._forward_context

    @property
    def forward_index(self):
        """The forward counter's NextIteration: pushes of an iteration run before it."""
        return self._forward_index

    @property
    def grad_context(self):
        return self._grad_context

    @property
    def grad_index(self):
        return self._grad_index

    @property
    def forward_sync(self):
        """A ControlTrigger in the forward loop ordering pushes made inside conds before the
        next iteration."""
        if self._forward_sync is None:
            with ops.control_dependencies(None):
                self._forward_sync = control_flow_ops.control_trigger(name="f_sync")
            self._forward_sync._set_control_flow_context(self._forward_context)
            self._forward_index.op._add_control_input(self._forward_sync)
        return self._forward_sync

    @property
    def grad_sync(self):
        """A ControlTrigger in the gradient loop ordering an iteration's pops before the
        next iteration."""
        if self._grad_sync is None:
            with ops.control_dependencies(None):
                self._grad_sync = control_flow_ops.control_trigger(name="b_sync")
            self._grad_sync._set_control_flow_context(self._grad_context)
            self._grad_index.op._add_control_input(self._grad_sync)
            if self._grad_context.outer_context is not None:
                self._grad_context.outer_context.AddInnerOp(self._grad_sync)
        return self._grad_sync

    def add_forward_accumulator(self, value, dead_branch=False):
        """A stack receiving `value` at every forward iteration; called in the context
        tf.gradients runs in. `dead_branch`: `value` stands on the untaken side of a cond's
        Switch (the zeros for that side need its shape)."""
        graph = ops.get_default_graph()
        current_context = graph._get_control_flow_context()
        with ops.control_dependencies(None):
            if current_context is not None:
                current_context.Enter()
            with ops.colocate_with(value):
                max_size = array_ops.constant(-1, dtypes.int32)
                acc = apply_op("StackV2", max_size=max_size,
                               elem_type=value.dtype.base_dtype, name="f_acc")
            if current_context is not None:
                current_context.Exit()
            enter_acc = self._forward_context.AddValue(acc)
            swap_memory = self._forward_context.swap_memory
            value_context = control_flow_ops._output_context(value.op)
            if value_context is self._forward_context:
                self._forward_context.Enter()
                push = apply_op("StackPushV2", handle=enter_acc, elem=value,
                                swap_memory=swap_memory)
                self._forward_context.Exit()
                self._forward_index.op._add_control_input(push.op)
            else:
                if not isinstance(value_context, control_flow_ops.CondContext):
                    raise TypeError("value_ctxt is not a CondContext: %s" % value_context)
                if dead_branch:
                    # Built beside the cond, then claimed by it: it runs on the dead side.
                    value_context.outer_context.Enter()
                    push = apply_op("StackPushV2", handle=enter_acc, elem=value,
                                    swap_memory=swap_memory)
                    value_context.outer_context.Exit()
                    push.op._set_control_flow_context(value_context)
                else:
                    value_context.Enter()
                    push = apply_op("StackPushV2", handle=enter_acc, elem=value,
                                    swap_memory=swap_memory)
                    value_context.Exit()
                self.forward_sync._add_control_input(push.op)
            # Each push follows the counter's increment of its own iteration.
            push.op._add_control_input(self._forward_index.op._inputs[0].op)
            return acc

    def add_backprop_accumulated_value(self, history_value, value, dead_branch=False):
        """The pop of `history_value` (the stack of `value`) in the gradient loop, guarded by
        the saved predicate when `value` lives in a cond branch."""
        history_context = history_value.op._control_flow_context
        cond_context = None
        value_context = value.op._control_flow_context
        while value_context is not None and value_context is not history_context:
            if isinstance(value_context, control_flow_ops.CondContext):
                cond_context = value_context
                break
            value_context = value_context.outer_context
        with ops.control_dependencies(None):
            self._grad_context.Enter()
            if cond_context is not None:
                grad_state = self
                pred = None
                while pred is None and grad_state is not None:
                    pred = grad_state.history_map.get(cond_context.pred.name)
                    grad_state = grad_state.outer_grad_state
                if pred is None:
                    pred = cond_context.pred
                branch = (1 - cond_context.branch) if dead_branch else cond_context.branch
                history_value = control_flow_ops._switch_ref_or_tensor(history_value,
                                                                      pred)[branch]
            pop = apply_op("StackPopV2", handle=history_value,
                           elem_type=value.dtype.base_dtype)
            pop.set_shape(value.shape)
            self._grad_context.Exit()
        if self._grad_context.parallel_iterations > 1:
            self.grad_sync._add_control_input(pop.op)
        return pop

    def get_real_value(self, value):
        """What stands for forward value `value` in the gradient loop (called there): its
        saved history, the outside value for a loop invariant, a copy for a constant."""
        real_value = self.history_map.get(value.name)
        if real_value is not None:
            return real_value
        current_value = value
        current_state = self
        history_value = None
        while True:
            enter_op = control_flow_ops._loop_constant_enter_of(current_value)
            if enter_op is not None:
                current_value = enter_op._inputs[0]
                current_state = current_state.outer_grad_state
                if current_state is None:
                    # Invariant of every loop being differentiated: use it directly.
                    real_value = self._grad_context.AddValue(current_value)
                    break
            elif current_value.op._type == "Const":
                real_value = array_ops.constant(constant_value(current_value),
                                                dtype=current_value.dtype)
                break
            else:
                self._grad_context.Exit()
                history_value = current_state.add_forward_accumulator(current_value)
                self._grad_context.Enter()
                break
        if real_value is None:
            real_value = current_state.add_backprop_accumulated_value(history_value,
                                                                      current_value)
            if current_state is not self:
                real_value = self._grad_context.AddValue(real_value)
        self.history_map[value.name] = real_value
        return real_value


class ControlFlowState:
    """The GradLoopState of every forward loop one tf.gradients call goes through."""

    def __init__(self):
        self._map = {}  # forward WhileContext -> GradLoopState

    def get_grad_state(self, op, before):
        """The state of the loop `op` belongs to; an Exit's own gradient ops (`before`) belong
        to the enclosing loop."""
        if before and control_flow_ops._is_loop_exit(op):
            forward_context = _outer_while_context(op._control_flow_context)
        else:
            forward_context = control_flow_ops._while_context_of(op)
        return self._map.get(forward_context) if forward_context is not None else None

    def process_unused_loop_exits(self, pending_count, to_ops_set):
        """Exits of the loops that nothing between xs and ys consumes: once every exit of a
        loop is known, those to differentiate (with zeros) are returned."""
        loop_exits = []
        for grad_state in self._map.values():
            for y in grad_state.forward_loop_exits:
                if pending_count[y.op] == 0:
                    grad_state.pending_exits_count -= 1
                    if y.op not in to_ops_set:
                        grad_state.unused_exits.append(y)
                    if grad_state.pending_exits_count == 0:
                        loop_exits.extend(grad_state.unused_exits)
            # Enters are walked too, so that every gradient loop gets its Exits.
            for y in grad_state.forward_context.loop_enters:
                if pending_count[y.op] == 0:
                    pending_count[y.op] = 1
        return loop_exits

    def enter_grad_while_context(self, op, before):
        grad_state = self.get_grad_state(op, before)
        if grad_state is not None:
            grad_state.grad_context.Enter()

    def exit_grad_while_context(self, op, before):
        grad_state = self.get_grad_state(op, before)
        if grad_state is not None:
            grad_state.grad_context.Exit()

    def add_while_context(self, op, between_op_list, between_ops):
        """Creates the state of the loop Exit `op` ends (called where tf.gradients runs) and
        puts all that loop's exits between xs and ys."""
        forward_context = control_flow_ops._while_context_of(op)
        grad_state = self._map.get(forward_context)
        if grad_state is not None:
            return
        outer_forward_context = _outer_while_context(forward_context)
        outer_grad_state = (self._map.get(outer_forward_context)
                            if outer_forward_context is not None else None)
        grad_state = GradLoopState(forward_context, outer_grad_state)
        self._map[forward_context] = grad_state
        for loop_exit in grad_state.forward_loop_exits:
            if loop_exit.op not in between_ops:
                between_ops.add(loop_exit.op)
                between_op_list.append(loop_exit.op)

    def zeros_like_for_exit(self, val):
        """Zeros as the gradient of an unused loop Exit `val` (called where tf.gradients
        runs)."""
        val_shape = val.shape
        forward_context = val.op._control_flow_context
        outer_forward_context = _outer_while_context(forward_context)
        outer_grad_state = (self._map.get(outer_forward_context)
                            if outer_forward_context is not None else None)
        if outer_grad_state is None:
            if val_shape.is_fully_defined():
                return array_ops.zeros(val_shape.as_list(), val.dtype.base_dtype)
            return array_ops.zeros_like(val, optimize=False)
        if val_shape.is_fully_defined():
            outer_grad_state.grad_context.Enter()
            result = array_ops.zeros(val_shape.as_list(), val.dtype.base_dtype)
            outer_grad_state.grad_context.Exit()
            return result
        # Nested: the shape of each execution's result is saved by the outer loop.
        forward_context.outer_context.Enter()
        shape = array_ops.shape_internal(val, optimize=False)
        forward_context.outer_context.Exit()
        history_shape = outer_grad_state.add_forward_accumulator(shape)
        outer_grad_context = outer_grad_state.grad_context
        outer_grad_context.Enter()
        real_shape = outer_grad_state.add_backprop_accumulated_value(history_shape, shape)
        result = array_ops.zeros(real_shape, val.dtype.base_dtype)
        outer_grad_context.Exit()
        return result

    def zeros_like_v1_while_loop(self, op, index):
        """Zeros for output `index` of `op`, which nothing differentiated; inside a loop
        being differentiated they are built in its gradient loop (called there)."""
        if control_flow_ops._is_loop_switch(op):
            return None
        dead_branch = control_flow_ops._is_switch(op)
        forward_context = control_flow_ops._while_context_of(op)
        grad_state = self._map.get(forward_context) if forward_context is not None else None
        if grad_state is None:
            return control_flow_ops.zeros_like_output(op, index)
        op_context = op._control_flow_context
        val = op._outputs[index]
        shape = val.shape
        if shape.is_fully_defined():
            if val.dtype.base_dtype == dtypes.resource:
                raise NotImplementedError(
                    "Zero gradients for a resource handle inside a while loop (%s) are not "
                    "supported by tensorkeep." % val.name)
            result = array_ops.constant(0, shape=shape.as_list(), dtype=val.dtype.base_dtype)
            if dead_branch:
                pred = grad_state.history_map.get(op_context.pred.name)
                result = control_flow_ops._switch_ref_or_tensor(result,
                                                                pred)[1 - op_context.branch]
            return result
        # Unknown shape: the forward loop saves it at every iteration.
        if dead_branch:
            op_context.outer_context.Enter()
            val = control_flow_ops._switch_ref_or_tensor(
                op._inputs[0], op_context.pred)[1 - op_context.branch]
            zeros_shape = array_ops.shape_internal(val, optimize=False)
            op_context.outer_context.Exit()
            val.op._set_control_flow_context(op_context)
            zeros_shape.op._set_control_flow_context(op_context)
        else:
            op_context.Enter()
            zeros_shape = array_ops.shape_internal(val, optimize=False)
            op_context.Exit()
        grad_state.grad_context.Exit()
        history_zeros_shape = grad_state.add_forward_accumulator(zeros_shape,
                                                                 dead_branch=dead_branch)
        grad_state.grad_context.Enter()
        shape = grad_state.add_backprop_accumulated_value(history_zeros_shape, zeros_shape,
                                                          dead_branch)
        return array_ops.zeros(shape, val.dtype.base_dtype)

    def post_processing(self):
        """Loop variables whose next value does not depend on their current one: the
        gradient Merge still has its placeholder back edge (its Enter twice), which becomes
        zeros for the iterations after the first."""
        for grad_state in self._map.values():
            for b_merge in grad_state.switch_map.values():
                if b_merge.op._inputs[0] is not b_merge.op._inputs[1]:
                    continue
                dtype = b_merge.op._inputs[0].dtype.base_dtype
                shape = b_merge.op._inputs[0].shape
                if shape.is_fully_defined():
                    grad_state.grad_context.Enter()
                    grad_val = array_ops.constant(0, dtype=dtype, shape=shape.as_list())
                    next_grad_val = control_flow_ops._next_iteration(grad_val)
                    grad_state.grad_context.Exit()
                else:
                    outer_grad_context = grad_state.grad_context.outer_context
                    if outer_grad_context is not None:
                        outer_grad_context.Enter()
                    enter_grad = b_merge.op._inputs[0].op._inputs[0]
                    grad_shape = array_ops.shape_internal(enter_grad, optimize=False)
                    grad_val = array_ops.zeros(grad_shape)
                    if outer_grad_context is not None:
                        outer_grad_context.Exit()
                    grad_state.grad_context.Enter()
                    next_grad_val = control_flow_ops._next_iteration(grad_val)
                    grad_state.grad_context.Exit()
                b_merge.op._update_input(1, next_grad_val)


def maybe_create_control_flow_state(between_op_list, between_ops,
                                    colocate_gradients_with_ops):
    """A ControlFlowState when ops between xs and ys include loop Exits, else None; adds
    every exit of those loops to `between_op_list`/`between_ops`."""
    loop_state = None
    for op in between_op_list:  # exits appended here are visited too
        if not control_flow_ops._is_loop_exit(op):
            continue
        if loop_state is None:
            loop_state = ControlFlowState()
        if colocate_gradients_with_ops:
            with ops.colocate_with(op):
                loop_state.add_while_context(op, between_op_list, between_ops)
        else:
            loop_state.add_while_context(op, between_op_list, between_ops)
    return loop_state
