"""TF1 programs with the linear-algebra and diagonal ops, run identically by real TensorFlow
(tf = tf.compat.v1) and by tensorkeep (same contract as control_flow_cases: `fetches`, `runs`).

Inputs are random, well conditioned, fed through placeholders (np.random.RandomState gives the
same numbers on both sides). QR, SVD and eigenvectors are unique only up to the sign (phase) of
each vector, and LAPACK implementations choose differently: the cases fetch what is unique
(reconstructions, singular values, eigenvalues, absolute values of vectors) and differentiate
functions that do not change when a vector flips its sign (sums of squares), so that the
comparison does not depend on the convention."""

_PRELUDE = """
def general(shape, dtype, seed, shift=0.0):
    rng = np.random.RandomState(seed)
    return (rng.uniform(-1, 1, shape) + shift * np.eye(shape[-1], shape[-2]).T).astype(dtype)

def spd(shape, dtype, seed):
    a = general(shape, "float64", seed)
    return (np.matmul(a, np.swapaxes(a, -1, -2)) + shape[-1] * np.eye(shape[-1])).astype(dtype)

def weights(shape, dtype, seed):
    return np.random.RandomState(seed).uniform(0.5, 1.5, shape).astype(dtype)

def scalar_of(*tensors):
    # A weighted sum: each output gets its own weights (fixed random constants).
    total = 0.0
    for index, t in enumerate(tensors):
        w = weights(t.shape.as_list(), t.dtype.as_numpy_dtype, 100 + index)
        total = total + tf.reduce_sum(t * w)
    return total

def squares_of(*tensors):
    # Unchanged when a column of Q/U/V (a row of R) flips its sign.
    total = 0.0
    for index, t in enumerate(tensors):
        w = weights(t.shape.as_list(), t.dtype.as_numpy_dtype, 200 + index)
        total = total + tf.reduce_sum(tf.square(t) * w)
    return total
"""

