"""The op registry: each op's schema (as TensorFlow's OpDef), kernel, shape function, gradient.

Op modules in tensorkeep/ops/ declare ops with `register_op`, in TensorFlow's REGISTER_OP
spelling (inputs "x: T", "values: N * T", "ref: Ref(T)"; attrs "T: {float, double} = DT_FLOAT",
"N: int >= 1", "padding: {'SAME', 'VALID'}"), so that schemas, attr names and defaults match the
OpDefs inside TensorFlow's own files.
"""

import re

from tensorkeep.framework import dtypes
from tensorkeep.framework import tensor_shape

_NO_DEFAULT = object()

REGISTRY = {}


class ArgSpec:
    """One input or output argument of an op."""

    __slots__ = ("name", "type", "type_attr", "number_attr", "type_list_attr", "is_ref")

    def __init__(self, spec):
        match = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+?)\s*$", spec)
        if not match:
            raise ValueError("Bad arg spec %r" % spec)
        self.name, type_spec = match.group(1), match.group(2)
        self.type = None
        self.type_attr = ""
        self.number_attr = ""
        self.type_list_attr = ""
        self.is_ref = False
        ref = re.match(r"^Ref\((.+)\)$", type_spec)
        if ref:
            self.is_ref = True
            type_spec = ref.group(1).strip()
        number = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\*\s*(.+)$", type_spec)
        if number:
            self.number_attr = number.group(1)
            type_spec = number.group(2).strip()
        try:
            self.type = dtypes.as_dtype(type_spec)
        except TypeError:
            # An attr name: a single type attr, or a list(type) attr when not counted by N.
            self.type_attr = type_spec
        if self.type is not None and self.is_ref:
            self.type = self.type._as_ref

    def is_list(self, schema):
        return bool(self.number_attr) or bool(self.type_list_attr)


class AttrSpec:
    """One attr of an op: its type ("type", "int", "list(type)", ...), default and constraints."""

    __slots__ = ("name", "type", "default", "allowed_values", "minimum")

    def __init__(self, spec):
        match = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+?)\s*$", spec)
        if not match:
            raise ValueError("Bad attr spec %r" % spec)
        self.name = match.group(1)
        rest = match.group(2)
        default_text = None
        # Split off "= default" outside of braces/quotes.
        depth = 0
        quote = None
        for i, ch in enumerate(rest):
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "'\"":
                quote = ch
            elif ch in "{[(":
                depth += 1
            elif ch in "}])":
                depth -= 1
            elif ch == "=" and depth == 0 and rest[i - 1] not in "<>!" and rest[i + 1:i + 2] != "=":
                default_text = rest[i + 1:].strip()
                rest = rest[:i].strip()
                break
        self.minimum = None
        minimum = re.match(r"^(.*?)\s*>=\s*(-?\d+)$", rest)
        if minimum:
            rest = minimum.group(1).strip()
            self.minimum = int(minimum.group(2))
        self.allowed_values = None
        list_enum = re.match(r"^list\((\{.*\})\)$", rest)
        if rest.startswith("{"):
            self.allowed_values = _parse_enum(rest)
            rest = "type" if not isinstance(self.allowed_values[0], str) else "string"
        elif list_enum:
            self.allowed_values = _parse_enum(list_enum.group(1))
            rest = "list(type)"
        self.type = rest
        self.default = _NO_DEFAULT if default_text is None else _parse_default(self.type, default_text)

    @property
    def has_default(self):
        return self.default is not _NO_DEFAULT


def _parse_enum(text):
    items = [t.strip() for t in text.strip()[1:-1].split(",") if t.strip()]
    if items and items[0][0] in "'\"":
        return [t[1:-1] for t in items]
    return [dtypes.as_dtype(t) for t in items]


