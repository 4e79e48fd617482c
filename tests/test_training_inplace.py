"""In-place variable updates of the training ops: a kernel writes into a variable's (and its
slots') arrays only when nothing else holds them, with exactly the bits of the allocating path;
values fetched, fed, adopted or still held by other kernels never change. Compared with real
TensorFlow for Adam."""

import weakref

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.ops import _helpers, kernel_threads, training_ops
from tf_oracle import require_tensorflow, run_tensorflow

RNG = np.random.default_rng(7)


@pytest.fixture(params=["whole", "blocks_and_threads"])
def cutting(request, monkeypatch):
    """Runs a test with the default blocks and splitting, or with tiny blocks (ragged last
    block) split over kernel threads whatever the size."""
    if request.param == "blocks_and_threads":
        monkeypatch.setattr(training_ops, "_BLOCK_BYTES", 40)
        monkeypatch.setattr(kernel_threads, "MIN_WORK_PER_PART", 1)
        monkeypatch.setattr(kernel_threads, "_MIN_JUDGED_TIME", float("inf"))
        monkeypatch.setattr(kernel_threads, "_split_again_at", 0.0)
        previous = kernel_threads.set_threads(2)
        yield request.param
        kernel_threads.set_threads(previous)
    else:
        yield request.param


# op builder, slot initial values (None: positive random), scalars after the slots (grad last
# or at its OpDef place, marked "grad"), attrs.
CASES = {
    "GradientDescent": (training_ops.apply_gradient_descent, [], [0.1, "grad"], {}),
    "Momentum": (training_ops.apply_momentum, [None], [0.1, "grad", 0.9], {}),
    "MomentumNesterov": (training_ops.apply_momentum, [None], [0.1, "grad", 0.9],
                         {"use_nesterov": True}),
    "Adam": (training_ops.apply_adam, [None, None],
             [0.9 ** 3, 0.999 ** 3, 0.01, 0.9, 0.999, 1e-7, "grad"], {}),
    "AdamNesterov": (training_ops.apply_adam, [None, None],
                     [0.9 ** 3, 0.999 ** 3, 0.01, 0.9, 0.999, 1e-7, "grad"],
                     {"use_nesterov": True}),
    "RMSProp": (training_ops.apply_rms_prop, [None, None], [0.01, 0.9, 0.5, 1e-6, "grad"], {}),
    "CenteredRMSProp": (training_ops.apply_centered_rms_prop, [0.0, None, None],
                        [0.01, 0.9, 0.5, 1e-6, "grad"], {}),
    "Adagrad": (training_ops.apply_adagrad, [None], [0.1, "grad"], {}),
    "AdagradNoSlots": (training_ops.apply_adagrad, [None], [0.1, "grad"],
                       {"update_slots": False}),
    "AdagradV2": (training_ops.apply_adagrad_v2, [None], [0.1, 1e-7, "grad"], {}),
    "Adadelta": (training_ops.apply_adadelta, [None, None], [1.0, 0.95, 1e-6, "grad"], {}),
    "ProximalGradientDescent": (training_ops.apply_proximal_gradient_descent, [],
                                [0.1, 0.01, 0.02, "grad"], {}),
    "Ftrl": (training_ops.apply_ftrl, [None, None], ["grad", 0.1, 0.01, 0.02, -0.5], {}),
}


def _train(case, dtype, in_place, steps=4, shape=(37, 11), resource=False):
    """Runs `steps` updates of CASES[case] on fresh variables; returns their final values and
    whether every update after the first left the variable's array where it was."""
    build, slot_inits, scalars, attrs = CASES[case]
    rng = np.random.default_rng(1)
    var0 = rng.standard_normal(shape).astype(dtype)
    slots0 = [np.full(shape, init, dtype) if init is not None
              else rng.uniform(0.1, 1.0, shape).astype(dtype) for init in slot_inits]
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(steps)]
    graph = tf.Graph()
    with graph.as_default():
        if resource:
            variables = [tf.get_variable("v%d" % i, initializer=tf.constant(value),
                                         use_resource=True)
                         for i, value in enumerate([var0] + slots0)]
            build = getattr(training_ops, "resource_" + build.__name__)
            handles = [v.handle for v in variables]
        else:
            variables = [tf.Variable(value) for value in [var0] + slots0]
            handles = variables
        grad = tf.placeholder(dtype, shape)
        inputs = [grad if s == "grad" else np.asarray(s, dtype) for s in scalars]
        update = build(*handles, *inputs, **attrs)
        stayed = []
        previous, _helpers.IN_PLACE = _helpers.IN_PLACE, in_place
        try:
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                storage = _storage(sess, variables[0], resource)
                for index, g in enumerate(grads):
                    before = weakref.ref(storage.value)
                    sess.run(update, {grad: g})
                    if index:
                        stayed.append(storage.value is before())
                final = sess.run(variables)
        finally:
            _helpers.IN_PLACE = previous
    return final, all(stayed)