_BODIES = {
    "cholesky_inverse_determinants_%s": """
dtype = %r
x = tf.placeholder(dtype, [2, 3, 4, 4], name="x")
chol = tf.cholesky(x)
inv = tf.matrix_inverse(x)
inv_adj = tf.linalg.inv(x, adjoint=True)
det = tf.matrix_determinant(x)
sign, logabs = tf.linalg.slogdet(x)
logdet = tf.linalg.logdet(x)
chol_solved = tf.cholesky_solve(chol, x[..., :2])
adjoint = tf.linalg.adjoint(x[0])
grads = tf.gradients(scalar_of(chol), x) + tf.gradients(scalar_of(inv, inv_adj), x) + \\
    tf.gradients(scalar_of(det), x) + tf.gradients(scalar_of(logabs), x) + \\
    tf.gradients(scalar_of(logdet, chol_solved), x)
fetches = [chol, inv, inv_adj, det, sign, logabs, logdet, chol_solved, adjoint] + grads
runs = [{"x:0": spd([2, 3, 4, 4], dtype, 1)}]
""",
    "solvers_%s": """
dtype = %r
a = tf.placeholder(dtype, [2, 4, 4], name="a")
b = tf.placeholder(dtype, [2, 4, 3], name="b")
low = tf.placeholder(dtype, [3, 1, 4, 4], name="low")
solved = tf.matrix_solve(a, b)
solved_adj = tf.linalg.solve(a, b, adjoint=True)
tri = tf.matrix_triangular_solve(low, b)
tri_upper_adj = tf.linalg.triangular_solve(low, b, lower=False, adjoint=True)
ls = tf.matrix_solve_ls(a, b, l2_regularizer=0.5)
ls_wide = tf.linalg.lstsq(tf.transpose(b, [0, 2, 1]), a[:, :3, :])
grads = tf.gradients(scalar_of(solved, solved_adj), [a, b]) + \\
    tf.gradients(scalar_of(tri, tri_upper_adj), [low, b]) + \\
    tf.gradients(scalar_of(ls, ls_wide), [a, b])
fetches = [solved, solved_adj, tri, tri_upper_adj, ls, ls_wide] + grads
runs = [{"a:0": general([2, 4, 4], dtype, 2, shift=4.0), "b:0": general([2, 4, 3], dtype, 3),
         "low:0": general([3, 1, 4, 4], dtype, 4, shift=3.0)}]
""",
    "decompositions_%s": """
dtype = %r
x = tf.placeholder(dtype, [2, 5, 3], name="x")
sym = tf.placeholder(dtype, [2, 4, 4], name="sym")
q, r = tf.qr(x)
q_wide, r_wide = tf.linalg.qr(tf.transpose(x, [0, 2, 1]))
q_full, r_full = tf.qr(x, full_matrices=True)
s, u, v = tf.svd(x)
s_only = tf.linalg.svd(x, compute_uv=False)
s_full, u_full, v_full = tf.svd(x[:, :4, :], full_matrices=True)
e, ev = tf.self_adjoint_eig(sym)
e_only = tf.linalg.eigvalsh(sym)
grads = tf.gradients(squares_of(q, r), x) + tf.gradients(squares_of(q_wide, r_wide), x) + \\
    tf.gradients(scalar_of(s) + squares_of(u, v), x) + tf.gradients(scalar_of(s_only), x) + \\
    tf.gradients(scalar_of(s_full) + squares_of(u_full, v_full), x) + \\
    tf.gradients(scalar_of(e) + squares_of(ev), sym) + tf.gradients(scalar_of(e_only), sym)
fetches = [tf.matmul(q, r), tf.abs(q), tf.abs(r), tf.matmul(q_wide, r_wide), tf.abs(r_wide),
           tf.matmul(q_full, r_full), tf.abs(r_full), s, tf.abs(u), tf.abs(v), s_only, s_full,
           tf.abs(v_full), e, tf.abs(ev), e_only] + grads
runs = [{"x:0": general([2, 5, 3], dtype, 5), "sym:0": spd([2, 4, 4], dtype, 6)}]
""",
    "band_and_diagonals_%s": """
dtype = %r
x = tf.placeholder(dtype, [2, 3, 4], name="x")
d = tf.placeholder(dtype, [2, 3], name="d")
sq = tf.placeholder(dtype, [2, 3, 3], name="sq")
band = tf.matrix_band_part(x, 1, 0)
band_all = tf.linalg.band_part(x, -1, 2)
diag = tf.matrix_diag(d)
diag_k = tf.linalg.diag(d, k=1, num_rows=4)
diag_band = tf.linalg.diag(tf.stack([d, d * 2.0], 1), k=(-1, 0), align="LEFT_RIGHT")
part = tf.matrix_diag_part(x)
part_band = tf.linalg.diag_part(x, k=(-1, 2), padding_value=9)
set_diag = tf.matrix_set_diag(x, d)
set_band = tf.linalg.set_diag(sq, tf.stack([d, d * 3.0], 1), k=(-1, 0))
tensor_diag = tf.diag(d[0])
tensor_diag_part = tf.diag_part(sq[0])
tensor_diag_4d = tf.linalg.tensor_diag(x[0, :2, :2])
trace = tf.trace(sq)
trace_named = tf.linalg.trace(x, name="my_trace")
eye = tf.eye(3)
eye_batch = tf.linalg.eye(2, 3, batch_shape=[2], dtype=dtype)
eye_square_batch = tf.eye(2, batch_shape=[3], dtype=dtype)
outputs = [band, band_all, diag, diag_k, diag_band, part, part_band, set_diag, set_band,
           tensor_diag, tensor_diag_part, tensor_diag_4d, trace, trace_named]
grads = tf.gradients(scalar_of(*outputs), [x, d, sq])
fetches = outputs + [eye, eye_batch, eye_square_batch] + grads
runs = [{"x:0": general([2, 3, 4], dtype, 7), "d:0": general([2, 3], dtype, 8),
         "sq:0": general([2, 3, 3], dtype, 9)}]
""",
    "dynamic_shapes_%s": """
dtype = %r
x = tf.placeholder(dtype, [None, None, None], name="x")
d = tf.placeholder(dtype, [None, None], name="d")
unknown_rank = tf.placeholder(dtype, None, name="unknown_rank")
chol = tf.cholesky(x)
part = tf.matrix_diag_part(x)
set_diag = tf.matrix_set_diag(x, d)
eye = tf.eye(tf.shape(d)[1], dtype=dtype)
grads = tf.gradients(tf.reduce_sum(chol) + tf.reduce_sum(part * part) +
                     tf.reduce_sum(set_diag * 3.0), [x, d])
unknown = [tf.matrix_diag_part(unknown_rank), tf.matrix_set_diag(unknown_rank, d),
           tf.linalg.diag_part(unknown_rank, k=(0, 1)), tf.matrix_inverse(unknown_rank)]
fetches = [chol, part, set_diag, eye] + grads + unknown
runs = [{"x:0": spd([2, 3, 3], dtype, 10), "d:0": general([2, 3], dtype, 11),
         "unknown_rank:0": spd([2, 3, 3], dtype, 14)},
        {"x:0": spd([1, 2, 2], dtype, 12), "d:0": general([1, 2], dtype, 13),
         "unknown_rank:0": spd([1, 2, 2], dtype, 15)}]
""",
    "failures_%s": """
dtype = %r
x = tf.placeholder(dtype, [2, 2], name="x")
y = tf.placeholder(dtype, None, name="y")
fetches = [tf.matrix_inverse(x), tf.matrix_solve(x, x), tf.matrix_determinant(x),
           tf.linalg.slogdet(x)[0], tf.linalg.slogdet(x)[1], tf.matrix_band_part(y, 3, 0)]
runs = [{"x:0": np.array([[1.0, 2.0], [2.0, 4.0]], dtype), "y:0": np.ones([4, 4], dtype)},
        {"x:0": np.array([[2.0, 1.0], [1.0, 3.0]], dtype), "y:0": np.ones([2, 2], dtype)}]
""",
}

