"""tf.Session / tf.InteractiveSession: feeds, fetch structures, cached execution plans."""

import collections
import threading

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops as ops_lib
from tensorkeep.ops import kernel_threads
from tensorkeep.runtime import blas_threads
from tensorkeep.runtime import executor


class SessionContext:
    """Per-session runtime state that kernels reach through their `ctx` argument."""

    def __init__(self, session):
        self.session = session
        self.variables = {}       # (container, shared name) -> VarRef
        self.random_streams = {}  # op name -> PhiloxStream
        self.resources = {}       # resource handles (VarHandleOp, tables, TensorArrays)
        self.lock = threading.RLock()

    def variable(self, op):
        """The VarRef behind a VariableV2/Variable op, created on first use."""
        container = op._attrs.get("container", b"") or b""
        shared_name = op._attrs.get("shared_name", b"") or b""
        if isinstance(shared_name, str):
            shared_name = shared_name.encode()
        key = (container, shared_name or op._name.encode())
        ref = self.variables.get(key)
        if ref is None:
            ref = executor.VarRef(op._name, op._attrs.get("dtype"), op._attrs.get("shape"))
            self.variables[key] = ref
        return ref


class _FetchStructure:
    """Flattens a fetch argument (tensor, op, name, nested list/tuple/dict/namedtuple) into graph
    elements and rebuilds the same structure from their values."""

    def __init__(self, graph, fetches):
        self.targets = []
        self.builder = self._flatten(graph, fetches)

    def _flatten(self, graph, fetch):
        if fetch is None:
            raise TypeError("Fetch argument None has invalid type %s" % type(fetch))
        if isinstance(fetch, (list, tuple)) and not _is_graph_element_like(fetch):
            builders = [self._flatten(graph, f) for f in fetch]
            if isinstance(fetch, tuple) and hasattr(fetch, "_fields"):
                cls = type(fetch)
                return lambda values: cls(*[b(values) for b in builders])
            cls = type(fetch)
            if cls is list:
                return lambda values: [b(values) for b in builders]
            if cls is tuple:
                return lambda values: tuple(b(values) for b in builders)
            return lambda values: cls([b(values) for b in builders])
        if isinstance(fetch, collections.abc.Mapping):
            keys = list(fetch.keys())
            builders = [self._flatten(graph, fetch[k]) for k in keys]
            cls = type(fetch)

            def build(values):
                result = cls() if cls is not dict else {}
                for k, b in zip(keys, builders):
                    result[k] = b(values)
                return result
            return build
        composite = getattr(fetch, "_fetch_components", None)
        if composite is not None:
            parts, rebuild = composite()
            builders = [self._flatten(graph, p) for p in parts]
            return lambda values: rebuild([b(values) for b in builders])
        element = _as_fetch_element(graph, fetch)
        index = len(self.targets)
        self.targets.append(element)
        if isinstance(element, ops_lib.Operation):
            return lambda values: None
        return lambda values: executor.as_numpy_output(values[index])


def _is_graph_element_like(value):
    return hasattr(value, "_as_graph_element") and not isinstance(value, (list, tuple))


def _as_fetch_element(graph, fetch):
    try:
        return graph.as_graph_element(fetch, allow_tensor=True, allow_operation=True)
    except TypeError as exc:
        raise TypeError("Fetch argument %r has invalid type %r, must be a string or Tensor. (%s)"
                        % (fetch, type(fetch), exc))
    except ValueError as exc:
        raise ValueError("Fetch argument %r cannot be interpreted as a Tensor. (%s)"
                         % (fetch, exc))
    except KeyError as exc:
        raise ValueError("Fetch argument %r cannot be interpreted as a Tensor. (%s)"
                         % (fetch, exc.args[0] if exc.args else exc))


class BaseSession:
    def __init__(self, target="", graph=None, config=None):
        if graph is None:
            graph = ops_lib.get_default_graph()
        elif not isinstance(graph, ops_lib.Graph):
            raise TypeError("graph must be a tf.Graph, but got %s" % type(graph))
        self._graph = graph
        self._target = target
        self._config = config
        self._closed = False
        self._ctx = SessionContext(self)
        self._plans = {}
        self._blas_threads = blas_threads.threads_for_session(config)
        self._kernel_threads = kernel_threads_for_session(config)
        self._default_session_ctx = None
        self._default_graph_ctx = None

    @property
    def graph(self):
        return self._graph

    @property
    def graph_def(self):
        return self._graph.as_graph_def()

    @property
    def sess_str(self):
        return self._target

    def list_devices(self):
        return [_DeviceAttributes("/job:localhost/replica:0/task:0/device:CPU:0", "CPU", 0)]

    def as_default(self):
        return ops_lib.default_session(self)

    def close(self):
        self._closed = True
        self._plans.clear()

    def __enter__(self):
        if self._default_graph_ctx is None:
            self._default_graph_ctx = self._graph.as_default()
            self._default_graph_ctx.__enter__()
        self._default_session_ctx = self.as_default()
        self._default_session_ctx.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._default_session_ctx.__exit__(exc_type, exc, tb)
        self._default_session_ctx = None
        if self._default_graph_ctx is not None:
            self._default_graph_ctx.__exit__(exc_type, exc, tb)
            self._default_graph_ctx = None
        self.close()
        return False

    # --- running ------------------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        graph = self._graph
        # Fast path: one tensor or op, the common case in training loops.
        if isinstance(fetches, (ops_lib.Tensor, ops_lib.Operation)):
            fetch_graph = fetches._graph if isinstance(fetches, ops_lib.Operation) \
                else fetches._op._graph
            if fetch_graph is not graph:
                _as_fetch_element(graph, fetches)  # raises the right error
            targets = (fetches,)
            builder = None
        else:
            structure = _FetchStructure(graph, fetches)
            targets = tuple(structure.targets)
            builder = structure.builder
        feed_tensors, feed_values = self._process_feeds(feed_dict)
        key = (targets, feed_tensors, graph._structure_version)
        plan = self._plans.get(key)
        if plan is None:
            for target in targets:
                if not graph.is_fetchable(target if isinstance(target, ops_lib.Operation)
                                          else target.op):
                    raise ValueError("Operation %r has been marked as not fetchable."
                                     % target.name)
            plan = executor.build_plan(graph, list(targets), list(feed_tensors), self._ctx)
            if len(self._plans) > 4096:
                self._plans.clear()
            self._plans[key] = plan
        previous_threads = kernel_threads.set_threads(self._kernel_threads)
        try:
            if plan.uses_blas and self._blas_threads is not None:
                blas_threads.enter(self._blas_threads)
                try:
                    values = executor.run_plan(plan, feed_values)
                finally:
                    blas_threads.leave()
            else:
                values = executor.run_plan(plan, feed_values)
        finally:
            kernel_threads.set_threads(previous_threads)
        if builder is None:
            return executor.as_numpy_output(values[0])
        return builder(values)

    def _process_feeds(self, feed_dict):
        if not feed_dict:
            return (), []
        graph = self._graph
        tensors = []
        values = []
        for key, value in feed_dict.items():
            for tensor, sub_value in _feed_pairs(graph, key, value):
                if not graph.is_feedable(tensor):
                    raise ValueError("Tensor %s may not be fed." % tensor.name)
                tensors.append(tensor)
                values.append(_convert_feed(tensor, sub_value))
        return tuple(tensors), values

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        feed_list = list(feed_list or [])

        def call(*args, **kwargs):
            return self.run(fetches, dict(zip(feed_list, args)))
        return call

    def partial_run_setup(self, fetches, feeds=None):
        raise errors.UnimplementedError(None, None, "partial_run is not supported by tensorkeep; "
                                        "use Session.run with the full feed_dict instead.")


