"""RNN models built the same way by real TensorFlow (tf.compat.v1 with the legacy cells) and by
tensorkeep: each case function builds its graph in the current default graph and returns
{name: fetch}; `feeds(placeholders)` gives fixed inputs. Used by tests/test_rnn.py on both sides."""

import numpy as np

BATCH, TIME, DEPTH = 3, 4, 2
LENGTHS = [4, 2, 0]


def inputs():
    return np.random.RandomState(7).uniform(-1, 1, (BATCH, TIME, DEPTH)).astype(np.float32)


def labels():
    return np.array([1, 0, 2], dtype=np.int32)


def _flat(tf, structure):
    if isinstance(structure, (list, tuple)):
        return [t for item in structure for t in _flat(tf, item)]
    return [structure]


def _fetches(tf, outputs, state):
    fetches = {"output_%d" % i: t for i, t in enumerate(_flat(tf, outputs))}
    fetches.update({"state_%d" % i: t for i, t in enumerate(_flat(tf, state))})
    return fetches


def basic_lstm(tf, cells):
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH], name="x")
    out, state = tf.nn.dynamic_rnn(cells.BasicLSTMCell(5), x, dtype=tf.float32)
    return _fetches(tf, out, state)


def lstm_peephole_proj_seqlen(tf, cells):
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH], name="x")
    cell = cells.LSTMCell(4, use_peepholes=True, num_proj=3, cell_clip=0.3, proj_clip=0.2,
                          initializer=tf.random_uniform_initializer(-1.5, 1.5))
    out, state = tf.nn.dynamic_rnn(cell, x, sequence_length=LENGTHS, dtype=tf.float32,
                                   scope="peep")
    return _fetches(tf, out, state)


def gru_time_major_seqlen(tf, cells):
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH], name="x")
    cell = cells.GRUCell(4, kernel_initializer=tf.random_normal_initializer(stddev=0.7))
    state0 = tf.ones([BATCH, 4]) * 0.5
    out, state = tf.nn.dynamic_rnn(cell, tf.transpose(x, [1, 0, 2]), initial_state=state0,
                                   sequence_length=tf.constant(LENGTHS, tf.int64),
                                   time_major=True, parallel_iterations=4, swap_memory=True)
    return _fetches(tf, out, state)


def multi_cell(tf, cells):
    x = tf.placeholder(tf.float32, [None, TIME, DEPTH], name="x")
    cell = cells.MultiRNNCell([cells.BasicLSTMCell(3),
                               cells.DeviceWrapper(cells.GRUCell(4), "/cpu:0"),
                               cells.BasicRNNCell(2)])
    out, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, sequence_length=LENGTHS)
    return _fetches(tf, out, state)


def static_seqlen(tf, cells):
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH], name="x")
    steps = tf.unstack(x, axis=1)
    cell = cells.LSTMCell(3, state_is_tuple=False)
    out, state = tf.nn.static_rnn(cell, steps, dtype=tf.float32, sequence_length=LENGTHS)
    out2, state2 = tf.nn.static_rnn(cells.BasicRNNCell(2), steps, dtype=tf.float32,
                                    scope="plain")
    fetches = _fetches(tf, out, state)
    fetches.update({"plain_" + k: v for k, v in _fetches(tf, out2, state2).items()})
    return fetches


def bidirectional(tf, cells):
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH], name="x")
    (out_fw, out_bw), (state_fw, state_bw) = tf.nn.bidirectional_dynamic_rnn(
        cells.GRUCell(3), cells.BasicLSTMCell(2), x, dtype=tf.float32)
    return _fetches(tf, [out_fw, out_bw], [state_fw, state_bw])


def bidirectional_seqlen_time_major(tf, cells):
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH], name="x")
    lengths = tf.placeholder_with_default(tf.constant(LENGTHS, tf.int64), [BATCH])
    outputs, states = tf.nn.bidirectional_dynamic_rnn(
        cells.MultiRNNCell([cells.BasicRNNCell(3), cells.BasicRNNCell(2)]),
        cells.LSTMCell(2, forget_bias=0.5), tf.transpose(x, [1, 0, 2]), sequence_length=lengths,
        dtype=tf.float32, time_major=True, scope="birnn")
    fetches = _fetches(tf, outputs, states)
    fetches["grad_x"] = tf.gradients(tf.reduce_sum(outputs[1] * outputs[1]), x)[0]
    return fetches


