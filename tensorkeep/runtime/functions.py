"""Calling graph functions: PartitionedCall / StatefulPartitionedCall (how TF2 SavedModels and
tf.function graphs call the functions of their GraphDef library) and the functional control
flow ops If / StatelessIf / While / StatelessWhile.

A FunctionDef is instantiated once per graph as a private Graph: a Placeholder per argument,
the body's nodes imported with TensorFlow's importer (its `node:output_arg:index` inputs
rewritten to flat output indices), the outputs named by `ret`. A call runs a plan of that
graph with the caller's session context, so resource handles, variables and random streams
are the caller's. As in TensorFlow, every stateful node of the body runs, not only those the
outputs need.
"""

import numpy as np

from tensorkeep.framework import errors
from tensorkeep.framework import op_def as op_def_lib
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.runtime import executor


class FunctionBody:
    """A FunctionDef as a runnable Graph: `arguments` (placeholder tensors), `outputs`
    (tensors) and `targets` (ops that must run)."""

    def __init__(self, function_def, library):
        from tensorkeep.framework import importer
        from tensorkeep.io import protos

        self.name = function_def.signature.name
        self.graph = ops.Graph()
        self.graph._functions = dict(library)
        graph_def = protos.GraphDef()
        graph_def.library.function.extend(library.values())
        node_names = {node.name for node in function_def.node_def}
        arg_nodes = {}
        for arg in function_def.signature.input_arg:
            placeholder_name = arg.name
            while placeholder_name in node_names:
                placeholder_name += "_arg"
            arg_nodes[arg.name] = placeholder_name
            node = graph_def.node.add(name=placeholder_name, op="Placeholder")
            node.attr["dtype"].type = _arg_type(arg, function_def)
            node.attr["shape"].shape.unknown_rank = True
        layouts = {}
        for node_def in function_def.node_def:
            node = graph_def.node.add()
            node.CopyFrom(node_def)
            del node.input[:]
            for name in node_def.input:
                node.input.append(self._resolve(name, arg_nodes, function_def, library,
                                                layouts))
        with self.graph.as_default():
            importer.import_graph_def(graph_def, name="")
        self.arguments = [self.graph.get_tensor_by_name(arg_nodes[arg.name] + ":0")
                          for arg in function_def.signature.input_arg]
        self.outputs = [self.graph.get_tensor_by_name(self._resolve(
            function_def.ret[arg.name], arg_nodes, function_def, library, layouts))
            for arg in function_def.signature.output_arg]
        wanted = [self.graph.get_operation_by_name(name)
                  for name in function_def.control_ret.values()]
        wanted += [op for op in self.graph.get_operations()
                   if op._schema is not None and op._schema.is_stateful and
                   op._type != "Placeholder" and op not in wanted]
        self.targets = wanted

    def _resolve(self, name, arg_nodes, function_def, library, layouts):
        """A function-body input reference as a graph tensor or control input name."""
        if name.startswith("^"):
            source = name[1:]
            return "^" + arg_nodes.get(source, source)
        parts = name.split(":")
        if len(parts) == 1:
            return arg_nodes[name] + ":0" if name in arg_nodes else name + ":0"
        if len(parts) == 2:  # already "node:index"
            return name
        node_name, output_arg, index = parts
        layout = layouts.get(node_name)
        if layout is None:
            layout = layouts[node_name] = _output_layout(node_name, function_def, library)
        if output_arg not in layout:
            raise errors.InvalidArgumentError(
                None, None, "Function %s: node %s has no output named %s (its outputs: %s)"
                % (self.name, node_name, output_arg, ", ".join(layout)))
        return "%s:%d" % (node_name, layout[output_arg] + int(index))


def _arg_type(arg, function_def):
    if arg.type:
        return arg.type
    attr = function_def.attr.get(arg.type_attr) if arg.type_attr else None
    if attr is not None and attr.HasField("type"):
        return attr.type
    raise errors.UnimplementedError(
        None, None, "Function %s has a polymorphic argument %s (type attr %s); only functions "
        "with concrete argument types can be called." % (function_def.signature.name, arg.name,
                                                         arg.type_attr))


def _output_layout(node_name, function_def, library):
    """{output arg name: index of its first flat output} for a node of a function body."""
    node = next((n for n in function_def.node_def if n.name == node_name), None)
    if node is None:
        raise errors.InvalidArgumentError(None, None, "Function %s refers to node %s, which it "
                                          "does not contain." % (function_def.signature.name,
                                                                 node_name))
    if node.op in library:
        output_args = library[node.op].signature.output_arg
        return {arg.name: i for i, arg in enumerate(output_args)}
    schema = op_def_lib.get_schema(node.op)
    if schema is None:
        raise errors.NotFoundError(None, None, "Op type not registered '%s' in tensorkeep "
                                   "(node %s of function %s)" % (node.op, node_name,
                                                                 function_def.signature.name))
    layout = {}
    position = 0
    for arg in schema.outputs:
        layout[arg.name] = position
        if arg.number_attr:
            position += _attr_int(node, arg.number_attr, schema)
        elif arg.type_list_attr:
            position += _attr_list_length(node, arg.type_list_attr)
        else:
            position += 1
    return layout


