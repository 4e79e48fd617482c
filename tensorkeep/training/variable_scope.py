"""Variable scopes and tf.get_variable (TF1): shared variables by name, per graph.

Each graph holds one variable store (name -> Variable, name -> PartitionedVariable) and one
scope store (the current VariableScope and how often each scope name was opened), both kept in
graph collections under tuple keys, as TensorFlow keeps them (so they never reach a meta graph).

`tf.variable_scope` opens a variable scope and, with it, a name scope; `tf.get_variable` builds
variables under the variable scope's name (ignoring the name scope), reusing or refusing to
reuse them as the scope's `reuse` says, with TensorFlow's error messages.
"""

import enum
import functools
import inspect
import os
import traceback

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.ops import array_ops
from tensorkeep.ops import init_ops
from tensorkeep.ops import variables
from tensorkeep.ops.partitioned_variables import PartitionedVariable

VariableSynchronization = variables.VariableSynchronization
VariableAggregation = variables.VariableAggregation


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


# reuse=AUTO_REUSE: get_variable creates a variable when it does not exist, else returns it.
AUTO_REUSE = _ReuseMode.AUTO_REUSE


def init_scope():
    """Builds variables outside any control-dependency block (TensorFlow's init_scope for a
    graph: the name scope stays, control dependencies are cleared)."""
    return ops.get_default_graph().control_dependencies(None)


class _PartitionInfo:
    """Where one slice of a partitioned variable sits in the full variable; initializers that
    take `partition_info` use it (e.g. to compute fans from the full shape)."""

    __slots__ = ["_full_shape", "_var_offset"]

    def __init__(self, full_shape, var_offset):
        if not isinstance(full_shape, (list, tuple)):
            raise TypeError("`full_shape` must be a sequence (like tuple or list) instead of "
                            + type(full_shape).__name__)
        if not isinstance(var_offset, (list, tuple)):
            raise TypeError("`var_offset` must be a sequence (like tuple or list) instead of "
                            + type(var_offset).__name__)
        if len(var_offset) != len(full_shape):
            raise ValueError("Expected equal length, but `var_offset` is of length {} while "
                             "full_shape is of length {}.".format(len(var_offset),
                                                                  len(full_shape)))
        for offset, size in zip(var_offset, full_shape):
            if offset < 0 or offset >= size:
                raise ValueError("Expected 0 <= offset < shape but found offset={}, shape={} "
                                 "for var_offset={}, full_shape={}".format(
                                     offset, size, var_offset, full_shape))
        self._full_shape = full_shape
        self._var_offset = var_offset

    @property
    def full_shape(self):
        return self._full_shape

    @property
    def var_offset(self):
        return self._var_offset

    def single_offset(self, shape):
        dim = self.single_slice_dim(shape)
        return 0 if dim is None else self._var_offset[dim]

    def single_slice_dim(self, shape):
        """The one dimension along which `shape` is a proper slice of the full shape."""
        if not isinstance(shape, (tuple, list)):
            raise TypeError("`shape` must be a sequence (like tuple or list) instead of "
                            + type(shape).__name__)
        if len(shape) != len(self._full_shape):
            raise ValueError("Expected equal length, but received shape={} of length {} while "
                             "self.full_shape={} is of length {}.".format(
                                 shape, len(shape), self._full_shape, len(self._full_shape)))
        for i, size in enumerate(shape):
            if self._var_offset[i] + size > self._full_shape[i]:
                raise ValueError("With self.var_offset={}, a partition of shape={} would "
                                 "exceed self.full_shape={} in dimension {}.".format(
                                     self._var_offset, shape, self._full_shape, i))
        slice_dim = None
        for i, size in enumerate(shape):
            if size == self._full_shape[i]:
                continue
            if slice_dim is not None:
                raise ValueError("Cannot use single_slice_dim() with shape={} and "
                                 "self.full_shape={} since slice dim could be either dimension "
                                 "{} or {}.".format(shape, self._full_shape, i, slice_dim))
            slice_dim = i
        return slice_dim


# --- the variable store -------------------------------------------------------------------------