def _storage(sess, variable, resource):
    """The session's storage (VarRef) of a variable."""
    if resource:
        sess.run(variable.handle)
        (storage,) = [value for key, value in sess._ctx.resources.items()
                      if key[0] == "variable" and key[2] == variable.handle.op.name]
        return storage
    return sess._ctx.variable(variable.op)


def _whole_array_math(case, dtype, steps=4, shape=(37, 11)):
    """The same updates by the module's whole-array formulas (what the ops gave before they
    wrote in place)."""
    build, slot_inits, scalars, attrs = CASES[case]
    rng = np.random.default_rng(1)
    values = [rng.standard_normal(shape).astype(dtype)]
    values += [np.full(shape, init, dtype) if init is not None
               else rng.uniform(0.1, 1.0, shape).astype(dtype) for init in slot_inits]
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(steps)]
    spec_attrs = {"use_nesterov": False, "update_slots": True, "multiply_linear_by_lr": False}
    spec_attrs.update(attrs)
    math = {"GradientDescent": training_ops._gradient_descent,
            "Momentum": training_ops._momentum, "MomentumNesterov": training_ops._momentum,
            "Adam": training_ops._adam, "AdamNesterov": training_ops._adam,
            "RMSProp": training_ops._rms_prop,
            "CenteredRMSProp": training_ops._centered_rms_prop,
            "Adagrad": training_ops._adagrad, "AdagradNoSlots": training_ops._adagrad,
            "AdagradV2": training_ops._adagrad_v2, "Adadelta": training_ops._adadelta,
            "ProximalGradientDescent": training_ops._proximal_gradient_descent,
            "Ftrl": training_ops._ftrl}[case]
    for g in grads:
        inputs = [g if s == "grad" else np.asarray(s, dtype) for s in scalars]
        values = [np.asarray(v, dtype) for v in math(spec_attrs, *values, *inputs)]
    return values


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("case", sorted(CASES))
def test_in_place_updates_give_the_same_bits(case, dtype, cutting):
    in_place, stayed = _train(case, dtype, in_place=True)
    fresh, moved = _train(case, dtype, in_place=False)
    whole = _whole_array_math(case, dtype)
    assert stayed, "the update did not write into the variable's array"
    assert not moved
    for a, b, c in zip(in_place, fresh, whole):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("case", ["GradientDescent", "Momentum", "Adam", "RMSProp"])
def test_resource_variables_update_in_place(case):
    in_place, stayed = _train(case, np.float32, in_place=True, resource=True)
    fresh, _ = _train(case, np.float32, in_place=False, resource=True)
    assert stayed
    for a, b in zip(in_place, fresh):
        np.testing.assert_array_equal(a, b)


def test_integer_variables_still_update_into_new_arrays():
    graph = tf.Graph()
    with graph.as_default():
        var = tf.Variable(np.arange(6, dtype=np.int32))
        update = training_ops.apply_gradient_descent(var, np.int32(2), np.ones(6, np.int32))
        with tf.Session() as sess:
            sess.run(var.initializer)
            sess.run(update)
            np.testing.assert_array_equal(sess.run(var), np.arange(6) - 2)


def _mlp(use_resource=False):
    x = tf.placeholder(tf.float32, [None, 30])
    w = tf.get_variable("w", initializer=tf.truncated_normal([30, 20], seed=3),
                        use_resource=use_resource)
    b = tf.get_variable("b", initializer=tf.zeros([20]), use_resource=use_resource)
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b))
    return x, w, loss


def _batch():
    return RNG.standard_normal((16, 30)).astype(np.float32)