def _parse_default(attr_type, text):
    if attr_type.startswith("list("):
        inner = attr_type[5:-1]
        body = text.strip()[1:-1].strip()
        if not body:
            return []
        return [_parse_default(inner, t.strip()) for t in body.split(",")]
    if attr_type == "type":
        return dtypes.as_dtype(text)
    if attr_type == "int":
        return int(text)
    if attr_type == "float":
        return float(text)
    if attr_type == "bool":
        return text == "true"
    if attr_type == "string":
        return text[1:-1].encode()
    if attr_type == "shape":
        if text in ("{ unknown_rank: true }", "unknown"):
            return tensor_shape.unknown_shape()
        body = text.strip()[1:-1].strip()
        return tensor_shape.TensorShape([int(t) for t in body.split(",") if t.strip()])
    raise ValueError("Unsupported default %r for attr type %s" % (text, attr_type))


class OpSchema:
    """Everything tensorkeep knows about one op type.

    The spec strings are parsed into `inputs`, `outputs` and `attrs` when one of them is
    first read, not at registration: `import tensorkeep` registers hundreds of ops and a
    program builds a few dozen types (parsed, they are plain attributes, as fast as before).
    """

    def __init__(self, name, inputs, outputs, attrs, stateful, commutative, kernel, shape_fn,
                 allows_uninitialized_input, ref_outputs_are_state, is_aggregate=False,
                 deprecation=None, output_full_types=None, is_distributed_communication=False):
        self.name = name
        self._specs = (tuple(inputs), tuple(outputs), tuple(attrs))
        self.is_stateful = stateful
        self.is_commutative = commutative
        self.kernel = kernel
        self.shape_fn = shape_fn
        self.gradient = None
        self.gradient_registered = False
        self.allows_uninitialized_input = allows_uninitialized_input
        self.is_aggregate = is_aggregate
        self.deprecation = deprecation
        self.output_full_types = dict(output_full_types or {})
        self.is_distributed_communication = is_distributed_communication
        self._op_def = None

    def __getattr__(self, name):
        # Only reached while the parsed attributes are not yet instance attributes.
        specs = self.__dict__.get("_specs")
        if name not in ("inputs", "outputs", "attrs", "has_ref_input") or specs is None:
            raise AttributeError(name)
        self._parse_specs(*specs)
        return self.__dict__[name]

    def _parse_specs(self, input_specs, output_specs, attr_specs):
        inputs = [ArgSpec(s) for s in input_specs]
        outputs = [ArgSpec(s) for s in output_specs]
        attrs = {}
        for spec in attr_specs:
            attr = AttrSpec(spec)
            attrs[attr.name] = attr
        # An arg typed by a list(type) attr is a type list, not a single type.
        for arg in inputs + outputs:
            if arg.type_attr and attrs.get(arg.type_attr) is not None \
                    and attrs[arg.type_attr].type == "list(type)":
                arg.type_list_attr, arg.type_attr = arg.type_attr, ""
        self.inputs, self.outputs, self.attrs = inputs, outputs, attrs
        self.has_ref_input = any(arg.is_ref for arg in inputs)

    @property
    def op_def(self):
        """This op's OpDef protobuf (built on first use)."""
        if self._op_def is None:
            self._op_def = _build_op_def(self)
        return self._op_def

    def __repr__(self):
        return "<OpSchema %s>" % self.name


def register_op(name, inputs=(), outputs=(), attrs=(), stateful=False, commutative=False,
                compute=None, kernel=None, shape=None, allows_uninitialized_input=False,
                is_aggregate=False, deprecation=None, output_full_types=None,
                is_distributed_communication=False):
    """Declares an op type.

    compute: a function of the input values returning the output value(s); or
    kernel:  a factory `kernel(op, ctx) -> fn(*input_values)` for kernels that need the op's
             attrs or the session's state (ctx is the runtime's per-session context).
    shape:   `shape(op) -> [TensorShape per output]` for static shape inference.
    The remaining keywords are OpDef flags, set where TensorFlow's REGISTER_OP sets them (they
    are part of the OpDefs in every meta graph's stripped_op_list):
    allows_uninitialized_input, is_aggregate, is_distributed_communication: the flags;
    deprecation: (graph version, explanation) of an op removed from new graphs;
    output_full_types: {output arg name: FullTypeDef in protobuf text format}.
    """
    if compute is not None:
        if kernel is not None:
            raise ValueError("Give either compute or kernel for op %s, not both" % name)

        def kernel(op, ctx, _compute=compute):
            return _compute
    schema = OpSchema(name, inputs, outputs, attrs, stateful, commutative, kernel, shape,
                      allows_uninitialized_input, False, is_aggregate=is_aggregate,
                      deprecation=deprecation, output_full_types=output_full_types,
                      is_distributed_communication=is_distributed_communication)
    previous = REGISTRY.get(name)
    if previous is not None and previous.gradient_registered:
        schema.gradient, schema.gradient_registered = previous.gradient, True
    REGISTRY[name] = schema
    return schema


