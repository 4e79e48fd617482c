"""Higher-order functions of TensorFlow 1.x: tf.map_fn, tf.foldl, tf.foldr and tf.scan, built as
TensorFlow builds them: the elements unstacked into TensorArrays, one tf.while_loop (bounded by
maximum_iterations = n) that reads element i, calls `fn` and writes or carries the result, and
the results stacked. Gradients flow through the loop's gradient machinery.

TensorFlow also points the variable scope's caching device at each op's own device while `fn`
is traced; tensorkeep's variable reads already live on their variable's device, so nothing here
needs it."""

from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops.control_flow_ops import _assert_same_structure, _nest_flatten, _nest_pack
from tensorkeep.ops.tensor_array_ops import TensorArray


def _is_nested(structure):
    return isinstance(structure, (list, tuple, dict))


def _pack_like(structure, flat):
    return _nest_pack(structure, flat) if _is_nested(structure) else flat[0]


def _leading_dimension(tensors):
    """The static size of the first dimension shared by `tensors` (a Dimension, maybe None)."""
    n_static = tensor_shape.Dimension(tensors[0].shape.with_rank_at_least(1).dims[0].value)
    for tensor in tensors[1:]:
        n_static.assert_is_compatible_with(
            tensor_shape.Dimension(tensor.shape.with_rank_at_least(1).dims[0].value))
    return n_static


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, swap_memory=False,
           infer_shape=True, name=None, fn_output_signature=None):
    """Applies fn to each slice of elems along dimension 0 and stacks the results. `dtype`
    (or fn_output_signature) gives the results' structure and dtypes when they differ from
    elems'."""
    if fn_output_signature is None:
        fn_output_signature = dtype
    if not callable(fn):
        raise TypeError("The provided function %s is not callable.fn must be callable."
                        % getattr(fn, "__name__", fn))
    if not parallel_iterations:
        parallel_iterations = 10
    elems_flat = _nest_flatten(elems)
    if not elems_flat:
        raise ValueError("elems must be a Tensor or (possibly nested) sequence of Tensors. Got "
                         "%s, which does not contain any Tensors." % (elems,))
    with ops.name_scope(name, "map", elems_flat):
        elems_flat = [ops.convert_to_tensor(t, name="elem") for t in elems_flat]
        first_shape = elems_flat[0].shape
        if first_shape.ndims is not None and first_shape.ndims < 1:
            raise ValueError("Elements in elems must be 1+ dimensional Tensors, not scalars")
        # The results' element shapes are left unknown (TensorFlow's most general signature).
        if fn_output_signature is None:
            result_dtypes = [t.dtype for t in elems_flat]
            result_structure = elems
        else:
            result_dtypes = _nest_flatten(fn_output_signature)
            result_structure = fn_output_signature
        n_static = _leading_dimension(elems_flat)
        n = n_static.value or array_ops.shape(elems_flat[0])[0]
        elems_ta = [TensorArray(dtype=t.dtype, size=n, dynamic_size=False, infer_shape=True)
                    for t in elems_flat]
        elems_ta = [ta.unstack(t) for ta, t in zip(elems_ta, elems_flat)]
        i = array_ops.constant(0)
        results_ta = [TensorArray(dtype=result_dtype, size=n, dynamic_size=False,
                                  infer_shape=infer_shape, element_shape=None)
                      for result_dtype in result_dtypes]

        def compute(i, tas):
            values = _pack_like(elems, [ta.read(i) for ta in elems_ta])
            result = fn(values)
            _assert_same_structure(result_structure, result,
                                   "map_fn's output signature and fn's result")
            tas = [ta.write(i, value) for ta, value in zip(tas, _nest_flatten(result))]
            return (i + 1, tas)

        _, results_ta = control_flow_ops.while_loop(
            lambda i, _: i < n, compute, (i, results_ta),
            parallel_iterations=parallel_iterations, back_prop=back_prop,
            swap_memory=swap_memory, maximum_iterations=n)
        results = [ta.stack() for ta in results_ta]
        for result in results:
            result.set_shape(tensor_shape.TensorShape([n_static]).concatenate(result.shape[1:]))
        return _pack_like(result_structure, results)