def test_adam_steps_keep_their_buffers():
    graph = tf.Graph()
    with graph.as_default():
        x, w, loss = _mlp()
        optimizer = tf.train.AdamOptimizer(0.01)
        train = optimizer.minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {x: _batch()})
            refs = [sess._ctx.variable(v.op) for v in
                    (w, optimizer.get_slot(w, "m"), optimizer.get_slot(w, "v"))]
            pointers = [ref.value.ctypes.data for ref in refs]
            for _ in range(3):
                sess.run(train, {x: _batch()})
            assert [ref.value.ctypes.data for ref in refs] == pointers
            assert not any(ref.value.flags.writeable for ref in refs)


def test_use_locking_writes_new_arrays():
    graph = tf.Graph()
    with graph.as_default():
        x, w, loss = _mlp()
        train = tf.train.GradientDescentOptimizer(0.1, use_locking=True).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            ref = sess._ctx.variable(w.op)
            before = weakref.ref(ref.value)
            sess.run(train, {x: _batch()})
            assert ref.value is not before()


def test_fetched_values_do_not_change():
    graph = tf.Graph()
    with graph.as_default():
        x, w, loss = _mlp()
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {x: _batch()})
            fetched = sess.run(w)
            kept = fetched.copy()
            sess.run(train, {x: _batch()})
            np.testing.assert_array_equal(fetched, kept)
            assert not np.array_equal(sess.run(w), kept)


@pytest.mark.parametrize("use_resource", [False, True])
def test_values_read_earlier_in_the_step_do_not_change(use_resource):
    """A kernel output that is (a view of) the variable's array, still held by the step when
    the update runs, keeps the value it had: the update goes to a new array that step."""
    graph = tf.Graph()
    with graph.as_default():
        x, w, loss = _mlp(use_resource=use_resource)
        read = w.read_value() if use_resource else tf.reshape(w, [-1])
        with tf.control_dependencies([read]):
            train = tf.train.AdamOptimizer(0.01).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {x: _batch()})
            previous = sess.run(w)
            got, _ = sess.run([read, train], {x: _batch()})
            np.testing.assert_array_equal(got.reshape(previous.shape), previous)
            assert not np.array_equal(sess.run(w), previous)


def test_reads_fetched_with_the_update_are_copies():
    """v.value() and tf.identity(v) forward the variable (TensorFlow aliases its buffer): when
    fetched with the update they give the updated value, as a copy that later steps leave
    alone."""
    graph = tf.Graph()
    with graph.as_default():
        x, w, loss = _mlp()
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
        reads = [w.value(), tf.identity(w)]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {x: _batch()})
            ref = sess._ctx.variable(w.op)
            pointer = ref.value.ctypes.data
            *fetched, _ = sess.run(reads + [train], {x: _batch()})
            assert ref.value.ctypes.data == pointer  # the update was in place
            kept = [array.copy() for array in fetched]
            for array in fetched:
                np.testing.assert_array_equal(array, sess.run(w))
                assert not np.shares_memory(array, ref.value)
            sess.run(train, {x: _batch()})
            for array, copy in zip(fetched, kept):
                np.testing.assert_array_equal(array, copy)


def test_an_update_reading_its_own_variable_as_gradient():
    """delta is the variable's own array: the update must not read values it already wrote."""
    graph = tf.Graph()
    with graph.as_default():
        start = RNG.standard_normal(1000).astype(np.float32)
        var = tf.Variable(start)
        update = training_ops.apply_gradient_descent(var, np.float32(0.5), var.value())
        with tf.Session() as sess:
            sess.run(var.initializer)
            sess.run(update)
            np.testing.assert_array_equal(sess.run(var), start - start * np.float32(0.5))


def test_fed_and_adopted_arrays_are_never_written():
    graph = tf.Graph()
    with graph.as_default():
        x, w, loss = _mlp()
        new_value = tf.placeholder(tf.float32, [30, 20])
        assign = w.assign(new_value)
        constant = np.ones([20], np.float32)
        bias = tf.Variable(constant)  # initialized from a Const, whose array Assign adopts
        loss = loss + tf.reduce_sum(bias * bias)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            writeable = RNG.standard_normal((30, 20)).astype(np.float32)
            frozen = RNG.standard_normal((30, 20)).astype(np.float32)
            frozen.flags.writeable = False
            for fed in (writeable, frozen):
                kept = fed.copy()
                sess.run(assign, {new_value: fed})
                for _ in range(2):
                    sess.run(train, {x: _batch()})
                np.testing.assert_array_equal(fed, kept)
            assert not np.array_equal(sess.run(bias), constant)
            sess.run(bias.initializer)  # the Const's value is intact
            np.testing.assert_array_equal(sess.run(bias), constant)