class _VariableStore:
    """The variables that tf.get_variable created in one graph, by full name."""

    def __init__(self):
        self._vars = {}
        self._partitioned_vars = {}
        # Where each variable was created, for the "already exists" error.
        self._creation_frames = {}

    def get_variable(self, name, shape=None, dtype=dtypes.float32, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, custom_getter=None, constraint=None,
                     synchronization=VariableSynchronization.AUTO,
                     aggregation=VariableAggregation.NONE):
        if custom_getter is not None and not callable(custom_getter):
            raise ValueError("Passed a custom_getter which is not callable: %s" % custom_getter)
        dtype = getattr(dtype, "base_dtype", dtype)

        def true_getter(name, shape=None, dtype=dtypes.float32, initializer=None,
                        regularizer=None, reuse=None, trainable=None, collections=None,
                        caching_device=None, partitioner=None, validate_shape=True,
                        use_resource=None, constraint=None,
                        synchronization=VariableSynchronization.AUTO,
                        aggregation=VariableAggregation.NONE):
            kwargs = dict(name=name, shape=shape, dtype=dtype, initializer=initializer,
                          regularizer=regularizer, reuse=reuse, trainable=trainable,
                          collections=collections, caching_device=caching_device,
                          validate_shape=validate_shape, use_resource=use_resource,
                          constraint=constraint, synchronization=synchronization,
                          aggregation=aggregation)
            is_scalar = isinstance(shape, (list, tuple)) and not shape
            if partitioner is not None and not is_scalar:
                if not callable(partitioner):
                    raise ValueError("Partitioner must be callable, but received: %s"
                                     % partitioner)
                with ops.name_scope(None):
                    return self._get_partitioned_variable(partitioner=partitioner, **kwargs)
            if reuse is True and partitioner is None and name in self._partitioned_vars:
                return self._get_partitioned_variable(partitioner=None, **kwargs)
            if "%s/part_0" % name in self._vars:
                raise ValueError("No partitioner was provided, but a partitioned version of "
                                 "the variable was found: %s/part_0. Perhaps a variable of "
                                 "the same name was already created with partitioning?" % name)
            return self._get_single_variable(**kwargs)

        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ
        elif trainable and synchronization == VariableSynchronization.ON_READ:
            raise ValueError("Synchronization value can be set to VariableSynchronization."
                             "ON_READ only for non-trainable variables. You have specified "
                             "trainable=True and synchronization=VariableSynchronization."
                             "ON_READ.")
        arguments = dict(name=name, shape=shape, dtype=dtype, initializer=initializer,
                         regularizer=regularizer, reuse=reuse, trainable=trainable,
                         collections=collections, caching_device=caching_device,
                         partitioner=partitioner, validate_shape=validate_shape,
                         use_resource=use_resource, synchronization=synchronization,
                         aggregation=aggregation)
        if custom_getter is None:
            return true_getter(constraint=constraint, **arguments)
        # Getters written before `constraint` existed do not take it.
        if _accepts_argument(custom_getter, "constraint"):
            arguments["constraint"] = constraint
        return custom_getter(getter=true_getter, **arguments)

    def _get_partitioned_variable(self, name, partitioner, shape=None, dtype=dtypes.float32,
                                  initializer=None, regularizer=None, reuse=None,
                                  trainable=None, collections=None, caching_device=None,
                                  validate_shape=True, use_resource=None, constraint=None,
                                  synchronization=VariableSynchronization.AUTO,
                                  aggregation=VariableAggregation.NONE):
        initializing_from_value = isinstance(initializer, ops.Tensor)
        if name in self._vars:
            raise ValueError("A partitioner was provided, but an unpartitioned version of the "
                             "variable was found: %s.  Perhaps a variable of the same name "
                             "was already created without partitioning?" % name)
        shape = tensor_shape.as_shape(shape)
        if initializing_from_value:
            shape = shape.merge_with(initializer.get_shape())
        partitions = None
        if not reuse or partitioner:
            partitions = _call_partitioner(partitioner, shape, dtype)

        if name in self._partitioned_vars:
            if reuse is False:
                raise ValueError("Partitioned variable with name %s already exists. Did you "
                                 "mean to set reuse=True or reuse=tf.AUTO_REUSE in VarScope?"
                                 % name)
            existing = self._partitioned_vars[name]
            if not shape.is_compatible_with(existing.get_shape()):
                raise ValueError("Trying to reuse partitioned variable %s, but specified shape "
                                 "%s and found shape %s." % (name, shape, existing.get_shape()))
            if not dtype.is_compatible_with(existing.dtype):
                raise ValueError("Trying to reuse partitioned variable %s, but specified dtype "
                                 "%s and found dtype %s." % (name, dtype.name,
                                                             existing.dtype.name))
            if partitions is not None and existing._get_partitions() != partitions:
                raise ValueError("Trying to reuse partitioned variable %s, but specified "
                                 "partitions %s and found partitions %s."
                                 % (name, partitions, existing._get_partitions()))
            return existing

        if reuse is True:
            raise ValueError("PartitionedVariable %s does not exist, or was not created with "
                             "tf.get_variable(). Did you mean to set reuse=False or "
                             "reuse=tf.AUTO_REUSE in VarScope?" % name)

        slice_dim, num_slices = _get_slice_dim_and_num_slices(partitions)
        if "%s/part_0" % name in self._vars:
            if "%s/part_%d" % (name, num_slices - 1) not in self._vars:
                raise ValueError("Partitioner returned a different partitioning than what was "
                                 "already found.  Partitioner returned %d shards, and shard "
                                 "%s/part_0 was found, but %s/part_%d was not."
                                 % (num_slices, name, name, num_slices - 1))
            if "%s/part_%d" % (name, num_slices) in self._vars:
                raise ValueError("Partitioner returned a different partitioning than what was "
                                 "already found.  Partitioner returned %d shards, and shard "
                                 "%s/part_0 was found, but so was the extra shard %s/part_%d."
                                 % (num_slices, name, name, num_slices))

        parts = []
        for i, (var_offset, var_shape) in enumerate(
                _iter_slices(shape.as_list(), num_slices, slice_dim)):
            partition_info = _PartitionInfo(full_shape=shape.as_list(), var_offset=var_offset)
            part_name = "%s/part_%d" % (name, i)
            with ops.name_scope(part_name + "/PartitionedInitializer"):
                if initializer is None:
                    init = _default_initializer(name, dtype)
                    init_shape = var_shape
                elif callable(initializer):
                    init = initializer
                    init_shape = var_shape
                elif isinstance(initializer, ops.Tensor):
                    init = array_ops.slice(initializer, var_offset, var_shape)
                    # The slice's dtype wins over the requested one.
                    dtype = init.dtype.base_dtype
                    init_shape = None
                else:
                    init = ops.convert_to_tensor(initializer, dtype=dtype)
                    init = array_ops.slice(init, var_offset, var_shape)
                    init_shape = None
            with ops.name_scope(None):
                var = self._get_single_variable(
                    name=part_name, shape=init_shape, dtype=dtype, initializer=init,
                    partition_info=partition_info, regularizer=regularizer, reuse=reuse,
                    trainable=trainable, collections=collections, caching_device=caching_device,
                    validate_shape=validate_shape, use_resource=use_resource,
                    constraint=constraint, synchronization=synchronization,
                    aggregation=aggregation)
            var._set_save_slice_info(variables.SaveSliceInfo(name, shape.as_list(), var_offset,
                                                             var_shape))
            parts.append(var)
        partitioned = PartitionedVariable(name=name, shape=shape, dtype=dtype,
                                          variable_list=parts, partitions=partitions)
        self._partitioned_vars[name] = partitioned
        return partitioned

    def _get_single_variable(self, name, shape=None, dtype=dtypes.float32, initializer=None,
                             regularizer=None, partition_info=None, reuse=None, trainable=None,
                             collections=None, caching_device=None, validate_shape=True,
                             use_resource=None, constraint=None,
                             synchronization=VariableSynchronization.AUTO,
                             aggregation=VariableAggregation.NONE):
        initializing_from_value = initializer is not None and not callable(initializer)
        if shape is not None and initializing_from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype = dtypes.as_dtype(dtype)
        if shape is not None:
            shape = tensor_shape.as_shape(shape)

        if name in self._vars:
            found = self._vars[name]
            if reuse is False:
                raise ValueError("Variable %s already exists, disallowed. Did you mean to set "
                                 "reuse=True or reuse=tf.AUTO_REUSE in VarScope? Originally "
                                 "defined at:\n\n%s" % (name, "".join(traceback.format_list(
                                     self._creation_frames.get(name, [])))))
            if shape is not None and not shape.is_compatible_with(found.get_shape()):
                raise ValueError("Trying to share variable %s, but specified shape %s and found "
                                 "shape %s." % (name, shape, found.get_shape()))
            if not dtype.is_compatible_with(found.dtype):
                raise ValueError("Trying to share variable %s, but specified dtype %s and found "
                                 "dtype %s." % (name, dtype.name, found.dtype.name))
            return found

        if reuse is True:
            raise ValueError("Variable %s does not exist, or was not created with "
                             "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                             "VarScope?" % name)

        if initializer is None:
            if shape is None:
                raise ValueError("Variable %s did not get an initializer, so its `shape` "
                                 "argument must be specified." % name)
            initializer = _default_initializer(name, dtype)
        if initializing_from_value:
            init_val = initializer
            variable_dtype = None
        else:
            if inspect.isclass(initializer):
                initializer = initializer()
            if shape is not None and shape.is_fully_defined():
                if _accepts_argument(initializer, "partition_info", by_keyword_only=False):
                    init_val = functools.partial(initializer, shape.as_list(), dtype=dtype,
                                                 partition_info=partition_info)
                else:
                    init_val = functools.partial(initializer, shape.as_list(), dtype=dtype)
                variable_dtype = dtype.base_dtype
            elif _needs_no_arguments(initializer):
                init_val = initializer
                variable_dtype = None
            else:
                raise ValueError("The initializer passed is not valid. It should be a callable "
                                 "with no arguments and the shape should not be provided or an "
                                 "instance of `tf.keras.initializers.*' and `shape` should be "
                                 "fully defined.")

        with init_scope():
            var = variables.Variable(initial_value=init_val, name=name, trainable=trainable,
                                     collections=collections, caching_device=caching_device,
                                     dtype=variable_dtype, validate_shape=validate_shape,
                                     constraint=constraint, synchronization=synchronization,
                                     aggregation=aggregation, shape=shape,
                                     use_resource=use_resource)
        self._vars[name] = var
        self._creation_frames[name] = _user_frames()

        if regularizer:
            self._add_regularization_loss(var, name, regularizer)
        return var

    @staticmethod
    def _add_regularization_loss(var, name, regularizer):
        # TensorFlow 2.x calls the regularizer once where get_variable was called (that loss
        # stays in the graph, unused: it tells whether there is a loss at all), then keeps a
        # lazy tensor that rebuilds the loss under `name/Regularizer/` at each use.
        def build_loss():
            with ops.colocate_with(var.op):
                with ops.name_scope(name + "/Regularizer/"):
                    return regularizer(var)
        if regularizer(var) is not None:
            ops.add_to_collection(ops.GraphKeys.REGULARIZATION_LOSSES,
                                  _LazyEvalTensor(build_loss))


def _default_initializer(name, dtype):
    """get_variable's initializer when none is given: Glorot uniform for floats, zeros for
    integers, booleans and strings."""
    if dtype.is_floating:
        return init_ops.glorot_uniform_initializer()
    if dtype.is_integer or dtype.is_unsigned or dtype.is_bool or dtype == dtypes.string:
        return init_ops.zeros_initializer()
    raise ValueError("An initializer for variable %s of %s is required"
                     % (name, dtype.base_dtype))


def _accepts_argument(fn, arg_name, by_keyword_only=True):
    """Whether fn takes `arg_name` (or, when by_keyword_only, any **kwargs)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    if arg_name in params:
        return True
    return by_keyword_only and any(p.kind is inspect.Parameter.VAR_KEYWORD
                                   for p in params.values())


def _needs_no_arguments(fn):
    """Whether fn can be called without arguments (every parameter has a default)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not inspect.Parameter.empty or
               p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
               for p in params)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_frames():
    """The innermost few stack frames outside tensorkeep, innermost first (as TensorFlow
    reports where a variable was first defined)."""
    frames = [f for f in reversed(traceback.extract_stack())
              if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]
    return frames[:5]


