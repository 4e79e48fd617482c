"""tf.gradients: reverse-mode differentiation over the graph, building the gradient ops with
TensorFlow's structure and names (`gradients/Shape`, `gradients/grad_ys_0`, one
`gradients/<op>_grad/` scope per differentiated op, fan-in summed by `gradients/AddN`).

The walk follows TensorFlow's algorithm so that graphs (and node names) match:
1. mark the ops reachable forward from `xs` through trainable (floating/complex) tensors;
2. keep those that also lead backward to `ys`, counting for each op how many of its consumers
   lie between (its pending count);
3. seed `ys` with `grad_ys` (ones by default) and visit ops consumers-first: once every
   consumer has contributed, the op's output gradients are summed, its registered gradient
   function builds the input gradients, and its inputs' pending counts drop.

Through TF1 while loops (ops/control_flow_state.py): every loop with an Exit between xs and ys
gets a gradient loop; gradient ops of ops inside a loop are built in it, a loop's Exits are
differentiated together (zeros for unused ones once one has a gradient), and a loop variable's
Switch is visited twice (from its Exit, then from the body).
"""

import collections
import contextlib
import enum
import functools
import itertools

from tensorkeep.framework import dtypes
from tensorkeep.framework import gc_pause
from tensorkeep.framework import ops
from tensorkeep.framework import op_def as op_def_lib
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.indexed_slices import IndexedSlices
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops import control_flow_state
from tensorkeep.ops import math_ops
from tensorkeep.ops import resource_variable_ops

_TRAINABLE_DTYPES = frozenset([dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64,
                               dtypes.complex64, dtypes.complex128, dtypes.resource,
                               dtypes.variant])


class UnconnectedGradients(enum.Enum):
    """What tf.gradients returns for an x that ys do not depend on."""

    NONE = "none"
    ZERO = "zero"


class AggregationMethod:
    """How gradient contributions reaching one tensor are summed."""

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


def _is_trainable(tensor):
    return tensor.dtype.base_dtype in _TRAINABLE_DTYPES


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]




@contextlib.contextmanager
def _maybe_colocate_with(op, colocate):
    if colocate:
        with ops.colocate_with(op):
            yield
    else:
        yield


def _gradient_function(op):
    """(fn, found) for op: the `_gradient_op_type` attr (TensorFlow sets it on ops created
    under gradient_override_map) names the gradient to use; without it, the override map in
    force now, then the op's own type."""
    graph = op.graph
    op_type = op._attrs.get("_gradient_op_type")
    if isinstance(op_type, bytes):
        op_type = op_type.decode()
    if op_type is None:
        op_type = graph._gradient_override_map.get(op.type, op.type)
    return op_def_lib.gradient_function(op_type)


@gc_pause.paused_gc
def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients=UnconnectedGradients.NONE):
    """Symbolic partial derivatives of sum(ys) with respect to each x in xs.

    Returns one entry per x: a Tensor, an IndexedSlices (sparse gradients such as gather's),
    or None when ys do not depend on x (zeros with unconnected_gradients='zero').
    """
    try:
        unconnected_gradients = UnconnectedGradients(unconnected_gradients)
    except ValueError:
        raise ValueError("Unknown value for unconnected_gradients: '%s'" % unconnected_gradients)
    ys = _as_list(ys)
    xs = _as_list(xs)
    stop_gradients = [] if stop_gradients is None else _as_list(stop_gradients)
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    if len(grad_ys) != len(ys):
        raise ValueError("Length mismatch. Passed %d grad_ys for %d ys" % (len(grad_ys), len(ys)))
    graph = ops._get_graph_from_inputs(
        [v for v in ys + xs + stop_gradients + grad_ys if v is not None])
    with graph.as_default(), ops.name_scope(name, "gradients"):
        # TensorFlow reserves this name for its gradient uid; keep later names in step with it.
        graph.unique_name("uid")
        ys = [ops.convert_to_tensor(y, name="y") for y in ys]
        # Variables stand for their ref tensor (VariableV2's output) or resource handle.
        xs = [x.handle if resource_variable_ops.is_resource_variable(x) else
              ops.convert_to_tensor(x, name="x", as_ref=True) for x in xs]
        grad_ys = _default_grad_ys(grad_ys, ys, colocate_gradients_with_ops)
        grads = _backprop(graph, ys, xs, grad_ys, stop_gradients, colocate_gradients_with_ops,
                          gate_gradients, aggregation_method)
    # Zeros for unconnected xs are built outside the gradients scope, as TensorFlow does.
    with graph.as_default():
        return [_get_grad(grads, x, unconnected_gradients) for x in xs]


