"""TensorList ops: the variant-typed lists TF2 control flow (while_v2, tf.TensorArray in
functions) uses, with value semantics (every op returns a new list).

An element shape travels as an int tensor: -1 (scalar) is an unknown rank, -1 inside a
vector an unknown dimension. Elements never set read as zeros when the element shape is
known.
"""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient

_SCALAR = tensor_shape.TensorShape([])
_VARIANT_SHAPE = lambda op: [_SCALAR for _ in op._outputs]  # noqa: E731


class TensorListValue:
    """A list of tensors (None for elements never set) with its element dtype and shape."""

    __slots__ = ("items", "dtype", "element_shape", "max_num_elements")

    def __init__(self, items, dtype, element_shape, max_num_elements=-1):
        self.items = items
        self.dtype = dtype
        self.element_shape = element_shape  # list of dims (None = unknown) or None (rank)
        self.max_num_elements = max_num_elements

    def copy_with(self, items):
        return TensorListValue(items, self.dtype, self.element_shape, self.max_num_elements)

    def __repr__(self):
        return "<TensorList %s x%d>" % (self.dtype, len(self.items))


def _decode_shape(value):
    value = np.asarray(value)
    if value.ndim == 0:
        if int(value) != -1:
            raise ValueError("a scalar element shape must be -1 (unknown rank), got %d"
                             % int(value))
        return None
    return [None if int(d) < 0 else int(d) for d in value.reshape(-1)]


def _merge_shapes(op, first, second):
    if first is None:
        return second
    if second is None:
        return first
    if len(first) != len(second):
        raise errors.InvalidArgumentError(
            None, op, "Incompatible shapes during merge: %s vs. %s" % (first, second))
    merged = []
    for a, b in zip(first, second):
        if a is not None and b is not None and a != b:
            raise errors.InvalidArgumentError(
                None, op, "Incompatible shapes during merge: %s vs. %s" % (first, second))
        merged.append(a if a is not None else b)
    return merged


def _check_element(op, tensor_list, value):
    value = np.asarray(value)
    if value.dtype != tensor_list.dtype.as_numpy and tensor_list.dtype != dtypes.string:
        raise errors.InvalidArgumentError(
            None, op, "Invalid data types; list elements %s but tried to append %s"
            % (tensor_list.dtype.name, value.dtype))
    shape = tensor_list.element_shape
    if shape is not None and (len(shape) != value.ndim or any(
            d is not None and d != s for d, s in zip(shape, value.shape))):
        raise errors.InvalidArgumentError(
            None, op, "Tried to set a tensor with incompatible shape at a list index. Item "
            "element shape: %s list shape: %s" % (list(value.shape), shape))
    return value


def _element(op, tensor_list, index, shape_hint=None):
    value = tensor_list.items[index]
    if value is not None:
        return value
    shape = _merge_shapes(op, tensor_list.element_shape, shape_hint)
    if shape is None or any(d is None for d in shape):
        raise errors.InvalidArgumentError(
            None, op, "Trying to read an uninitialized tensor but element_shape is not fully "
            "defined: %s and no list element is set." % (shape,))
    return np.zeros(shape, tensor_list.dtype.as_numpy)


def _index(op, tensor_list, index):
    index = int(index)
    if not 0 <= index < len(tensor_list.items):
        raise errors.InvalidArgumentError(
            None, op, "Trying to access element %d in a list with %d elements."
            % (index, len(tensor_list.items)))
    return index


# --- creating lists --------------------------------------------------------------------------------

def _empty_kernel(op, ctx):
    dtype = op._attrs["element_dtype"]
    return lambda element_shape, max_num_elements: TensorListValue(
        [], dtype, _decode_shape(element_shape), int(max_num_elements))