class _LazyEvalTensor:
    """A regularization loss that is rebuilt at each conversion to a Tensor; its name, dtype and
    shape (and what Session.run fetches) are those of the first build."""

    def __init__(self, thunk):
        self._thunk = thunk
        self._master_tensor = thunk()

    def _as_tensor(self, dtype=None, name=None, as_ref=False):
        return self._thunk()

    def _as_graph_element(self):
        return self._master_tensor

    def get_shape(self):
        return self._master_tensor.get_shape()

    def __str__(self):
        return str(self._master_tensor)

    def __repr__(self):
        return repr(self._master_tensor)


def _delegate_to_master(attr):
    return property(lambda self: getattr(self._master_tensor, attr))


def _delegate_to_new_tensor(method):
    def run(self, *args, **kwargs):
        return getattr(self._as_tensor(), method)(*args, **kwargs)
    run.__name__ = method
    return run


for _attr in ("device", "dtype", "graph", "name", "op", "shape", "value_index"):
    setattr(_LazyEvalTensor, _attr, _delegate_to_master(_attr))
for _method in ("__abs__", "__add__", "__and__", "__bool__", "__floordiv__", "__ge__",
                "__getitem__", "__gt__", "__invert__", "__iter__", "__le__", "__len__", "__lt__",
                "__matmul__", "__mod__", "__mul__", "__neg__", "__or__", "__pow__", "__radd__",
                "__rand__", "__rfloordiv__", "__rmatmul__", "__rmod__", "__rmul__", "__ror__",
                "__rpow__", "__rsub__", "__rtruediv__", "__rxor__", "__sub__", "__truediv__",
                "__xor__", "eval"):
    setattr(_LazyEvalTensor, _method, _delegate_to_new_tensor(_method))