def dropout_wrapper(tf, cells):
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH], name="x")
    keep = tf.placeholder_with_default(0.6, [])
    cell = cells.MultiRNNCell([
        cells.DropoutWrapper(cells.BasicLSTMCell(3), input_keep_prob=0.8, output_keep_prob=keep,
                             state_keep_prob=0.5, seed=5),
        cells.DropoutWrapper(cells.GRUCell(4), state_keep_prob=0.7, seed=9)])
    # one iteration at a time: with parallel iterations TensorFlow's steps draw from each
    # dropout's random stream in a nondeterministic order
    out, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, sequence_length=LENGTHS,
                                   parallel_iterations=1)
    return _fetches(tf, out, state)


def concatenated_states_shared_cell(tf, cells):
    """Concatenated (non-tuple) states, a named cell, and one cell object run twice: the
    second run reuses the first one's variables."""
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH], name="x")
    cell = cells.MultiRNNCell([cells.BasicLSTMCell(3, state_is_tuple=False, forget_bias=0.0),
                               cells.GRUCell(2, name="my_gru", activation=tf.nn.relu)],
                              state_is_tuple=False)
    out, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, scope="encoder")
    out2, state2 = tf.nn.dynamic_rnn(cell, x[:, ::-1], initial_state=state, scope="decoder")
    return _fetches(tf, [out, out2], [state, state2])


def static_bidirectional_residual(tf, cells):
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH], name="x")
    steps = tf.unstack(x, axis=1)
    outputs, state_fw, state_bw = tf.nn.static_bidirectional_rnn(
        cells.ResidualWrapper(cells.GRUCell(DEPTH)), cells.BasicLSTMCell(3), steps,
        sequence_length=tf.constant(LENGTHS, tf.int64), dtype=tf.float32)
    fetches = _fetches(tf, outputs, [state_fw, state_bw])
    fetches["grad_x"] = tf.gradients(tf.add_n(outputs), x)[0]
    return fetches


def sharded_lstm(tf, cells):
    """LSTMCell with its kernel and projection split into partitioned variables."""
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH], name="x")
    cell = cells.LSTMCell(4, num_unit_shards=2, num_proj=3, num_proj_shards=3)
    out, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    return _fetches(tf, out, state)


CASES = [basic_lstm, lstm_peephole_proj_seqlen, gru_time_major_seqlen, multi_cell,
         static_seqlen, bidirectional, bidirectional_seqlen_time_major, dropout_wrapper,
         concatenated_states_shared_cell, static_bidirectional_residual,
         sharded_lstm]


def classifier(tf, cells, optimizer):
    """A sequence classifier (LSTM over variable-length sequences, dense layer on the final
    h) and its training op; returns (loss, train_op)."""
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH], name="x")
    y = tf.placeholder(tf.int32, [BATCH], name="y")
    _, state = tf.nn.dynamic_rnn(cells.BasicLSTMCell(4), x, sequence_length=[4, 2, 3],
                                 dtype=tf.float32)
    w = tf.get_variable("w", [4, 3])
    b = tf.get_variable("b", [3], initializer=tf.zeros_initializer())
    logits = tf.matmul(state.h, w) + b
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                         logits=logits))
    return loss, optimizer.minimize(loss)


def variable_shapes(tf):
    return {v.op.name: v.shape.as_list() for v in tf.global_variables()}


def run_case(tf, cells, case, checkpoint_out=None, checkpoint_in=None):
    """Builds `case` in a fresh graph; restores `checkpoint_in` (or initializes); saves to
    `checkpoint_out`; returns (values as lists, variable shapes)."""
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        fetches = case(tf, cells)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            if checkpoint_in:
                saver.restore(sess, checkpoint_in)
            else:
                sess.run(tf.global_variables_initializer())
            if checkpoint_out:
                saver.save(sess, checkpoint_out)
            x = tf.get_default_graph().get_tensor_by_name("x:0")
            values = sess.run(fetches, {x: inputs()})
        return ({k: np.asarray(v).tolist() for k, v in values.items()},
                variable_shapes(tf))


def train_losses(tf, cells, optimizer_name, checkpoint_in=None, checkpoint_out=None, steps=4):
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        optimizer = (tf.train.GradientDescentOptimizer(0.5) if optimizer_name == "sgd"
                     else tf.train.AdamOptimizer(0.05))
        loss, train_op = classifier(tf, cells, optimizer)
        saver = tf.train.Saver()
        graph = tf.get_default_graph()
        feed = {graph.get_tensor_by_name("x:0"): inputs(), graph.get_tensor_by_name("y:0"):
                labels()}
        with tf.Session() as sess:
            if checkpoint_in:
                saver.restore(sess, checkpoint_in)
            else:
                sess.run(tf.global_variables_initializer())
            if checkpoint_out:
                saver.save(sess, checkpoint_out)
            losses = [float(sess.run([loss, train_op], feed)[0]) for _ in range(steps)]
            losses.append(float(sess.run(loss, feed)))
        return losses