def _reserve_kernel(op, ctx):
    dtype = op._attrs["element_dtype"]

    def run(element_shape, num_elements):
        if int(num_elements) < 0:
            raise errors.InvalidArgumentError(None, op, "The num_elements to reserve must be a "
                                              "non negative number, but got %d"
                                              % int(num_elements))
        return TensorListValue([None] * int(num_elements), dtype, _decode_shape(element_shape))
    return run


def _from_tensor_kernel(op, ctx):
    dtype = op._attrs["element_dtype"]

    def run(tensor, element_shape):
        tensor = np.asarray(tensor)
        if tensor.ndim < 1:
            raise errors.InvalidArgumentError(None, op, "Tensor must be at least a vector, but "
                                              "saw shape: %s" % list(tensor.shape))
        shape = _merge_shapes(op, _decode_shape(element_shape), list(tensor.shape[1:]))
        return TensorListValue([tensor[i] for i in range(tensor.shape[0])], dtype, shape)
    return run


_CREATE_ATTRS = ["element_dtype: type", "shape_type: {int32, int64}"]
# The full type of the list handle an op makes or updates (part of TensorFlow's OpDefs).
_LIST_TYPE = ('type_id: TFT_ARRAY '
              'args { type_id: TFT_TENSOR args { type_id: TFT_VAR s: "element_dtype" } }')
_NEW_LIST = {"handle": _LIST_TYPE}
_UPDATED_LIST = {"output_handle": _LIST_TYPE}
register_op("EmptyTensorList", inputs=["element_shape: shape_type", "max_num_elements: int32"],
            outputs=["handle: variant"], attrs=_CREATE_ATTRS, kernel=_empty_kernel,
            shape=_VARIANT_SHAPE, output_full_types=_NEW_LIST)
register_op("TensorListReserve", inputs=["element_shape: shape_type", "num_elements: int32"],
            outputs=["handle: variant"], attrs=_CREATE_ATTRS, kernel=_reserve_kernel,
            shape=_VARIANT_SHAPE, output_full_types=_NEW_LIST)
register_op("TensorListFromTensor",
            inputs=["tensor: element_dtype", "element_shape: shape_type"],
            outputs=["output_handle: variant"], attrs=_CREATE_ATTRS,
            kernel=_from_tensor_kernel, shape=_VARIANT_SHAPE, output_full_types=_UPDATED_LIST)


# --- reading ---------------------------------------------------------------------------------------

def _stack_kernel(op, ctx):
    num_elements = op._attrs.get("num_elements", -1)

    def run(tensor_list, element_shape):
        if num_elements != -1 and num_elements != len(tensor_list.items):
            raise errors.InvalidArgumentError(
                None, op, "Operation expected a list with %d elements but got a list with %d "
                "elements." % (num_elements, len(tensor_list.items)))
        hint = _decode_shape(element_shape)
        values = [_element(op, tensor_list, i, hint) for i in range(len(tensor_list.items))]
        if not values:
            shape = _merge_shapes(op, tensor_list.element_shape, hint)
            if shape is None or any(d is None for d in shape):
                raise errors.InvalidArgumentError(
                    None, op, "Tried to stack elements of an empty list with non-fully-defined "
                    "element_shape: %s" % (shape,))
            return np.zeros([0] + shape, tensor_list.dtype.as_numpy)
        return np.stack(values)
    return run


def _stack_shape(op):
    from tensorkeep.framework import tensor_util

    shape = tensor_util.constant_value(op._inputs[1])
    if shape is None or np.ndim(shape) == 0:
        return [tensor_shape.unknown_shape()]
    dims = [None if d < 0 else int(d) for d in np.asarray(shape).reshape(-1)]
    count = op._attrs.get("num_elements", -1)
    return [tensor_shape.TensorShape([None if count < 0 else count] + dims)]


register_op("TensorListStack", inputs=["input_handle: variant", "element_shape: int32"],
            outputs=["tensor: element_dtype"],
            attrs=["element_dtype: type", "num_elements: int = -1"], kernel=_stack_kernel,
            shape=_stack_shape)