ops.register_tensor_conversion_function(
    _LazyEvalTensor, lambda value, dtype=None, name=None, as_ref=False: value._as_tensor())


def no_regularizer(_):
    """Use as `regularizer=` to switch off the scope's regularizer for one variable."""
    return None


# --- variable scopes ------------------------------------------------------------------------------

class VariableScope:
    """The defaults that tf.get_variable applies inside a `tf.variable_scope` block."""

    def __init__(self, reuse, name="", initializer=None, regularizer=None, caching_device=None,
                 partitioner=None, custom_getter=None, name_scope="", dtype=dtypes.float32,
                 use_resource=None, constraint=None):
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._reuse = reuse
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint

    @property
    def name(self):
        return self._name

    @property
    def original_name_scope(self):
        return self._name_scope

    @property
    def reuse(self):
        return self._reuse

    @property
    def initializer(self):
        return self._initializer

    @property
    def dtype(self):
        return self._dtype

    @property
    def use_resource(self):
        return self._use_resource

    @property
    def regularizer(self):
        return self._regularizer

    @property
    def caching_device(self):
        return self._caching_device

    @property
    def partitioner(self):
        return self._partitioner

    @property
    def custom_getter(self):
        return self._custom_getter

    @property
    def constraint(self):
        return self._constraint

    def reuse_variables(self):
        self._reuse = True

    def set_initializer(self, initializer):
        self._initializer = initializer

    def set_dtype(self, dtype):
        self._dtype = dtype

    def set_use_resource(self, use_resource):
        self._use_resource = use_resource

    def set_regularizer(self, regularizer):
        self._regularizer = regularizer

    def set_caching_device(self, caching_device):
        self._caching_device = caching_device

    def set_partitioner(self, partitioner):
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter):
        self._custom_getter = custom_getter

    def get_collection(self, name):
        return ops.get_collection(name, self._name + "/" if self._name else "")

    def trainable_variables(self):
        return self.get_collection(ops.GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self):
        return self.get_collection(ops.GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self):
        return self.get_collection(ops.GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store, name, shape=None, dtype=None, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, custom_getter=None, constraint=None,
                     synchronization=VariableSynchronization.AUTO,
                     aggregation=VariableAggregation.NONE):
        """Gets or creates `scope_name/name` in var_store with this scope's defaults."""
        if regularizer is None:
            regularizer = self._regularizer
        if caching_device is None:
            caching_device = self._caching_device
        if partitioner is None:
            partitioner = self._partitioner
        if custom_getter is None:
            custom_getter = self._custom_getter
        if reuse is None:
            reuse = self._reuse
        if use_resource is None:
            use_resource = self._use_resource
        full_name = self._name + "/" + name if self._name else name
        # Variables are named by variable scope alone, whatever the current name scope.
        with ops.name_scope(None):
            if dtype is not None and initializer is not None and not callable(initializer):
                init_dtype = ops.convert_to_tensor(initializer).dtype.base_dtype
                if init_dtype != dtype:
                    raise ValueError("Initializer type '%s' and explicit dtype '%s' don't "
                                     "match." % (init_dtype, dtype))
            if initializer is None:
                initializer = self._initializer
            if constraint is None:
                constraint = self._constraint
            if dtype is None:
                dtype = self._dtype
            return var_store.get_variable(
                full_name, shape=shape, dtype=dtype, initializer=initializer,
                regularizer=regularizer, reuse=reuse, trainable=trainable,
                collections=collections, caching_device=caching_device,
                partitioner=partitioner, validate_shape=validate_shape,
                use_resource=use_resource, custom_getter=custom_getter, constraint=constraint,
                synchronization=synchronization, aggregation=aggregation)

    def _get_partitioned_variable(self, var_store, name, shape=None, dtype=None,
                                  initializer=None, regularizer=None, trainable=None,
                                  collections=None, caching_device=None, partitioner=None,
                                  validate_shape=True, use_resource=None, constraint=None,
                                  synchronization=VariableSynchronization.AUTO,
                                  aggregation=VariableAggregation.NONE):
        if self._custom_getter is not None:
            raise ValueError(
                "Private access to _get_partitioned_variable is not allowed when a custom "
                "getter is set.  Current custom getter: %s.  It is likely that you're using "
                "create_partitioned_variables.  If so, consider instead using get_variable "
                "with a non-empty partitioner parameter instead." % self._custom_getter)
        partitioner = partitioner if partitioner is not None else self._partitioner
        if partitioner is None:
            raise ValueError("No partitioner was specified")
        full_name = "/".join(part for part in (self._name, name) if part)
        with ops.name_scope(None):
            return var_store._get_partitioned_variable(
                full_name, shape=shape,
                dtype=dtype if dtype is not None else self._dtype,
                initializer=initializer if initializer is not None else self._initializer,
                regularizer=regularizer if regularizer is not None else self._regularizer,
                reuse=self._reuse, trainable=trainable, collections=collections,
                caching_device=(caching_device if caching_device is not None
                                else self._caching_device),
                partitioner=partitioner, validate_shape=validate_shape,
                use_resource=use_resource if use_resource is not None else self._use_resource,
                constraint=constraint if constraint is not None else self._constraint,
                synchronization=synchronization, aggregation=aggregation)


