"""tf.contrib.framework basics: variable helpers (model variables, lookups by scope and suffix,
variables to restore) and arg_scope.
"""

import contextlib
import functools
import inspect

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.ops import variables
from tensorkeep.training import variable_scope


# --- arg_scope ------------------------------------------------------------------------------------

_ARG_SCOPED_FUNCS = {}
_ARG_SCOPE_STACK = []


def _key_of(func):
    return (func.__module__, func.__name__)


def _current_arg_scope():
    return _ARG_SCOPE_STACK[-1] if _ARG_SCOPE_STACK else {}


@contextlib.contextmanager
def arg_scope(list_ops_or_scope, **kwargs):
    """Default keyword arguments for the listed add_arg_scope functions inside the block.

    `arg_scope(scope_dict)` re-enters a scope captured earlier (`with arg_scope(...) as sc`).
    """
    if isinstance(list_ops_or_scope, dict):
        if kwargs:
            raise ValueError("When attempting to re-use a scope by suppling a dictionary, "
                             "kwargs must be empty.")
        scope = list_ops_or_scope
    else:
        if not isinstance(list_ops_or_scope, (list, tuple)):
            raise TypeError("list_ops_or_scope must either be a list/tuple or reused scope "
                            "(i.e. dict)")
        scope = dict(_current_arg_scope())
        for op in list_ops_or_scope:
            key = getattr(op, "_key_op", None)
            if key is None:
                raise ValueError("%s is not decorated with @add_arg_scope" % (_key_of(op),))
            scope[key] = dict(scope.get(key, {}), **kwargs)
    _ARG_SCOPE_STACK.append(scope)
    try:
        yield scope
    finally:
        _ARG_SCOPE_STACK.pop()


def has_arg_scope(func):
    return getattr(func, "_key_op", _key_of(func)) in _ARG_SCOPED_FUNCS


def arg_scoped_arguments(func):
    """The argument names func accepts (its arg_scope can set any of them)."""
    original = _ARG_SCOPED_FUNCS[getattr(func, "_key_op", _key_of(func))]
    return list(inspect.signature(original).parameters)


def add_arg_scope(func):
    """Lets arg_scope supply default keyword arguments to func."""
    @functools.wraps(func)
    def func_with_args(*args, **kwargs):
        defaults = _current_arg_scope().get(_key_of(func), {})
        return func(*args, **dict(defaults, **kwargs))
    _ARG_SCOPED_FUNCS[_key_of(func)] = func
    func_with_args._key_op = _key_of(func)
    return func_with_args


# --- variables ---------------------------------------------------------------------------------

def local_variable(initial_value, validate_shape=True, name=None, use_resource=None):
    """A non-trainable variable in LOCAL_VARIABLES."""
    return variables.Variable(initial_value, trainable=False,
                              collections=[ops.GraphKeys.LOCAL_VARIABLES],
                              validate_shape=validate_shape, name=name)


def global_variable(initial_value, validate_shape=True, name=None, use_resource=None):
    """A non-trainable variable in GLOBAL_VARIABLES."""
    return variables.Variable(initial_value, trainable=False,
                              collections=[ops.GraphKeys.GLOBAL_VARIABLES],
                              validate_shape=validate_shape, name=name)


@add_arg_scope
def variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=True,
             collections=None, caching_device=None, device=None, partitioner=None,
             custom_getter=None, use_resource=None,
             synchronization=variables.VariableSynchronization.AUTO,
             aggregation=variables.VariableAggregation.NONE):
    """get_variable with a device and de-duplicated collections (default GLOBAL_VARIABLES)."""
    collections = list(dict.fromkeys(collections if collections is not None
                                     else [ops.GraphKeys.GLOBAL_VARIABLES]))
    getter = variable_scope.get_variable
    if custom_getter is not None:
        getter = functools.partial(custom_getter,
                                   reuse=variable_scope.get_variable_scope().reuse)
    with ops.device(device or ""):
        return getter(name, shape=shape, dtype=dtype, initializer=initializer,
                      regularizer=regularizer, trainable=trainable, collections=collections,
                      caching_device=caching_device, partitioner=partitioner,
                      use_resource=use_resource, synchronization=synchronization,
                      aggregation=aggregation)


@add_arg_scope
def model_variable(name, shape=None, dtype=dtypes.float32, initializer=None, regularizer=None,
                   trainable=True, collections=None, caching_device=None, device=None,
                   partitioner=None, custom_getter=None, use_resource=None,
                   synchronization=variables.VariableSynchronization.AUTO,
                   aggregation=variables.VariableAggregation.NONE):
    """A variable also in MODEL_VARIABLES (what slim layers create)."""
    collections = list(collections or []) + [ops.GraphKeys.GLOBAL_VARIABLES,
                                             ops.GraphKeys.MODEL_VARIABLES]
    return variable(name, shape=shape, dtype=dtype, initializer=initializer,
                    regularizer=regularizer, trainable=trainable, collections=collections,
                    caching_device=caching_device, device=device, partitioner=partitioner,
                    custom_getter=custom_getter, use_resource=use_resource,
                    synchronization=synchronization, aggregation=aggregation)


def add_model_variable(var):
    if var not in ops.get_collection(ops.GraphKeys.MODEL_VARIABLES):
        ops.add_to_collection(ops.GraphKeys.MODEL_VARIABLES, var)


def get_variables(scope=None, suffix=None, collection=ops.GraphKeys.GLOBAL_VARIABLES):
    """Variables of `collection` whose names match the regex `scope` (a name prefix) and end
    with `suffix` (before the `:0`)."""
    if isinstance(scope, variable_scope.VariableScope):
        scope = scope.name
    if suffix is not None:
        if ":" not in suffix:
            suffix += ":"
        scope = (scope or "") + ".*" + suffix
    return ops.get_collection(collection, scope)


def get_model_variables(scope=None, suffix=None):
    return get_variables(scope, suffix, ops.GraphKeys.MODEL_VARIABLES)


def get_local_variables(scope=None, suffix=None):
    return get_variables(scope, suffix, ops.GraphKeys.LOCAL_VARIABLES)


def get_trainable_variables(scope=None, suffix=None):
    return get_variables(scope, suffix, ops.GraphKeys.TRAINABLE_VARIABLES)


def get_variables_to_restore(include=None, exclude=None):
    """Global variables under the `include` scopes (all when None), minus the `exclude` ones."""
    if include is None:
        candidates = get_variables()
    else:
        if not isinstance(include, (list, tuple)):
            raise TypeError("include is provided but is not a list or a tuple.")
        candidates = [v for scope in include for v in get_variables(scope)]
    excluded = set()
    if exclude is not None:
        if not isinstance(exclude, (list, tuple)):
            raise TypeError("exclude is provided but is not a list or a tuple.")
        for scope in exclude:
            excluded.update(get_variables(scope))
    return [v for v in candidates if v not in excluded]


def get_variables_by_suffix(suffix, scope=None):
    return get_variables(scope=scope, suffix=suffix)


def get_variables_by_name(given_name, scope=None):
    """Variables named exactly `given_name` in any scope."""
    return get_variables(scope=scope, suffix="/" + given_name + ":|^" + given_name + ":")


def get_unique_variable(var_op_name):
    candidates = get_variables(scope=var_op_name)
    if not candidates:
        raise ValueError("Couldn't find variable %s" % var_op_name)
    for candidate in candidates:
        if candidate.op.name == var_op_name:
            return candidate
    raise ValueError("Variable %s does not uniquely identify a variable" % var_op_name)
