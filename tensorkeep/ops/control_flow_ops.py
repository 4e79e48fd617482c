"""Control ops: NoOp, group, tuple, with_dependencies, and TF1 control flow: the dataflow
primitives (Switch, Merge, Enter, Exit, NextIteration, LoopCond, ControlTrigger), the contexts
that build conditionals and loops from them (CondContext, WhileContext) and tf.cond,
tf.while_loop, tf.case with the graph structure TensorFlow 1.x builds.

The outermost contexts are kept in the `cond_context` / `while_context` collections and travel
in meta graphs as CondContextDef / WhileContextDef protos (nested contexts inside their parent),
as TensorFlow writes them; importing restores them onto the imported ops, so gradients through
an imported cond (and, in TensorFlow, an imported loop) work.

The primitives have no kernels: graphs containing them run on the control-flow executor
(runtime/control_flow_executor.py), which implements their dataflow semantics.
"""

import builtins
import collections

from tensorkeep.framework import dtypes
from tensorkeep.framework import meta_graph
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient

register_op("NoOp", compute=lambda: None)
register_gradient("NoOp", None)


# --- the dataflow primitives -----------------------------------------------------------------------

def _data_shape(op):
    return [op._inputs[0]._shape_val]


def _switch_shape(op):
    pred_shape = op._inputs[1]._shape_val
    if pred_shape.ndims not in (None, 0):
        raise ValueError("Shape must be rank 0 but is rank %d for '{{node %s}} = %s' (the "
                         "predicate of a Switch is a scalar)" % (pred_shape.ndims, op.name,
                                                                 op.type))
    return [op._inputs[0]._shape_val] * 2


def _merge_shape(op):
    """The most specific shape all inputs agree on (unknown where they differ)."""
    first = op._inputs[0]._shape_val
    if first.ndims is None:
        return [tensor_shape.unknown_shape(), tensor_shape.TensorShape([])]
    dims = first.as_list()
    for tensor in op._inputs[1:]:
        shape = tensor._shape_val
        if shape.ndims != len(dims):
            return [tensor_shape.unknown_shape(), tensor_shape.TensorShape([])]
        dims = [d if d == other else None for d, other in zip(dims, shape.as_list())]
    return [tensor_shape.TensorShape(dims), tensor_shape.TensorShape([])]


def _enter_shape(op):
    # A loop variable's shape may change between iterations; a constant's may not.
    if op._attrs.get("is_constant"):
        return [op._inputs[0]._shape_val]
    return [tensor_shape.unknown_shape()]


register_op("Switch", inputs=["data: T", "pred: bool"],
            outputs=["output_false: T", "output_true: T"], attrs=["T: type"],
            shape=_switch_shape)
register_op("RefSwitch", inputs=["data: Ref(T)", "pred: bool"],
            outputs=["output_false: Ref(T)", "output_true: Ref(T)"], attrs=["T: type"],
            shape=_switch_shape, allows_uninitialized_input=True)
register_op("Merge", inputs=["inputs: N * T"], outputs=["output: T", "value_index: int32"],
            attrs=["T: type", "N: int >= 1"], shape=_merge_shape)
register_op("RefMerge", inputs=["inputs: Ref(N * T)"],
            outputs=["output: Ref(T)", "value_index: int32"], attrs=["T: type", "N: int >= 1"],
            shape=_merge_shape)
_ENTER_ATTRS = ["T: type", "frame_name: string", "is_constant: bool = false",
                "parallel_iterations: int = 10"]
register_op("Enter", inputs=["data: T"], outputs=["output: T"], attrs=_ENTER_ATTRS,
            shape=_enter_shape)
register_op("RefEnter", inputs=["data: Ref(T)"], outputs=["output: Ref(T)"],
            attrs=_ENTER_ATTRS, shape=_enter_shape)
for _type in ("Exit", "NextIteration"):
    register_op(_type, inputs=["data: T"], outputs=["output: T"], attrs=["T: type"],
                shape=_data_shape)
    register_op("Ref" + _type, inputs=["data: Ref(T)"], outputs=["output: Ref(T)"],
                attrs=["T: type"], shape=_data_shape)
register_op("LoopCond", inputs=["input: bool"], outputs=["output: bool"],
            compute=lambda value: value, shape=lambda op: [tensor_shape.TensorShape([])])
register_op("ControlTrigger")


# IndexedSlices (sparse gradients) pass the primitives component by component, as TensorFlow's
# composite tensors do: values, indices, then dense_shape when there is one.

def _is_indexed_slices(value):
    from tensorkeep.framework.indexed_slices import IndexedSlices

    return isinstance(value, IndexedSlices)


def _components(slices):
    parts = [slices.values, slices.indices]
    if slices.dense_shape is not None:
        parts.append(slices.dense_shape)
    return parts


def _from_components(parts):
    from tensorkeep.framework.indexed_slices import IndexedSlices

    return IndexedSlices(parts[0], parts[1], parts[2] if len(parts) > 2 else None)


def _as_indexed_slices(value):
    """`value` as IndexedSlices: a dense Tensor becomes all of its rows."""
    from tensorkeep.ops import array_ops, math_ops

    if _is_indexed_slices(value):
        return value
    shape = array_ops.shape_internal(value, optimize=False)
    return _from_components([value, math_ops.range(0, shape[0]), shape])


def _as_indexed_slices_list(values):
    """IndexedSlices for each of `values`, with int64 indices for all if any has them."""
    from tensorkeep.ops import math_ops

    slices = [_as_indexed_slices(v) for v in values]
    int32_count = sum(1 for s in slices if s.indices.dtype.base_dtype == dtypes.int32)
    if int32_count in (0, len(slices)):
        return slices
    return [_from_components([s.values, math_ops.cast(s.indices, dtypes.int64)] +
                             _components(s)[2:])
            if s.indices.dtype.base_dtype == dtypes.int32 else s for s in slices]


def switch(data, pred, dtype=None, name=None):
    """(output_false, output_true): `data` goes to the output `pred` selects, the other output
    is dead (the ops consuming it do not run)."""
    with ops.name_scope(name, "Switch", [data, pred]) as name:
        if _is_indexed_slices(data):
            pred = ops.convert_to_tensor(pred, name="pred")
            switches = [apply_op("Switch", data=part, pred=pred) for part in _components(data)]
            return (_from_components([false for false, _ in switches]),
                    _from_components([true for _, true in switches]))
        data = ops.convert_to_tensor(data, dtype=dtype, name="data", as_ref=True)
        pred = ops.convert_to_tensor(pred, name="pred")
        return builtins.tuple(apply_op("Switch", data=data, pred=pred, name=name))


def ref_switch(data, pred, name=None):
    return builtins.tuple(apply_op("RefSwitch", data=data, pred=pred, name=name))


def _switch_ref_or_tensor(data, pred, name="Switch"):
    """Switch for a value or (keeping it a ref) a ref tensor, placed beside `data`."""
    if not _is_indexed_slices(data):
        data = ops.convert_to_tensor(data, name="data")
    with ops.colocate_with(data, ignore_existing=True):
        if data.dtype.is_ref_dtype:
            return ref_switch(data, pred, name=name)
        return switch(data, pred, name=name)


def merge(inputs, name=None):
    """(output, value_index): the first of `inputs` that is available, and its index."""
    if any(inp is None for inp in inputs):
        raise ValueError("At least one of the merge inputs is None: %s" % (inputs,))
    with ops.name_scope(name, "Merge", inputs) as name:
        if any(_is_indexed_slices(inp) for inp in inputs):
            inputs = _as_indexed_slices_list(inputs)
            merged = [apply_op("Merge", inputs=list(parts))
                      for parts in zip(*[_components(inp) for inp in inputs])]
            return _from_components([output for output, _ in merged]), merged[0][1]
        inputs = [ops.convert_to_tensor(inp, as_ref=True) for inp in inputs]
        op_type = "RefMerge" if all(t.dtype.is_ref_dtype for t in inputs) else "Merge"
        return builtins.tuple(apply_op(op_type, inputs=inputs, name=name))


def _enter(tensor, frame_name, is_constant=False, parallel_iterations=10, use_ref=True,
           use_input_shape=True, name=None):
    """Makes `tensor` available in the child frame `frame_name`."""
    if _is_indexed_slices(tensor):
        return _from_components([_enter(part, frame_name, is_constant, parallel_iterations,
                                        use_ref, use_input_shape)
                                 for part in _components(tensor)])
    tensor = ops.convert_to_tensor(tensor, as_ref=True)
    op_type = "RefEnter" if tensor.dtype.is_ref_dtype and use_ref else "Enter"
    result = apply_op(op_type, data=tensor, frame_name=frame_name, is_constant=is_constant,
                      parallel_iterations=parallel_iterations, name=name)
    if use_input_shape:
        result.set_shape(tensor.shape)
    return result