def get_schema(op_type):
    schema = REGISTRY.get(op_type)
    if schema is None and not _all_ops_loaded:
        load_all_ops()
        schema = REGISTRY.get(op_type)
    return schema


_all_ops_loaded = False


def load_all_ops():
    """Registers every op family. Op modules register their ops when imported, and `import
    tensorkeep` imports them only on first use of the namespace; code that reaches the registry
    through a submodule (import_graph_def on a GraphDef, a kernel lookup) must still see them
    all."""
    global _all_ops_loaded
    if not _all_ops_loaded:
        import tensorkeep.api.top_level  # noqa: F401 (imports every ops module)

        _all_ops_loaded = True
    return REGISTRY


def set_kernel(op_type, kernel=None, compute=None):
    schema = REGISTRY[op_type]
    if compute is not None:
        schema.kernel = lambda op, ctx: compute
    else:
        schema.kernel = kernel


def set_shape_fn(op_type, shape_fn):
    REGISTRY[op_type].shape_fn = shape_fn


_PENDING_GRADIENTS = {}


def register_gradient(op_type, fn):
    """Registers fn(op, *output_grads) -> [input grads] as op_type's gradient (None = none)."""
    schema = REGISTRY.get(op_type)
    if schema is None:
        _PENDING_GRADIENTS[op_type] = fn
        return
    if schema.gradient_registered and schema.gradient is not fn:
        raise KeyError("Registering two gradient with name '%s'! (Previous registration was "
                       "in another module.)" % op_type)
    schema.gradient = fn
    schema.gradient_registered = True


def gradient_function(op_type):
    schema = REGISTRY.get(op_type)
    if schema is not None and schema.gradient_registered:
        return schema.gradient, True
    if op_type in _PENDING_GRADIENTS:
        return _PENDING_GRADIENTS[op_type], True
    return None, False


def _build_op_def(schema):
    from google.protobuf import text_format
    from tensorkeep.io import protos

    op_def = protos.OpDef(name=schema.name)
    for args, target in ((schema.inputs, op_def.input_arg), (schema.outputs, op_def.output_arg)):
        for arg in args:
            proto = target.add(name=arg.name)
            if arg.type is not None:
                proto.type = arg.type.base_dtype.as_datatype_enum
            proto.type_attr = arg.type_attr
            proto.number_attr = arg.number_attr
            proto.type_list_attr = arg.type_list_attr
            proto.is_ref = arg.is_ref
    for arg in op_def.output_arg:
        full_type = schema.output_full_types.get(arg.name)
        if full_type is not None:
            text_format.Parse(full_type, arg.experimental_full_type)
    for attr in schema.attrs.values():
        proto = op_def.attr.add(name=attr.name, type=attr.type)
        if attr.has_default:
            proto.default_value.CopyFrom(python_to_attr_value(attr.default, attr.type))
        if attr.minimum is not None:
            proto.has_minimum = True
            proto.minimum = attr.minimum
        if attr.allowed_values is not None:
            if attr.type in ("type", "list(type)"):
                proto.allowed_values.list.type.extend(d.as_datatype_enum for d in attr.allowed_values)
            else:
                proto.allowed_values.list.s.extend(v.encode() for v in attr.allowed_values)
    if schema.deprecation is not None:
        version, explanation = schema.deprecation
        op_def.deprecation.version = version
        op_def.deprecation.explanation = explanation
    op_def.is_stateful = schema.is_stateful
    op_def.is_commutative = schema.is_commutative
    op_def.is_aggregate = schema.is_aggregate
    op_def.allows_uninitialized_input = schema.allows_uninitialized_input
    op_def.is_distributed_communication = schema.is_distributed_communication
    return op_def


