"""TensorArray (TensorArrayV3 and friends) and the Stack ops of TF1 while-loop gradients.

A TensorArray is a per-run resource: each execution of TensorArrayV3 creates a fresh array
whose handle flows to the read/write ops; the float `flow` tensor only orders the accesses
(tf.while_loop carries it as a loop variable). tf.TensorArray is TensorFlow 1.x's graph-mode
class, building the same ops with the same names.
"""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient

_SCALAR = tensor_shape.TensorShape([])
# Resource handles of these ops have TensorFlow's legacy (container, name) vector shape.
_HANDLE = tensor_shape.TensorShape([2])


class TensorArrayStorage:
    """The elements behind one TensorArray handle during a run."""

    def __init__(self, name, dtype, size, element_shape, dynamic_size, clear_after_read,
                 identical_element_shapes, accumulates=False):
        self.name = name
        self.dtype = dtype
        self.elements = [None] * size
        self.cleared = [False] * size
        self.element_shape = element_shape
        self.dynamic_size = dynamic_size
        self.clear_after_read = clear_after_read
        self.identical_element_shapes = identical_element_shapes
        self.accumulates = accumulates  # gradient arrays sum repeated writes
        self.gradients = {}

    def _error(self, op, message):
        return errors.InvalidArgumentError(None, op, "TensorArray %s: %s" % (self.name, message))

    def write(self, op, index, value):
        index = int(index)
        if index < 0:
            raise self._error(op, "Tried to write to index %d but array size is: %d"
                              % (index, len(self.elements)))
        if index >= len(self.elements):
            if not self.dynamic_size:
                raise self._error(op, "Tried to write to index %d but array is not resizeable "
                                  "and size is: %d" % (index, len(self.elements)))
            grow = index + 1 - len(self.elements)
            self.elements.extend([None] * grow)
            self.cleared.extend([False] * grow)
        value = np.asarray(value)
        if value.dtype != self.dtype.as_numpy and self.dtype != dtypes.string:
            raise self._error(op, "Could not write to TensorArray index %d because the value "
                              "dtype is %s but TensorArray dtype is %s."
                              % (index, value.dtype, self.dtype.name))
        if not self.element_shape.is_compatible_with(value.shape):
            raise self._error(op, "Could not write to TensorArray index %d because the value "
                              "shape is %s which is incompatible with the TensorArray's "
                              "inferred element shape: %s (consider setting "
                              "infer_shape=False)." % (index, list(value.shape),
                                                       self.element_shape))
        if self.identical_element_shapes and self.element_shape.ndims is None:
            self.element_shape = tensor_shape.TensorShape(value.shape)
        current = self.elements[index]
        if current is not None:
            if not self.accumulates:
                raise self._error(op, "Could not write to TensorArray index %d because it has "
                                  "already been written to." % index)
            if current.shape != value.shape:
                raise self._error(op, "Could not aggregate to TensorArray index %d because the "
                                  "existing shape is %s but the new input shape is %s."
                                  % (index, list(current.shape), list(value.shape)))
            value = current + value
        if self.cleared[index]:
            raise self._error(op, "Could not write to TensorArray index %d because it has "
                              "already been read and cleared." % index)
        self.elements[index] = value

    def read(self, op, index):
        index = int(index)
        if not 0 <= index < len(self.elements):
            raise self._error(op, "Tried to read from index %d but array size is: %d"
                              % (index, len(self.elements)))
        if self.cleared[index]:
            raise self._error(op, "Could not read index %d twice because it was cleared after "
                              "a previous read (perhaps try setting clear_after_read = false?)."
                              % index)
        value = self.elements[index]
        if value is None:
            if not self.element_shape.is_fully_defined():
                raise self._error(op, "Could not read from TensorArray index %d.  Furthermore, "
                                  "the element shape is not fully defined: %s.  If you set the "
                                  "full element_shape property on the forward TensorArray, the "
                                  "proper all-zeros tensor will be returned instead of incurring "
                                  "this error." % (index, self.element_shape))
            return np.zeros(self.element_shape.as_list(), self.dtype.as_numpy)
        if self.clear_after_read and not self.accumulates:
            self.elements[index] = None
            self.cleared[index] = True
        return value

    def size(self):
        return len(self.elements)


# --- ops -------------------------------------------------------------------------------------------

def _text(value):
    return value.decode() if isinstance(value, bytes) else (value or "")