def _default_grad_ys(grad_ys, ys, colocate):
    """Ones shaped like each y where no gradient is given; given ones pass through Identity."""
    result = []
    for i, (y, grad_y) in enumerate(zip(ys, grad_ys)):
        with _maybe_colocate_with(y.op, colocate):
            if grad_y is None:
                if y.dtype.is_complex:
                    raise TypeError("Gradients of complex tensors (%s) must set grad_ys (y.dtype "
                                    "= %s)" % (y, y.dtype.base_dtype.name))
                result.append(array_ops.ones(array_ops.shape(y), dtype=y.dtype.base_dtype,
                                             name="grad_ys_%d" % i))
                continue
            if isinstance(grad_y, IndexedSlices):
                result.append(IndexedSlices(
                    array_ops.identity(grad_y.values, name="grad_ys_%d_values" % i),
                    array_ops.identity(grad_y.indices, name="grad_ys_%d_indices" % i),
                    None if grad_y.dense_shape is None else
                    array_ops.identity(grad_y.dense_shape, name="grad_ys_%d_shape" % i)))
                continue
            grad_y = ops.convert_to_tensor(grad_y, name="grad_y")
            y_dtype = y.dtype.base_dtype
            g_dtype = grad_y.dtype.base_dtype
            if (y_dtype.is_floating or y_dtype.is_integer) and not (g_dtype.is_floating or
                                                                    g_dtype.is_integer):
                raise TypeError("Gradient type %s generated for real or integer-valued tensor "
                                "%s with type %s must be real or integer"
                                % (g_dtype.name, y, y_dtype.name))
            if y_dtype.is_complex and not g_dtype.is_complex:
                raise TypeError("Gradient type %s generated for complex-valued tensor %s with "
                                "type %s must be real" % (g_dtype.name, y, y_dtype.name))
            result.append(array_ops.identity(grad_y, name="grad_ys_%d" % i))
    return result


def _reached_ops(from_ops):
    """Ops reachable forward from from_ops through trainable tensors."""
    reached = set()
    queue = collections.deque(from_ops)
    while queue:
        op = queue.popleft()
        if op in reached:
            continue
        reached.add(op)
        for output in op._outputs:
            if _is_trainable(output):
                queue.extend(output._consumers)
    return reached


def _pending_counts(to_ops, from_ops, colocate):
    """(the to_ops reachable from from_ops, {op: how many of its consumers lie between xs and
    ys}, the ControlFlowState of the while loops between them or None)."""
    reached = _reached_ops(from_ops)
    reachable_to_ops = set(op for op in to_ops if op in reached)
    between = set()
    between_list = []
    queue = collections.deque(to_ops)
    while queue:
        op = queue.popleft()
        if op in reached:
            between.add(op)
            between_list.append(op)
            reached.remove(op)
            queue.extend(t.op for t in op._inputs)
    # Every exit of a loop on the path is differentiated (it may feed the others).
    loop_state = control_flow_state.maybe_create_control_flow_state(between_list, between,
                                                                     colocate)
    pending = collections.defaultdict(int)
    for op in between_list:
        for t in op._inputs:
            if t.op in between:
                pending[t.op] += 1
    return reachable_to_ops, pending, loop_state


def _stop_ops(from_ops, stop_gradient_ops, pending):
    """Ops whose inputs the walk does not enter: xs' ops with no other x upstream, and the ops
    of stop_gradients."""
    stop = set()
    for op in from_ops:
        if all(pending[t.op] == 0 for t in op._inputs):
            stop.add(op)
    stop.update(stop_gradient_ops)
    return stop


