"""In-place updates of the state ops (Assign, AssignAdd/Sub, Scatter*) and of their resource
twins (AssignVariableOp, AssignAdd/SubVariableOp, ResourceScatter*): a kernel writes into a
variable's array only when nothing else holds it and use_locking is off, with exactly the bits
of the allocating path; values fetched, fed, adopted or still held by the step never change.
Compared with real TensorFlow for an EMA + global step + scatter_add program."""

import weakref

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.ops import _helpers, resource_variable_ops, state_ops
from tf_oracle import require_tensorflow, run_tensorflow

SHAPE = (9, 4)
INDICES = np.array([2, 7, 2, 0, 2, 8], np.int32)  # repeats: 2 three times


def _storage(sess, variable):
    """The session's storage (VarRef or VariableStorage) of a ref or resource variable."""
    if resource_variable_ops.is_resource_variable(variable):
        sess.run(variable.handle)
        (storage,) = [value for key, value in sess._ctx.resources.items()
                      if key[0] == "variable" and key[2] == variable.handle.op.name]
        return storage
    return sess._ctx.variable(variable.op)


def _start(dtype):
    rng = np.random.default_rng(3)
    if np.dtype(dtype).kind == "i":
        return rng.integers(1, 50, SHAPE).astype(dtype)
    return rng.uniform(0.5, 2.0, SHAPE).astype(dtype)


def _deltas(dtype, shape, steps):
    rng = np.random.default_rng(5)
    if np.dtype(dtype).kind == "i":
        return [rng.integers(1, 4, shape).astype(dtype) for _ in range(steps)]
    return [rng.uniform(0.5, 1.5, shape).astype(dtype) for _ in range(steps)]


def _build(case, variable, delta):
    """The update `case` of `variable` by the placeholder `delta`, use_locking off."""
    resource = resource_variable_ops.is_resource_variable(variable)
    if case in ("assign_add", "assign_sub"):
        if resource:
            return getattr(variable, case)(delta, read_value=False)
        return getattr(state_ops, case)(variable, delta, use_locking=False)
    if case == "assign":
        # A computed (writeable) value cannot be adopted: it is copied into the buffer.
        if resource:
            return variable.assign(variable * delta, read_value=False)
        return state_ops.assign(variable, variable * delta, use_locking=False)
    op_type = {"scatter_" + mode: mode.capitalize() for mode in
               ("update", "add", "sub", "mul", "div", "max", "min")}[case]
    if resource:
        return apply_op("ResourceScatter" + op_type, resource=variable.handle,
                        indices=INDICES, updates=delta)
    return apply_op("Scatter" + op_type, ref=variable, indices=INDICES, updates=delta,
                    use_locking=False)


def _numpy_step(case, value, delta):
    """What the update computes, by NumPy directly (TF: every update of a repeated index is
    applied in order; ScatterUpdate keeps the last)."""
    value = value.copy()
    if case == "assign_add":
        return value + delta
    if case == "assign_sub":
        return value - delta
    if case == "assign":
        return value * delta
    if case == "scatter_update":
        value[INDICES] = delta
        return value
    if case == "scatter_div" and value.dtype.kind == "i":  # C++'s /: truncated toward zero
        for index, update in zip(INDICES, delta):
            value[index] = np.trunc(value[index] / update).astype(value.dtype)
        return value
    ufunc = {"scatter_add": np.add, "scatter_sub": np.subtract, "scatter_mul": np.multiply,
             "scatter_div": np.divide, "scatter_max": np.maximum,
             "scatter_min": np.minimum}[case]
    ufunc.at(value, INDICES, delta)
    return value