def _tensor_array_kernel(op, ctx):
    attrs = op._attrs
    name = _text(attrs.get("tensor_array_name", b"")) or op.name

    def run(size):
        size = int(size)
        if size < 0:
            raise errors.InvalidArgumentError(None, op, "Size should be >= 0.")
        storage = TensorArrayStorage(name, attrs["dtype"], size, _shape_attr(op, "element_shape"),
                                     attrs.get("dynamic_size", False),
                                     attrs.get("clear_after_read", True),
                                     attrs.get("identical_element_shapes", False))
        return storage, np.zeros((), np.float32)
    return run


register_op("TensorArrayV3", inputs=["size: int32"], outputs=["handle: resource", "flow: float"],
            attrs=["dtype: type", "element_shape: shape = unknown", "dynamic_size: bool = false",
                   "clear_after_read: bool = true", "identical_element_shapes: bool = false",
                   "tensor_array_name: string = ''"],
            stateful=True, kernel=_tensor_array_kernel,
            shape=lambda op: [_HANDLE, _SCALAR])


def _read_kernel(op, ctx):
    def run(handle, index, flow_in):
        return handle.read(op, index)
    return run


register_op("TensorArrayReadV3", inputs=["handle: resource", "index: int32", "flow_in: float"],
            outputs=["value: dtype"], attrs=["dtype: type"], stateful=True,
            kernel=_read_kernel, shape=lambda op: [tensor_shape.unknown_shape()])


def _write_kernel(op, ctx):
    def run(handle, index, value, flow_in):
        handle.write(op, index, value)
        return np.asarray(flow_in, np.float32)
    return run


register_op("TensorArrayWriteV3",
            inputs=["handle: resource", "index: int32", "value: T", "flow_in: float"],
            outputs=["flow_out: float"], attrs=["T: type"], stateful=True,
            kernel=_write_kernel, shape=lambda op: [_SCALAR])


def _stack_elements(op, handle, values):
    if not values:
        if not handle.element_shape.is_fully_defined():
            raise errors.UnimplementedError(
                None, op, "TensorArray has size zero, but element shape %s is not fully "
                "defined. Currently only static shapes are supported when packing zero-size "
                "TensorArrays." % handle.element_shape)
        return np.zeros([0] + handle.element_shape.as_list(), handle.dtype.as_numpy)
    first = values[0].shape
    for i, value in enumerate(values):
        if value.shape != first:
            raise errors.InvalidArgumentError(
                None, op, "TensorArray %s: Could not read from TensorArray index %d: the "
                "elements have different shapes (%s vs. %s); stack/gather need equal shapes."
                % (handle.name, i, list(first), list(value.shape)))
    return np.stack(values)


def _gather_kernel(op, ctx):
    def run(handle, indices, flow_in):
        indices = np.asarray(indices).reshape(-1)
        return _stack_elements(op, handle, [handle.read(op, i) for i in indices])
    return run


def _shape_attr(op, name):
    shape = op._attrs.get(name)
    return tensor_shape.unknown_shape() if shape is None else shape


def _gather_shape(op):
    element = _shape_attr(op, "element_shape")
    indices = op._inputs[1]._shape_val
    if element.ndims is None or indices.ndims is None:
        return [tensor_shape.unknown_shape()]
    return [indices.concatenate(element)]


register_op("TensorArrayGatherV3",
            inputs=["handle: resource", "indices: int32", "flow_in: float"],
            outputs=["value: dtype"], attrs=["dtype: type", "element_shape: shape = unknown"],
            stateful=True, kernel=_gather_kernel, shape=_gather_shape)


def _scatter_kernel(op, ctx):
    def run(handle, indices, value, flow_in):
        indices = np.asarray(indices).reshape(-1)
        value = np.asarray(value)
        if value.ndim == 0 or value.shape[0] != indices.shape[0]:
            raise errors.InvalidArgumentError(
                None, op, "Expected len(indices) == values.shape[0], but saw: %d vs. %d"
                % (indices.shape[0], value.shape[0] if value.ndim else 0))
        for i, index in enumerate(indices):
            handle.write(op, index, value[i])
        return np.asarray(flow_in, np.float32)
    return run


register_op("TensorArrayScatterV3",
            inputs=["handle: resource", "indices: int32", "value: T", "flow_in: float"],
            outputs=["flow_out: float"], attrs=["T: type"], stateful=True,
            kernel=_scatter_kernel, shape=lambda op: [_SCALAR])


