"""Sparse-tensor programs run identically under tensorkeep and real TensorFlow (as `tf`): each
case builds a graph in a fresh Graph and returns the tensors to fetch."""

import numpy as np

UNORDERED = ([[1, 2], [0, 1], [0, 0], [1, 0]], [4., 2., 1., 3.], [2, 3])


def _sp(tf, spec, dtype="float32"):
    indices, values, shape = spec
    return tf.SparseTensor(np.array(indices, np.int64), np.array(values, dtype),
                           np.array(shape, np.int64))


def _dynamic_sp(tf, spec):
    """A SparseTensor whose dense shape is only known when the graph runs."""
    indices, values, shape = spec
    return tf.SparseTensor(np.array(indices, np.int64), np.array(values, np.float32),
                           tf.placeholder_with_default(np.array(shape, np.int64), [None]))


def case_matmul(tf):
    sp = _sp(tf, UNORDERED)
    b = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2))
    bt = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    out = [tf.sparse_tensor_dense_matmul(sp, b), tf.sparse.sparse_dense_matmul(sp, bt,
                                                                             adjoint_a=True),
           tf.sparse_tensor_dense_matmul(sp, bt, adjoint_b=True, name="mm"),
           tf.sparse_tensor_dense_matmul(sp, b, adjoint_a=True, adjoint_b=True)]
    loss = sum(tf.reduce_sum(x * x) for x in out)
    return out + tf.gradients(loss, [sp.values, b, bt])


def case_matmul_duplicates(tf):
    sp = _sp(tf, ([[0, 0], [0, 0], [1, 1]], [1., 2., 3.], [2, 2]))
    return [tf.sparse_tensor_dense_matmul(sp, tf.ones([2, 2]))]


def case_add(tf):
    a = tf.sparse_reorder(_sp(tf, UNORDERED))
    b = _sp(tf, ([[0, 0], [0, 2], [1, 2]], [-1., 5., 0.5], [2, 3]))
    total = tf.sparse_add(a, b)
    thresholded = tf.sparse.add(a, b, threshold=1.0)
    dense = tf.sparse_add(tf.ones([2, 3]), a)
    loss = tf.reduce_sum(total.values * thresholded.values[:1]) + tf.reduce_sum(dense * dense)
    return [total, thresholded, dense] + tf.gradients(loss, [a.values, b.values])


def case_reorder_reshape(tf):
    sp = _sp(tf, UNORDERED)
    reordered = tf.sparse_reorder(sp)
    reshaped = tf.sparse_reshape(reordered, [3, -1])
    reshaped3 = tf.sparse.reshape(sp, tf.constant([1, 6, 1], tf.int64), name="rs")
    weights = tf.constant([1., 2., 3., 4.])
    return [reordered, reshaped, reshaped3,
            tf.gradients(tf.reduce_sum(reordered.values * weights), sp.values)[0]]


def case_reduce(tf):
    sp = tf.sparse_reorder(_sp(tf, ([[0, 0, 1], [0, 2, 0], [1, 1, 1], [1, 2, 1]],
                                    [1., -2., 3., 4.], [2, 3, 2])))
    sums = [tf.sparse_reduce_sum(sp), tf.sparse_reduce_sum(sp, 1),
            tf.sparse.reduce_sum(sp, [0, -1], keepdims=True)]
    maxes = [tf.sparse_reduce_max(sp, 2), tf.sparse.reduce_max(sp, -1, keepdims=True)]
    sparse_out = [tf.sparse_reduce_sum_sparse(sp, 1), tf.sparse_reduce_max_sparse(sp, [0, 2]),
                  tf.sparse.reduce_sum_sparse(sp, 0, keepdims=True)]
    loss = tf.reduce_sum(sums[1] * sums[1]) + tf.reduce_sum(sums[2])
    return sums + maxes + sparse_out + tf.gradients(loss, sp.values)


def case_softmax(tf):
    sp = tf.sparse_reorder(_sp(tf, ([[0, 0], [0, 2], [1, 1], [2, 0], [2, 1], [2, 2]],
                                    [1., 2., 3., 0.5, -1., 4.], [3, 3])))
    out = tf.sparse_softmax(sp)
    weights = tf.constant([1., 2., 3., 4., 5., 6.])
    return [out, tf.gradients(tf.reduce_sum(out.values * weights), sp.values)[0]]


