"""What a Saver saves: SaveSpec (one tensor or slice under a checkpoint key), SaveableObject
(the specs of one object and how to restore it), and the conversion of a Saver's `var_list`
into saveables, with TensorFlow's naming and validation rules.
"""

from tensorkeep.framework import ops
from tensorkeep.ops import array_ops
from tensorkeep.ops import resource_variable_ops
from tensorkeep.ops import state_ops
from tensorkeep.ops import variables
from tensorkeep.ops.partitioned_variables import PartitionedVariable
from tensorkeep.ops.resource_variable_ops import ResourceVariable

_REF_VARIABLE_OPS = frozenset(["Variable", "VariableV2", "AutoReloadVariable"])
_VARIABLE_OPS = _REF_VARIABLE_OPS | {"VarHandleOp", "ReadVariableOp"}


class SaveSpec:
    """One tensor to save: its value `tensor`, `slice_spec` ("" for a whole tensor, else
    "full shape slice" as in SaveSliceInfo.spec) and checkpoint key `name`."""

    def __init__(self, tensor, slice_spec, name, dtype=None, device=None):
        self._tensor = tensor
        self.slice_spec = slice_spec
        self.name = name
        if callable(tensor):
            if dtype is None or device is None:
                raise AssertionError("When passing a callable `tensor` to a SaveSpec, an "
                                     "explicit dtype and device must be provided.")
            self.dtype = dtype
            self.device = device
        else:
            self.dtype = tensor.dtype
            self.device = tensor.device if device is None else device

    @property
    def tensor(self):
        return self._tensor() if callable(self._tensor) else self._tensor


class SaveableObject:
    """An object saved as the tensors of `specs`; `op` is what it wraps (a variable)."""

    def __init__(self, op, specs, name):
        self.op = op
        self.specs = specs
        self.name = name

    @property
    def device(self):
        return self.specs[0].device

    def restore(self, restored_tensors, restored_shapes):
        """Returns an op that loads `restored_tensors` into the object."""
        raise ValueError("Calling an abstract method.")


class ReferenceVariableSaveable(SaveableObject):
    """A TF1 ref variable (or one slice of a partitioned one), restored with Assign."""

    def __init__(self, var, slice_spec, name):
        spec = SaveSpec(var, slice_spec, name, dtype=var.dtype)
        super().__init__(var, [spec], name)

    def restore(self, restored_tensors, restored_shapes):
        restored = restored_tensors[0]
        if restored_shapes is not None:
            restored = array_ops.reshape(restored, restored_shapes[0])
        ref = self.op._ref() if isinstance(self.op, variables.Variable) else self.op
        return state_ops.assign(ref, restored,
                                validate_shape=restored_shapes is None and
                                ref.get_shape().is_fully_defined())


class ResourceVariableSaveable(SaveableObject):
    """A resource variable: saved from a read of it, restored with AssignVariableOp. `var` is
    the variable's read tensor (`v/Read/ReadVariableOp`) or, for a slice of a partitioned
    variable, the ResourceVariable, read when the save op is built."""

    def __init__(self, var, slice_spec, name):
        self._var_device = var.device
        self._var_shape = var.shape
        if isinstance(var, ops.Tensor):
            self.handle_op = var.op.inputs[0]
            tensor = var
        else:
            self.handle_op = var.handle
            tensor = _read_for_save(var)
        spec = SaveSpec(tensor, slice_spec, name, dtype=var.dtype, device=var.device)
        super().__init__(var, [spec], name)

    def restore(self, restored_tensors, restored_shapes):
        restored = restored_tensors[0]
        if restored_shapes is not None:
            restored = array_ops.reshape(restored, restored_shapes[0])
        with ops.device(self._var_device):
            restored = array_ops.identity(restored)
            if not self._var_shape.is_compatible_with(restored.shape):
                raise ValueError("Received incompatible tensor with shape %s when attempting "
                                 "to restore variable with shape %s and name %s."
                                 % (restored.shape, self._var_shape, self.name))
            return resource_variable_ops.assign_variable_op(self.handle_op, restored)


def _read_for_save(variable):
    """A callable reading `variable` where it lives and handing the value to the CPU."""
    def read():
        with ops.device(variable.device):
            read_no_copy = getattr(variable, "read_value_no_copy", variable.read_value)
            value = read_no_copy()
        with ops.device("/device:CPU:0"):
            return array_ops.identity(value)
    return read


def _is_resource_variable(value):
    return isinstance(value, ResourceVariable)


def _comes_from_variable(tensor):
    return isinstance(tensor, ops.Tensor) and tensor.op.type in _VARIABLE_OPS