def _concat_kernel(op, ctx):
    def run(handle, flow_in):
        values = [handle.read(op, i) for i in range(handle.size())]
        lengths = np.array([v.shape[0] if v.ndim else 0 for v in values], dtype=np.int64)
        if not values:
            rest = _shape_attr(op, "element_shape_except0")
            if not rest.is_fully_defined():
                raise errors.UnimplementedError(
                    None, op, "TensorArray has size zero, but element_shape_except0 %s is not "
                    "fully defined." % rest)
            return np.zeros([0] + rest.as_list(), handle.dtype.as_numpy), lengths
        return np.concatenate(values, axis=0), lengths
    return run


register_op("TensorArrayConcatV3", inputs=["handle: resource", "flow_in: float"],
            outputs=["value: dtype", "lengths: int64"],
            attrs=["dtype: type", "element_shape_except0: shape = unknown"], stateful=True,
            kernel=_concat_kernel,
            shape=lambda op: [tensor_shape.unknown_shape(), tensor_shape.TensorShape([None])])


def _split_kernel(op, ctx):
    def run(handle, value, lengths, flow_in):
        value = np.asarray(value)
        lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
        if value.ndim == 0 or int(lengths.sum()) != value.shape[0]:
            raise errors.InvalidArgumentError(
                None, op, "Expected sum of lengths to be equal to values.shape[0], but sum of "
                "lengths is %d and value's shape is: %s" % (int(lengths.sum()),
                                                           list(value.shape)))
        start = 0
        for i, length in enumerate(lengths):
            handle.write(op, i, value[start:start + int(length)])
            start += int(length)
        return np.asarray(flow_in, np.float32)
    return run


register_op("TensorArraySplitV3",
            inputs=["handle: resource", "value: T", "lengths: int64", "flow_in: float"],
            outputs=["flow_out: float"], attrs=["T: type"], stateful=True,
            kernel=_split_kernel, shape=lambda op: [_SCALAR])
register_op("TensorArraySizeV3", inputs=["handle: resource", "flow_in: float"],
            outputs=["size: int32"], stateful=True,
            compute=lambda handle, flow_in: np.asarray(handle.size(), np.int32),
            shape=lambda op: [_SCALAR])
register_op("TensorArrayCloseV3", inputs=["handle: resource"], stateful=True,
            compute=lambda handle: None)


def _grad_kernel(op, ctx):
    source = _text(op._attrs.get("source", b""))

    def run(handle, flow_in, shape_to_prepend=None):
        grad = handle.gradients.get(source)
        if grad is None:
            element_shape = handle.element_shape
            if shape_to_prepend is not None and element_shape.ndims is not None:
                element_shape = tensor_shape.TensorShape(
                    [int(d) for d in np.asarray(shape_to_prepend).reshape(-1)]).concatenate(
                        element_shape)
            grad = TensorArrayStorage("%s@%s" % (handle.name, source), handle.dtype,
                                      handle.size(), element_shape, False, False, False,
                                      accumulates=True)
            handle.gradients[source] = grad
        return grad, np.asarray(flow_in, np.float32)
    return run


register_op("TensorArrayGradV3", inputs=["handle: resource", "flow_in: float"],
            outputs=["grad_handle: resource", "flow_out: float"], attrs=["source: string"],
            stateful=True, kernel=_grad_kernel, shape=lambda op: [_HANDLE, _SCALAR])
register_op("TensorArrayGradWithShape",
            inputs=["handle: resource", "flow_in: float", "shape_to_prepend: int32"],
            outputs=["grad_handle: resource", "flow_out: float"], attrs=["source: string"],
            stateful=True, kernel=_grad_kernel, shape=lambda op: [_HANDLE, _SCALAR])

for _op_type in ("TensorArrayV3", "TensorArraySizeV3", "TensorArrayCloseV3",
                 "TensorArrayGradV3", "TensorArrayGradWithShape"):
    register_gradient(_op_type, None)


# --- stacks (TF1 while-loop gradients keep forward values on them) ----------------------------------

class StackStorage:
    def __init__(self, name, elem_type, max_size):
        self.name = name
        self.elem_type = elem_type
        self.max_size = max_size
        self.values = []


def _stack_kernel(op, ctx):
    elem_type = op._attrs["elem_type"]
    name = _text(op._attrs.get("stack_name", b"")) or op.name
    return lambda max_size: StackStorage(name, elem_type, int(max_size))