def graph_nodes(tf, cells, build):
    """(name, type, inputs, device) of every node `build` adds to a fresh graph."""
    with tf.Graph().as_default() as graph:
        build(tf, cells)
        return [[op.name, op.type, [t.name for t in op.inputs], op.device]
                for op in graph.get_operations()]


def lstm_training_graph(tf, cells):
    classifier(tf, cells, tf.train.GradientDescentOptimizer(0.5))


REVERSE_SEQUENCE_CASES = [
    # (input shape, lengths, lengths dtype, seq_axis, batch_axis)
    ((2, 3, 4), [2, 3], "int32", 1, 0),
    ((2, 3, 4), [1, 4, 0], "int64", 2, 1),
    ((4, 3), [0, 4, 2], "int64", 0, 1),
]
REVERSE_SEQUENCE_ERRORS = [
    ((2, 3), [1, 2, 3], 1, 0),
    ((2, 3), [1, 5], 1, 0),
    ((2, 3), [1, -1], 1, 0),
]


def reverse_sequence_results(tf, errors):
    """Values and gradients of tf.reverse_sequence, and the messages of its kernel errors
    (lengths fed through a placeholder so only the kernel can see them)."""
    results = {"values": [], "errors": []}
    for shape, lengths, dtype, seq_axis, batch_axis in REVERSE_SEQUENCE_CASES:
        with tf.Graph().as_default():
            value = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
            x = tf.constant(value)
            out = tf.reverse_sequence(x, tf.constant(lengths, getattr(tf, dtype)),
                                      seq_axis=seq_axis, batch_axis=batch_axis)
            grad = tf.gradients(tf.reduce_sum(out * x), x)[0]
            with tf.Session() as sess:
                results["values"].append([a.tolist() for a in sess.run([out, grad])])
    for shape, lengths, seq_axis, batch_axis in REVERSE_SEQUENCE_ERRORS:
        with tf.Graph().as_default():
            fed = tf.placeholder(tf.int64, [None])
            out = tf.reverse_sequence(tf.zeros(shape), fed, seq_axis=seq_axis,
                                      batch_axis=batch_axis)
            with tf.Session() as sess:
                try:
                    sess.run(out, {fed: lengths})
                    results["errors"].append(None)
                except errors.InvalidArgumentError as error:
                    # the line naming the problem (TensorFlow adds context around it)
                    results["errors"].append(
                        error.message.split("\n\t [[")[0].split("\n")[-1])
    return results


def misuse_errors(tf, cells):
    """(exception type, message up to any tensor repr) for misuses of the RNN functions; the
    last one fails at run time (a sequence_length not of the batch's size)."""
    def attempt(build):
        with tf.Graph().as_default():
            try:
                build()
            except (TypeError, ValueError, tf.errors.InvalidArgumentError) as error:
                message = getattr(error, "message", None) or str(error)
                message = message.split("\n\t [[")[0].split("Graph execution error:\n\n")[-1]
                # up to the shapes the failed assertion prints (their formatting is the
                # Assert kernel's business, tested with it)
                message = message.split(" is ] ")[0]
                return [type(error).__name__, message.split("input=")[0].split("input Tensor")[0]
                                               .split("Received")[0]
                        .splitlines()[-1]]
            return None

    def x(shape=(BATCH, TIME, DEPTH)):
        return tf.placeholder(tf.float32, shape, name="x")

    def wrong_lengths():
        out, _ = tf.nn.dynamic_rnn(cells.GRUCell(2), x(), dtype=tf.float32,
                                   sequence_length=tf.placeholder_with_default([1, 2], [None]))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(out, {"x:0": inputs()})

    return [
        attempt(lambda: tf.nn.dynamic_rnn(cells.GRUCell(2), x())),
        attempt(lambda: tf.nn.dynamic_rnn("not a cell", x(), dtype=tf.float32)),
        attempt(lambda: tf.nn.dynamic_rnn(cells.GRUCell(2), x((BATCH, TIME, None)),
                                          dtype=tf.float32)),
        attempt(lambda: tf.nn.dynamic_rnn(cells.GRUCell(2), x((BATCH, TIME)),
                                          dtype=tf.float32)),
        attempt(lambda: tf.nn.dynamic_rnn(cells.GRUCell(2), x(), dtype=tf.float32,
                                          sequence_length=[[1]])),
        attempt(lambda: tf.nn.static_rnn(cells.GRUCell(2), [], dtype=tf.float32)),
        attempt(lambda: tf.nn.static_rnn(cells.GRUCell(2), [x((3, None))], dtype=tf.float32)),
        attempt(lambda: cells.MultiRNNCell([])),
        attempt(lambda: cells.DropoutWrapper(cells.GRUCell(2), input_keep_prob=1.5)),
        attempt(wrong_lengths),
    ]