def _backprop(graph, ys, xs, grad_ys, stop_gradients, colocate, gate_gradients,
              aggregation_method):
    """Builds the gradient ops; returns {op: [summed gradient (or None) per output]}."""
    to_ops = [y.op for y in ys]
    from_ops = [x.op for x in xs]
    stop_gradient_ops = [t.op for t in stop_gradients]
    reachable_to_ops, pending, loop_state = _pending_counts(to_ops, from_ops, colocate)

    grads = {}  # op -> per output: list of contributions, then their sum
    for y, grad_y in zip(ys, grad_ys):
        _set_grad(grads, y, grad_y)

    queue = collections.deque()
    queued = set()
    for op in to_ops:
        if pending[op] == 0 and op not in queued and op in reachable_to_ops:
            queued.add(op)
            queue.append(op)
    if loop_state is not None:
        for y in loop_state.process_unused_loop_exits(pending, queued):
            if _is_trainable(y):
                _set_grad(grads, y, loop_state.zeros_like_for_exit(y))
                queue.append(y.op)
    stop_ops = _stop_ops(from_ops, stop_gradient_ops, pending)

    while queue:
        op = queue.popleft()
        with _maybe_colocate_with(op, colocate):
            # Inside a loop being differentiated, gradient ops go into its gradient loop (an
            # Exit's summed gradient still outside it).
            if loop_state is not None:
                loop_state.enter_grad_while_context(op, before=True)
            out_grads = _aggregated_grads(grads, op, aggregation_method)
            if loop_state is not None:
                loop_state.exit_grad_while_context(op, before=True)
            has_out_grads = any(g is not None for g in out_grads)
            grad_fn = None
            if has_out_grads and op not in stop_ops and op._inputs:
                grad_fn, found = _gradient_function(op)
                if not found:
                    raise LookupError(
                        "No gradient defined for operation '%s' (op type: %s). Every operation "
                        "on the path from xs to ys needs a registered gradient "
                        "(tf.RegisterGradient); to treat this op as a constant, wrap its output "
                        "in tf.stop_gradient." % (op.name, op.type))
            if loop_state is not None:
                loop_state.enter_grad_while_context(op, before=False)
            if grad_fn is not None:
                for i, out_grad in enumerate(out_grads):
                    if out_grad is None and _is_trainable(op._outputs[i]):
                        # Outputs nobody differentiated contribute zeros (inside a cond,
                        # built on the branch that runs; inside a loop, in its gradient loop).
                        if loop_state is not None:
                            out_grads[i] = loop_state.zeros_like_v1_while_loop(op, i)
                        else:
                            out_grads[i] = control_flow_ops.zeros_like_output(op, i)
                with ops.name_scope(op.name + "_grad"):
                    in_grads = _as_list(grad_fn(op, *out_grads))
                    if len(in_grads) != len(op._inputs):
                        raise ValueError("Num gradients %d generated for op %s do not match num "
                                         "inputs %d" % (len(in_grads), op.node_def,
                                                        len(op._inputs)))
                    if gate_gradients and sum(g is not None for g in in_grads) > 1:
                        with graph.device(None), graph.colocate_with(None, ignore_existing=True):
                            in_grads = control_flow_ops.tuple(in_grads)
            else:
                in_grads = [None] * len(op._inputs)
            for i, (t_in, in_grad) in enumerate(zip(op._inputs, in_grads)):
                if in_grad is None:
                    continue
                if isinstance(in_grad, ops.Tensor) and t_in.dtype.base_dtype is not dtypes.resource:
                    try:
                        in_grad.set_shape(t_in.shape)
                    except ValueError:
                        raise ValueError(
                            "Incompatible shapes between op input and calculated input gradient. "
                            "Forward operation: %s. Input index: %d. Original input shape: %s. "
                            "Calculated input gradient shape: %s"
                            % (op.name, i, t_in.shape, in_grad.shape))
                _set_grad(grads, t_in, in_grad)
            if loop_state is not None:
                loop_state.exit_grad_while_context(op, before=False)
        _update_pending_and_enqueue_ready(grads, op, queue, pending, loop_state)
    if loop_state is not None:
        loop_state.post_processing()
    return grads


def _update_pending_and_enqueue_ready(grads, op, queue, pending, loop_state):
    """Counts op's contribution to its inputs' ops and queues those now ready. A loop
    variable's Switch is ready twice: after its Exit, and after the body. A loop's Exits wait
    for each other: if none gets a gradient they all pass None, else the unused ones zeros."""
    for t_in in op._inputs:
        input_op = t_in.op
        pending[input_op] -= 1
        ready = pending[input_op] == 0
        if loop_state is not None and not ready:
            ready = pending[input_op] > 0 and control_flow_ops._is_loop_switch(input_op)
        if not ready:
            continue
        if not control_flow_ops._is_loop_exit(input_op):
            queue.append(input_op)
            continue
        grad_state = loop_state.get_grad_state(input_op, before=False)
        grad_state.deferred_exits.append(t_in)
        grad_state.pending_exits_count -= 1
        if grad_state.pending_exits_count != 0:
            continue
        has_real_grad = False
        for y in grad_state.deferred_exits:
            if _has_any_not_none_grads(grads, y.op):
                has_real_grad = True
                queue.append(y.op)
            else:
                grad_state.unused_exits.append(y)
        for y in grad_state.unused_exits:
            if has_real_grad and _is_trainable(y):
                _set_grad(grads, y, loop_state.zeros_like_for_exit(y))
            queue.append(y.op)