def _run(case, dtype, in_place, resource, steps=4):
    """Final value of `steps` updates and whether each update after the first kept the
    variable's array (the first may replace an array adopted from the initializer's Const)."""
    start = _start(dtype)
    delta_shape = SHAPE if case.startswith("assign") else (len(INDICES),) + SHAPE[1:]
    deltas = _deltas(dtype, delta_shape, steps)
    graph = tf.Graph()
    with graph.as_default():
        variable = tf.get_variable("v", initializer=tf.constant(start),
                                   use_resource=resource)
        delta = tf.placeholder(dtype, delta_shape)
        update = _build(case, variable, delta)
        previous, _helpers.IN_PLACE = _helpers.IN_PLACE, in_place
        try:
            with tf.Session() as sess:
                sess.run(variable.initializer)
                storage = _storage(sess, variable)
                kept = []
                for index, value in enumerate(deltas):
                    before = weakref.ref(storage.value)
                    sess.run(update, {delta: value})
                    if index:
                        kept.append(storage.value is before())
                assert not storage.value.flags.writeable
                final = sess.run(variable)
        finally:
            _helpers.IN_PLACE = previous
    expected = start
    for value in deltas:
        expected = _numpy_step(case, expected, value)
    return final, expected, kept


CASES = ["assign_add", "assign_sub", "assign", "scatter_update", "scatter_add", "scatter_sub",
         "scatter_mul", "scatter_div", "scatter_max", "scatter_min"]


@pytest.mark.parametrize("resource", [False, True], ids=["ref", "resource"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("case", CASES)
def test_in_place_updates_give_the_same_bits(case, dtype, resource):
    in_place, expected, kept = _run(case, dtype, True, resource)
    fresh, _, moved = _run(case, dtype, False, resource)
    assert all(kept), "the update did not write into the variable's array"
    assert not any(moved)
    assert in_place.dtype == fresh.dtype == dtype
    np.testing.assert_array_equal(in_place, fresh)
    np.testing.assert_array_equal(in_place, expected)


def _pointer(storage):
    return storage.value.ctypes.data


def test_global_step_increments_in_place():
    graph = tf.Graph()
    with graph.as_default():
        step = tf.train.get_or_create_global_step()
        increment = tf.assign_add(step, 1)
        with tf.Session() as sess:
            sess.run(step.initializer)
            storage = _storage(sess, step)
            sess.run(increment)  # the first replaces the zeros adopted from the Const
            pointer, array = _pointer(storage), weakref.ref(storage.value)
            for _ in range(50):
                sess.run(increment)
            assert storage.value is array() and _pointer(storage) == pointer
            assert sess.run(step) == 51
            assert tf.train.global_step(sess, step) == 51


def test_moving_average_shadows_update_in_place():
    graph = tf.Graph()
    with graph.as_default():
        weights = tf.Variable(np.linspace(-1, 1, 1000, dtype=np.float32))
        step = tf.train.get_or_create_global_step()
        ema = tf.train.ExponentialMovingAverage(0.99, num_updates=step)
        average = ema.apply([weights])
        with tf.control_dependencies([average]):
            train = tf.group(tf.assign_add(weights, tf.fill([1000], 0.5)),
                             tf.assign_add(step, 1))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            storages = [_storage(sess, v) for v in (weights, ema.average(weights), step)]
            sess.run(train)
            pointers = [_pointer(s) for s in storages]
            arrays = [weakref.ref(s.value) for s in storages]
            for _ in range(5):
                sess.run(train)
            assert [_pointer(s) for s in storages] == pointers
            assert all(s.value is a() for s, a in zip(storages, arrays))


def test_sparse_adam_embedding_updates_in_place():
    """Sparse Adam: assign(m, m * beta1) copies into m's buffer, scatter_add adds the rows
    there, assign_sub updates the table; no buffer moves after the first step."""
    graph = tf.Graph()
    with graph.as_default():
        table = tf.Variable(np.random.default_rng(2).standard_normal((50, 8)).astype(np.float32))
        ids = tf.placeholder(tf.int32, [None])
        loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(table, ids)))
        optimizer = tf.train.AdamOptimizer(0.1)
        train = optimizer.minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            storages = [_storage(sess, v) for v in
                        (table, optimizer.get_slot(table, "m"), optimizer.get_slot(table, "v"))]
            sess.run(train, {ids: [1, 4, 4]})
            pointers = [_pointer(s) for s in storages]
            arrays = [weakref.ref(s.value) for s in storages]
            for batch in ([3, 1, 3], [0, 49], [4]):
                sess.run(train, {ids: batch})
            assert [_pointer(s) for s in storages] == pointers
            assert all(s.value is a() for s, a in zip(storages, arrays))


