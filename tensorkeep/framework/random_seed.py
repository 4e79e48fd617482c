"""How a random op's `seed`/`seed2` attrs follow from the graph-level and op-level seeds.

TensorFlow's rules (as of the 2.x `tf.compat.v1` graph mode that wrote our reference files):

* graph seed and op seed both None: (None, None); the op's attrs stay 0 and the kernel picks
  random seeds.
* only the op seed: (DEFAULT_GRAPH_SEED, op_seed).
* a graph seed: (graph_seed, op_seed). Without an op seed, the op seed is a per-graph counter:
  0 for the first such op created in the graph, then 1, 2, ... (only ops that take this branch
  advance it). (TensorFlow 1.x used the graph's `_last_id` here instead; the reference files
  come from the counter rule.)
* every seed is reduced modulo 2**31 - 1 (Python modulo, so never negative); the graph default
  is used as is.
* a result of (0, 0) would mean "random", so it becomes (0, 2**31 - 1).

Pure functions: the caller owns the graph's seed and counter.
"""

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2 ** 31 - 1


def _truncate_seed(seed):
    return int(seed) % _MAXINT32


def uses_graph_op_counter(graph_seed, op_seed):
    """True when get_seed reads the graph's op-seed counter, which the caller must then advance."""
    return graph_seed is not None and op_seed is None


def get_seed(graph_seed, op_seed, graph_op_counter=0):
    """The (seed, seed2) pair for an op, like TF1's `tf.get_seed(op_seed)`.

    graph_seed: the graph's `seed` (None if unset). op_seed: the op's `seed` argument.
    graph_op_counter: how many ops of this graph have already taken the counter branch
    (see `uses_graph_op_counter`). Returns (None, None) when both seeds are None.
    """
    if graph_seed is not None:
        if op_seed is None:
            op_seed = graph_op_counter
        seeds = (_truncate_seed(graph_seed), _truncate_seed(op_seed))
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, _truncate_seed(op_seed))
    else:
        return None, None
    if seeds == (0, 0):
        return 0, _MAXINT32
    return seeds


def kernel_seed_attrs(seed, seed2):
    """The `seed`/`seed2` attr values a random op gets: None becomes 0."""
    return (0 if seed is None else seed), (0 if seed2 is None else seed2)