# --- attr values <-> python ---------------------------------------------------------------------

def infer_attr_type(value):
    """The AttrValue kind of a python attr value when no schema says it."""
    from tensorkeep.io import protos

    if isinstance(value, protos.AttrValue):
        return "raw"
    if isinstance(value, dtypes.DType):
        return "type"
    if isinstance(value, tensor_shape.TensorShape):
        return "shape"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, (bytes, str)):
        return "string"
    if isinstance(value, protos.NameAttrList):
        return "func"
    if isinstance(value, (list, tuple)):
        if not value:
            return "list(int)"
        return "list(%s)" % infer_attr_type(value[0])
    return "tensor"


def python_to_attr_value(value, attr_type=None):
    """Builds an AttrValue protobuf from a python attr value."""
    from tensorkeep.io import protos

    if isinstance(value, protos.AttrValue):
        return value
    if attr_type is None:
        attr_type = infer_attr_type(value)
    proto = protos.AttrValue()
    if attr_type.startswith("list("):
        inner = attr_type[5:-1]
        target = proto.list
        target.SetInParent()
        if inner == "type":
            target.type.extend(dtypes.as_dtype(v).as_datatype_enum for v in value)
        elif inner == "int":
            target.i.extend(int(v) for v in value)
        elif inner == "float":
            target.f.extend(float(v) for v in value)
        elif inner == "bool":
            target.b.extend(bool(v) for v in value)
        elif inner == "string":
            target.s.extend(v.encode() if isinstance(v, str) else v for v in value)
        elif inner == "shape":
            target.shape.extend(tensor_shape.as_shape(v).as_proto() for v in value)
        elif inner == "tensor":
            target.tensor.extend(_to_tensor_proto(v) for v in value)
        elif inner == "func":
            target.func.extend(value)
        else:
            raise ValueError("Unknown attr type %s" % attr_type)
        return proto
    if attr_type == "type":
        proto.type = dtypes.as_dtype(value).as_datatype_enum
    elif attr_type == "int":
        proto.i = int(value)
    elif attr_type == "float":
        proto.f = float(value)
    elif attr_type == "bool":
        proto.b = bool(value)
    elif attr_type == "string":
        proto.s = value.encode() if isinstance(value, str) else bytes(value)
    elif attr_type == "shape":
        proto.shape.CopyFrom(tensor_shape.as_shape(value).as_proto())
    elif attr_type == "tensor":
        proto.tensor.CopyFrom(_to_tensor_proto(value))
    elif attr_type == "func":
        if isinstance(value, str):
            proto.func.name = value
        else:
            proto.func.CopyFrom(value)
    elif attr_type == "placeholder":
        proto.placeholder = value
    else:
        raise ValueError("Unknown attr type %s" % attr_type)
    return proto


def _to_tensor_proto(value):
    from tensorkeep.io import protos
    from tensorkeep.framework import tensor_util

    if isinstance(value, protos.TensorProto):
        return value
    return tensor_util.make_tensor_proto(value)


def attr_value_to_python(proto):
    """Decodes an AttrValue protobuf into tensorkeep's python attr representation."""
    kind = proto.WhichOneof("value")
    if kind == "type":
        return dtypes.as_dtype(proto.type)
    if kind == "shape":
        return tensor_shape.TensorShape(proto.shape)
    if kind in ("i", "f", "b", "s"):
        return getattr(proto, kind)
    if kind == "tensor":
        return proto.tensor
    if kind == "func":
        return proto.func
    if kind == "list":
        lst = proto.list
        if lst.type:
            return [dtypes.as_dtype(t) for t in lst.type]
        if lst.shape:
            return [tensor_shape.TensorShape(s) for s in lst.shape]
        for field in ("i", "f", "b", "s", "tensor", "func"):
            values = getattr(lst, field)
            if values:
                return list(values)
        return []
    if kind == "placeholder":
        return proto
    return proto
