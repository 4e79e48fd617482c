"""tensorkeep: TensorFlow 1.x graphs, sessions and model persistence on NumPy.

`import tensorkeep as tf` gives TensorFlow 1.x's API. The namespace is a thin map kept in
tensorkeep/api/top_level.py and loaded on first use (PEP 562 `__getattr__`, as TensorFlow does
for its own submodules): `import tensorkeep` imports neither NumPy nor the layers, and the
first `tf.X`, `from tensorkeep import X`, `dir(tf)` or `from tensorkeep import *` loads it.
"""

import importlib as _importlib

__version__ = "0.1.0"
VERSION = __version__
GRAPH_DEF_VERSION = 2474
GRAPH_DEF_VERSION_MIN_CONSUMER = 0
GRAPH_DEF_VERSION_MIN_PRODUCER = 0

# Names of the namespace that are tensorkeep's own light packages (tf.io is the files-and-formats
# layer, whose modules load on attribute access): they import alone, so that
# `from tensorkeep import io` does not load NumPy. The other subpackages in the namespace
# (framework, ops, ...) load it all, so that `tf.framework.ops` works as it always did.
_LIGHT_SUBPACKAGES = frozenset(["compat", "io"])

# tf.GraphDef, tf.ConfigProto, ...: resolved from tensorkeep.io.protos when asked for, so that
# even the loaded namespace does not load the protobuf schemas.
_PROTO_MESSAGES = frozenset([
    "GraphDef", "MetaGraphDef", "NodeDef", "AttrValue", "NameAttrList", "TensorProto",
    "TensorInfo", "ConfigProto", "GPUOptions", "GraphOptions", "OptimizerOptions", "RunOptions",
    "RunMetadata", "Summary", "SummaryMetadata", "HistogramProto"])

_namespace_loaded = False


def _load_namespace():
    """Copies the namespace into this module's globals, once: afterwards every `tf.X` is a
    plain module attribute and `__getattr__` only sees unknown names."""
    global _namespace_loaded
    if not _namespace_loaded:
        top_level = _importlib.import_module(__name__ + ".api.top_level")
        # Over anything already bound: a subpackage imported before is set here by the import
        # system, and the namespace's value is the one that counts.
        globals().update((name, value) for name, value in vars(top_level).items()
                         if not name.startswith("__"))
        # The import system binds api.top_level once the module has run to its end: a call
        # made while it runs (a layer asking for a tf.X) copied part of it, the outer call
        # copies the rest.
        api = _importlib.import_module(__name__ + ".api")
        _namespace_loaded = vars(api).get("top_level") is top_level


def __getattr__(name):
    if name in _LIGHT_SUBPACKAGES:
        return _importlib.import_module(__name__ + "." + name)
    if name.startswith("__") and name != "__all__":
        # Probes by tools (inspect's __wrapped__, ...): never part of the namespace.
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    _load_namespace()
    if name in globals():
        return globals()[name]
    if name in _PROTO_MESSAGES:
        from tensorkeep.io import protos
        return getattr(protos, name)
    # __all__ included: `from tensorkeep import *` asks for it first, then takes the public
    # names of the now loaded module dict, as it did when the namespace was built eagerly.
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def __dir__():
    _load_namespace()
    return sorted(set(globals()) | _PROTO_MESSAGES)


def RegisterGradient(op_type):  # noqa: N802 (TF's name)
    """Decorator registering a gradient function for op_type."""
    from tensorkeep.framework.op_def import register_gradient

    def register(fn):
        register_gradient(op_type, fn)
        return fn
    return register


def NotDifferentiable(op_type):  # noqa: N802
    from tensorkeep.framework.op_def import register_gradient

    register_gradient(op_type, None)


NoGradient = NotDifferentiable


def disable_v2_behavior():
    """tensorkeep is always TF1 graph mode; kept for scripts that call it."""


def disable_eager_execution():
    """tensorkeep is always TF1 graph mode; kept for scripts that call it."""


def enable_eager_execution(*args, **kwargs):
    raise NotImplementedError("tensorkeep runs TensorFlow 1.x graphs only; eager execution is "
                              "not available.")


def executing_eagerly():
    return False