CASES = {}
for _name, _body in _BODIES.items():
    for _dtype in ("float32", "float64"):
        CASES[_name % _dtype] = _PRELUDE + _body % _dtype


def complex_values(tf):
    """Complex inputs (no builder here needs a complex-to-real op): [real, imag] of each
    output, the gradients included."""
    import numpy as np

    rng = np.random.RandomState(14)

    def cplx(shape):
        return rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)
    general = cplx([2, 3, 3]) + 3 * np.eye(3)
    half = cplx([3, 3])
    hermitian = np.matmul(half, half.conj().T) + 3 * np.eye(3)
    results = {}
    for dtype in (tf.complex64, tf.complex128):
        with tf.Graph().as_default():
            x = tf.constant(general, dtype)
            h = tf.constant(hermitian, dtype)
            inv = tf.matrix_inverse(x)
            solved = tf.matrix_solve(x, x[:, :, :2], adjoint=True)
            tri = tf.matrix_triangular_solve(x, x[:, :, :2], adjoint=True)
            chol = tf.cholesky(h)
            fetches = [inv, tf.matrix_determinant(x), chol, solved, tri,
                       tf.linalg.slogdet(x)[0], tf.linalg.slogdet(x)[1],
                       tf.matrix_diag_part(x), tf.matrix_band_part(x, 0, 1), tf.trace(x)]
            weights = tf.constant(cplx([2, 3, 3]), dtype)
            one = tf.constant(1.0, dtype)  # complex gradients need their grad_ys

            def gradient(y, wrt):
                return tf.gradients(y, wrt, grad_ys=one)
            fetches += gradient(tf.reduce_sum(inv * weights), x)
            fetches += gradient(tf.reduce_sum(solved * weights[:, :, :2]), x)
            fetches += gradient(tf.reduce_sum(tri * weights[:, :, :2]), x)
            fetches += gradient(tf.reduce_sum(chol * weights[0]), h)
            with tf.Session() as sess:
                values = sess.run(fetches)
        results[dtype.name] = [[np.real(v).reshape(-1).tolist(), np.imag(v).reshape(-1).tolist()]
                               for v in values]
    return results