def exit(tensor, name=None):  # noqa: A001 (TensorFlow's name)
    """Makes `tensor` available to the parent frame."""
    if _is_indexed_slices(tensor):
        return _from_components([exit(part) for part in _components(tensor)])
    tensor = ops.convert_to_tensor(tensor, as_ref=True)
    return apply_op("RefExit" if tensor.dtype.is_ref_dtype else "Exit", data=tensor, name=name)


def _next_iteration(tensor, name=None):
    if _is_indexed_slices(tensor):
        return _from_components([_next_iteration(part) for part in _components(tensor)])
    tensor = ops.convert_to_tensor(tensor, as_ref=True)
    op_type = "RefNextIteration" if tensor.dtype.is_ref_dtype else "NextIteration"
    return apply_op(op_type, data=tensor, name=name)


def loop_cond(input, name=None):  # noqa: A002
    return apply_op("LoopCond", input=input, name=name)


def control_trigger(name=None):
    return apply_op("ControlTrigger", name=name)


def _identity(tensor, name=None):
    tensor = ops.convert_to_tensor(tensor, as_ref=True)
    if tensor.dtype.is_ref_dtype:
        return apply_op("RefIdentity", input=tensor, name=name)
    return apply_op("Identity", input=tensor, name=name)


# --- structure helpers (nested lists, tuples, namedtuples and dicts of tensors) ----------------

def _nest_flatten(structure):
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in _nest_flatten(structure[key])]
    if isinstance(structure, (list, builtins.tuple)):
        return [leaf for item in structure for leaf in _nest_flatten(item)]
    return [structure]


def _nest_pack(structure, flat):
    """Rebuilds `structure` with the leaves of `flat` (in _nest_flatten's order)."""
    leaves = iter(flat)

    def build(node):
        if isinstance(node, dict):
            built = {key: build(node[key]) for key in sorted(node)}
            return type(node)((key, built[key]) for key in node)
        if isinstance(node, (list, builtins.tuple)):
            items = [build(item) for item in node]
            if isinstance(node, builtins.tuple) and hasattr(node, "_fields"):
                return type(node)(*items)
            return type(node)(items)
        return next(leaves)
    return build(structure)


def _assert_same_structure(first, second, what):
    def shape_of(node):
        if isinstance(node, dict):
            return ("dict", builtins.tuple((k, shape_of(node[k])) for k in sorted(node)))
        if isinstance(node, (list, builtins.tuple)):
            return ("seq", builtins.tuple(shape_of(item) for item in node))
        return "leaf"
    if shape_of(first) != shape_of(second):
        raise ValueError("%s must have the same nested structure: %r vs %r" % (what, first,
                                                                               second))


def _unpack_if_singleton(value):
    if isinstance(value, (list, builtins.tuple)) and len(value) == 1:
        return value[0]
    return value


def _to_flow(value):
    """A TensorArray travels through control flow as its flow tensor."""
    flow = getattr(value, "_tensorkeep_flow", None)
    return value if flow is None else flow


def _from_flow(original, flow):
    if getattr(original, "_tensorkeep_flow", None) is None:
        return flow
    return original._with_flow(flow)


# --- where ops belong ------------------------------------------------------------------------------

def _is_loop_exit(op):
    return op._type in ("Exit", "RefExit")


def _is_loop_constant_enter(op):
    return op._type in ("Enter", "RefEnter") and bool(op._attrs.get("is_constant"))


def _output_context(op):
    """The context an op's outputs live in: a loop's Exit outputs belong to the outer context."""
    context = op._control_flow_context
    if context is not None and _is_loop_exit(op):
        context = context.outer_context
    return context


def _while_context_of(op):
    """The innermost while loop `op` belongs to, or None."""
    context = op._control_flow_context
    return context.GetWhileContext() if context is not None else None


def _is_switch(op):
    return op._type in ("Switch", "RefSwitch")


def _is_cond_switch(op):
    """A Switch feeding only ops of cond branches (it stands for an outside value there)."""
    if not _is_switch(op) or not op._outputs:
        return False
    for output in op._outputs:
        for consumer in output._consumers:
            context = consumer._control_flow_context
            if consumer._type in ("Enter", "RefEnter") and context is not None:
                context = context.outer_context
            if context is None or not context.IsCondContext():
                return False
    return True


def _is_loop_switch(op):
    """The Switch of a loop variable (its outputs go to the loop's Exit and body)."""
    if not _is_switch(op):
        return False
    context = op._control_flow_context
    return context is not None and context.IsWhileContext() and not _is_cond_switch(op)


def _loop_constant_enter_of(value):
    """The constant Enter `value` forwards (through Identity/Switch ops), or None."""
    op = value.op
    while op._type in ("Switch", "RefSwitch", "Identity", "RefIdentity"):
        op = op._inputs[0].op
    return op if _is_loop_constant_enter(op) else None


def _op_in_context(op, context):
    current = op._control_flow_context
    while current is not None:
        if current is context:
            return True
        current = current.outer_context
    return context is None


class ControlFlowContext:
    """What a tf.cond branch or tf.while_loop body knows while it is being built: the values
    it may use directly and the Switch/Enter ops standing in for values from outside.

    While a context is entered (`Enter()`), Graph._create_op hands every new op to `AddOp`,
    which rewires the op's outside inputs through the context."""

    def __init__(self, values_def=None, import_scope=None):
        graph = ops.get_default_graph()
        self._outer_context = graph._get_control_flow_context()
        self._nested_contexts = []
        if self._outer_context is not None:
            self._outer_context._nested_contexts.append(self)
        self._context_stack = []
        self._values = set()           # names of tensors usable directly in this context
        self._external_values = {}     # outside tensor name -> its stand-in in this context
        if values_def is not None:
            self._init_values_from_proto(values_def, import_scope)

    def _init_values_from_proto(self, values_def, import_scope=None):
        """Restores the values from a ValuesDef and claims the ops that produce them (all but
        the outside ones) for this context; nested contexts, restored afterwards, claim theirs
        back."""
        graph = ops.get_default_graph()
        self._values = {ops.prepend_name_scope(name, import_scope) for name in values_def.values}
        for outside_name, stand_in_name in values_def.external_values.items():
            self._external_values[ops.prepend_name_scope(outside_name, import_scope)] = \
                graph.as_graph_element(ops.prepend_name_scope(stand_in_name, import_scope))
        own_op_names = {name.split(":")[0] for name in self._values
                        if name not in self._external_values}
        for op_name in sorted(own_op_names):
            graph.as_graph_element(op_name)._set_control_flow_context(self)

    def _to_values_def(self, export_scope=None):
        from tensorkeep.io import protos

        values_def = protos.ValuesDef()
        values_def.values.extend(ops.strip_name_scope(name, export_scope)
                                 for name in sorted(self._values))
        for outside_name, stand_in in self._external_values.items():
            values_def.external_values[ops.strip_name_scope(outside_name, export_scope)] = \
                ops.strip_name_scope(stand_in.name, export_scope)
        return values_def

    def _nested_contexts_to_proto(self, context_def, export_scope):
        # TensorFlow writes nested contexts without stripping export_scope, which breaks a
        # scoped re-import; they are stripped here like everything else.
        for nested in self._nested_contexts:
            nested_def = nested.to_proto(export_scope=export_scope)
            if nested_def is None:
                continue  # outside the export, like its ops
            kind = "cond_ctxt" if nested.IsCondContext() else "while_ctxt"
            getattr(context_def.nested_contexts.add(), kind).CopyFrom(nested_def)

    @classmethod
    def from_proto(cls, context_def, import_scope=None):
        """The context a CondContextDef or WhileContextDef describes, over the ops of the
        default graph (imported under `import_scope`), with its nested contexts; its ops are
        attached."""
        context = cls(context_def=context_def, import_scope=import_scope)
        context._restore_nested_contexts(context_def, import_scope)
        return context

    def _restore_nested_contexts(self, context_def, import_scope):
        self.Enter()  # nested contexts find this one as their outer context
        try:
            for nested_def in context_def.nested_contexts:
                from_control_flow_context_def(nested_def, import_scope=import_scope)
        finally:
            self.Exit()

    @property
    def name(self):
        return self._name

    @property
    def outer_context(self):
        return self._outer_context

    def AddName(self, name):  # noqa: N802 (TensorFlow's method names)
        self._values.add(name)

    def Enter(self):  # noqa: N802
        graph = ops.get_default_graph()
        self._context_stack.append(graph._get_control_flow_context())
        graph._set_control_flow_context(self)

    def Exit(self):  # noqa: N802
        graph = ops.get_default_graph()
        graph._set_control_flow_context(self._context_stack.pop())

    def ExitResult(self, result):  # noqa: N802
        if self._outer_context is not None:
            for tensor in _nest_flatten(result):
                self._outer_context.AddName(tensor.name)

    def GetWhileContext(self):  # noqa: N802
        if self._outer_context is not None:
            return self._outer_context.GetWhileContext()
        return None

    def GetControlPivot(self):  # noqa: N802
        return None

    def AddInnerOp(self, op):  # noqa: N802
        if self._outer_context is not None:
            self._outer_context.AddInnerOp(op)

    def IsWhileContext(self):  # noqa: N802
        return False

    def IsCondContext(self):  # noqa: N802
        return False

    def _RemoveExternalControlEdges(self, op):  # noqa: N802
        """Keeps only the control inputs from this loop; returns (kept, removed)."""
        while_context = self.GetWhileContext()
        if while_context is None:
            return list(op._control_inputs), []
        internal, external = [], []
        for control in op._control_inputs:
            context = _output_context(control)
            if context is not None and context.GetWhileContext() is while_context:
                internal.append(control)
            else:
                external.append(control)
        if len(internal) != len(op._control_inputs):
            op._remove_all_control_inputs()
            op._add_control_inputs(internal)
        return internal, external

    def __str__(self):
        return self._name