def _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name,
          default_name, from_right):
    if not callable(fn):
        raise TypeError("%s is not callable. Please provide a callable function."
                        % getattr(fn, "__name__", fn))
    with ops.name_scope(name, default_name, [elems]):
        elems_flat = [ops.convert_to_tensor(elem, name="elem") for elem in _nest_flatten(elems)]
        n = elems_flat[0].shape.dims[0].value or array_ops.shape(elems_flat[0])[0]
        # TensorFlow unstacks the caller's `elems` (not the converted tensors above).
        elems_ta = _pack_like(elems, [
            TensorArray(dtype=ops.convert_to_tensor(elem).dtype, size=n, dynamic_size=False,
                        infer_shape=True).unstack(elem)
            for elem in _nest_flatten(elems)])

        def read_all(index):
            return _pack_like(elems_ta, [ta.read(index) for ta in _nest_flatten(elems_ta)])

        if from_right:
            if initializer is None:
                i = n - 1
                accumulator = read_all(i)
            else:
                i = n
                accumulator = initializer

            def compute(i, accumulator):
                i -= 1
                return [i, fn(accumulator, read_all(i))]
            condition = lambda i, accumulator: i > 0  # noqa: E731
        else:
            if initializer is None:
                accumulator = read_all(0)
                i = array_ops.constant(1)
            else:
                accumulator = initializer
                i = array_ops.constant(0)

            def compute(i, accumulator):
                accumulator = fn(accumulator, read_all(i))
                return [i + 1, accumulator]
            condition = lambda i, accumulator: i < n  # noqa: E731

        _, result = control_flow_ops.while_loop(
            condition, compute, [i, accumulator], parallel_iterations=parallel_iterations,
            back_prop=back_prop, swap_memory=swap_memory, maximum_iterations=n)
        return result


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """fn(...fn(fn(initializer, elems[0]), elems[1])..., elems[n-1]); without an initializer
    the accumulator starts at elems[0]."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name,
                 "foldl", from_right=False)


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """foldl from the last element to the first."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name,
                 "foldr", from_right=True)


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False,
         infer_shape=True, reverse=False, name=None):
    """Every intermediate accumulator of a fold, stacked along dimension 0."""
    if not callable(fn):
        raise TypeError("%s is not callable. Please provide a callable function."
                        % getattr(fn, "__name__", fn))
    output_structure = elems if initializer is None else initializer
    elems_flat = _nest_flatten(elems)
    with ops.name_scope(name, "scan", elems_flat):
        elems_flat = [ops.convert_to_tensor(elem, name="elem") for elem in elems_flat]
        n = elems_flat[0].shape.dims[0].value
        if n is None:
            n = array_ops.shape(elems_flat[0])[0]
        elems_ta = [TensorArray(dtype=elem.dtype, size=n, dynamic_size=False,
                                element_shape=elem.shape[1:], infer_shape=True)
                    for elem in elems_flat]
        elems_ta = [ta.unstack(elem) for ta, elem in zip(elems_ta, elems_flat)]
        if initializer is None:
            accumulators = [ta.read(n - 1 if reverse else 0) for ta in elems_ta]
            i = 1
        else:
            accumulators = [ops.convert_to_tensor(init) for init in _nest_flatten(initializer)]
            i = 0
        results_ta = [TensorArray(dtype=init.dtype, size=n,
                                  element_shape=init.shape if infer_shape else None,
                                  dynamic_size=False, infer_shape=infer_shape)
                      for init in accumulators]
        if initializer is None:
            results_ta = [ta.write(n - 1 if reverse else 0, init)
                          for ta, init in zip(results_ta, accumulators)]

        def compute(i, accumulators, tas):
            packed_elems = _pack_like(elems, [ta.read(i) for ta in elems_ta])
            result = fn(_pack_like(output_structure, accumulators), packed_elems)
            _assert_same_structure(output_structure, result,
                                   "scan's accumulator and fn's result")
            flat_result = _nest_flatten(result) if _is_nested(output_structure) else [result]
            tas = [ta.write(i, value) for ta, value in zip(tas, flat_result)]
            return (i - 1 if reverse else i + 1, flat_result, tas)

        if reverse:
            initial_i = n - 1 - i
            condition = lambda i, _1, _2: i >= 0  # noqa: E731
        else:
            initial_i = i
            condition = lambda i, _1, _2: i < n  # noqa: E731
        _, _, results_ta = control_flow_ops.while_loop(
            condition, compute, (initial_i, accumulators, results_ta),
            parallel_iterations=parallel_iterations, back_prop=back_prop,
            swap_memory=swap_memory, maximum_iterations=n)
        results = [ta.stack() for ta in results_ta]
        n_static = _leading_dimension(elems_flat)
        for result in results:
            result.set_shape(tensor_shape.TensorShape([n_static]).concatenate(result.shape[1:]))
        return _pack_like(output_structure, results)