def _attr_int(node, name, schema):
    if name in node.attr:
        return node.attr[name].i
    return schema.attrs[name].default


def _attr_list_length(node, name):
    return len(node.attr[name].list.type) if name in node.attr else 0


def function_body(graph, function_name):
    """The instantiated body of `function_name` from `graph`'s library (cached per graph)."""
    cache = graph.__dict__.setdefault("_tensorkeep_function_bodies", {})
    body = cache.get(function_name)
    if body is None:
        library = graph._functions
        if function_name not in library:
            raise errors.NotFoundError(None, None, "Function %s is not in the graph's function "
                                       "library." % function_name)
        body = cache[function_name] = FunctionBody(library[function_name], library)
    return body


class _Caller:
    """Runs one function body with a session context."""

    def __init__(self, graph, function_name, ctx, op):
        self.body = function_body(graph, function_name)
        self.op = op
        self.plan = executor.build_plan(self.body.graph, self.body.outputs + self.body.targets,
                                        self.body.arguments, ctx)

    def __call__(self, args):
        if len(args) != len(self.body.arguments):
            raise errors.InvalidArgumentError(
                None, self.op, "Function %s takes %d arguments, %d given"
                % (self.body.name, len(self.body.arguments), len(args)))
        results = executor.run_plan(self.plan, list(args))
        return results[:len(self.body.outputs)]


def _function_name(op, attr):
    value = op._attrs[attr]
    return value.name if hasattr(value, "name") else (
        value.decode() if isinstance(value, bytes) else value)


def _call_kernel(op, ctx):
    caller = _Caller(op._graph, _function_name(op, "f"), ctx, op)
    n_out = len(op._outputs)

    def run(*args):
        results = caller(args)
        return results[0] if n_out == 1 else results
    return run


_CALL_ATTRS = ["Tin: list(type) >= 0", "Tout: list(type) >= 0", "f: func",
               "config: string = ''", "config_proto: string = ''", "executor_type: string = ''"]


def _declared_output_shapes(op):
    return [tensor_shape.unknown_shape() for _ in op._outputs]


register_op("PartitionedCall", inputs=["args: Tin"], outputs=["output: Tout"],
            attrs=_CALL_ATTRS, kernel=_call_kernel, shape=_declared_output_shapes)
register_op("StatefulPartitionedCall", inputs=["args: Tin"], outputs=["output: Tout"],
            attrs=_CALL_ATTRS, stateful=True, kernel=_call_kernel,
            shape=_declared_output_shapes, is_distributed_communication=True)


def _truth(value):
    """TensorFlow's If/While predicate: a scalar's value, else whether it has elements."""
    value = np.asarray(value)
    if value.ndim == 0:
        return bool(value[()])
    return value.size > 0


def _if_kernel(op, ctx):
    then_call = _Caller(op._graph, _function_name(op, "then_branch"), ctx, op)
    else_call = _Caller(op._graph, _function_name(op, "else_branch"), ctx, op)
    n_out = len(op._outputs)

    def run(cond, *args):
        results = (then_call if _truth(cond) else else_call)(args)
        return results[0] if n_out == 1 else results
    return run


def _while_kernel(op, ctx):
    cond_call = _Caller(op._graph, _function_name(op, "cond"), ctx, op)
    body_call = _Caller(op._graph, _function_name(op, "body"), ctx, op)
    n_out = len(op._outputs)

    def run(*args):
        values = list(args)
        while _truth(cond_call(values)[0]):
            values = list(body_call(values))
        return values[0] if n_out == 1 else values
    return run


def _output_shapes_attr(op):
    shapes = op._attrs.get("output_shapes") or []
    if len(shapes) == len(op._outputs):
        return [tensor_shape.as_shape(s) for s in shapes]
    return [tensor_shape.unknown_shape() for _ in op._outputs]


_IF_ATTRS = ["Tcond: type", "Tin: list(type) >= 0", "Tout: list(type) >= 0",
             "then_branch: func", "else_branch: func", "output_shapes: list(shape) = []"]
register_op("If", inputs=["cond: Tcond", "input: Tin"], outputs=["output: Tout"],
            attrs=_IF_ATTRS, stateful=True, kernel=_if_kernel, shape=_output_shapes_attr)
register_op("StatelessIf", inputs=["cond: Tcond", "input: Tin"], outputs=["output: Tout"],
            attrs=_IF_ATTRS, kernel=_if_kernel, shape=_output_shapes_attr)
_WHILE_ATTRS = ["T: list(type) >= 0", "cond: func", "body: func",
                "output_shapes: list(shape) = []", "parallel_iterations: int = 10"]
register_op("While", inputs=["input: T"], outputs=["output: T"], attrs=_WHILE_ATTRS,
            stateful=True, kernel=_while_kernel, shape=_output_shapes_attr)
register_op("StatelessWhile", inputs=["input: T"], outputs=["output: T"], attrs=_WHILE_ATTRS,
            kernel=_while_kernel, shape=_output_shapes_attr)
for _op_type in ("PartitionedCall", "StatefulPartitionedCall", "If", "StatelessIf", "While",
                 "StatelessWhile"):
    register_gradient(_op_type, None)
