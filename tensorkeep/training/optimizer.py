"""tf.train.Optimizer: the base of TF1's optimizers.

`minimize` = `compute_gradients` (tf.gradients over the trainable variables, gated per op by
default) + `apply_gradients`, which creates the slots, opens the optimizer's name scope and
builds one `update_<var>/` block per variable, then `_finish` groups them (and, with a global
step, an AssignAdd named after the optimizer increments it). Graph structure and names follow
TensorFlow's so that checkpoints and meta graphs line up.
"""

from tensorkeep.framework import dtypes
from tensorkeep.framework import gc_pause
from tensorkeep.framework import ops
from tensorkeep.framework.indexed_slices import IndexedSlices
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops import math_ops
from tensorkeep.ops import resource_variable_ops
from tensorkeep.ops import state_ops
from tensorkeep.ops import variables
from tensorkeep.training import gradients as gradients_lib
from tensorkeep.training import slot_creator
from tensorkeep.training import variable_scope


def _deduplicate_indexed_slices(values, indices):
    """Sums the rows of `values` that share an index: (summed values, unique indices)."""
    unique_indices, new_index_positions = array_ops.unique(indices)
    summed_values = math_ops.unsorted_segment_sum(values, new_index_positions,
                                                  array_ops.shape(unique_indices)[0])
    return summed_values, unique_indices


def _var_key(var):
    """Slots are keyed by (graph, op name) of their primary."""
    return (var.op.graph, var.op.name)


def _constrain_after(variable, update_op):
    """update_op, then (when the variable has a constraint) the assignment of its constraint."""
    if variable.constraint is None:
        return update_op
    with ops.control_dependencies([update_op]):
        return variable.assign(variable.constraint(variable))


class _Processor:
    """How apply_gradients updates one kind of variable (this base: a Tensor, which it
    cannot)."""

    def __init__(self, v):
        self._v = v

    def target(self):
        return self._v

    def update_op(self, optimizer, g):
        raise NotImplementedError("Trying to update a Tensor ", self._v)


class _RefVariableProcessor(_Processor):
    def target(self):
        return self._v._ref()

    def update_op(self, optimizer, g):
        if isinstance(g, ops.Tensor):
            return _constrain_after(self._v, optimizer._apply_dense(g, self._v))
        if self._v.constraint is not None:
            raise RuntimeError("Cannot use a constraint function on a sparse variable.")
        return optimizer._apply_sparse_duplicate_indices(g, self._v)


class _ResourceVariableProcessor(_Processor):
    def update_op(self, optimizer, g):
        if isinstance(g, IndexedSlices):
            if self._v.constraint is not None:
                raise RuntimeError("Cannot use a constraint function on a sparse variable.")
            return optimizer._resource_apply_sparse_duplicate_indices(g.values, self._v,
                                                                      g.indices)
        return _constrain_after(self._v, optimizer._resource_apply_dense(g, self._v))


def _get_processor(v):
    if resource_variable_ops.is_resource_variable(v):
        return _ResourceVariableProcessor(v)
    if isinstance(v, variables.Variable):
        return _RefVariableProcessor(v)
    if isinstance(v, ops.Tensor):
        return _Processor(v)
    raise NotImplementedError("Trying to optimize unsupported type ", v)


def _convert_gradient(g):
    if g is None or isinstance(g, IndexedSlices):
        return g
    try:
        return ops.convert_to_tensor(g)
    except TypeError:
        raise TypeError("Gradient must be convertible to a Tensor or IndexedSlices, or None: %s"
                        % g)