@pytest.mark.parametrize("resource", [False, True], ids=["ref", "resource"])
def test_fetched_fed_and_adopted_arrays_are_never_written(resource):
    graph = tf.Graph()
    with graph.as_default():
        constant = np.arange(12, dtype=np.float32)
        variable = tf.get_variable("v", initializer=tf.constant(constant),
                                   use_resource=resource)
        other = tf.get_variable("w", initializer=tf.zeros([12]), use_resource=resource)
        new_value = tf.placeholder(tf.float32, [12])
        delta = tf.placeholder(tf.float32, [12])
        if resource:
            assign = variable.assign(new_value, read_value=False)
            add = variable.assign_add(delta, read_value=False)
            scatter = resource_variable_ops.resource_scatter_add(variable.handle, [3, 3], [1., 2.])
            share = other.assign(variable.value(), read_value=False)
        else:
            assign = tf.assign(variable, new_value, use_locking=False)
            add = tf.assign_add(variable, delta)
            scatter = tf.scatter_add(variable, [3, 3], [1., 2.])
            share = tf.assign(other, variable, use_locking=False)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            writeable = np.linspace(0, 1, 12, dtype=np.float32)
            frozen = np.linspace(2, 3, 12, dtype=np.float32)
            frozen.flags.writeable = False
            added = np.ones(12, np.float32)
            for fed in (writeable, frozen):
                kept = fed.copy()
                sess.run(assign, {new_value: fed})
                fetched = sess.run(variable)
                fetched_kept = fetched.copy()
                for _ in range(2):
                    sess.run(add, {delta: added})
                    sess.run(scatter)
                np.testing.assert_array_equal(fed, kept)
                np.testing.assert_array_equal(added, np.ones(12, np.float32))
                np.testing.assert_array_equal(fetched, fetched_kept)
                np.testing.assert_array_equal(sess.run(variable),
                                              kept + 2 + np.eye(12, dtype=np.float32)[3] * 6)
            # Another variable that took (adopted) this one's array keeps its value.
            sess.run(share)
            shared = sess.run(other)
            sess.run(add, {delta: added})
            sess.run(scatter)
            np.testing.assert_array_equal(sess.run(other), shared)
            assert not np.array_equal(sess.run(variable), shared)
            sess.run(variable.initializer)  # the Const's value is intact
            np.testing.assert_array_equal(sess.run(variable), constant)


@pytest.mark.parametrize("resource", [False, True], ids=["ref", "resource"])
@pytest.mark.parametrize("case", ["assign_add", "scatter_add", "assign"])
def test_a_view_held_under_a_control_dependency_keeps_its_value(case, resource):
    """A value read earlier in the step (a view of the variable's array) and still held when
    the update runs keeps the value it had: the update goes to a new array that step."""
    graph = tf.Graph()
    with graph.as_default():
        variable = tf.get_variable("v", initializer=tf.constant(_start(np.float32)),
                                   use_resource=resource)
        read = variable.read_value() if resource else tf.reshape(variable, [-1])
        delta = tf.placeholder(tf.float32, SHAPE if case != "scatter_add" else (6, 4))
        with tf.control_dependencies([read]):
            update = _build(case, variable, delta)
        with tf.Session() as sess:
            sess.run(variable.initializer)
            sess.run(update, {delta: np.full(delta.shape.as_list(), 2, np.float32)})
            previous = sess.run(variable)
            got, _ = sess.run([read, update],
                              {delta: np.full(delta.shape.as_list(), 3, np.float32)})
            np.testing.assert_array_equal(got.reshape(SHAPE), previous)
            assert not np.array_equal(sess.run(variable), previous)


@pytest.mark.parametrize("build", [
    lambda v: tf.assign_add(v, tf.ones(SHAPE), use_locking=True),
    lambda v: tf.assign(v, v * 2.0),  # use_locking defaults to True
    lambda v: tf.scatter_add(v, [1, 1], tf.ones((2, 4)), use_locking=True),
    lambda v: tf.scatter_update(v, [1, 1], tf.ones((2, 4))),  # use_locking defaults to True
], ids=["assign_add", "assign", "scatter_add", "scatter_update"])
def test_use_locking_writes_new_arrays(build):
    graph = tf.Graph()
    with graph.as_default():
        variable = tf.Variable(_start(np.float32))
        update = build(variable)
        with tf.Session() as sess:
            sess.run(variable.initializer)
            storage = _storage(sess, variable)
            sess.run(update)
            for _ in range(2):
                before = weakref.ref(storage.value)
                sess.run(update)
                assert storage.value is not before()


