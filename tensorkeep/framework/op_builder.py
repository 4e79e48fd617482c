"""apply_op: build one op from keyword inputs and attrs, the way TensorFlow's generated op
wrappers do (name scope, input conversion with type inference, attr defaults)."""

from tensorkeep.framework import dtypes
from tensorkeep.framework import op_def as op_def_lib
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape


def apply_op(op_type, name=None, **kwargs):
    """Creates an op of `op_type`; kwargs hold inputs (by arg name) and attrs (by attr name).

    Returns the Operation when the op has no outputs, the Tensor when it has a single (non-list)
    output, otherwise a list with one entry per output arg (a list for list args).
    """
    schema = op_def_lib.get_schema(op_type)
    if schema is None:
        raise KeyError("Op type %s is not registered in tensorkeep" % op_type)
    attrs = {}
    for attr_name in schema.attrs:
        if attr_name in kwargs:
            value = kwargs.pop(attr_name)
            if value is not None:
                attrs[attr_name] = _normalize_attr(schema.attrs[attr_name], value)
    raw_inputs = []
    for arg in schema.inputs:
        if arg.name not in kwargs:
            raise TypeError("%s() missing required input '%s'" % (op_type, arg.name))
        raw_inputs.append(kwargs.pop(arg.name))
    control_inputs = kwargs.pop("_control_inputs", None)
    if kwargs:
        raise TypeError("%s() got unexpected keyword arguments: %s" % (op_type, ", ".join(kwargs)))

    graph = _graph_of(raw_inputs)
    if graph is ops.get_default_graph():
        with graph.name_scope(name or op_type) as scope:
            return _build(graph, scope, op_type, schema, attrs, raw_inputs, control_inputs)
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        return _build(graph, scope, op_type, schema, attrs, raw_inputs, control_inputs)


def _graph_of(raw_inputs):
    """The graph of the op's inputs (the default graph when none has one)."""
    graph = None
    for value in raw_inputs:
        if type(value) is not ops.Tensor or (graph is not None and value._op._graph is not graph):
            # Lists, literals, variables, or a mix of graphs (which raises)
            return ops._get_graph_from_inputs([v for v in _flat(raw_inputs)
                                               if hasattr(v, "graph")])
        graph = value._op._graph
    return graph or ops.get_default_graph()


def _needs_no_conversion(schema, attrs, raw_inputs):
    """Whether every input already is a Tensor of the type its arg takes (the common case):
    Graph._create_op then infers the type attrs from them, as conversion would have. When
    not, conversion decides (and words any type mismatch)."""
    seen = {}  # type attr -> the dtype of the first input it types
    for arg, value in zip(schema.inputs, raw_inputs):
        if type(value) is not ops.Tensor or arg.number_attr or arg.type_list_attr:
            return False
        base = value._dtype.base_dtype
        if arg.type is not None:
            if base is not arg.type.base_dtype:
                return False
        elif arg.type_attr:
            have = attrs.get(arg.type_attr)
            if have is None:
                have = seen.setdefault(arg.type_attr, base)
            if have is not base:
                return False
    return True


def _build(graph, scope, op_type, schema, attrs, raw_inputs, control_inputs):
    """apply_op's work inside the op's name scope, with `graph` the default graph."""
    if _needs_no_conversion(schema, attrs, raw_inputs):
        return _create(graph, scope, op_type, schema, attrs, list(raw_inputs), control_inputs)
    # Learn type attrs from inputs that already are tensors, so literals can follow them.
    for arg, value in zip(schema.inputs, raw_inputs):
        if arg.type_attr and arg.type_attr not in attrs:
            for v in (_flat([value]) if arg.number_attr else [value]):
                dtype = _known_dtype(v)
                if dtype is not None:
                    attrs[arg.type_attr] = dtype.base_dtype
                    break
    inputs = []
    for arg, value in zip(schema.inputs, raw_inputs):
        if arg.number_attr or arg.type_list_attr:
            if not isinstance(value, (list, tuple)):
                raise TypeError("Expected list for '%s' argument to '%s' Op, not %r."
                                % (arg.name, op_type, value))
            dtype = _arg_dtype(schema, arg, attrs)
            # Literals in a list input become Consts named <arg>_<i>, as in TensorFlow.
            converted = [ops.convert_to_tensor(v, dtype=dtype, as_ref=arg.is_ref,
                                               name="%s_%d" % (arg.name, i),
                                               preferred_dtype=_preferred(schema, arg))
                         for i, v in enumerate(value)]
            if arg.number_attr:
                attrs.setdefault(arg.number_attr, len(converted))
                if converted and arg.type_attr and arg.type_attr not in attrs:
                    attrs[arg.type_attr] = converted[0].dtype.base_dtype
            else:
                attrs.setdefault(arg.type_list_attr,
                                 [t.dtype.base_dtype for t in converted])
            inputs.extend(converted)
        else:
            dtype = _arg_dtype(schema, arg, attrs)
            if type(value) is ops.Tensor and (dtype is None or value._dtype.base_dtype is dtype):
                tensor = value  # what convert_to_tensor would return, without its dispatch
            else:
                preferred = _preferred(schema, arg)
                if (dtype is None and preferred is not None and preferred is not dtypes.float32
                        and isinstance(value, (list, tuple)) and not value):
                    # TensorFlow converts an empty list once without the preferred dtype
                    # first: a float32 Const named after the arg stays behind in the graph.
                    ops.convert_to_tensor(value, name=arg.name)
                try:
                    tensor = ops.convert_to_tensor(value, dtype=dtype, name=arg.name,
                                                   as_ref=arg.is_ref,
                                                   preferred_dtype=preferred)
                except ValueError as exc:
                    raise TypeError("Input '%s' of '%s' Op has type mismatch: %s"
                                    % (arg.name, op_type, exc))
            if arg.type_attr and arg.type_attr not in attrs:
                attrs[arg.type_attr] = tensor.dtype.base_dtype
            inputs.append(tensor)
    return _create(graph, scope, op_type, schema, attrs, inputs, control_inputs)


