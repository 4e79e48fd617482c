"""Control ops: NoOp, group, tuple, with_dependencies (control-flow primitives such as Switch and
Merge live here too)."""

import builtins

from tensorkeep.framework import ops
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient

register_op("NoOp", compute=lambda: None)
register_gradient("NoOp", None)


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
        deps = []
        for item in _flatten(inputs):
            if item is None:
                continue
            if isinstance(item, ops.Tensor):
                deps.append(item.op)
            elif isinstance(item, ops.Operation):
                deps.append(item)
            elif hasattr(item, "_as_graph_element_for_control"):
                deps.append(item._as_graph_element_for_control())
            elif hasattr(item, "op"):
                deps.append(item.op)
            else:
                raise TypeError("'%s' is not a tf.Operation or tf.Tensor" % (item,))
        with ops.control_dependencies(deps):
            return no_op(name=scope)


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