_VARSTORE_KEY = ("__variable_store",)
_VARSCOPESTORE_KEY = ("__varscope",)


class _VariableScopeStore:
    """The current variable scope of a graph, and how often each scope name was opened (for
    unique default names such as `dense_1`)."""

    def __init__(self):
        self.current_scope = VariableScope(False)
        self.variable_scopes_count = {}

    def open_variable_scope(self, scope_name):
        self.variable_scopes_count[scope_name] = self.variable_scopes_count.get(scope_name,
                                                                                0) + 1

    def close_variable_subscopes(self, scope_name):
        """Forgets the counts under scope_name/ (all counts when scope_name is None)."""
        prefix = None if scope_name is None else scope_name + "/"
        for key in self.variable_scopes_count:
            if prefix is None or key.startswith(prefix):
                self.variable_scopes_count[key] = 0

    def variable_scope_count(self, scope_name):
        return self.variable_scopes_count.get(scope_name, 0)


def _graph_singleton(key, make):
    """The object kept in the default graph's collection `key`, made on first use."""
    stored = ops.get_collection(key)
    if stored:
        return stored[0]
    made = make()
    ops.add_to_collection(key, made)
    return made


def get_variable_scope_store():
    return _graph_singleton(_VARSCOPESTORE_KEY, _VariableScopeStore)