def _saveable_for_variable_tensor(tensor, slice_spec, name):
    if tensor.op.type in _REF_VARIABLE_OPS:
        return ReferenceVariableSaveable(tensor, slice_spec, name)
    return ResourceVariableSaveable(tensor, slice_spec, name)


def saveable_objects_for_op(op, name):
    """The saveables that together save `op` (a variable, a tensor of one, a list of slices of
    one partitioned variable, a PartitionedVariable or a SaveableObject) under `name`."""
    if not isinstance(name, str):
        raise TypeError("names_to_saveables must be a dict mapping string names to trackable "
                        "operations. Name is not a string: %s" % (name,))
    if isinstance(op, SaveableObject):
        yield op
        return
    if isinstance(op, (list, tuple, PartitionedVariable)):
        slice_name = None
        for variable in op:
            if isinstance(variable, SaveableObject):
                yield variable
                continue
            if not isinstance(variable, variables.Variable) and \
                    not _is_resource_variable(variable):
                raise ValueError("Slices must all be Variables: %s" % (variable,))
            info = variable._get_save_slice_info()
            if not info:
                raise ValueError("Slices must all be slices: %s" % (variable,))
            if slice_name is None:
                slice_name = info.full_name
            elif slice_name != info.full_name:
                raise ValueError("Slices must all be from the same tensor: %s != %s"
                                 % (slice_name, info.full_name))
            if _is_resource_variable(variable):
                yield ResourceVariableSaveable(variable, info.spec, name)
            else:
                yield ReferenceVariableSaveable(variable, info.spec, name)
        return
    if _is_resource_variable(op):
        yield ResourceVariableSaveable(op._graph_element, "", name)
        return
    variable = ops.convert_to_tensor(op, as_ref=True)
    if not _comes_from_variable(variable):
        raise TypeError("names_to_saveables must be a dict mapping string names to "
                        "Tensors/Variables. Not a variable: %s" % (variable,))
    yield _saveable_for_variable_tensor(variable, "", name)


def _flatten(values):
    for value in values:
        if isinstance(value, (list, tuple, set)):
            yield from _flatten(value)
        else:
            yield value


def op_list_to_dict(op_list):
    """{checkpoint key: variable or list of slices} for a list of variables: a variable is keyed
    by its op name, the slices of a partitioned variable by their full name."""
    if not isinstance(op_list, (list, tuple, set)):
        raise TypeError("Variables to save should be passed in a dict or a list: %s"
                        % (op_list,))
    names_to_saveables = {}
    for var in sorted(_flatten(op_list), key=lambda x: x.name):
        if isinstance(var, SaveableObject):
            names_to_saveables[var.name] = var
        elif isinstance(var, PartitionedVariable):
            if var.name in names_to_saveables:
                raise ValueError("At least two variables have the same name: %s" % var.name)
            names_to_saveables[var.name] = var
        elif isinstance(var, variables.VariableBase) and \
                var._get_save_slice_info():
            name = var._get_save_slice_info().full_name
            if name in names_to_saveables:
                if not isinstance(names_to_saveables[name], list):
                    raise ValueError("Mixing slices and non-slices with the same name: %s"
                                     % name)
                names_to_saveables[name].append(var)
            else:
                names_to_saveables[name] = [var]
        else:
            if _is_resource_variable(var):
                var = var._graph_element
            elif type(var) is variables.Variable:
                var = var._ref()  # what converting it as a ref gives, without the lookup
            else:
                var = ops.convert_to_tensor(var, as_ref=True)
            if not _comes_from_variable(var):
                raise TypeError("Variable to save is not a Variable: %s" % (var,))
            # A resource variable is saved under its handle's name, not its read's.
            name = var.op.inputs[0].op.name if var.op.type == "ReadVariableOp" else var.op.name
            if name in names_to_saveables:
                raise ValueError("At least two variables have the same name: %s" % name)
            names_to_saveables[name] = var
    return names_to_saveables


def validate_and_slice_inputs(names_to_saveables):
    """The saveables of a {name: variable} dict, in checkpoint key order; each object once."""
    saveables = []
    seen_ops = set()
    for name, op in sorted(names_to_saveables.items(), key=lambda item: item[0]):
        for saveable in saveable_objects_for_op(op, name):
            if saveable.op is not None and id(saveable.op) in seen_ops:
                raise ValueError("The same saveable will be restored with two names: %s"
                                 % saveable.name)
            saveables.append(saveable)
            seen_ops.add(id(saveable.op))
    return saveables


def all_saveable_objects(scope=None):
    """The global variables and the SAVEABLE_OBJECTS collection: what Saver() saves."""
    return (ops.get_collection(ops.GraphKeys.GLOBAL_VARIABLES, scope) +
            ops.get_collection(ops.GraphKeys.SAVEABLE_OBJECTS, scope))