def case_cwise(tf):
    sp = tf.sparse_reorder(_sp(tf, UNORDERED))
    dense = tf.constant([[2., 4., 8.], [1., 0.5, 0.25]])
    row = tf.constant([10., 20., 30.])
    mul = sp * dense
    div = sp / row
    add = tf.sparse_add(sp, dense)
    loss = tf.reduce_sum(mul.values) + tf.reduce_sum(div.values * div.values)
    return [mul, div, add] + tf.gradients(loss, [sp.values, dense, row])


def case_maximum_minimum(tf):
    a = tf.sparse_reorder(_sp(tf, UNORDERED))
    b = _sp(tf, ([[0, 0], [0, 2], [1, 2]], [-1., -5., 6.], [2, 3]))
    return [tf.sparse_maximum(a, b), tf.sparse.minimum(a, b, name="lo")]


def case_dense_retain_transpose(tf):
    sp = tf.sparse_reorder(_sp(tf, UNORDERED))
    return [tf.sparse_tensor_to_dense(sp), tf.sparse.to_dense(sp, default_value=-1.),
            tf.sparse_retain(sp, [True, False, True, False]), tf.sparse_transpose(sp),
            tf.sparse.transpose(sp, [1, 0], name="tp")]


def case_placeholder(tf):
    sp = tf.sparse_placeholder(tf.float32, name="ph")
    sp_shaped = tf.sparse.placeholder(tf.float32, shape=[2, None])
    feed = {sp: tf.SparseTensorValue(np.array([[0, 1], [1, 0]], np.int64),
                                     np.array([3., 4.], np.float32),
                                     np.array([2, 2], np.int64)),
            sp_shaped.indices: np.array([[1, 1]], np.int64),
            sp_shaped.values: np.array([5.], np.float32)}
    return [tf.sparse_reduce_sum(sp, 1), sp_shaped], feed


def case_concat(tf):
    a = tf.sparse_reorder(_sp(tf, UNORDERED))
    b = _sp(tf, ([[0, 1], [1, 0], [1, 3]], [5., 6., 7.], [2, 4]))
    c = _sp(tf, ([[0, 0], [0, 2]], [8., 9.], [1, 3]))
    d = _sp(tf, ([[0, 1], [2, 0]], [10., 11.], [3, 2]))
    partly_known = _dynamic_sp(tf, ([[1, 1]], [12.], [2, 2]))
    return [tf.sparse_concat(1, [a, b]), tf.sparse.concat(0, [a, c], name="rows"),
            tf.sparse_concat(1, [a, partly_known]),
            tf.sparse_concat(-1, [a, b, a]),
            tf.sparse.concat(axis=0, sp_inputs=[c, d], expand_nonconcat_dim=True)]


def case_slice_split(tf):
    sp = tf.sparse_reorder(_sp(tf, ([[0, 0], [0, 3], [1, 1], [1, 4], [2, 2]],
                                    [1., 2., 3., 4., 5.], [3, 5])))
    sliced = tf.sparse_slice(sp, [0, 1], [2, 10])
    pieces = tf.sparse_split(sp_input=sp, num_split=2, axis=1)
    rows = tf.sparse.split(sp_input=sp, num_split=3, axis=0, name="rows")
    weights = tf.constant([1., 2., 3.])
    grad = tf.gradients(tf.reduce_sum(sliced.values * weights), sp.values)
    return [sliced] + pieces + rows + grad


def case_fill_empty_rows(tf):
    sp = _sp(tf, ([[3, 1], [1, 0], [3, 0]], [1., 2., 3.], [5, 2]))
    filled, empty = tf.sparse_fill_empty_rows(sp, -1.)
    default = tf.constant(7.)
    filled2, _ = tf.sparse.fill_empty_rows(sp, default, name="fill")
    weights = tf.constant([1., 2., 3., 4., 5., 6.])
    grads = tf.gradients(tf.reduce_sum(filled2.values * weights), [sp.values, default])
    return [filled, empty, filled2] + grads