def _get_item_kernel(op, ctx):
    def run(tensor_list, index, element_shape):
        return _element(op, tensor_list, _index(op, tensor_list, index),
                        _decode_shape(element_shape))
    return run


register_op("TensorListGetItem",
            inputs=["input_handle: variant", "index: int32", "element_shape: Tshape"],
            outputs=["item: element_dtype"],
            attrs=["element_dtype: type", "Tshape: {int32, int64} = DT_INT32"],
            kernel=_get_item_kernel, shape=lambda op: [tensor_shape.unknown_shape()])
register_op("TensorListLength", inputs=["input_handle: variant"], outputs=["length: int32"],
            compute=lambda tensor_list: np.asarray(len(tensor_list.items), np.int32),
            shape=lambda op: [_SCALAR])


def _element_shape_kernel(op, ctx):
    out_type = op._attrs["shape_type"].as_numpy

    def run(tensor_list):
        if tensor_list.element_shape is None:
            return np.asarray(-1, out_type)
        return np.array([-1 if d is None else d for d in tensor_list.element_shape], out_type)
    return run


register_op("TensorListElementShape", inputs=["input_handle: variant"],
            outputs=["element_shape: shape_type"], attrs=["shape_type: {int32, int64}"],
            kernel=_element_shape_kernel, shape=lambda op: [tensor_shape.unknown_shape()])


def _gather_kernel(op, ctx):
    def run(tensor_list, indices, element_shape):
        hint = _decode_shape(element_shape)
        values = [_element(op, tensor_list, _index(op, tensor_list, i), hint)
                  for i in np.asarray(indices).reshape(-1)]
        if not values:
            shape = _merge_shapes(op, tensor_list.element_shape, hint) or []
            return np.zeros([0] + [d or 0 for d in shape], tensor_list.dtype.as_numpy)
        return np.stack(values)
    return run


register_op("TensorListGather",
            inputs=["input_handle: variant", "indices: int32", "element_shape: int32"],
            outputs=["values: element_dtype"], attrs=["element_dtype: type"],
            kernel=_gather_kernel, shape=lambda op: [tensor_shape.unknown_shape()])


def _concat_kernel(op, ctx):
    def run(tensor_list, element_shape, leading_dims):
        hint = _decode_shape(element_shape)
        values = []
        for i, value in enumerate(tensor_list.items):
            if value is None:
                leading = np.asarray(leading_dims).reshape(-1)
                rest = _merge_shapes(op, tensor_list.element_shape, hint)
                if rest is None or i >= leading.size or any(d is None for d in rest[1:]):
                    raise errors.InvalidArgumentError(
                        None, op, "Trying to concat list with uninitialized tensor at index %d "
                        "but element_shape_except_first_dim is not fully defined." % i)
                value = np.zeros([int(leading[i])] + rest[1:], tensor_list.dtype.as_numpy)
            values.append(value)
        lengths = np.array([v.shape[0] for v in values], np.int64)
        if not values:
            rest = (_merge_shapes(op, tensor_list.element_shape, hint) or [None])[1:]
            return np.zeros([0] + [d or 0 for d in rest], tensor_list.dtype.as_numpy), lengths
        return np.concatenate(values), lengths
    return run


register_op("TensorListConcatV2",
            inputs=["input_handle: variant", "element_shape: shape_type",
                    "leading_dims: int64"],
            outputs=["tensor: element_dtype", "lengths: int64"], attrs=_CREATE_ATTRS,
            kernel=_concat_kernel,
            shape=lambda op: [tensor_shape.unknown_shape(), tensor_shape.TensorShape([None])])


# --- writing (each returns a new list) -------------------------------------------------------------

def _set_item_kernel(op, ctx):
    resize = op._attrs.get("resize_if_index_out_of_bounds", False)

    def run(tensor_list, index, item):
        index = int(index)
        items = list(tensor_list.items)
        if resize and index >= len(items):
            items.extend([None] * (index + 1 - len(items)))
        index = _index(op, tensor_list.copy_with(items), index)
        items[index] = _check_element(op, tensor_list, item)
        return tensor_list.copy_with(items)
    return run