def _has_any_not_none_grads(grads, op):
    for out_grad in grads.get(op, ()):
        if isinstance(out_grad, (ops.Tensor, IndexedSlices)):
            return True
        if isinstance(out_grad, list) and any(g is not None for g in out_grad):
            return True
    return False


def _set_grad(grads, tensor, grad):
    op_grads = grads.get(tensor.op)
    if op_grads is None:
        op_grads = [[] for _ in tensor.op._outputs]
        grads[tensor.op] = op_grads
    contributions = op_grads[tensor.value_index]
    if isinstance(contributions, list):
        contributions.append(grad)
    else:
        # A loop Switch visited a second time: its Exit-side gradient is already summed.
        op_grads[tensor.value_index] = grad


def _get_grad(grads, tensor, unconnected_gradients):
    op_grads = grads.get(tensor.op)
    grad = None if op_grads is None else op_grads[tensor.value_index]
    if grad is None and unconnected_gradients == UnconnectedGradients.ZERO:
        base = tensor.dtype.base_dtype
        if base is dtypes.resource:
            raise NotImplementedError("Zero gradients for resource handles need the resource "
                                      "variable's shape; pass unconnected_gradients='none'.")
        return array_ops.zeros_like(tensor)
    return grad


def _aggregated_grads(grads, op, aggregation_method):
    """Sums the contributions to each output of op (Tensors with AddN, IndexedSlices by
    concatenation); None where there are none."""
    if aggregation_method is None:
        aggregation_method = AggregationMethod.DEFAULT
    valid = (AggregationMethod.ADD_N, AggregationMethod.EXPERIMENTAL_TREE,
             AggregationMethod.EXPERIMENTAL_ACCUMULATE_N)
    if aggregation_method not in valid:
        raise ValueError("Invalid `aggregation_method` specified %s. Accepted values are %s."
                         % (aggregation_method, list(valid)))
    op_grads = grads.get(op)
    if op_grads is None:
        op_grads = [[] for _ in op._outputs]
        grads[op] = op_grads
    for i, contributions in enumerate(op_grads):
        if isinstance(contributions, list):  # else summed at a loop Switch's first visit
            op_grads[i] = _sum_gradients(contributions, op, aggregation_method, i)
    return list(op_grads)


def _sum_gradients(contributions, op, aggregation_method, index=0):
    contributions = [g for g in contributions if g is not None]
    if not contributions:
        return None
    for g in contributions:
        if not isinstance(g, (ops.Tensor, IndexedSlices)):
            raise TypeError("Invalid gradient %s [index = %d]. Gradients have to be either all "
                            "Tensors or all IndexedSlices" % (contributions, index))
    if len(contributions) == 1:
        return contributions[0]
    if all(isinstance(g, ops.Tensor) for g in contributions):
        if aggregation_method in (AggregationMethod.EXPERIMENTAL_TREE,
                                  AggregationMethod.EXPERIMENTAL_ACCUMULATE_N):
            with ops.name_scope(op.name + "_gradient_sum"):
                running_sum = contributions[0]
                for grad in contributions[1:]:
                    running_sum = math_ops.add_n([running_sum, grad])
                return running_sum
        return _multi_device_add_n(contributions)
    return _aggregate_indexed_slices(contributions)


def _multi_device_add_n(tensors):
    """AddN per device (colocated with the first summand), then across devices."""
    by_device = collections.OrderedDict()
    for t in tensors:
        by_device.setdefault(t.device or "", []).append(t)
    summands = []
    for device in sorted(by_device):
        group = by_device[device]
        with ops.colocate_with(group[0].op, ignore_existing=True):
            summands.append(math_ops.add_n(group))
    return summands[0] if len(summands) == 1 else math_ops.add_n(summands)