def case_mask_merge_indicator(tf):
    slices = tf.IndexedSlices(tf.constant([[1., 2.], [3., 4.], [5., 6.]]),
                              tf.constant([0, 3, 5]), tf.constant([6, 2]))
    masked = tf.sparse_mask(slices, [3])
    ids = _sp(tf, ([[0, 0], [0, 1], [1, 0]], [4, 1, 2], [2, 2]), "int64")
    weights = _sp(tf, ([[0, 0], [0, 1], [1, 0]], [0.5, 1.5, 2.5], [2, 2]))
    merged = tf.sparse_merge(ids, weights, 5)
    indicator = tf.sparse_to_indicator(ids, 5)
    return [masked.values, masked.indices, merged, indicator]


def case_unordered_and_duplicate_indices(tf):
    duplicates = _sp(tf, ([[1, 2], [0, 1], [1, 2], [0, 0], [0, 1]], [1., 2., 3., 4., 5.],
                          [2, 3]))
    other = _sp(tf, ([[1, 0], [0, 1]], [10., 20.], [2, 3]))
    return [tf.sparse_reduce_sum(duplicates, 1), tf.sparse_reduce_max(duplicates, 0),
            tf.sparse_reduce_sum_sparse(duplicates, 0), tf.sparse_reorder(duplicates),
            tf.sparse_add(duplicates, other), tf.sparse_add(duplicates, tf.zeros([2, 3])),
            tf.sparse_tensor_dense_matmul(duplicates, tf.ones([3, 1])),
            tf.sparse_maximum(duplicates, other), duplicates * tf.constant([1., 2., 3.]),
            _sp(tf, ([[0, 0], [0, 1], [1, 2]], [7, -7, 6], [2, 3]), "int32")
            / tf.constant([2, 2, -4]),
            tf.sparse_slice(duplicates, [0, 1], [2, 2]),
            tf.sparse_concat(0, [duplicates, other])]


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}

# (case, op builder) programs whose Session.run fails with InvalidArgumentError.
ERROR_CASES = {
    "matmul_out_of_bounds": lambda tf: tf.sparse_tensor_dense_matmul(
        _sp(tf, ([[0, 0], [3, 1]], [1., 2.], [2, 2])), tf.ones([2, 2])),
    "matmul_column_out_of_bounds": lambda tf: tf.sparse_tensor_dense_matmul(
        _sp(tf, ([[0, 5]], [1.], [2, 2])), tf.ones([2, 2])),
    "matmul_inner_mismatch": lambda tf: tf.sparse_tensor_dense_matmul(
        _sp(tf, ([[0, 0]], [1.], [2, 2])), tf.placeholder_with_default(tf.ones([3, 2]),
                                                                        [None, None])),
    "reorder_out_of_bounds": lambda tf: tf.sparse_reorder(
        _sp(tf, ([[0, 0], [2, 1]], [1., 2.], [2, 2]))).values,
    "add_shape_mismatch": lambda tf: tf.sparse_add(
        _dynamic_sp(tf, ([[0, 0]], [1.], [2, 2])),
        _dynamic_sp(tf, ([[0, 0]], [1.], [2, 3]))).values,
    "add_rank_mismatch": lambda tf: tf.sparse_add(
        _dynamic_sp(tf, ([[0, 0]], [1.], [2, 2])), _dynamic_sp(tf, ([[0]], [1.], [2]))).values,
    "dense_add_shape_mismatch": lambda tf: tf.sparse_add(
        _sp(tf, ([[0, 0]], [1.], [2, 2])), tf.placeholder_with_default(tf.ones([2, 3]),
                                                                        [None, None])),
    "reshape_bad_size": lambda tf: tf.sparse_reshape(
        _sp(tf, ([[0, 0]], [1.], [2, 3])), tf.placeholder_with_default(
            np.array([4, 2], np.int64), [2])).indices,
    "reshape_two_unknown": lambda tf: tf.sparse_reshape(
        _sp(tf, ([[0, 0]], [1.], [2, 3])), tf.placeholder_with_default(
            np.array([-1, -1], np.int64), [2])).indices,
    "reduce_bad_axis": lambda tf: tf.sparse_reduce_sum(
        _sp(tf, ([[0, 0]], [1.], [2, 3])), tf.placeholder_with_default(3, [])),
    "to_dense_unordered": lambda tf: tf.sparse_tensor_to_dense(_sp(tf, UNORDERED)),
    "maximum_shape_mismatch": lambda tf: tf.sparse_maximum(
        _dynamic_sp(tf, ([[0, 0]], [1.], [2, 2])),
        _dynamic_sp(tf, ([[0, 0]], [1.], [2, 3]))).values,
    "softmax_rank_one": lambda tf: tf.sparse_softmax(_dynamic_sp(tf, ([[0]], [1.], [2]))).values,
    "cwise_bad_broadcast": lambda tf: (_dynamic_sp(tf, ([[0, 0]], [1.], [2, 2]))
                                       * tf.placeholder_with_default(tf.ones([3]), [None])).values,
    "split_bad_axis": lambda tf: tf.sparse_split(
        sp_input=_dynamic_sp(tf, ([[0, 0]], [1.], [2, 2])), num_split=2,
        axis=tf.placeholder_with_default(np.int64(3), []))[0].values,
    "concat_shape_mismatch": lambda tf: tf.sparse_concat(
        1, [_dynamic_sp(tf, ([[0, 0]], [1.], [2, 2])),
            _dynamic_sp(tf, ([[0, 0]], [1.], [3, 2]))]).values,
    "fill_empty_rows_out_of_bounds": lambda tf: tf.sparse_fill_empty_rows(
        _sp(tf, ([[4, 0]], [1.], [2, 2])), 0.)[0].values,
    "to_dense_repeated": lambda tf: tf.sparse_tensor_to_dense(
        _sp(tf, ([[0, 0], [0, 1], [0, 1]], [1., 2., 3.], [2, 2]))),
    "to_dense_out_of_bounds": lambda tf: tf.sparse.to_dense(
        _sp(tf, ([[0, 0], [1, 0], [0, 1], [2, 2]], [1., 2., 3., 4.], [2, 2]))),
    "dense_add_out_of_bounds": lambda tf: tf.sparse_add(
        _sp(tf, ([[0, 5]], [1.], [2, 2])), tf.ones([2, 2])),
}