register_op("TensorListSetItem",
            inputs=["input_handle: variant", "index: int32", "item: element_dtype"],
            outputs=["output_handle: variant"],
            attrs=["element_dtype: type", "resize_if_index_out_of_bounds: bool = false"],
            kernel=_set_item_kernel, shape=_VARIANT_SHAPE, output_full_types=_UPDATED_LIST)


def _push_back_kernel(op, ctx):
    def run(tensor_list, tensor):
        limit = tensor_list.max_num_elements
        if limit != -1 and len(tensor_list.items) >= limit:
            raise errors.InvalidArgumentError(
                None, op, "Tried to push item into a full list list size: %d max_num_elements: "
                "%d" % (len(tensor_list.items), limit))
        return tensor_list.copy_with(tensor_list.items + [_check_element(op, tensor_list,
                                                                         tensor)])
    return run


def _pop_back_kernel(op, ctx):
    def run(tensor_list, element_shape):
        if not tensor_list.items:
            raise errors.InvalidArgumentError(None, op, "Trying to pop from an empty list.")
        value = _element(op, tensor_list, len(tensor_list.items) - 1,
                         _decode_shape(element_shape))
        return tensor_list.copy_with(tensor_list.items[:-1]), value
    return run


register_op("TensorListPushBack", inputs=["input_handle: variant", "tensor: element_dtype"],
            outputs=["output_handle: variant"], attrs=["element_dtype: type"],
            kernel=_push_back_kernel, shape=_VARIANT_SHAPE, output_full_types=_UPDATED_LIST)
register_op("TensorListPopBack", inputs=["input_handle: variant", "element_shape: int32"],
            outputs=["output_handle: variant", "tensor: element_dtype"],
            attrs=["element_dtype: type"], kernel=_pop_back_kernel,
            shape=lambda op: [_SCALAR, tensor_shape.unknown_shape()])


def _scatter_into(op, tensor_list, tensor, indices):
    tensor = np.asarray(tensor)
    indices = np.asarray(indices).reshape(-1)
    if tensor.ndim < 1 or tensor.shape[0] != indices.shape[0]:
        raise errors.InvalidArgumentError(
            None, op, "Invalid number of rows in input tensor. Expected: %d Actual: %d"
            % (indices.shape[0], tensor.shape[0] if tensor.ndim else 0))
    items = list(tensor_list.items)
    for row, index in enumerate(indices):
        if index < 0:
            raise errors.InvalidArgumentError(None, op, "Indices in TensorListScatter must all "
                                              "be non-negative.")
        if index >= len(items):
            items.extend([None] * (int(index) + 1 - len(items)))
        items[int(index)] = _check_element(op, tensor_list, tensor[row])
    return tensor_list.copy_with(items)


def _scatter_kernel(op, ctx):
    dtype = op._attrs["element_dtype"]

    def run(tensor, indices, element_shape):
        tensor = np.asarray(tensor)
        shape = _merge_shapes(op, _decode_shape(element_shape), list(tensor.shape[1:]))
        return _scatter_into(op, TensorListValue([], dtype, shape), tensor, indices)
    return run


register_op("TensorListScatter",
            inputs=["tensor: element_dtype", "indices: int32", "element_shape: shape_type"],
            outputs=["output_handle: variant"], attrs=_CREATE_ATTRS, kernel=_scatter_kernel,
            shape=_VARIANT_SHAPE, output_full_types=_UPDATED_LIST)
register_op("TensorListScatterIntoExistingList",
            inputs=["input_handle: variant", "tensor: element_dtype", "indices: int32"],
            outputs=["output_handle: variant"], attrs=["element_dtype: type"],
            kernel=lambda op, ctx: lambda tensor_list, tensor, indices: _scatter_into(
                op, tensor_list, tensor, indices),
            shape=_VARIANT_SHAPE, output_full_types=_UPDATED_LIST)