class CondContext(ControlFlowContext):
    """One branch of a tf.cond: values from outside enter it through a Switch on the
    predicate, input-less ops hang off the branch's pivot."""

    def __init__(self, pred=None, pivot=None, branch=None, name="cond_text", context_def=None,
                 import_scope=None):
        graph = ops.get_default_graph()
        # Claimed even when restoring, as TensorFlow does, so later names match its own.
        self._name = graph.unique_name(name)
        if context_def is not None:
            self._name = ops.prepend_name_scope(context_def.context_name, import_scope)
            self._pred = graph.as_graph_element(
                ops.prepend_name_scope(context_def.pred_name, import_scope))
            self._pivot = graph.as_graph_element(
                ops.prepend_name_scope(context_def.pivot_name, import_scope))
            self._branch = context_def.branch
            super().__init__(values_def=context_def.values_def, import_scope=import_scope)
            return
        super().__init__()
        self._pred = pred
        self._pivot = pivot
        self._branch = branch
        self._values.add(pred.name)
        self._external_values[pred.name] = pred
        self._values.add(pivot.name)
        pivot.op._set_control_flow_context(self)

    def to_proto(self, export_scope=None):
        """This branch as a CondContextDef (names relative to `export_scope`); None when the
        context lies outside `export_scope`."""
        from tensorkeep.io import protos

        if export_scope is not None and not self._name.startswith(export_scope):
            return None
        context_def = protos.CondContextDef(
            context_name=ops.strip_name_scope(self._name, export_scope),
            pred_name=ops.strip_name_scope(self._pred.name, export_scope),
            pivot_name=ops.strip_name_scope(self._pivot.name, export_scope),
            branch=self._branch)
        context_def.values_def.CopyFrom(self._to_values_def(export_scope))
        self._nested_contexts_to_proto(context_def, export_scope)
        return context_def

    @property
    def pred(self):
        return self._pred

    @property
    def pivot(self):
        return self._pivot

    @property
    def branch(self):
        return self._branch

    @property
    def grad_state(self):
        while_context = self.GetWhileContext()
        return while_context.grad_state if while_context is not None else None

    @property
    def back_prop(self):
        while_context = self.GetWhileContext()
        return while_context.back_prop if while_context is not None else False

    def GetControlPivot(self):  # noqa: N802
        return self._pivot

    def IsCondContext(self):  # noqa: N802
        return True

    def AddValue(self, val):  # noqa: N802
        """The stand-in for `val` inside this branch (a Switch output for outside values)."""
        if val.name in self._values:
            result = self._external_values.get(val.name)
            return val if result is None else result
        result = val
        self._values.add(val.name)
        if self._outer_context is not None:
            result = self._outer_context.AddValue(val)
            self._values.add(result.name)
            self._external_values[result.name] = result
        with ops.control_dependencies(None):
            result = _switch_ref_or_tensor(result, self._pred)[self._branch]
            if self._outer_context is not None:
                self._outer_context.AddInnerOp(result.op)
        result.op.graph.prevent_fetching(result.op)
        result.op._set_control_flow_context(self)
        context = self
        while context is not None:
            context._values.add(result.name)
            context = context._outer_context
        self._external_values[val.name] = result
        return result

    def AddOp(self, op):  # noqa: N802
        self._AddOpInternal(op)

    def _AddOpInternal(self, op):  # noqa: N802
        if not op._inputs:
            self._RemoveExternalControlEdges(op)
            if not any(_op_in_context(control, self) for control in op._control_inputs):
                op._add_control_input(self._pivot.op)
        else:
            for index, tensor in enumerate(list(op._inputs)):
                if op._type == "Merge" and tensor.op._type == "NextIteration":
                    continue  # a loop's back edge stays as it is
                real = self.AddValue(tensor)
                if real is not tensor:
                    op._update_input(index, real)
            self._RemoveExternalControlEdges(op)
        names = [t.name for t in op._outputs]
        context = self
        while context is not None:
            context._values.update(names)
            context = context._outer_context
        if self._outer_context is not None or not _is_loop_exit(op):
            op.graph.prevent_fetching(op)
        if self._outer_context is not None:
            self._outer_context.AddInnerOp(op)

    def _ProcessOutputTensor(self, val):  # noqa: N802
        """A branch result usable by the final Merge: outside values pass a Switch first."""
        real_val = val
        if val.name not in self._values:
            self._values.add(val.name)
            if self._outer_context is not None:
                real_val = self._outer_context.AddValue(val)
                self._values.add(real_val.name)
                self._external_values[real_val.name] = real_val
            real_val = _switch_ref_or_tensor(real_val, self._pred)[self._branch]
            self._external_values[val.name] = real_val
        else:
            external = self._external_values.get(val.name)
            if external is not None:
                real_val = external
        return real_val

    def _BuildCondTensor(self, value):  # noqa: N802
        if isinstance(value, ops.Operation):
            return with_dependencies([value], self._pivot)
        return self._ProcessOutputTensor(ops.convert_to_tensor(_to_flow(value)))

    def BuildCondBranch(self, fn):  # noqa: N802
        """Calls `fn` inside this branch; returns (its result, the result as Merge inputs)."""
        original_result = fn()
        if original_result is None:
            return None, None
        original_result = _variables_to_tensors(original_result)
        result = _nest_pack(original_result, [self._BuildCondTensor(v)
                                              for v in _nest_flatten(original_result)])
        if not isinstance(result, (list, builtins.tuple)):
            result = [result]
        return original_result, result


def _is_variable(value):
    return (hasattr(value, "_as_graph_element") and hasattr(value, "value") and
            not isinstance(value, (ops.Tensor, ops.Operation)) and
            getattr(value, "_tensorkeep_flow", None) is None)