def _create(graph, scope, op_type, schema, attrs, inputs, control_inputs):
    """The op of converted `inputs`; returns its outputs as apply_op does."""
    # Ops that take a ref input live beside the variable (TensorFlow records that as
    # the `_class: loc:@var` colocation attr).
    ref_inputs = schema.has_ref_input and [
        t for arg, t in zip(_expand_args(schema, attrs), inputs) if arg.is_ref]
    if ref_inputs:
        with graph.colocate_with(ref_inputs[0].op):
            op = graph._create_op(op_type, inputs, attrs, name=scope,
                                  control_inputs=control_inputs)
    else:
        op = graph._create_op(op_type, inputs, attrs, name=scope,
                              control_inputs=control_inputs)
    return _outputs_of(op, schema)


def _expand_args(schema, attrs):
    """One ArgSpec per flat input tensor."""
    expanded = []
    for arg in schema.inputs:
        if arg.number_attr:
            expanded.extend([arg] * attrs.get(arg.number_attr, 0))
        elif arg.type_list_attr:
            expanded.extend([arg] * len(attrs.get(arg.type_list_attr, ())))
        else:
            expanded.append(arg)
    return expanded


def _outputs_of(op, schema):
    if not schema.outputs:
        return op
    outputs = op._outputs
    if len(schema.outputs) == 1 and not (schema.outputs[0].number_attr or
                                         schema.outputs[0].type_list_attr):
        return outputs[0]
    grouped = []
    pos = 0
    for arg in schema.outputs:
        if arg.number_attr:
            n = op._attrs[arg.number_attr]
            grouped.append(outputs[pos:pos + n])
            pos += n
        elif arg.type_list_attr:
            n = len(op._attrs[arg.type_list_attr])
            grouped.append(outputs[pos:pos + n])
            pos += n
        else:
            grouped.append(outputs[pos])
            pos += 1
    return grouped


def _flat(values):
    out = []
    for v in values:
        if isinstance(v, (list, tuple)):
            out.extend(_flat(v))
        else:
            out.append(v)
    return out


def _known_dtype(value):
    if isinstance(value, ops.Tensor):
        return value.dtype
    dtype = getattr(value, "dtype", None)
    if hasattr(value, "_as_graph_element") and isinstance(dtype, dtypes.DType):
        return dtype
    return None


def _arg_dtype(schema, arg, attrs):
    if arg.type is not None:
        return arg.type.base_dtype
    if arg.type_attr and arg.type_attr in attrs:
        return attrs[arg.type_attr]
    return None


def _preferred(schema, arg):
    if arg.type_attr:
        spec = schema.attrs.get(arg.type_attr)
        if spec is not None and spec.has_default:
            return spec.default
    return None


def _normalize_attr(spec, value):
    """An attr value as ops hold it, normalized by the attr's type."""
    normalize = _NORMALIZERS.get(spec.type)
    if normalize is None:
        return list(value) if spec.type.startswith("list(") else value
    return normalize(value)


def _encoded(value):
    return value.encode() if isinstance(value, str) else value


_NORMALIZERS = {
    "type": lambda value: dtypes.as_dtype(value).base_dtype,
    "list(type)": lambda value: [dtypes.as_dtype(v).base_dtype for v in value],
    "shape": tensor_shape.as_shape,
    "list(shape)": lambda value: [tensor_shape.as_shape(v) for v in value],
    "string": _encoded,
    "list(string)": lambda value: [_encoded(v) for v in value],
    "int": int,
    "float": float,
    "bool": bool,
}