def kernel_threads_for_session(config):
    """The threads a session's kernels may split their work over (ops/kernel_threads.py):
    `intra_op_parallelism_threads` when positive, else None (the usable cores)."""
    requested = getattr(config, "intra_op_parallelism_threads", 0) if config is not None else 0
    return int(requested) if requested and requested > 0 else None


class _DeviceAttributes:
    def __init__(self, name, device_type, memory_limit_bytes):
        self.name = name
        self.device_type = device_type
        self.memory_limit_bytes = memory_limit_bytes
        self.incarnation = 0


def _feed_pairs(graph, key, value):
    sparse_parts = getattr(key, "_feed_components", None)
    if sparse_parts is not None:
        return sparse_parts(value)
    try:
        element = graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
    except (KeyError, ValueError) as exc:
        raise ValueError("Cannot interpret feed_dict key as Tensor: %s"
                         % (exc.args[0] if exc.args else exc))
    except TypeError as exc:
        raise TypeError("Cannot interpret feed_dict key as Tensor: %s" % exc)
    return [(element, value)]


def _convert_feed(tensor, value):
    if isinstance(value, ops_lib.Tensor):
        raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed values "
                        "include Python scalars, strings, lists, numpy ndarrays, or "
                        "TensorHandles. For reference, the tensor object was %s which was passed "
                        "to the feed with key %s." % (value, tensor))
    dtype = tensor.dtype.base_dtype
    if dtype is dtypes.string:
        from tensorkeep.framework.tensor_util import _string_array
        array = _string_array(value)
    elif dtype in (dtypes.resource, dtypes.variant):
        return value
    else:
        np_dtype = dtype.as_numpy
        try:
            if isinstance(value, np.ndarray) and value.dtype == np_dtype:
                # Kernels may keep read-only arrays without copying (Assign adopts them);
                # the caller could make theirs writable again, so such feeds are copied.
                array = value if value.flags.writeable else value.copy()
            else:
                array = np.asarray(value, dtype=np_dtype)
        except (ValueError, TypeError) as exc:
            raise ValueError("Cannot feed value %r to Tensor '%s' of dtype %s: %s"
                             % (_short(value), tensor.name, dtype.name, exc))
        if dtype.is_integer or dtype.is_bool:
            source = np.asarray(value)
            if source.dtype.kind == "f" and source.size and not np.array_equal(
                    source, array.astype(source.dtype)):
                raise TypeError("Type of feed value %s with type %s is not compatible with "
                                "Tensor type %s. Try explicitly setting the type of the feed "
                                "tensor to a larger type (e.g. int64)." % (
                                    _short(value), source.dtype, dtype.name))
    if not tensor.shape.is_compatible_with(array.shape):
        raise ValueError("Cannot feed value of shape %r for Tensor '%s', which has shape '%s'"
                         % (tuple(array.shape), tensor.name, tensor.shape))
    return array


def _short(value):
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


class Session(BaseSession):
    """A session running a graph on NumPy kernels (the `target` and `config` are accepted for
    compatibility and otherwise ignored)."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)

    def __del__(self):
        pass

    @staticmethod
    def reset(target, containers=None, config=None):
        pass


class InteractiveSession(BaseSession):
    """A session that makes itself the default session (for shells and notebooks)."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._default_session_ctx = self.as_default()
        self._default_session_ctx.__enter__()
        self._explicitly_closed = False
        self._default_graph_ctx = self._graph.as_default()
        self._default_graph_ctx.__enter__()

    def close(self):
        super().close()
        if self._default_session_ctx is not None:
            self._default_session_ctx.__exit__(None, None, None)
            self._default_session_ctx = None
        if self._default_graph_ctx is not None:
            self._default_graph_ctx.__exit__(None, None, None)
            self._default_graph_ctx = None