def error_messages(tf):
    """What TensorFlow says for inputs the kernels reject: {case: message}."""
    import numpy as np

    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    cases = {
        "inverse_singular": lambda x: tf.matrix_inverse(x),
        "solve_singular": lambda x: tf.matrix_solve(x, x),
        "cholesky_not_square": lambda x: tf.cholesky(x[:, :1]),
        "band_too_wide": lambda x: tf.matrix_band_part(x, 5, 0),
        "eig_nan": lambda x: tf.self_adjoint_eigvals(x / 0.0),
        "set_diag_wrong_length": lambda x: tf.matrix_set_diag(x, [1.0]),
        "diag_part_not_square": lambda x: tf.diag_part(x[:, :1]),
    }
    messages = {}
    for name, build in cases.items():
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float64, None, name="x")
            y = build(x)
            try:
                with tf.Session() as sess:
                    sess.run(y, {x: singular})
                messages[name] = None
            except tf.errors.OpError as exc:
                lines = [line for line in exc.message.splitlines() if line.strip()]
                body = [line for line in lines if not line.strip().startswith("[[")]
                messages[name] = [type(exc).__name__, body[-1].strip()]
    return messages


def raw_op_values(tf, make):
    """Ops no TF1 builder makes (graphs from files hold them): the V1 and V2 diagonal ops,
    MatrixSolveLs (with fast=False too) and Cholesky of a matrix that is not positive definite,
    built by make(op_type, **inputs_and_attrs); values and gradients as nested lists (NaN
    included)."""
    import numpy as np

    rng = np.random.RandomState(16)
    matrix = rng.uniform(-1, 1, [2, 3, 4])
    diagonals = rng.uniform(-1, 1, [2, 2, 3])
    tall = rng.uniform(-1, 1, [2, 5, 3])
    rhs = rng.uniform(-1, 1, [2, 5, 2])
    with tf.Graph().as_default():
        x = tf.constant(matrix)
        d = tf.constant(diagonals)
        k = tf.constant([-1, 0])
        outputs = [
            make("MatrixDiag", diagonal=d[:, 0]),
            make("MatrixDiagPart", input=x),
            make("MatrixSetDiag", input=x, diagonal=d[:, 1]),
            make("MatrixDiagV2", diagonal=d, k=k, num_rows=-1, num_cols=-1,
                 padding_value=tf.constant(0.0, tf.float64)),
            make("MatrixDiagV3", diagonal=d, k=k, num_rows=4, num_cols=3,
                 padding_value=tf.constant(0.0, tf.float64), align="LEFT_RIGHT"),
            make("MatrixDiagPartV2", input=x, k=tf.constant([0, 1]),
                 padding_value=tf.constant(7.0, tf.float64)),
            make("MatrixDiagPartV3", input=x, k=tf.constant([-1, 1]),
                 padding_value=tf.constant(7.0, tf.float64), align="RIGHT_RIGHT"),
            make("MatrixSetDiagV2", input=x, diagonal=d, k=k),
            make("MatrixSetDiagV3", input=x, diagonal=d, k=tf.constant([0, 1]),
                 align="LEFT_LEFT"),
            make("MatrixSolveLs", matrix=tf.constant(tall), rhs=tf.constant(rhs),
                 l2_regularizer=tf.constant(0.25, tf.float64), fast=True),
            make("MatrixSolveLs", matrix=tf.constant(tall), rhs=tf.constant(rhs),
                 l2_regularizer=tf.constant(0.0, tf.float64), fast=False),
            make("Cholesky", input=tf.constant([[1.0, 2.0], [2.0, 1.0]])),
        ]
        differentiable = outputs[:10]
        total = tf.add_n([tf.reduce_sum(t * t) for t in differentiable])
        grads = tf.gradients(total, [x, d])
        with tf.Session() as sess:
            values = sess.run(outputs + grads)
    return [np.asarray(v).tolist() for v in values]