def _variables_to_tensors(structure):
    """Variables in a branch or loop-body result stand for their current values."""
    flat = [v.value() if _is_variable(v) else v for v in _nest_flatten(structure)]
    return _nest_pack(structure, flat)


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """tf.cond (TF1): the result of `true_fn()` if `pred` else of `false_fn()`; only the taken
    branch runs."""
    if fn1 is not None:
        if true_fn is not None:
            raise TypeError("cond(): true_fn and fn1 may not be set simultaneously.")
        true_fn = fn1
    if fn2 is not None:
        if false_fn is not None:
            raise TypeError("cond(): false_fn and fn2 may not be set simultaneously.")
        false_fn = fn2
    if not callable(true_fn):
        raise TypeError("'true_fn' must be callable.")
    if not callable(false_fn):
        raise TypeError("'false_fn' must be callable.")
    with ops.name_scope(name, "cond", [pred]):
        if isinstance(pred, bool):
            raise TypeError("'pred' must not be a Python bool.")
        p_2, p_1 = switch(pred, pred)
        pivot_1 = apply_op("Identity", input=p_1, name="switch_t")
        pivot_2 = apply_op("Identity", input=p_2, name="switch_f")
        pred = apply_op("Identity", input=pred, name="pred_id")
        graph = pred.graph
        for tensor in (p_1, p_2, pivot_1, pivot_2, pred):
            graph.prevent_fetching(tensor.op)

        context_t = CondContext(pred, pivot_1, branch=1)
        try:
            context_t.Enter()
            orig_res_t, res_t = context_t.BuildCondBranch(true_fn)
            if orig_res_t is None:
                raise ValueError("'true_fn' must have a return value.")
            context_t.ExitResult(res_t)
        finally:
            context_t.Exit()
        context_f = CondContext(pred, pivot_2, branch=0)
        try:
            context_f.Enter()
            orig_res_f, res_f = context_f.BuildCondBranch(false_fn)
            if orig_res_f is None:
                raise ValueError("'false_fn' must have a return value.")
            context_f.ExitResult(res_f)
        finally:
            context_f.Exit()

        if not strict:
            orig_res_t = _unpack_if_singleton(orig_res_t)
            orig_res_f = _unpack_if_singleton(orig_res_f)
        _assert_same_structure(orig_res_t, orig_res_f, "'true_fn' and 'false_fn' results")
        if not res_t:
            raise ValueError("'true_fn' and 'false_fn' must return at least one result.")
        res_t_flat = _nest_flatten(res_t)
        res_f_flat = _nest_flatten(res_f)
        for x, y in zip(res_t_flat, res_f_flat):
            if x.dtype.base_dtype != y.dtype.base_dtype:
                raise ValueError(
                    "Outputs of 'true_fn' and 'false_fn' must have the same type(s). Received "
                    "%s from 'true_fn' and %s from 'false_fn'." % (x.dtype.name, y.dtype.name))
        merges = [merge(pair)[0] for pair in zip(res_f_flat, res_t_flat)]
        merges = [_from_flow(original, merged) for original, merged in
                  zip(_nest_flatten(orig_res_t), merges)]
        merges = _nest_pack(orig_res_t, merges)
        # Meta graphs record outermost contexts only; nested ones travel inside them.
        if context_t.outer_context is None:
            ops.add_to_collection(ops.GraphKeys.COND_CONTEXT, context_t)
            ops.add_to_collection(ops.GraphKeys.COND_CONTEXT, context_f)
        if not strict:
            merges = _unpack_if_singleton(merges)
        return merges


# --- while loops -----------------------------------------------------------------------------------