def _aggregate_indexed_slices(grads):
    if any(isinstance(g, ops.Tensor) for g in grads):
        return math_ops.add_n(grads)
    grads = _flatten_nested_indexed_slices_list(grads)
    return IndexedSlices(array_ops.concat([g.values for g in grads], axis=0),
                         array_ops.concat([g.indices for g in grads], axis=0),
                         grads[0].dense_shape)


def _flatten_nested_indexed_slices_list(grads):
    """IndexedSlices whose indices share one dtype (int64 when they differ), and whose values
    are Tensors (nested IndexedSlices are composed through gather)."""
    flat = []
    for g in grads:
        while isinstance(g.values, IndexedSlices):
            inner = g.values
            g = IndexedSlices(inner.values, array_ops.gather(g.indices, inner.indices),
                              g.dense_shape)
        flat.append(g)
    index_dtypes = set(g.indices.dtype.base_dtype for g in flat)
    if len(index_dtypes) > 1:
        flat = [g if g.indices.dtype.base_dtype is dtypes.int64 else
                IndexedSlices(g.values, math_ops.cast(g.indices, dtypes.int64), g.dense_shape)
                for g in flat]
    return flat


def hessians(ys, xs, name="hessians", colocate_gradients_with_ops=False, gate_gradients=False,
             aggregation_method=None):
    """The Hessian of sum(ys) with respect to each x: shape x.shape + x.shape.

    Built by differentiating each element of the flattened gradient in turn (x must have a
    fully defined shape); TensorFlow builds the same values with a while loop.
    """
    xs = _as_list(xs)
    kwargs = dict(colocate_gradients_with_ops=colocate_gradients_with_ops,
                  gate_gradients=gate_gradients, aggregation_method=aggregation_method)
    result = []
    with ops.name_scope(name, "hessians"):
        for grad, x in zip(gradients(ys, xs, **kwargs), xs):
            x_tensor = ops.convert_to_tensor(x)
            if grad is None:
                result.append(None)
                continue
            if not x_tensor.shape.is_fully_defined():
                raise ValueError("hessians needs a fully defined shape for %s, got %s"
                                 % (x_tensor.name, x_tensor.shape))
            flat_grad = array_ops.reshape(grad, [-1])
            n = x_tensor.shape.num_elements()
            rows = [gradients(flat_grad[j], x, unconnected_gradients="zero", **kwargs)[0]
                    for j in range(n)]
            dims = x_tensor.shape.as_list()
            result.append(array_ops.reshape(array_ops.stack(rows), dims + dims))
    return result


_custom_gradient_ids = itertools.count(1)


def custom_gradient(f):
    """Decorator: `f(*tensors)` returns `(outputs, grad_fn)`; tf.gradients through the outputs
    calls `grad_fn(*output_grads)` for the gradients of the inputs.

    As in TensorFlow's graph mode, outputs and inputs pass through one IdentityN op whose
    gradient (`_gradient_op_type` attr) is a gradient registered for this call.
    """
    @functools.wraps(f)
    def decorated(*args, **kwargs):
        if kwargs:
            raise ValueError("The custom_gradient decorator currently supports keywords "
                             "arguments only when eager execution is enabled.")
        args = [ops.convert_to_tensor(a) for a in args]
        result, grad_fn = f(*args)
        flat_result = list(result) if isinstance(result, (list, tuple)) else [result]
        flat_result = [ops.convert_to_tensor(r) for r in flat_result]
        n_results = len(flat_result)
        name = "CustomGradient-%d" % next(_custom_gradient_ids)

        def gradient(op, *output_grads):
            input_grads = grad_fn(*output_grads[:n_results])
            input_grads = list(input_grads) if isinstance(input_grads, (list, tuple)) \
                else [input_grads]
            if len(input_grads) != len(args):
                raise ValueError("custom_gradient function expected to return %d gradients, "
                                 "but returned %d instead." % (len(args), len(input_grads)))
            return [None] * n_results + input_grads

        op_def_lib.register_gradient(name, gradient)
        (identities,) = apply_op("IdentityN", input=flat_result + args)
        identities[0].op._set_attr("_gradient_op_type", name.encode())
        outputs = identities[:n_results]
        if isinstance(result, (list, tuple)):
            return type(result)(outputs)
        return outputs[0]
    return decorated