def get_variable_scope():
    """The current VariableScope of the default graph."""
    return get_variable_scope_store().current_scope


def _get_default_variable_store():
    return _graph_singleton(_VARSTORE_KEY, _VariableStore)


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE):
    """tf.get_variable: the variable `scope/name`, created (or reused) per the current scope."""
    return get_variable_scope().get_variable(
        _get_default_variable_store(), name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, trainable=trainable, collections=collections,
        caching_device=caching_device, partitioner=partitioner, validate_shape=validate_shape,
        use_resource=use_resource, custom_getter=custom_getter, constraint=constraint,
        synchronization=synchronization, aggregation=aggregation)


def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                       trainable=False, collections=None, caching_device=None, partitioner=None,
                       validate_shape=True, use_resource=None, custom_getter=None,
                       constraint=None, synchronization=VariableSynchronization.AUTO,
                       aggregation=VariableAggregation.NONE):
    """tf.get_local_variable: like get_variable, in LOCAL_VARIABLES and never trainable."""
    collections = list(collections or []) + [ops.GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                        regularizer=regularizer, trainable=False, collections=collections,
                        caching_device=caching_device, partitioner=partitioner,
                        validate_shape=validate_shape, use_resource=use_resource,
                        custom_getter=custom_getter, constraint=constraint,
                        synchronization=synchronization, aggregation=aggregation)


def _get_partitioned_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                              trainable=True, collections=None, caching_device=None,
                              partitioner=None, validate_shape=True, use_resource=None,
                              constraint=None, synchronization=VariableSynchronization.AUTO,
                              aggregation=VariableAggregation.NONE):
    return get_variable_scope()._get_partitioned_variable(
        _get_default_variable_store(), name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, trainable=trainable, collections=collections,
        caching_device=caching_device, partitioner=partitioner, validate_shape=validate_shape,
        use_resource=use_resource, constraint=constraint, synchronization=synchronization,
        aggregation=aggregation)


class _pure_variable_scope:  # noqa: N801 (TensorFlow's name)
    """Makes a VariableScope current without touching name scopes."""

    def __init__(self, name_or_scope, reuse=None, initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None,
                 old_name_scope=None, dtype=dtypes.float32, use_resource=None,
                 constraint=None):
        self._name_or_scope = name_or_scope
        self._reuse = reuse
        self._overrides = dict(initializer=initializer, regularizer=regularizer,
                               caching_device=caching_device, partitioner=partitioner,
                               dtype=dtype, use_resource=use_resource)
        self._custom_getter = custom_getter
        self._old_name_scope = old_name_scope
        self._constraint = constraint
        self._var_scope_store = get_variable_scope_store()
        self._last_variable_scope_object = None
        if isinstance(name_or_scope, VariableScope):
            self._new_name = name_or_scope.name
            # Entering a scope object again: its settings, and ours where given.
            self._cached_variable_scope_object = self._new_scope(
                name_or_scope, self._reuse if self._reuse else name_or_scope.reuse,
                name_or_scope.original_name_scope)

    def _new_scope(self, parent, reuse, name_scope):
        scope = VariableScope(reuse, name=self._new_name, initializer=parent.initializer,
                              regularizer=parent.regularizer,
                              caching_device=parent.caching_device,
                              partitioner=parent.partitioner, dtype=parent.dtype,
                              custom_getter=parent.custom_getter, name_scope=name_scope,
                              use_resource=parent.use_resource, constraint=self._constraint)
        setters = dict(initializer=scope.set_initializer, regularizer=scope.set_regularizer,
                       caching_device=scope.set_caching_device,
                       partitioner=scope.set_partitioner, dtype=scope.set_dtype,
                       use_resource=scope.set_use_resource)
        for key, value in self._overrides.items():
            if value is not None:
                setters[key](value)
        if self._custom_getter is not None:
            scope.set_custom_getter(_maybe_wrap_custom_getter(self._custom_getter,
                                                              parent.custom_getter))
        return scope

    def __enter__(self):
        self._old = self._var_scope_store.current_scope
        if isinstance(self._name_or_scope, VariableScope):
            self._var_scope_store.open_variable_scope(self._new_name)
            self._old_subscopes = dict(self._var_scope_store.variable_scopes_count)
            scope = self._cached_variable_scope_object
        else:
            if self._old.name:
                self._new_name = self._old.name + "/" + self._name_or_scope
            else:
                self._new_name = self._name_or_scope
            # Sub-scopes inherit reuse.
            self._reuse = self._reuse or self._old.reuse
            name_scope = (self._name_or_scope if self._old_name_scope is None
                          else self._old_name_scope)
            scope = self._new_scope(self._old, self._reuse, name_scope)
            self._var_scope_store.open_variable_scope(self._new_name)
        self._var_scope_store.current_scope = scope
        self._last_variable_scope_object = scope
        return scope

    def __exit__(self, *exc):
        if self._var_scope_store.current_scope is not self._last_variable_scope_object:
            raise RuntimeError("Improper nesting of variable_scope.")
        if isinstance(self._name_or_scope, VariableScope):
            self._var_scope_store.variable_scopes_count = self._old_subscopes
        else:
            self._var_scope_store.close_variable_subscopes(self._new_name)
        self._var_scope_store.current_scope = self._old