class WhileContext(ControlFlowContext):
    """The body and condition of one tf.while_loop: values from outside enter the loop frame
    through constant Enter ops; loop variables circulate through Enter -> Merge -> Switch ->
    Identity -> body -> NextIteration -> Merge, leaving through Exit."""

    def __init__(self, maximum_iterations=None, parallel_iterations=10, back_prop=True,
                 swap_memory=False, name="while_context", grad_state=None, context_def=None,
                 import_scope=None):
        # Set for the loop tf.gradients builds to run a forward loop backwards
        # (control_flow_state.GradLoopState); None for forward loops.
        self._grad_state = grad_state
        if context_def is not None:
            self._init_from_proto(context_def, import_scope)
            return
        if not isinstance(parallel_iterations, int) or parallel_iterations <= 0:
            raise ValueError("'parallel_iterations' must be a positive integer: %s"
                             % (parallel_iterations,))
        super().__init__()
        self._name = ops.get_default_graph().unique_name(name)
        self._maximum_iterations = maximum_iterations
        self._parallel_iterations = parallel_iterations
        self._back_prop = back_prop
        self._swap_memory = swap_memory
        self._pivot_for_pred = None
        self._pivot_for_body = None
        self._pivot = None
        self._loop_exits = []
        self._loop_enters = []

    def _init_from_proto(self, context_def, import_scope):
        graph = ops.get_default_graph()

        def element(name):
            return graph.as_graph_element(ops.prepend_name_scope(name, import_scope))

        self._name = ops.prepend_name_scope(context_def.context_name, import_scope)
        self._maximum_iterations = (element(context_def.maximum_iterations_name)
                                    if context_def.maximum_iterations_name else None)
        self._parallel_iterations = context_def.parallel_iterations
        self._back_prop = context_def.back_prop
        self._swap_memory = context_def.swap_memory
        self._pivot_for_pred = element(context_def.pivot_for_pred_name)
        self._pivot_for_body = element(context_def.pivot_for_body_name)
        self._pivot = element(context_def.pivot_name)
        self._loop_exits = [element(name) for name in context_def.loop_exit_names]
        self._loop_enters = [element(name) for name in context_def.loop_enter_names]
        super().__init__(values_def=context_def.values_def, import_scope=import_scope)
        if import_scope:
            # The loop's frame is named after the context, which now carries the scope.
            for tensor_name in self._values:
                op = graph.as_graph_element(tensor_name).op
                if op._type in ("Enter", "RefEnter"):
                    op._set_attr("frame_name", self._name.encode())

    def to_proto(self, export_scope=None):
        """This loop as a WhileContextDef (names relative to `export_scope`); None when the
        context lies outside `export_scope`."""
        from tensorkeep.io import protos

        if export_scope is not None and not self._name.startswith(export_scope):
            return None

        def strip(tensor):
            return ops.strip_name_scope(tensor.name, export_scope)

        context_def = protos.WhileContextDef(
            context_name=ops.strip_name_scope(self._name, export_scope),
            parallel_iterations=self._parallel_iterations,
            back_prop=self._back_prop,
            swap_memory=self._swap_memory,
            pivot_name=strip(self._pivot),
            pivot_for_pred_name=strip(self._pivot_for_pred),
            pivot_for_body_name=strip(self._pivot_for_body),
            loop_exit_names=[strip(t) for t in self._loop_exits],
            loop_enter_names=[strip(t) for t in self._loop_enters])
        if self._maximum_iterations is not None:
            context_def.maximum_iterations_name = strip(self._maximum_iterations)
        context_def.values_def.CopyFrom(self._to_values_def(export_scope))
        self._nested_contexts_to_proto(context_def, export_scope)
        return context_def

    @property
    def maximum_iterations(self):
        return self._maximum_iterations

    @property
    def parallel_iterations(self):
        return self._parallel_iterations

    @property
    def back_prop(self):
        return self._back_prop

    @property
    def swap_memory(self):
        return self._swap_memory

    @property
    def pivot(self):
        return self._pivot

    @property
    def loop_enters(self):
        return self._loop_enters

    @property
    def loop_exits(self):
        return self._loop_exits

    @property
    def grad_state(self):
        return self._grad_state

    def GetWhileContext(self):  # noqa: N802
        return self

    def GetControlPivot(self):  # noqa: N802
        if self._pivot_for_body is not None:
            return self._pivot_for_body
        return self._pivot_for_pred

    def IsWhileContext(self):  # noqa: N802
        return True

    def AddValue(self, val):  # noqa: N802
        """The stand-in for `val` inside the loop: a constant Enter for outside values."""
        result = val
        if val.name not in self._values and val.op._control_flow_context is not self:
            self._values.add(val.name)
            real_val = self._value_from_forward_history(val)
            if real_val is not None:
                self._external_values[val.name] = real_val
                return real_val
            if self._outer_context is not None:
                result = self._outer_context.AddValue(val)
            with ops.control_dependencies(None):
                enter = _enter(result, self._name, is_constant=True,
                               parallel_iterations=self._parallel_iterations)
                enter.graph.prevent_feeding(enter)
                if self._outer_context is not None:
                    self._outer_context.AddInnerOp(enter.op)
            self._FixControlInputsAndContext([enter])
            self._values.add(enter.name)
            self._external_values[val.name] = enter
            result = enter
        else:
            actual = self._external_values.get(val.name)
            if actual is not None:
                result = actual
        return result

    @staticmethod
    def _value_from_forward_history(val):
        """While a gradient loop is being built, a value of the forward loop it runs backwards
        is read from the stack that records it (GradLoopState.get_real_value); else None."""
        grad_context = ops.get_default_graph()._get_control_flow_context()
        if grad_context is None:
            return None
        grad_context = grad_context.GetWhileContext()
        if grad_context is None or grad_context.grad_state is None:
            return None
        forward_context = _while_context_of(val.op)
        if _is_loop_exit(val.op) and forward_context is not None:
            forward_context = forward_context.outer_context
            if forward_context is not None:
                forward_context = forward_context.GetWhileContext()
        if forward_context is not grad_context.grad_state.forward_context:
            return None
        return grad_context.grad_state.get_real_value(val)

    def AddOp(self, op):  # noqa: N802
        # A Shape/Size/Rank of a forward value needed by the gradient loop runs in the forward
        # loop, so that the small result is what gets saved per iteration.
        if op._type in ("Shape", "Size", "Rank"):
            grad_context = ops.get_default_graph()._get_control_flow_context()
            if grad_context is not None:
                grad_context = grad_context.GetWhileContext()
            if grad_context is not None and grad_context.grad_state is not None:
                input_op = op._inputs[0].op
                if _while_context_of(input_op) is grad_context.grad_state.forward_context:
                    input_context = input_op._control_flow_context
                    op._set_control_flow_context(input_context)
                    input_context._AddOpInternal(op)
                    return
        self._AddOpInternal(op)

    def _AddOpInternal(self, op):  # noqa: N802
        if op._type in ("PartitionedCall", "StatefulPartitionedCall"):
            op._add_control_input(self.GetControlPivot().op)
        if not op._inputs:
            internal, external = self._RemoveExternalControlEdges(op)
            if not internal and self.GetControlPivot() is not None:
                op._add_control_input(self.GetControlPivot().op)
        else:
            for index, tensor in enumerate(list(op._inputs)):
                real = self.AddValue(tensor)
                if real is not tensor:
                    op._update_input(index, real)
            _, external = self._RemoveExternalControlEdges(op)
            self._MaybeAddControlDependency(op)
        for tensor in op._outputs:
            self._values.add(tensor.name)
        if external:
            # Outside control inputs become control inputs on identities inside the loop.
            with ops.control_dependencies(None):
                self.Enter()
                external = [apply_op("Identity", input=x._outputs[0]).op
                            for x in external if x._outputs]
                self.Exit()
            op._add_control_inputs(external)
        if self._outer_context is not None or not _is_loop_exit(op):
            op.graph.prevent_fetching(op)
            for tensor in op._outputs:
                op.graph.prevent_feeding(tensor)
        if self._outer_context is not None:
            self._outer_context.AddInnerOp(op)

    def _MaybeAddControlDependency(self, op):  # noqa: N802
        """An op that reads only loop constants runs once per iteration via the pivot."""
        if op._control_inputs:
            return
        if all(_is_loop_constant_enter(t.op) for t in op._inputs):
            pivot = self.GetControlPivot()
            if pivot is not None:
                op._add_control_input(pivot.op)

    def _FixControlInputsAndContext(self, enters):  # noqa: N802
        """Enter ops belong to this loop and keep the outer control dependencies in force."""
        graph = ops.get_default_graph()
        for enter in enters:
            input_op = enter.op._inputs[0].op
            keep = []
            for control in graph._control_dependencies_for_inputs([input_op]):
                control_context = _output_context(control)
                outer = self.outer_context
                outer_while = None if outer is None else outer.GetWhileContext()
                keep_it = True
                while outer is not control_context:
                    if outer is None or outer is outer_while:
                        keep_it = False
                        break
                    outer = outer.outer_context
                if keep_it:
                    keep.append(control)
            enter.op._set_control_flow_context(self)
            enter.op._add_control_inputs(keep)
            for controller in graph._control_dependencies_stack:
                controller.add_op(enter.op)

    # --- the loops tf.gradients adds (control_flow_state drives them) -------------------------

    def AddForwardLoopCounter(self, outer_grad_state):  # noqa: N802
        """Adds a counter of this loop's iterations (`n = 0; while pivot: n += 1`), called in
        the loop's outer context. Returns (the count after the loop, the counter's
        NextIteration, which the stack pushes of each iteration are ordered before)."""
        from tensorkeep.ops import array_ops, math_ops

        count = array_ops.constant(0, name="f_count")
        if outer_grad_state is not None:
            # Executions of an inner loop push in the order of the outer loop's iterations.
            count.op._add_control_input(outer_grad_state.forward_index.op._inputs[0].op)
        self.Enter()
        self.AddName(count.name)
        enter_count = _enter(count, self._name, is_constant=False,
                             parallel_iterations=self._parallel_iterations, name="f_count")
        self._loop_enters.append(enter_count)
        merge_count = merge([enter_count, enter_count])[0]
        switch_count = switch(merge_count, self._pivot)
        index = math_ops.add(switch_count[1], 1)
        next_count = _next_iteration(index)
        merge_count.op._update_input(1, next_count)
        total_iterations = exit(switch_count[0], name="f_count")
        self._loop_exits.append(total_iterations)
        self.ExitResult([total_iterations])
        self.Exit()
        return total_iterations, next_count

    def AddBackpropLoopCounter(self, count, outer_grad_state):  # noqa: N802
        """Makes this (gradient) loop run `count` times (`while n >= 1: n -= 1`), called in its
        outer context; the counter's Sub is the pivot of the body. Returns the counter's
        NextIteration, which the stack pops of each iteration are ordered before."""
        from tensorkeep.ops import array_ops, math_ops

        one = array_ops.constant(1, name="b_count")
        self.Enter()
        self.AddName(count.name)
        enter_count = _enter(count, self._name, is_constant=False,
                             parallel_iterations=self._parallel_iterations, name="b_count")
        self._loop_enters.append(enter_count)
        merge_count = merge([enter_count, enter_count])[0]
        self._pivot_for_pred = merge_count
        self._pivot = loop_cond(math_ops.greater_equal(merge_count, one), name="b_count")
        switch_count = switch(merge_count, self._pivot)
        index = math_ops.subtract(switch_count[1], one)
        self._pivot_for_body = index
        next_count = _next_iteration(index)
        merge_count.op._update_input(1, next_count)
        final_zero = exit(switch_count[0], name="b_count")
        self._loop_exits.append(final_zero)
        if outer_grad_state is not None:
            # Executions of an inner gradient loop pop in the outer gradient loop's order.
            outer_grad_state.grad_sync._add_control_input(final_zero.op)
        self.ExitResult([final_zero])
        self.Exit()
        return next_count

    def AddBackpropAccumulator(self, op, grad):  # noqa: N802
        """Sums the per-iteration gradients `grad` of loop invariant `op` (a constant Enter)
        over the iterations of this gradient loop (`acc = 0; while pivot: acc += grad`);
        called inside this loop. Returns the sum (the accumulator's Exit)."""
        from tensorkeep.ops import array_ops, math_ops

        self.Exit()
        # The zeros matter only for a loop that runs no iteration: they take the invariant's
        # shape, statically when known.
        shape = grad.shape
        if shape.is_fully_defined():
            if self._outer_context is not None:
                self._outer_context.Enter()
            acc = array_ops.constant(0, grad.dtype.base_dtype, shape=shape.as_list(),
                                     name="b_acc")
            if self._outer_context is not None:
                self._outer_context.Exit()
        else:
            value = op._inputs[0]
            if isinstance(self._outer_context, WhileContext) and \
                    self._outer_context.grad_state is not None:
                # Nested: the invariant's shape in each outer iteration comes from a stack.
                forward_context = self._grad_state.forward_context
                forward_context.outer_context.Enter()
                zeros_shape = array_ops.shape_internal(value, optimize=False)
                forward_context.outer_context.Exit()
                outer_grad_state = self._grad_state.outer_grad_state
                history_zeros_shape = outer_grad_state.add_forward_accumulator(zeros_shape)
                self._outer_context.Enter()
                real_shape = outer_grad_state.add_backprop_accumulated_value(
                    history_zeros_shape, zeros_shape)
                acc = array_ops.zeros(real_shape, grad.dtype.base_dtype)
                self._outer_context.Exit()
            else:
                if self._outer_context is not None:
                    self._outer_context.Enter()
                zeros_shape = array_ops.shape_internal(value, optimize=False)
                acc = array_ops.zeros(zeros_shape, grad.dtype.base_dtype)
                if self._outer_context is not None:
                    self._outer_context.Exit()
        self.Enter()
        self.AddName(acc.name)
        enter_acc = _enter(acc, self._name, is_constant=False,
                           parallel_iterations=self._parallel_iterations, name="b_acc")
        self._loop_enters.append(enter_acc)
        merge_acc = merge([enter_acc, enter_acc], name="b_acc")[0]
        switch_acc_false, switch_acc_true = switch(merge_acc, self._pivot)
        add_acc = math_ops.add(switch_acc_true, grad)
        next_acc = _next_iteration(add_acc)
        merge_acc.op._update_input(1, next_acc)
        result_acc = exit(switch_acc_false, name="b_acc")
        self._loop_exits.append(result_acc)
        self.ExitResult([result_acc])
        return result_acc

    def AddBackpropIndexedSlicesAccumulator(self, op, grad):  # noqa: N802
        """AddBackpropAccumulator for an IndexedSlices gradient: indices and values are
        concatenated over the iterations (starting from one zero row at index 0), the dense
        shape is the largest seen."""
        from tensorkeep.framework.indexed_slices import IndexedSlices
        from tensorkeep.ops import array_ops, math_ops

        values, indices, dense_shape = grad.values, grad.indices, grad.dense_shape
        self.Exit()
        if self._outer_context is not None:
            self._outer_context.Enter()
        if values.shape.is_fully_defined():
            values_shape = [1] + values.shape.as_list()[1:]
            values_acc = array_ops.constant(0, values.dtype.base_dtype, shape=values_shape,
                                            name="b_acc")
        else:
            values_shape = array_ops.shape_internal(op._inputs[0], optimize=False)[1:]
            values_shape = array_ops.concat([[1], values_shape], 0)
            values_acc = array_ops.zeros(values_shape, dtype=values.dtype.base_dtype)
        indices_acc = array_ops.constant([0], indices.dtype.base_dtype)
        shape_acc = None
        if dense_shape is not None:
            if dense_shape.shape.is_fully_defined():
                shape_acc = array_ops.constant(0, dense_shape.dtype.base_dtype,
                                               shape=dense_shape.shape.as_list())
            else:
                shape_acc = array_ops.zeros_like(
                    array_ops.shape_internal(op._inputs[0], optimize=False,
                                             out_type=dense_shape.dtype),
                    optimize=False)
        if self._outer_context is not None:
            self._outer_context.Exit()
        self.Enter()
        self.AddName(values_acc.name)
        self.AddName(indices_acc.name)
        init_acc = [indices_acc, values_acc]
        if shape_acc is not None:
            self.AddName(shape_acc.name)
            init_acc.append(shape_acc)
        # The accumulators grow, so their Enters keep no static shape.
        enter_acc = [_enter(x, self._name, is_constant=False,
                            parallel_iterations=self._parallel_iterations,
                            use_input_shape=False, name="b_acc") for x in init_acc]
        enter_acc[0].set_shape([None])
        if values_acc.shape.dims is not None:
            enter_acc[1].set_shape([None] + values_acc.shape.as_list()[1:])
        self._loop_enters.extend(enter_acc)
        merge_acc = [merge([x, x], name="b_acc")[0] for x in enter_acc]
        switch_acc = [switch(x, self._pivot) for x in merge_acc]
        accumulated = [array_ops.concat([acc[1], part], 0)
                       for acc, part in zip(switch_acc[:2], [indices, values])]
        if shape_acc is not None:
            accumulated.append(math_ops.maximum(dense_shape, switch_acc[2][1]))
        for merge_x, next_x in zip(merge_acc, [_next_iteration(x) for x in accumulated]):
            merge_x.op._update_input(1, next_x)
        exit_acc = [exit(x[0], name="b_acc") for x in switch_acc]
        self._loop_exits.extend(exit_acc)
        self.ExitResult(exit_acc)
        return IndexedSlices(exit_acc[1], exit_acc[0],
                             exit_acc[2] if shape_acc is not None else None)

    def _InitializeValues(self, values):  # noqa: N802
        self._values = set(t.name for t in values)

    def _BuildLoop(self, pred, body, flat_orig_loop_vars, flat_loop_vars, shape_invariants,
                   loop_vars_structure):  # noqa: N802
        self._InitializeValues(flat_loop_vars)
        if self._outer_context is not None:
            real_vars = [self._outer_context.AddValue(x) for x in flat_loop_vars]
        else:
            real_vars = flat_loop_vars
        enter_vars = []
        with ops.control_dependencies(None):
            for real_var, invariant in zip(real_vars, shape_invariants):
                enter_var = _enter(real_var, self._name, is_constant=False,
                                   parallel_iterations=self._parallel_iterations,
                                   use_input_shape=False)
                if not _shape_less_than_or_equal(real_var.shape, invariant):
                    raise ValueError(
                        "The shape invariant specified for %s is not compatible with the "
                        "initial shape of the loop variable. It enters the loop with shape %s, "
                        "but the specified shape invariant is %s."
                        % (real_var.name, real_var.shape, invariant))
                enter_var.set_shape(invariant)
                enter_var.graph.prevent_feeding(enter_var)
                if self._outer_context is not None:
                    self._outer_context.AddInnerOp(enter_var.op)
                enter_vars.append(enter_var)
        outer = self._outer_context
        control_pivot = None
        while outer is not None and control_pivot is None:
            control_pivot = outer.GetControlPivot()
            outer = outer._outer_context
        if control_pivot is not None:
            for var in enter_vars:
                if _is_loop_constant_enter(var.op._inputs[0].op):
                    var.op._add_control_input(control_pivot.op)
        self._FixControlInputsAndContext(enter_vars)
        self._InitializeValues(enter_vars)
        self._loop_enters = enter_vars

        merge_vars = [merge([x, x])[0] for x in enter_vars]
        self._pivot_for_pred = merge_vars[0]
        packed_vars = _nest_pack(loop_vars_structure, [
            _from_flow(original, m) for original, m in zip(flat_orig_loop_vars, merge_vars)])
        c = ops.convert_to_tensor(pred(*packed_vars))
        self._pivot = loop_cond(c, name="LoopCond")
        switch_vars = [_switch_ref_or_tensor(x, self._pivot) for x in merge_vars]
        vars_for_body = [_identity(x[1]) for x in switch_vars]
        self._pivot_for_body = vars_for_body[0]
        packed_vars_for_body = _nest_pack(loop_vars_structure, [
            _from_flow(original, v) for original, v in zip(flat_orig_loop_vars, vars_for_body)])
        body_result = body(*packed_vars_for_body)
        if not isinstance(body_result, (list, builtins.tuple, dict)):
            body_result = [body_result]
        body_result = _variables_to_tensors(body_result)
        _assert_same_structure(list(packed_vars_for_body), list(body_result),
                               "The loop variables and the body's result")
        result = [ops.convert_to_tensor(_to_flow(v)) for v in _nest_flatten(body_result)]
        if len(merge_vars) != len(result):
            raise ValueError("Number of inputs and outputs of 'body' must match 'loop_vars'. Got "
                             "%d for the number of inputs/outputs, and %d for 'loop_vars'."
                             % (len(merge_vars), len(result)))
        for m, v in zip(merge_vars, result):
            _add_next_and_back_edge(m, v)
        exit_vars = [exit(x[0]) for x in switch_vars]
        self._loop_exits = exit_vars
        self.ExitResult(exit_vars)
        return body_result, exit_vars

    def BuildLoop(self, pred, body, loop_vars, shape_invariants, return_same_structure):  # noqa: N802
        flat_orig_loop_vars = _nest_flatten(loop_vars)
        flat_loop_vars = [ops.convert_to_tensor(_to_flow(v)) for v in flat_orig_loop_vars]
        loop_vars_structure = loop_vars
        if shape_invariants is None:
            invariants = [v.shape for v in flat_loop_vars]
        else:
            invariants = [tensor_shape.as_shape(s) for s in _nest_flatten_shapes(shape_invariants)]
            if len(invariants) != len(flat_loop_vars):
                raise ValueError("'shape_invariants' must have the same structure as "
                                 "'loop_vars'.")
        try:
            self.Enter()
            original_body_result, exit_vars = self._BuildLoop(
                pred, body, flat_orig_loop_vars, flat_loop_vars, invariants,
                loop_vars_structure)
        finally:
            self.Exit()
        flat_result = _nest_flatten(original_body_result)
        exits = [_from_flow(original, e) for original, e in zip(flat_result, exit_vars)]
        packed = _nest_pack(original_body_result, exits)
        if return_same_structure:
            return packed
        return packed[0] if len(exit_vars) == 1 else packed