class Optimizer:
    """Base class for optimizers; subclasses implement _create_slots, _prepare, _apply_dense,
    _apply_sparse (and _resource_apply_* for resource variables)."""

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking, name, use_own_namescope_for_non_slot_vars=False):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._use_own_namescope_for_non_slot_vars = use_own_namescope_for_non_slot_vars
        if use_own_namescope_for_non_slot_vars:
            with variable_scope.variable_scope(None, default_name=name) as scope:
                self._non_slot_variable_scope = scope
        self._slots = {}          # slot name -> {var key: slot variable}
        self._non_slot_dict = {}  # (name, graph) -> variable

    def get_name(self):
        return self._name

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """Adds ops that update `var_list` (default: the trainable variables) to reduce `loss`,
        and increment `global_step` if given; returns the training op."""
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do not "
                "support gradients, between variables %s and loss %s."
                % ([str(v) for _, v in grads_and_vars], loss))
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        """[(gradient or None, variable)] for `loss` over `var_list`."""
        if callable(loss):
            raise RuntimeError("`loss` passed to Optimizer.compute_gradients must be a Tensor: "
                               "tensorkeep builds TensorFlow 1.x graphs (no eager execution).")
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP,
                                  Optimizer.GATE_GRAPH):
            raise ValueError("gate_gradients must be one of: Optimizer.GATE_NONE, "
                             "Optimizer.GATE_OP, Optimizer.GATE_GRAPH.  Not %s" % gate_gradients)
        self._assert_valid_dtypes([loss])
        if grad_loss is not None:
            self._assert_valid_dtypes([grad_loss])
        if var_list is None:
            var_list = (variables.trainable_variables() +
                        ops.get_collection(ops.GraphKeys.TRAINABLE_RESOURCE_VARIABLES))
        else:
            var_list = _flatten(var_list)
        var_list = var_list + ops.get_collection(ops.GraphKeys._STREAMING_MODEL_PORTS)
        processors = [_get_processor(v) for v in var_list]
        if not var_list:
            raise ValueError("No variables to optimize.")
        var_refs = [p.target() for p in processors]
        grads = gradients_lib.gradients(
            loss, var_refs, grad_ys=grad_loss,
            gate_gradients=(gate_gradients == Optimizer.GATE_OP),
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == Optimizer.GATE_GRAPH:
            grads = control_flow_ops.tuple(grads)
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars
                                   if g is not None and v.dtype != dtypes.resource])
        return grads_and_vars

    @gc_pause.paused_gc
    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """The op applying `grads_and_vars` (and incrementing `global_step` if given)."""
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for g, v in grads_and_vars:
            g = _convert_gradient(g)
            if g is not None and not isinstance(g, (ops.Tensor, IndexedSlices)):
                raise TypeError("Gradient must be a Tensor, IndexedSlices, or None: %s" % g)
            converted.append((g, v, _get_processor(v)))
        var_list = [v for g, v, _ in converted if g is not None]
        if not var_list:
            raise ValueError("No gradients provided for any variable: %s."
                             % ([str(v) for _, v, _ in converted],))
        with variable_scope.init_scope():
            self._create_slots(var_list)
        update_ops = []
        with ops.name_scope(name, self._name) as name:
            self._prepare()
            for grad, var, processor in converted:
                if grad is None:
                    continue
                with ops.name_scope("update_" + var.op.name), ops.colocate_with(var.op):
                    update_ops.append(processor.update_op(self, grad))
            if global_step is None:
                apply_updates = self._finish(update_ops, name)
            else:
                with ops.control_dependencies([self._finish(update_ops, "update")]):
                    with ops.colocate_with(global_step.op):
                        apply_updates = state_ops.assign_add(global_step, 1, name=name)
            if isinstance(apply_updates, ops.Tensor):
                apply_updates = apply_updates.op
            train_op = ops.get_collection_ref(ops.GraphKeys.TRAIN_OP)
            if apply_updates not in train_op:
                train_op.append(apply_updates)
            return apply_updates

    # --- slots ----------------------------------------------------------------------------------
    def get_slot(self, var, name):
        """The slot variable `name` kept for `var`, or None."""
        named_slots = self._slots.get(name)
        if not named_slots:
            return None
        return named_slots.get(_var_key(var))

    def get_slot_names(self):
        return sorted(self._slots.keys())

    def variables(self):
        """The optimizer's variables (slots and non-slot ones such as Adam's beta powers) in the
        current graph, sorted by name."""
        graph = ops.get_default_graph()
        optimizer_variables = [v for v in self._non_slot_variables() if v.graph is graph]
        for variable_dict in self._slots.values():
            for slot in variable_dict.values():
                if slot.graph is graph:
                    optimizer_variables.append(slot)
        return sorted(optimizer_variables, key=lambda v: v.name)

    def _slot_dict(self, slot_name):
        return self._slots.setdefault(slot_name, {})

    def _get_or_make_slot(self, var, val, slot_name, op_name):
        named_slots = self._slot_dict(slot_name)
        if _var_key(var) not in named_slots:
            named_slots[_var_key(var)] = slot_creator.create_slot(var, val, op_name)
        return named_slots[_var_key(var)]

    def _get_or_make_slot_with_initializer(self, var, initializer, shape, dtype, slot_name,
                                           op_name):
        named_slots = self._slot_dict(slot_name)
        if _var_key(var) not in named_slots:
            named_slots[_var_key(var)] = slot_creator.create_slot_with_initializer(
                var, initializer, shape, dtype, op_name)
        return named_slots[_var_key(var)]

    def _zeros_slot(self, var, slot_name, op_name):
        named_slots = self._slot_dict(slot_name)
        if _var_key(var) not in named_slots:
            named_slots[_var_key(var)] = slot_creator.create_zeros_slot(var, op_name)
        return named_slots[_var_key(var)]

    # --- non-slot variables ---------------------------------------------------------------------
    def _create_non_slot_variable(self, initial_value, name, colocate_with):
        """A variable kept once per graph (not per primary), colocated with `colocate_with`."""
        graph = colocate_with.graph
        key = (name, graph)
        v = self._non_slot_dict.get(key)
        if v is None:
            with ops.colocate_with(colocate_with.op):
                if self._use_own_namescope_for_non_slot_vars:
                    with ops.name_scope(""), variable_scope.variable_scope(
                            self._non_slot_variable_scope):
                        v = variable_scope.get_variable(
                            initializer=initial_value, name=name, trainable=False,
                            use_resource=resource_variable_ops.is_resource_variable(
                                colocate_with))
                elif resource_variable_ops.is_resource_variable(colocate_with):
                    v = resource_variable_ops.ResourceVariable(initial_value, name=name,
                                                               trainable=False)
                else:
                    v = variables.Variable(initial_value, name=name, trainable=False)
            self._non_slot_dict[key] = v
        return v

    def _get_non_slot_variable(self, name, graph=None):
        return self._non_slot_dict.get((name, graph))

    def _non_slot_variables(self):
        return self._non_slot_dict.values()

    # --- checks and hooks for subclasses -------------------------------------------------------
    def _assert_valid_dtypes(self, tensors):
        valid_dtypes = self._valid_dtypes()
        for t in tensors:
            dtype = t.dtype.base_dtype
            if dtype not in valid_dtypes:
                raise ValueError("Invalid type %r for %s, expected: %s."
                                 % (dtype, t.name, [v for v in valid_dtypes]))

    def _valid_dtypes(self):
        return set([dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64])

    def _create_slots(self, var_list):
        """Creates the slots the optimizer needs for each variable (none by default)."""

    def _prepare(self):
        """Converts hyper-parameters to tensors inside the optimizer's name scope."""

    def _apply_dense(self, grad, var):
        raise NotImplementedError()

    def _resource_apply_dense(self, grad, handle):
        raise NotImplementedError()

    def _resource_apply_sparse_duplicate_indices(self, grad, handle, indices):
        summed_grad, unique_indices = _deduplicate_indexed_slices(grad, indices)
        return self._resource_apply_sparse(summed_grad, handle, unique_indices)

    def _resource_apply_sparse(self, grad, handle, indices):
        raise NotImplementedError()

    def _apply_sparse_duplicate_indices(self, grad, var):
        summed_values, unique_indices = _deduplicate_indexed_slices(grad.values, grad.indices)
        return self._apply_sparse(IndexedSlices(summed_values, unique_indices, grad.dense_shape),
                                  var)

    def _apply_sparse(self, grad, var):
        raise NotImplementedError()

    def _finish(self, update_ops, name_scope):
        return control_flow_ops.group(*update_ops, name=name_scope)

    def _call_if_callable(self, param):
        return param() if callable(param) else param

    def _hyper_tensor(self, param, name):
        """A hyper-parameter (called first when callable) as a tensor named `name`."""
        return ops.convert_to_tensor(self._call_if_callable(param), name=name)


def _flatten(values):
    if isinstance(values, (list, tuple)):
        out = []
        for v in values:
            out.extend(_flatten(v))
        return out
    if isinstance(values, dict):
        return _flatten([values[k] for k in sorted(values)])
    return [values]