def test_restore_into_a_variable_still_adopts(tmp_path):
    """Assign adopts the read-only array RestoreV2 read (into the variable's own buffer)."""
    graph = tf.Graph()
    with graph.as_default():
        variable = tf.Variable(_start(np.float32))
        increment = tf.assign_add(variable, tf.ones(SHAPE))
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(variable.initializer)
            sess.run(increment)
            saved = sess.run(variable)
            path = saver.save(sess, str(tmp_path / "model"))
            sess.run(increment)
            storage = _storage(sess, variable)
            pointer = _pointer(storage)
            saver.restore(sess, path)
            np.testing.assert_array_equal(sess.run(variable), saved)
            assert _pointer(storage) == pointer
            sess.run(increment)
            assert _pointer(storage) == pointer


ORACLE_PROGRAM = """
import numpy as np
rng = np.random.default_rng(17)
start = rng.standard_normal((20, 8)).astype(np.float32)
batches = [(rng.integers(0, 20, 6).astype(np.int32), rng.standard_normal((6, 8)).astype(np.float32))
           for _ in range(5)]
weights = tf.Variable(start)
step = tf.train.get_or_create_global_step()
indices = tf.placeholder(tf.int32, [None])
rows = tf.placeholder(tf.float32, [None, 8])
scatter = tf.scatter_add(weights, indices, rows)
ema = tf.train.ExponentialMovingAverage(0.9, num_updates=step)
average = ema.apply([weights])
increment = tf.assign_add(step, 1)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for batch_indices, batch_rows in batches:
        sess.run(scatter, {indices: batch_indices, rows: batch_rows})
        sess.run(average)
        sess.run(increment)
    emit([sess.run(weights).tolist(), sess.run(ema.average(weights)).tolist(),
          int(sess.run(step))])
"""


@pytest.mark.tf
def test_ema_global_step_and_scatter_add_match_tensorflow():
    require_tensorflow()
    want = run_tensorflow(ORACLE_PROGRAM)
    namespace = {"tf": tf, "emit": lambda obj: got.append(obj)}
    got = []
    exec(ORACLE_PROGRAM, namespace)  # the same program, under tensorkeep
    (weights, average, step), = got
    np.testing.assert_allclose(np.array(weights, np.float32), np.array(want[0], np.float32),
                               rtol=1e-6)
    np.testing.assert_allclose(np.array(average, np.float32), np.array(want[1], np.float32),
                               rtol=1e-6)
    assert step == want[2] == 5


_INTEGER_SCATTER_DIV = """
v = tf.Variable([-7, 7, -7, 7, 9, 100, -9], dtype=tf.int32)
r = tf.Variable([-7, 7, -7, 7, 9, 100, -9], dtype=tf.int64, use_resource=True)
indices, updates = [0, 1, 2, 3, 4, 4, 6, 6], [2, -2, -2, 2, 2, 2, 4, -3]
outputs = [tf.scatter_div(v, indices, updates), tf.scatter_div(r, indices, updates)]
"""


def test_integer_scatter_div_truncates_as_tensorflow_and_rejects_zero():
    with tf.Graph().as_default():
        namespace = {"tf": tf}
        exec(_INTEGER_SCATTER_DIV, namespace)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            ours = [value.tolist() for value in sess.run(namespace["outputs"])]
            # TensorFlow's process dies of SIGFPE here; tensorkeep raises and changes nothing.
            before = sess.run(namespace["v"])
            with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
                sess.run(tf.scatter_div(namespace["v"], [0, 1], [3, 0]))
            np.testing.assert_array_equal(sess.run(namespace["v"]), before)
    assert ours[0] == [-3, -3, 3, 3, 2, 100, 0]  # 9 / 2 / 2 = 2; -9 / 4 = -2, / -3 = 0
    require_tensorflow()
    theirs = run_tensorflow(_INTEGER_SCATTER_DIV + """
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    emit([value.tolist() for value in sess.run(outputs)])
""")
    assert ours == theirs