def _nest_flatten_shapes(structure):
    """Flattens shape invariants, whose leaves may themselves be lists (a shape)."""
    if isinstance(structure, tensor_shape.TensorShape) or structure is None:
        return [structure]
    if isinstance(structure, dict):
        return [s for key in sorted(structure) for s in _nest_flatten_shapes(structure[key])]
    if isinstance(structure, (list, builtins.tuple)) and (
            not structure or all(isinstance(d, (int, type(None))) or hasattr(d, "value")
                                 for d in structure)):
        return [structure]
    return [s for item in structure for s in _nest_flatten_shapes(item)]


def _shape_less_than_or_equal(shape1, shape2):
    """Whether shape1 is at least as specific as shape2."""
    if shape2.dims is None:
        return True
    if shape1.ndims != shape2.ndims:
        return False
    for d1, d2 in zip(shape1.as_list(), shape2.as_list()):
        if d2 is not None and d1 != d2:
            return False
    return True


def _add_next_and_back_edge(merge_var, value, enforce_shape_invariant=True):
    """NextIteration(value) becomes the Merge's second input (the loop's back edge)."""
    if _is_indexed_slices(merge_var):
        next_value = _next_iteration(_as_indexed_slices(value))
        for merge_part, next_part in zip(_components(merge_var), _components(next_value)):
            merge_part.op._update_input(1, next_part)
        return next_value
    value = ops.convert_to_tensor(value)
    next_value = _next_iteration(value)
    if enforce_shape_invariant and not _shape_less_than_or_equal(next_value.shape,
                                                                 merge_var.shape):
        enter = merge_var.op._inputs[0].op
        input_t = enter._inputs[0]
        raise ValueError(
            "Input tensor '%s' enters the loop with shape %s, but has shape %s after one "
            "iteration. To allow the shape to vary across iterations, use the "
            "`shape_invariants` argument of tf.while_loop to specify a less-specific shape."
            % (input_t.name, input_t.shape, next_value.shape))
    merge_var.op._update_input(1, next_value)
    return next_value


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, name=None, maximum_iterations=None,
               return_same_structure=False):
    """tf.while_loop (TF1): repeats `body` while `cond` is true, as one loop frame."""
    if not callable(cond):
        raise TypeError("'cond' must be callable.")
    if not callable(body):
        raise TypeError("'body' must be callable.")
    if parallel_iterations < 1:
        raise TypeError("'parallel_iterations' must be a positive integer.")
    with ops.name_scope(name, "while", loop_vars):
        if not loop_vars:
            raise ValueError("'loop_vars' must be provided.")
        try_to_pack = len(loop_vars) == 1 and not return_same_structure
        if maximum_iterations is not None:
            from tensorkeep.ops import array_ops, math_ops

            maximum_iterations = ops.convert_to_tensor(maximum_iterations,
                                                       name="maximum_iterations")
            if maximum_iterations.shape.ndims != 0:
                raise ValueError("'maximum_iterations' must be a scalar. Received shape: %s"
                                 % maximum_iterations.shape)
            counter = array_ops.constant(0, dtype=maximum_iterations.dtype,
                                         name="iteration_counter")
            orig_cond, orig_body = cond, body
            if try_to_pack:
                loop_vars = (counter, loop_vars[0])

                def cond(i, lv):
                    return math_ops.logical_and(i < maximum_iterations, orig_cond(lv))

                def body(i, lv):
                    return (i + 1, orig_body(lv))
            else:
                loop_vars = (counter, loop_vars)

                def cond(i, lv):
                    return math_ops.logical_and(i < maximum_iterations, orig_cond(*lv))

                def body(i, lv):
                    return (i + 1, orig_body(*lv))
            try_to_pack = False
            if shape_invariants is not None:
                shape_invariants = (tensor_shape.TensorShape([]), shape_invariants)
        loop_context = WhileContext(maximum_iterations=maximum_iterations,
                                    parallel_iterations=parallel_iterations,
                                    back_prop=back_prop, swap_memory=swap_memory)
        if loop_context.outer_context is None:
            ops.add_to_collection(ops.GraphKeys.WHILE_CONTEXT, loop_context)
        result = loop_context.BuildLoop(cond, body, loop_vars, shape_invariants,
                                        return_same_structure)
        if maximum_iterations is not None:
            return result[1]
        return result