def _split_kernel(op, ctx):
    dtype = op._attrs["element_dtype"]

    def run(tensor, element_shape, lengths):
        tensor = np.asarray(tensor)
        lengths = np.asarray(lengths, np.int64).reshape(-1)
        if tensor.ndim < 1 or int(lengths.sum()) != tensor.shape[0]:
            raise errors.InvalidArgumentError(
                None, op, "Unused values in tensor. Length of tensor: %d Values used: %d"
                % (tensor.shape[0] if tensor.ndim else 0, int(lengths.sum())))
        shape = _decode_shape(element_shape)
        items, start = [], 0
        for length in lengths:
            items.append(tensor[start:start + int(length)])
            start += int(length)
        return TensorListValue(items, dtype, shape)
    return run


register_op("TensorListSplit",
            inputs=["tensor: element_dtype", "element_shape: shape_type", "lengths: int64"],
            outputs=["output_handle: variant"], attrs=_CREATE_ATTRS, kernel=_split_kernel,
            shape=_VARIANT_SHAPE, output_full_types=_UPDATED_LIST)


def _resize_kernel(op, ctx):
    def run(tensor_list, size):
        size = int(size)
        if size < 0:
            raise errors.InvalidArgumentError(None, op, "TensorListSlice expects size to be "
                                              "non-negative. Got: %d" % size)
        items = list(tensor_list.items[:size]) + [None] * max(0, size - len(tensor_list.items))
        return tensor_list.copy_with(items)
    return run


register_op("TensorListResize", inputs=["input_handle: variant", "size: int32"],
            outputs=["output_handle: variant"], kernel=_resize_kernel, shape=_VARIANT_SHAPE)

for _op_type in ("EmptyTensorList", "TensorListReserve", "TensorListLength",
                 "TensorListElementShape", "TensorListResize"):
    register_gradient(_op_type, None)


# --- builders (TensorFlow's list_ops) --------------------------------------------------------------

def _build_element_shape(shape):
    """An element shape as the int32 tensor the ops take (-1 = unknown)."""
    if isinstance(shape, ops.Tensor):
        return shape
    if shape is None:
        return -1
    shape = tensor_shape.as_shape(shape)
    if shape.ndims is None:
        return -1
    if not shape.as_list():
        return ops.convert_to_tensor(np.zeros([0], np.int32))
    return [-1 if d is None else d for d in shape.as_list()]


def empty_tensor_list(element_shape, element_dtype, max_num_elements=None, name=None):
    return apply_op("EmptyTensorList", element_shape=_build_element_shape(element_shape),
                    max_num_elements=-1 if max_num_elements is None else max_num_elements,
                    element_dtype=element_dtype, name=name)


def tensor_list_reserve(element_shape, num_elements, element_dtype, name=None):
    return apply_op("TensorListReserve", element_shape=_build_element_shape(element_shape),
                    num_elements=num_elements, element_dtype=element_dtype, name=name)


def tensor_list_from_tensor(tensor, element_shape, name=None):
    tensor = ops.convert_to_tensor(tensor)
    return apply_op("TensorListFromTensor", tensor=tensor,
                    element_shape=_build_element_shape(element_shape), name=name)


def tensor_list_stack(input_handle, element_dtype, num_elements=-1, element_shape=None,
                      name=None):
    return apply_op("TensorListStack", input_handle=input_handle,
                    element_shape=_build_element_shape(element_shape),
                    element_dtype=element_dtype, num_elements=num_elements, name=name)


def tensor_list_get_item(input_handle, index, element_dtype, element_shape=None, name=None):
    return apply_op("TensorListGetItem", input_handle=input_handle, index=index,
                    element_shape=_build_element_shape(element_shape),
                    element_dtype=element_dtype, name=name)