def test_sparse_updates_in_place_match_new_arrays():
    def run(in_place):
        graph = tf.Graph()
        with graph.as_default():
            table = tf.Variable(np.arange(40, dtype=np.float32).reshape(10, 4))
            accum = tf.Variable(np.full((10, 4), 0.1, np.float32))
            grad = np.linspace(-1, 1, 16, dtype=np.float32).reshape(4, 4)
            update = training_ops.sparse_apply_adagrad(table, accum, np.float32(0.1), grad,
                                                       np.array([1, 7, 1, 3]))
            previous, _helpers.IN_PLACE = _helpers.IN_PLACE, in_place
            try:
                with tf.Session() as sess:
                    sess.run(tf.global_variables_initializer())
                    ref = sess._ctx.variable(table.op)
                    sess.run(update)
                    before = weakref.ref(ref.value)
                    sess.run(update)
                    return sess.run([table, accum]), ref.value is before()
            finally:
                _helpers.IN_PLACE = previous
    (in_place, stayed), (fresh, moved) = run(True), run(False)
    assert stayed and not moved
    for a, b in zip(in_place, fresh):
        np.testing.assert_array_equal(a, b)


def test_sole_owner_buffer():
    class Holder:
        value = None

    holder = Holder()
    holder.value = np.zeros((4, 5), np.float32)
    owned = _helpers.sole_owner_buffer(holder, np.float32, (4, 5))
    assert owned is holder.value
    del owned
    assert _helpers.sole_owner_buffer(holder, np.float64) is None
    assert _helpers.sole_owner_buffer(holder, shape=(5, 4)) is None
    view = holder.value[1:]
    assert _helpers.sole_owner_buffer(holder) is None  # the view holds the array
    del view
    owned = _helpers.sole_owner_buffer(holder)
    assert owned is holder.value
    del owned
    holder.value = np.zeros((4, 5), np.float32)[:, ::2]
    assert _helpers.sole_owner_buffer(holder) is None  # a view, not C-contiguous
    holder.value = None
    assert _helpers.sole_owner_buffer(holder) is None


ORACLE_ADAM = """
import numpy as np
rng = np.random.default_rng(11)
var0 = rng.standard_normal((50, 40)).astype(np.float32)
grads = rng.standard_normal((5, 50, 40)).astype(np.float32)
var = tf.Variable(var0)
grad = tf.placeholder(tf.float32, var0.shape)
optimizer = tf.train.AdamOptimizer(0.05)
train = optimizer.apply_gradients([(grad, var)])
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for g in grads:
        sess.run(train, {grad: g})
    emit([sess.run(v).tolist() for v in
          (var, optimizer.get_slot(var, "m"), optimizer.get_slot(var, "v"))])
"""


@pytest.mark.tf
def test_adam_in_place_matches_tensorflow():
    require_tensorflow()
    want = run_tensorflow(ORACLE_ADAM)
    rng = np.random.default_rng(11)  # the same data as ORACLE_ADAM's
    var0 = rng.standard_normal((50, 40)).astype(np.float32)
    grads = rng.standard_normal((5, 50, 40)).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default():
        var = tf.Variable(var0)
        grad = tf.placeholder(tf.float32, var0.shape)
        optimizer = tf.train.AdamOptimizer(0.05)
        train = optimizer.apply_gradients([(grad, var)])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            ref = sess._ctx.variable(var.op)
            sess.run(train, {grad: grads[0]})
            pointer = ref.value.ctypes.data
            for g in grads[1:]:
                sess.run(train, {grad: g})
            assert ref.value.ctypes.data == pointer  # updated in place
            got = sess.run([var, optimizer.get_slot(var, "m"), optimizer.get_slot(var, "v")])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, np.array(b, np.float32), rtol=1e-5, atol=1e-7)