def _maybe_wrap_custom_getter(custom_getter, old_getter):
    """Nested scopes' getters compose: the inner one receives the outer one as its getter."""
    if old_getter is None:
        return custom_getter

    def wrapped_custom_getter(getter, *args, **kwargs):
        return custom_getter(functools.partial(old_getter, getter), *args, **kwargs)
    return wrapped_custom_getter


def _get_unique_variable_scope(prefix):
    """prefix, or prefix_1, prefix_2, ... : the first not yet opened in the current scope."""
    store = get_variable_scope_store()
    current = get_variable_scope()
    name = current.name + "/" + prefix if current.name else prefix
    if store.variable_scope_count(name) == 0:
        return prefix
    idx = 1
    while store.variable_scope_count(name + ("_%d" % idx)) > 0:
        idx += 1
    return prefix + ("_%d" % idx)


class variable_scope:  # noqa: N801 (TensorFlow's name)
    """`with tf.variable_scope(name_or_scope, default_name=None, values=None, ...) as scope:`

    Opens a variable scope (prefix of get_variable names, and defaults such as initializer and
    reuse) and a name scope of the same name (made unique: re-entering `foo` opens name scope
    `foo_1` while variables stay under `foo/`).
    """

    def __init__(self, name_or_scope, default_name=None, values=None, initializer=None,
                 regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                 reuse=None, dtype=None, use_resource=None, constraint=None,
                 auxiliary_name_scope=True):
        if default_name is None and name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if reuse is False:
            # False means "inherit", like None.
            reuse = None
        if not (reuse is True or reuse is None or reuse is AUTO_REUSE):
            raise ValueError("The reuse parameter must be True or False or None.")
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError("The auxiliary_name_scope must be `True` or `False`, while get {}"
                            .format(auxiliary_name_scope))
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._values = values or []
        self._scope_kwargs = dict(initializer=initializer, regularizer=regularizer,
                                  caching_device=caching_device, partitioner=partitioner,
                                  custom_getter=custom_getter, dtype=dtype,
                                  use_resource=use_resource, constraint=constraint)
        self._reuse = reuse
        self._auxiliary_name_scope = auxiliary_name_scope
        self._graph = ops._get_graph_from_inputs(self._values)
        self._cached_pure_variable_scope = None
        self._current_name_scope = None
        self._graph_context_manager = None

    def __enter__(self):
        self._graph_context_manager = self._graph.as_default()
        self._graph_context_manager.__enter__()
        try:
            if self._cached_pure_variable_scope is not None:
                # Re-entering the same object: same name scope, same variable scope.
                if self._current_name_scope is not None:
                    self._current_name_scope.__enter__()
                return self._cached_pure_variable_scope.__enter__()
            return self._enter_scope_uncached()
        except BaseException:
            self._graph_context_manager.__exit__(None, None, None)
            raise

    def _enter_scope_uncached(self):
        if self._auxiliary_name_scope:
            current_name_scope = None
        else:
            # Stay in the current name scope (the trailing slash re-enters it as is).
            name_scope = ops.get_name_scope()
            current_name_scope = ops.name_scope(name_scope + "/" if name_scope else name_scope)

        if self._name_or_scope is not None:
            if not isinstance(self._name_or_scope, (VariableScope, str)):
                raise TypeError("VariableScope: name_or_scope must be a string or "
                                "VariableScope.")
            if isinstance(self._name_or_scope, str):
                name_scope = self._name_or_scope
            else:
                name_scope = self._name_or_scope.name.split("/")[-1]
            old_name_scope = None
            if name_scope or current_name_scope:
                current_name_scope = current_name_scope or ops.name_scope(name_scope)
                entered_name_scope = current_name_scope.__enter__()
                self._current_name_scope = current_name_scope
                if isinstance(self._name_or_scope, str):
                    old_name_scope = entered_name_scope
                else:
                    old_name_scope = self._name_or_scope.original_name_scope
            pure_scope = _pure_variable_scope(self._name_or_scope, reuse=self._reuse,
                                              old_name_scope=old_name_scope,
                                              **self._scope_kwargs)
        else:
            if self._reuse:
                raise ValueError("reuse=True cannot be used without a name_or_scope")
            current_name_scope = current_name_scope or ops.name_scope(self._default_name)
            entered_name_scope = current_name_scope.__enter__()
            self._current_name_scope = current_name_scope
            pure_scope = _pure_variable_scope(_get_unique_variable_scope(self._default_name),
                                              old_name_scope=entered_name_scope,
                                              **self._scope_kwargs)
        try:
            entered = pure_scope.__enter__()
        except BaseException:
            if self._current_name_scope is not None:
                self._current_name_scope.__exit__(None, None, None)
            raise
        self._cached_pure_variable_scope = pure_scope
        return entered

    def __exit__(self, *exc):
        try:
            self._cached_pure_variable_scope.__exit__(*exc)
        finally:
            try:
                if self._current_name_scope is not None:
                    self._current_name_scope.__exit__(*exc)
            finally:
                self._graph_context_manager.__exit__(*exc)
        return False