OP_TYPES = ["SparseTensorDenseMatMul", "SparseAdd", "SparseAddGrad", "SparseTensorDenseAdd",
            "SparseReorder", "SparseReshape", "SparseReduceSum", "SparseReduceSumSparse",
            "SparseReduceMax", "SparseReduceMaxSparse", "SparseSoftmax", "SparseDenseCwiseMul",
            "SparseDenseCwiseDiv", "SparseDenseCwiseAdd", "SparseSparseMaximum",
            "SparseSparseMinimum", "SparseConcat", "SparseSlice", "SparseSliceGrad",
            "SparseSplit", "SparseFillEmptyRows", "SparseFillEmptyRowsGrad"]


def _plain(value):
    if hasattr(value, "indices") and hasattr(value, "dense_shape"):
        return {"indices": _plain(value.indices), "values": _plain(value.values),
                "dense_shape": _plain(value.dense_shape)}
    array = np.asarray(value)
    return {"dtype": str(array.dtype), "shape": list(array.shape),
            "value": array.astype(np.float64).tolist()}


def _static_shape(fetch):
    shape = fetch.get_shape() if hasattr(fetch, "get_shape") else fetch.shape
    return None if shape.ndims is None else [
        None if d is None else int(d) for d in shape.as_list()]


def run_all(tf):
    """{case: {"nodes": [...], "results": [...]}, error case: {"error": (class, message)}}."""
    results = {}
    for name, build in CASES.items():
        with tf.Graph().as_default() as graph:
            built = build(tf)
            fetches, feed = built if isinstance(built, tuple) else (built, None)
            nodes = ["%s:%s:%s" % (node.name, node.op, ",".join(node.input))
                     for node in graph.as_graph_def().node]
            static_shapes = [_static_shape(fetch) for fetch in fetches]
            with tf.Session() as sess:
                values = sess.run(fetches, feed_dict=feed)
        results[name] = {"nodes": nodes, "static_shapes": static_shapes,
                         "results": [_plain(v) for v in values]}
    for name, build in ERROR_CASES.items():
        with tf.Graph().as_default():
            fetch = build(tf)
            with tf.Session() as sess:
                try:
                    sess.run(fetch)
                    results[name] = {"error": None, "value": _plain(sess.run(fetch))}
                except Exception as exc:  # noqa: BLE001 (the class is what is compared)
                    message = getattr(exc, "message", str(exc))
                    results[name] = {"error": [type(exc).__name__, message]}
    return results