def _push_kernel(op, ctx):
    def run(stack, elem):
        if 0 <= stack.max_size <= len(stack.values):
            raise errors.InvalidArgumentError(None, op, "Stack[%s] overflowed its max_size (%d)"
                                              % (stack.name, stack.max_size))
        stack.values.append(elem)
        return elem
    return run


def _pop_kernel(op, ctx):
    def run(stack):
        if not stack.values:
            raise errors.InvalidArgumentError(None, op, "Stack[%s] is empty." % stack.name)
        return stack.values.pop()
    return run


register_op("StackV2", inputs=["max_size: int32"], outputs=["handle: resource"],
            attrs=["elem_type: type", "stack_name: string = ''"], stateful=True,
            kernel=_stack_kernel, shape=lambda op: [_HANDLE])
register_op("StackPushV2", inputs=["handle: resource", "elem: T"], outputs=["output: T"],
            attrs=["T: type", "swap_memory: bool = false"], stateful=True, kernel=_push_kernel,
            shape=lambda op: [op._inputs[1]._shape_val])
register_op("StackPopV2", inputs=["handle: resource"], outputs=["elem: elem_type"],
            attrs=["elem_type: type"], stateful=True, kernel=_pop_kernel,
            shape=lambda op: [tensor_shape.unknown_shape()])
register_op("StackCloseV2", inputs=["handle: resource"], stateful=True,
            compute=lambda stack: None)
for _op_type in ("StackV2", "StackPushV2", "StackPopV2", "StackCloseV2"):
    register_gradient(_op_type, None)


# --- gradients -------------------------------------------------------------------------------------

def _grad_source(grad):
    """The gradient TensorArray's `source` attr: `grad`'s name up to its last gradients
    scope (one gradient array per tf.gradients call)."""
    parts = grad.name.split("/")
    positions = [i for i, part in enumerate(parts) if part.startswith("gradients")]
    if not positions:
        raise ValueError("Expected op/tensor name to start with gradients (excluding scope), "
                         "got: %s" % grad.name)
    return "/".join(parts[:positions[-1] + 1])


def _read_grad(op, grad):
    handle, index, flow = op._inputs
    dtype = op._attrs["dtype"]
    g = TensorArray(dtype=dtype, handle=handle, flow=flow,
                    colocate_with_first_write_call=False).grad(source=_grad_source(grad),
                                                               flow=flow)
    w_g = g.write(index, grad)
    return [None, None, w_g.flow]


def _write_barrier(op, flow):
    """`flow` ordered after `op`'s own output flow, so that the gradient array is created
    only after the forward write/scatter ran (in a loop, its last iteration)."""
    flow_out = apply_op("Identity", input=op._outputs[0], name="flow_out")
    with ops.control_dependencies([flow_out]):
        return apply_op("Identity", input=flow, name="write_barrier")


def _write_grad(op, flow):
    handle, index, _, _ = op._inputs
    dtype = op._attrs["T"]
    source = _grad_source(flow)
    flow = _write_barrier(op, flow)
    g = TensorArray(dtype=dtype, handle=handle, flow=flow,
                    colocate_with_first_write_call=False).grad(source=source, flow=flow)
    return [None, None, g.read(index), flow]


def _gather_grad(op, grad):
    handle, indices, flow = op._inputs
    g = TensorArray(dtype=op._attrs["dtype"], handle=handle, flow=flow,
                    colocate_with_first_write_call=False).grad(source=_grad_source(grad),
                                                               flow=flow)
    u_g = g.scatter(indices, grad)
    return [None, None, u_g.flow]


def _scatter_grad(op, flow):
    handle, indices, _, _ = op._inputs
    source = _grad_source(flow)
    flow = _write_barrier(op, flow)
    g = TensorArray(dtype=op._attrs["T"], handle=handle, flow=flow,
                    colocate_with_first_write_call=False).grad(source=source, flow=flow)
    return [None, None, g.gather(indices), flow]


register_gradient("TensorArrayReadV3", _read_grad)
register_gradient("TensorArrayWriteV3", _write_grad)
register_gradient("TensorArrayGatherV3", _gather_grad)
register_gradient("TensorArrayScatterV3", _scatter_grad)


# --- tf.TensorArray --------------------------------------------------------------------------------