# --- meta graph serialization ----------------------------------------------------------------------

def from_control_flow_context_def(context_def, import_scope=None):
    """The CondContext or WhileContext a ControlFlowContextDef holds."""
    kind = context_def.WhichOneof("ctxt")
    if kind == "cond_ctxt":
        return CondContext.from_proto(context_def.cond_ctxt, import_scope=import_scope)
    if kind == "while_ctxt":
        return WhileContext.from_proto(context_def.while_ctxt, import_scope=import_scope)
    raise NotImplementedError("Unknown ControlFlowContextDef field: %s" % kind)


meta_graph.register_proto_function(ops.GraphKeys.COND_CONTEXT, proto_type="CondContextDef",
                                   to_proto=CondContext.to_proto,
                                   from_proto=CondContext.from_proto)
meta_graph.register_proto_function(ops.GraphKeys.WHILE_CONTEXT, proto_type="WhileContextDef",
                                   to_proto=WhileContext.to_proto,
                                   from_proto=WhileContext.from_proto)


# --- tf.case ---------------------------------------------------------------------------------------

def _assert_at_most_n_true(predicates, n, msg):
    from tensorkeep.ops import array_ops, math_ops, misc_ops

    preds_c = array_ops.stack(predicates, name="preds_c")
    num_true = math_ops.reduce_sum(math_ops.cast(preds_c, dtypes.int32), name="num_true_conds")
    condition = math_ops.less_equal(num_true, array_ops.constant(n, name="n_true_conds"))
    names = ", ".join(getattr(p, "name", "?") for p in predicates)
    error_msg = ["%s: more than %d conditions (%s) evaluated as True:" % (msg, n, names),
                 preds_c]
    return misc_ops.Assert(condition, data=error_msg, summarize=len(predicates))


def _case_default_action(predicates, actions):
    """Without a default, the last action is it, guarded by asserts that it is the one."""
    from tensorkeep.ops import array_ops, misc_ops

    k = len(predicates) - 1
    predicate, action = predicates[k], actions[k]
    other_predicates, other_actions = predicates[:k], actions[:k]

    def default_action():
        others_msg = ("Implementation error: selected default action #%d was called, but some "
                      "of other predicates are True: " % k)
        default_msg = ("Input error: None of conditions evaluated as True:",
                       array_ops.stack(predicates, name="preds_c"))
        with ops.control_dependencies([
                _assert_at_most_n_true(other_predicates, n=0, msg=others_msg),
                misc_ops.Assert(predicate, data=default_msg)]):
            return action()
    return default_action, other_predicates, other_actions


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """tf.case: the result of the first (or, with exclusive=True, the only) action whose
    predicate is true, else of `default`; built as nested tf.cond."""
    if not isinstance(pred_fn_pairs, (list, builtins.tuple, dict)):
        raise TypeError("'pred_fn_pairs' must be a list, tuple, or dict. Received: %s"
                        % type(pred_fn_pairs))
    if isinstance(pred_fn_pairs, collections.OrderedDict):
        pred_fn_pairs = list(pred_fn_pairs.items())
    elif isinstance(pred_fn_pairs, dict):
        pred_fn_pairs = sorted(pred_fn_pairs.items(), key=lambda item: item[0].name)
    for pair in pred_fn_pairs:
        if not isinstance(pair, builtins.tuple) or len(pair) != 2:
            raise TypeError("Each entry in 'pred_fn_pairs' must be a 2-tuple. Received %s."
                            % (pair,))
        pred, fn = pair
        if not isinstance(pred, ops.Tensor):
            raise TypeError("pred must be a Tensor, got: %s" % (pred,))
        if pred.dtype.base_dtype != dtypes.bool_:
            raise TypeError("pred must be Tensor of type bool: %s" % pred.name)
        if not callable(fn):
            raise TypeError("fn for pred %s must be callable." % pred.name)
    predicates = [p for p, _ in pred_fn_pairs]
    actions = [f for _, f in pred_fn_pairs]
    with ops.name_scope(name, "case", [predicates]):
        if default is None:
            default, predicates, actions = _case_default_action(predicates, actions)
        fn = default
        for predicate, action in reversed(list(zip(predicates, actions))):
            fn = _bind_cond(predicate, action, fn, strict)
        if exclusive:
            with ops.control_dependencies([_assert_at_most_n_true(
                    predicates, n=1, msg="Input error: exclusive=True")]):
                return fn()
        return fn()


def _bind_cond(predicate, true_fn, false_fn, strict):
    return lambda: cond(predicate, true_fn=true_fn, false_fn=false_fn, strict=strict)


# --- gradients -------------------------------------------------------------------------------------

# Inside a loop, tf.gradients (training/gradients.py with ops/control_flow_state.py) calls these
# with the gradient loop's WhileContext entered: the default graph's current context.

def _current_grad_context():
    return ops.get_default_graph()._get_control_flow_context()


def _switch_grad(op, *grads):
    context = op._control_flow_context
    if isinstance(context, WhileContext):
        # A loop variable's Switch is reached twice: first from its Exit (grads[0]), which
        # makes the gradient loop's Merge, then from the body (grads[1]), which becomes that
        # Merge's back edge.
        grad_state = _current_grad_context().grad_state
        merge_grad = grad_state.switch_map.get(op)
        if merge_grad is not None:
            if grads[1] is not None:
                _add_next_and_back_edge(merge_grad, grads[1], enforce_shape_invariant=False)
            return None, None
        if grads[0] is not None:
            merge_grad = merge([grads[0], grads[0]], name="b_switch")[0]
            grad_state.switch_map[op] = merge_grad
            return merge_grad, None
        return None, None  # the loop variable's final value is not differentiated
    if isinstance(context, CondContext):
        zero_grad = grads[1 - context.branch]
        if zero_grad is None:
            if op._inputs[0].dtype.base_dtype == dtypes.resource:
                return merge([grads[context.branch]] * 2, name="cond_resource_grad")[0], None
            return None, None
        return merge(list(grads), name="cond_grad")[0], None
    false_grad = switch(grads[0], op._inputs[1])[0]
    true_grad = switch(grads[1], op._inputs[1])[1]
    return merge([false_grad, true_grad])[0], None