def variable_op_scope(values, name_or_scope, default_name=None, initializer=None,
                      regularizer=None, caching_device=None, partitioner=None,
                      custom_getter=None, reuse=None, dtype=None, use_resource=None,
                      constraint=None):
    """Deprecated spelling of variable_scope(name_or_scope, default_name, values, ...)."""
    return variable_scope(name_or_scope, default_name=default_name, values=values,
                          initializer=initializer, regularizer=regularizer,
                          caching_device=caching_device, partitioner=partitioner,
                          custom_getter=custom_getter, reuse=reuse, dtype=dtype,
                          use_resource=use_resource, constraint=constraint)


# --- partitioning helpers ----------------------------------------------------------------------

def _call_partitioner(partitioner, shape, dtype):
    """Runs the partitioner and checks its answer: one count per axis, slicing one axis."""
    if not shape.is_fully_defined():
        raise ValueError("Shape of a new partitioned variable must be fully defined, but "
                         "instead was %s." % (shape,))
    if shape.ndims < 1:
        raise ValueError("A partitioned Variable must have rank at least 1, shape: %s" % shape)
    slicing = partitioner(shape=shape, dtype=dtype)
    if not isinstance(slicing, (list, tuple)):
        raise ValueError("Partitioner must return a sequence, but saw: %s" % slicing)
    if len(slicing) != shape.ndims:
        raise ValueError("Partitioner returned a partition list that does not match the "
                         "Variable's rank: %s vs. %s" % (slicing, shape))
    if any(p < 1 for p in slicing):
        raise ValueError("Partitioner returned zero partitions for some axes: %s" % slicing)
    if sum(p > 1 for p in slicing) > 1:
        raise ValueError("Can only slice a variable along one dimension: shape: %s, "
                         "partitioning: %s" % (shape, slicing))
    return slicing


def _get_slice_dim_and_num_slices(slicing):
    for slice_dim, num_slices in enumerate(slicing):
        if num_slices > 1:
            return slice_dim, num_slices
    return 0, 1


def _iter_slices(full_shape, num_slices, slice_dim):
    """(offset, shape) of each slice; the first `len % num_slices` slices get one extra row."""
    with_extra = full_shape[slice_dim] % num_slices
    min_len = full_shape[slice_dim] // num_slices
    offset = [0] * len(full_shape)
    for i in range(num_slices):
        shape = list(full_shape)
        shape[slice_dim] = min_len + (1 if i < with_extra else 0)
        yield list(offset), shape
        offset[slice_dim] += shape[slice_dim]


def create_partitioned_variables(shape, slicing, initializer, dtype=dtypes.float32,
                                 trainable=True, collections=None, name=None, reuse=None):
    """Deprecated tf.create_partitioned_variables: the list of slices of a new variable."""
    if len(shape) != len(slicing):
        raise ValueError("The 'shape' and 'slicing' of a partitioned Variable must have the "
                         "length: shape: %s, slicing: %s" % (shape, slicing))
    if len(shape) < 1:
        raise ValueError("A partitioned Variable must have rank at least 1: shape: %s" % shape)
    with variable_scope(name, "PartitionedVariable", reuse=reuse):
        partitioned = _get_partitioned_variable(
            name=None, shape=shape, dtype=dtype, initializer=initializer, trainable=trainable,
            partitioner=lambda **unused: slicing, collections=collections)
        return list(partitioned)