class TensorArray:
    """tf.TensorArray (TF1 graph mode): a list of tensors written and read by index, usable as
    a tf.while_loop variable."""

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None):
        if handle is not None and tensor_array_name:
            raise ValueError("Cannot provide both `handle` and `tensor_array_name` arguments at "
                             "the same time.")
        if handle is None and size is None:
            raise ValueError("Argument `size` must be provided if handle is not provided.")
        if handle is not None and size is not None:
            raise ValueError("Cannot provide both a `handle` and `size` arguments at the same "
                             "time.")
        if clear_after_read is None:
            clear_after_read = True
        self._dynamic_size = dynamic_size or False
        self._dtype = dtypes.as_dtype(dtype).base_dtype
        self._colocate_with_first_write_call = colocate_with_first_write_call
        self._colocate_with = [] if colocate_with_first_write_call else None
        self._element_shape = [tensor_shape.as_shape(element_shape)]
        self._infer_shape = infer_shape
        self._size = size
        with ops.name_scope(name, "TensorArray", [handle, size, flow]) as scope:
            if handle is not None:
                if flow is None:
                    raise ValueError("flow must not be None if handle is not None.")
                self._handle = handle
                self._flow = flow
            else:
                def create():
                    return apply_op(
                        "TensorArrayV3", size=size, dtype=self._dtype,
                        element_shape=tensor_shape.as_shape(element_shape),
                        identical_element_shapes=infer_shape, dynamic_size=self._dynamic_size,
                        clear_after_read=clear_after_read,
                        tensor_array_name=tensor_array_name or "", name=scope)
                if colocate_with_first_write_call:
                    graph = ops.get_default_graph()
                    with graph.device(None), ops.colocate_with(None, ignore_existing=True):
                        self._handle, self._flow = create()
                else:
                    self._handle, self._flow = create()

    # tf.while_loop / tf.cond carry a TensorArray as its flow tensor.
    @property
    def _tensorkeep_flow(self):
        return self._flow

    def _with_flow(self, flow):
        ta = TensorArray(dtype=self._dtype, handle=self._handle, flow=flow,
                         infer_shape=self._infer_shape,
                         colocate_with_first_write_call=self._colocate_with_first_write_call)
        ta._size = self._size
        ta._dynamic_size = self._dynamic_size
        ta._colocate_with = self._colocate_with
        ta._element_shape = self._element_shape
        return ta

    @property
    def flow(self):
        return self._flow

    @property
    def dtype(self):
        return self._dtype

    @property
    def handle(self):
        return self._handle

    @property
    def element_shape(self):
        return self._element_shape[0]

    def _check_element_shape(self, shape):
        if not shape.is_compatible_with(self.element_shape):
            raise ValueError("Inconsistent shapes: saw %s but expected %s "
                             % (shape, self.element_shape))
        if self._infer_shape:
            self._element_shape[0] = self.element_shape.merge_with(shape)

    def _colocation(self, value):
        if not self._colocate_with_first_write_call:
            return _null()
        if not self._colocate_with:
            self._colocate_with.append(value)
        return ops.colocate_with(self._colocate_with[0])

    def identity(self):
        return self._with_flow(apply_op("Identity", input=self._flow))

    def grad(self, source, flow=None, name=None):
        if flow is None:
            flow = self.flow
        with ops.name_scope(name, "TensorArrayGrad", [self._handle]):
            with ops.colocate_with(self._handle):
                g_handle, _ = apply_op("TensorArrayGradV3", handle=self._handle, source=source,
                                       flow_in=flow, name=name)
                with ops.control_dependencies([g_handle]):
                    flow = apply_op("Identity", input=flow, name="gradient_flow")
                g = TensorArray(dtype=self._dtype, handle=g_handle, flow=flow,
                                infer_shape=self._infer_shape,
                                colocate_with_first_write_call=False)
                g._element_shape = self._element_shape
                return g

    def read(self, index, name=None):
        value = apply_op("TensorArrayReadV3", handle=self._handle, index=index,
                         flow_in=self._flow, dtype=self._dtype, name=name)
        if self._element_shape:
            value.set_shape(self._element_shape[0])
        return value

    def write(self, index, value, name=None):
        with ops.name_scope(name, "TensorArrayWrite", [self._handle, index, value]):
            value = ops.convert_to_tensor(value, preferred_dtype=self._dtype, name="value")
            _check_dtypes(value, self._dtype)
            self._check_element_shape(value.shape)
            with self._colocation(value):
                flow_out = apply_op("TensorArrayWriteV3", handle=self._handle, index=index,
                                    value=value, flow_in=self._flow, name=name)
            return self._with_flow(flow_out)

    def stack(self, name=None):
        from tensorkeep.ops import math_ops

        with ops.colocate_with(self._handle):
            with ops.name_scope(name, "TensorArrayStack", [self._handle]):
                value = self.gather(math_ops.range(0, self.size()), name=name)
                if self.element_shape and not self._dynamic_size and self._size is not None:
                    size = tensor_util.constant_value(self._size) \
                        if isinstance(self._size, ops.Tensor) else self._size
                    value.set_shape(tensor_shape.TensorShape(
                        [None if size is None else int(size)]).concatenate(self.element_shape))
                return value

    def gather(self, indices, name=None):
        element_shape = self._element_shape[0] if self._element_shape else \
            tensor_shape.unknown_shape()
        value = apply_op("TensorArrayGatherV3", handle=self._handle, indices=indices,
                         flow_in=self._flow, dtype=self._dtype, element_shape=element_shape,
                         name=name)
        if self.element_shape.ndims is not None:
            value.set_shape(tensor_shape.TensorShape([None]).concatenate(self.element_shape))
        return value

    def concat(self, name=None):
        element_shape = self.element_shape
        rest = element_shape[1:] if element_shape.ndims else tensor_shape.unknown_shape()
        value, _ = apply_op("TensorArrayConcatV3", handle=self._handle, flow_in=self._flow,
                            dtype=self._dtype, element_shape_except0=rest, name=name)
        if element_shape:
            dim0 = None
            if self._infer_shape and element_shape.ndims:
                size = tensor_util.constant_value(self.size())
                if size is not None and element_shape.as_list()[0] is not None:
                    dim0 = int(size) * element_shape.as_list()[0]
            value.set_shape(tensor_shape.TensorShape([dim0]).concatenate(rest))
        return value

    def unstack(self, value, name=None):
        from tensorkeep.ops import array_ops, math_ops

        with ops.name_scope(name, "TensorArrayUnstack", [self._handle, value]):
            num_elements = array_ops.shape(value)[0]
            return self.scatter(indices=math_ops.range(0, num_elements), value=value, name=name)

    def scatter(self, indices, value, name=None):
        with ops.name_scope(name, "TensorArrayScatter", [self._handle, value, indices]):
            value = ops.convert_to_tensor(value, preferred_dtype=self._dtype, name="value")
            _check_dtypes(value, self._dtype)
            if value.shape.ndims is not None:
                self._check_element_shape(value.shape[1:])
            with self._colocation(value):
                flow_out = apply_op("TensorArrayScatterV3", handle=self._handle,
                                    indices=indices, value=value, flow_in=self._flow,
                                    name=name)
            return self._with_flow(flow_out)

    def split(self, value, lengths, name=None):
        from tensorkeep.ops import math_ops

        with ops.name_scope(name, "TensorArraySplit", [self._handle, value, lengths]):
            value = ops.convert_to_tensor(value, dtype=self._dtype, name="value")
            with self._colocation(value):
                lengths_64 = math_ops.cast(lengths, dtypes.int64)
                known = tensor_util.constant_value(lengths_64)
                if value.shape.ndims is not None and known is not None and \
                        np.ndim(known) and known.max() == known.min():
                    # Equal lengths: every element has shape [length] + value.shape[1:].
                    self._check_element_shape(tensor_shape.TensorShape(
                        [int(known[0])]).concatenate(value.shape[1:]))
                flow_out = apply_op("TensorArraySplitV3", handle=self._handle, value=value,
                                    lengths=lengths_64, flow_in=self._flow, name=name)
            return self._with_flow(flow_out)

    def size(self, name=None):
        if not self._dynamic_size and self._size is not None:
            return ops.convert_to_tensor(self._size, dtype=dtypes.int32)
        return apply_op("TensorArraySizeV3", handle=self._handle, flow_in=self._flow, name=name)

    def close(self, name=None):
        return apply_op("TensorArrayCloseV3", handle=self._handle, name=name)


def _check_dtypes(value, dtype):
    if value.dtype.base_dtype != dtype:
        raise errors.InvalidArgumentError(
            None, None, "TensorArray dtype is %s but Op is trying to write dtype %s "
            % (dtype.name, value.dtype.base_dtype.name))


def _null():
    import contextlib

    return contextlib.nullcontext()


def build_ta_with_new_flow(old_ta, flow):
    return old_ta._with_flow(flow)