def tensor_list_set_item(input_handle, index, item, resize_if_index_out_of_bounds=False,
                         name=None):
    return apply_op("TensorListSetItem", input_handle=input_handle, index=index, item=item,
                    resize_if_index_out_of_bounds=resize_if_index_out_of_bounds, name=name)


def tensor_list_push_back(input_handle, tensor, name=None):
    return apply_op("TensorListPushBack", input_handle=input_handle, tensor=tensor, name=name)


def tensor_list_pop_back(input_handle, element_dtype, element_shape=None, name=None):
    return apply_op("TensorListPopBack", input_handle=input_handle,
                    element_shape=_build_element_shape(element_shape),
                    element_dtype=element_dtype, name=name)


def tensor_list_length(input_handle, name=None):
    return apply_op("TensorListLength", input_handle=input_handle, name=name)


def tensor_list_gather(input_handle, indices, element_dtype, element_shape=None, name=None):
    return apply_op("TensorListGather", input_handle=input_handle, indices=indices,
                    element_shape=_build_element_shape(element_shape),
                    element_dtype=element_dtype, name=name)


def tensor_list_scatter(tensor, indices, element_shape=None, input_handle=None, name=None):
    if input_handle is not None:
        return apply_op("TensorListScatterIntoExistingList", input_handle=input_handle,
                        tensor=tensor, indices=indices, name=name)
    return apply_op("TensorListScatter", tensor=tensor, indices=indices,
                    element_shape=_build_element_shape(element_shape), name=name)


# --- gradients -------------------------------------------------------------------------------------

def _from_tensor_grad(op, dlist):
    tensor = op._inputs[0]
    if dlist is None:
        return None, None
    element_shape = op._inputs[1]
    return [tensor_list_stack(dlist, element_dtype=tensor.dtype.base_dtype,
                              element_shape=element_shape), None]


def _stack_grad(op, dtensor):
    return [tensor_list_from_tensor(dtensor, element_shape=op._inputs[1]), None]


def _get_item_grad(op, ditem):
    from tensorkeep.ops import array_ops

    list_size = tensor_list_length(op._inputs[0])
    zeros = tensor_list_reserve(element_shape=array_ops.shape(ditem), num_elements=list_size,
                                element_dtype=ditem.dtype.base_dtype)
    return [tensor_list_set_item(zeros, op._inputs[1], ditem), None, None]


def _set_item_grad(op, dlist):
    item = op._inputs[2]
    element_grad = tensor_list_get_item(dlist, op._inputs[1], element_dtype=item.dtype.base_dtype,
                                        element_shape=_shape_of(item))
    list_grad = tensor_list_set_item(dlist, op._inputs[1],
                                     _zeros_like_tensor(item))
    return [list_grad, None, element_grad]


def _push_back_grad(op, dresult):
    list_grad, element_grad = tensor_list_pop_back(
        dresult, element_dtype=op._inputs[1].dtype.base_dtype,
        element_shape=_shape_of(op._inputs[1]))
    return [list_grad, element_grad]


def _pop_back_grad(op, dlist, delement):
    if dlist is None:
        dlist = empty_tensor_list(element_dtype=delement.dtype.base_dtype,
                                  element_shape=_shape_of(delement))
    if delement is None:
        delement = _zeros_like_tensor(op._outputs[1])
    return [tensor_list_push_back(dlist, delement), None]


def _shape_of(tensor):
    from tensorkeep.ops import array_ops

    return array_ops.shape(tensor)


def _zeros_like_tensor(tensor):
    from tensorkeep.ops import array_ops

    return array_ops.zeros_like(tensor)


register_gradient("TensorListFromTensor", _from_tensor_grad)
register_gradient("TensorListStack", _stack_grad)
register_gradient("TensorListGetItem", _get_item_grad)
register_gradient("TensorListSetItem", _set_item_grad)
register_gradient("TensorListPushBack", _push_back_grad)
register_gradient("TensorListPopBack", _pop_back_grad)