def _merge_grad(op, grad, _):
    context = _output_context(op._inputs[0].op)
    grad_context = _current_grad_context()
    if isinstance(context, WhileContext):
        return _switch_ref_or_tensor(grad, grad_context.pivot)
    if isinstance(context, CondContext):
        pred = context.pred
        if grad_context is not None and grad_context.grad_state is not None:
            # A cond inside a loop: each backward iteration switches on the predicate its
            # forward iteration saw, saved on a stack.
            grad_state = grad_context.grad_state
            real_pred = grad_state.history_map.get(pred.name)
            if real_pred is None:
                grad_context = grad_state.grad_context
                grad_context.Exit()
                history_pred = grad_state.add_forward_accumulator(pred)
                grad_context.Enter()
                real_pred = grad_state.add_backprop_accumulated_value(history_pred, pred)
                grad_state.history_map[pred.name] = real_pred
            pred = real_pred
        return _switch_ref_or_tensor(grad, pred, name="cond_grad")
    from tensorkeep.ops import math_ops

    conds = [math_ops.equal(op._outputs[1], i) for i in range(len(op._inputs))]
    return [_switch_ref_or_tensor(grad, conds[i])[1] for i in range(len(op._inputs))]


def _exit_grad(op, grad):
    """A loop variable's gradient enters the gradient loop where the forward loop ended."""
    from tensorkeep.framework.indexed_slices import IndexedSlices

    grad_context = _current_grad_context()
    if not grad_context.back_prop:
        return None  # tf.while_loop(..., back_prop=False)
    if op._control_flow_context.grad_state is not None:
        raise TypeError("Second-order gradient for while loops not supported.")
    if isinstance(grad, ops.Tensor):
        grad_context.AddName(grad.name)
    elif isinstance(grad, IndexedSlices):
        grad_context.AddName(grad.values.name)
        grad_context.AddName(grad.indices.name)
        if grad.dense_shape is not None:
            grad_context.AddName(grad.dense_shape.name)
    else:
        raise TypeError("Type %s not supported" % type(grad))
    grad_context.Enter()
    result = _enter(grad, grad_context.name, is_constant=False,
                    parallel_iterations=grad_context.parallel_iterations, name="b_exit")
    grad_context.loop_enters.append(result)
    grad_context.Exit()
    return result


def _next_iteration_grad(_, grad):
    # The gradient loop's NextIteration is added by the loop Switch's gradient.
    return grad


def _enter_grad(op, grad):
    """A loop variable's gradient leaves the gradient loop; a loop invariant's is summed over
    the iterations."""
    from tensorkeep.framework.indexed_slices import IndexedSlices

    grad_context = _current_grad_context()
    if grad_context is None or not grad_context.back_prop or grad_context.grad_state is None:
        return grad
    if op._attrs.get("is_constant"):
        if isinstance(grad, ops.Tensor):
            return grad_context.AddBackpropAccumulator(op, grad)
        if isinstance(grad, IndexedSlices):
            return grad_context.AddBackpropIndexedSlicesAccumulator(op, grad)
        raise TypeError("Type %s not supported" % type(grad))
    result = exit(grad)
    grad_context.loop_exits.append(result)
    grad_context.ExitResult([result])
    return result


for _op_type in ("Enter", "RefEnter"):
    register_gradient(_op_type, _enter_grad)
for _op_type in ("Exit", "RefExit"):
    register_gradient(_op_type, _exit_grad)
for _op_type in ("NextIteration", "RefNextIteration"):
    register_gradient(_op_type, _next_iteration_grad)
register_gradient("Switch", _switch_grad)
register_gradient("RefSwitch", _switch_grad)
register_gradient("Merge", _merge_grad)
register_gradient("RefMerge", _merge_grad)
register_gradient("LoopCond", None)
register_gradient("ControlTrigger", None)


def zeros_like_output(op, index):
    """Zeros for output `index` of `op` (TensorFlow's control_flow_state.ZerosLike): for a
    Switch inside a cond branch the zeros are built on the branch that is taken, so they
    exist only when needed."""
    from tensorkeep.ops import array_ops

    value = op._outputs[index]
    context = op._control_flow_context
    if op._type not in ("Switch", "RefSwitch") or not isinstance(context, CondContext):
        return array_ops.zeros_like(value, optimize=False)
    switch_value = switch(op._inputs[0], context.pred)[1 - context.branch]
    pivot = apply_op("Identity", input=switch_value)
    zeros_shape = array_ops.shape_internal(switch_value, optimize=False)
    with ops.control_dependencies([pivot]):
        return array_ops.zeros(zeros_shape, dtype=value.dtype.base_dtype)


def no_op(name=None):
    return apply_op("NoOp", name=name)


def group(*inputs, **kwargs):
    """An op that runs all `inputs` (ops or tensors) and has no output."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise ValueError("Unknown keyword arguments: " + ", ".join(kwargs.keys()))
    if len(inputs) == 1 and isinstance(inputs[0], (list, builtins.tuple, set)) and \
            not hasattr(inputs[0], "_fields"):
        inputs = builtins.tuple(inputs[0])
    with ops.name_scope(name, "group_deps", inputs) as scope:
        if not inputs:
            return no_op(name=scope)
        deps_by_device = {}
        for item in _flatten(inputs):
            if item is None:
                continue
            if isinstance(item, ops.Tensor):
                dep = item.op
            elif isinstance(item, ops.Operation):
                dep = item
            elif hasattr(item, "_as_graph_element_for_control"):
                dep = item._as_graph_element_for_control()
            elif hasattr(item, "op"):
                dep = item.op
            else:
                raise TypeError("'%s' is not a tf.Operation or tf.Tensor" % (item,))
            deps_by_device.setdefault(dep.device, []).append(dep)
        if len(deps_by_device) == 1:
            (device, deps), = deps_by_device.items()
            return _group_on_device(device, deps, name=scope)
        # Inputs on several devices: one NoOp per device (in device order), then the root.
        per_device = [_group_on_device(device, deps_by_device[device])
                      for device in sorted(deps_by_device)]
        with ops.control_dependencies(per_device):
            return no_op(name=scope)


def _group_on_device(device, deps, name=None):
    """A NoOp on `device` (the current device scope when "") that runs after `deps`."""
    with ops.control_dependencies(deps):
        if not device:
            return no_op(name=name)
        with ops.device(device):
            return no_op(name=name)


def _flatten(values):
    out = []
    for v in values:
        if isinstance(v, (list, builtins.tuple)):
            out.extend(_flatten(v))
        elif isinstance(v, dict):
            out.extend(_flatten(list(v.values())))
        else:
            out.append(v)
    return out


def with_dependencies(dependencies, output_tensor, name=None):
    """Returns an identity of `output_tensor` that runs only after `dependencies`."""
    with ops.name_scope(name, "control_dependency", list(dependencies) + [output_tensor]) as scope:
        with ops.colocate_with(output_tensor):
            with ops.control_dependencies(dependencies):
                output_tensor = ops.convert_to_tensor(output_tensor)
                return apply_op("Identity", input=output_tensor, name=scope)


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 (TF's name)
    """Tensors with the same values as `tensors`, available only once all of them are."""
    with ops.name_scope(name, "tuple", tensors) as scope:
        tensors = [t if t is None or isinstance(t, (ops.Tensor, ops.Operation))
                   else ops.convert_to_tensor(t) for t in tensors]
        gating_ops = [t if isinstance(t, ops.Operation) else t.op for t in tensors
                      if t is not None]
        if control_inputs:
            gating_ops += list(control_inputs)
        gating_ops = sorted(set(gating_ops), key=lambda op: op._id)
        if not gating_ops:
            raise ValueError("Must have at least one Tensor: %s" % tensors)
        gate = group(*gating_ops)
        result = []
        for t in tensors:
            if isinstance(t, ops.Tensor):
                result.append(with_dependencies([gate], t))
            elif isinstance(t, ops.Operation):
                with ops.control_dependencies([gate]):
                    result.append(group(t))
            else:
                result.append(None)
        del scope
        return result
