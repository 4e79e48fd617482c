"""The executor: prune a graph to what the fetches need, order it once, run kernels.

A plan is built per (fetches, feeds) signature and cached by the session. Running a plan is a
flat loop over steps with values kept in a list of slots, so the per-call overhead is a few
microseconds per op.
"""

import numpy as np

from tensorkeep.framework import errors
from tensorkeep.framework import gc_pause
from tensorkeep.framework import ops as ops_lib
from tensorkeep.runtime import blas_threads


class VarRef:
    """The storage of a TF1 ref variable: `value` is the current ndarray (None = uninitialized).

    `value` is read-only. A kernel writes into it only when nothing but this storage holds the
    array (ops/_helpers.sole_owner_buffer); otherwise it replaces it with a new array. Either
    way values read earlier in a run, or returned to the user, keep their contents.
    """

    __slots__ = ("value", "name", "dtype", "shape")

    def __init__(self, name, dtype, shape):
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.value = None

    def get(self, reader_name=None):
        value = self.value
        if value is None:
            raise errors.FailedPreconditionError(
                None, None, "Attempting to use uninitialized value %s\n\t [[{{node %s}}]]"
                % (self.name, reader_name or self.name) +
                "\nRun its initializer first (sess.run(tf.global_variables_initializer())) or "
                "restore it from a checkpoint (saver.restore(sess, path)).")
        return value

    def __call__(self):
        # The kernel of the variable's op (VariableV2) is the storage itself: running the op
        # yields it, and a plan over 10,000 variables holds no closure per variable.
        return self

    def __repr__(self):
        return "<VarRef %s %s>" % (self.name, "uninitialized" if self.value is None else
                                   "shape=%s" % (self.value.shape,))


class Dead:
    """Marks the untaken output of a Switch (control flow); consumers propagate it."""

    __slots__ = ()

    def __repr__(self):
        return "<dead>"


DEAD = Dead()

# Ops that act on dead inputs instead of propagating them (control-flow joins).
_DEAD_AWARE_OPS = frozenset(["Merge", "RefMerge"])


class Plan:
    """A pruned, ordered subgraph ready to run."""

    __slots__ = ("steps", "n_slots", "initial_values", "feed_slots", "fetch_slots",
                 "fetch_is_ref", "has_control_flow", "ops", "runner", "uses_blas")

    def __init__(self):
        self.steps = []
        self.n_slots = 0
        self.initial_values = []  # what a run's slots start as: the Consts' values, else None
        self.feed_slots = []
        self.fetch_slots = []
        self.fetch_is_ref = []
        self.has_control_flow = False
        self.ops = []
        self.runner = None  # set for graphs with control flow: runner(feed_values) -> fetches
        self.uses_blas = False  # whether some kernel spends its time in BLAS (blas_threads)


def aliases_ref(tensor):
    """Whether `tensor`'s value is a variable's storage: a ref tensor, or an Identity of one
    (TensorFlow's Identity forwards the variable's buffer, e.g. `v/read`)."""
    while not tensor.dtype.is_ref_dtype:
        if tensor.op._type != "Identity":
            return False
        tensor = tensor.op._inputs[0]
    return True


def _input_needs_deref(op, index):
    """Whether input `index` of `op` receives a VarRef it must read as a plain value.

    Reads happen when the consuming op runs, not when `v/read` runs: an op ordered after an
    update (by a control dependency) sees the updated value, as with TensorFlow's aliased
    buffers. Identity only forwards the VarRef.
    """
    tensor = op._inputs[index]
    if op._type == "Identity":
        return False
    if not tensor.dtype.is_ref_dtype:
        return aliases_ref(tensor)
    schema = op._schema
    if schema is None:
        return True
    arg = _input_arg_for_index(schema, op, index)
    return arg is None or not arg.is_ref


def make_kernel(op, ctx):
    """The op's kernel function for this session. An Identity of a variable (`v/read`)
    checks that the variable is initialized, then forwards the VarRef itself."""
    if op._type == "Identity" and aliases_ref(op._inputs[0]):
        name = op._name

        def forward(ref):
            ref.get(name)
            return ref
        return forward
    return op._schema.kernel(op, ctx)


def _input_arg_for_index(schema, op, index):
    pos = 0
    for arg in schema.inputs:
        if arg.number_attr:
            count = op._attrs[arg.number_attr]
        elif arg.type_list_attr:
            count = len(op._attrs[arg.type_list_attr])
        else:
            count = 1
        if index < pos + count:
            return arg
        pos += count
    return None


_MERGE_TYPES = frozenset(["Merge", "RefMerge"])
_NEXT_ITERATION_TYPES = frozenset(["NextIteration", "RefNextIteration"])
_CONTROL_FLOW_TYPES = frozenset(["Switch", "RefSwitch", "Merge", "RefMerge", "Enter", "RefEnter",
                                 "Exit", "RefExit", "NextIteration", "RefNextIteration",
                                 "LoopCond"])


def topological_order(graph, target_ops, fed_tensors):
    """Ops needed to compute `target_ops`, inputs before consumers; fed tensors cut the graph.

    Iterative DFS (graphs may be deep); a cycle that is not a control-flow loop is an error.
    """
    order = []
    state = {}  # op -> 1 visiting, 2 done
    for root in target_ops:
        if state.get(root) == 2:
            continue
        stack = [(root, False)]
        while stack:
            op, expanded = stack.pop()
            if expanded:
                state[op] = 2
                order.append(op)
                continue
            st = state.get(op)
            if st == 2:
                continue
            if st == 1:
                continue
            state[op] = 1
            stack.append((op, True))
            if op._type in _MERGE_TYPES:
                deps = [t._op for t in op._inputs if t not in fed_tensors
                        and t._op._type not in _NEXT_ITERATION_TYPES]  # not the loop back-edge
            elif fed_tensors:
                deps = [t._op for t in op._inputs if t not in fed_tensors]
            else:
                deps = [t._op for t in op._inputs]
            if op._control_inputs:
                deps.extend(op._control_inputs)
            for dep in reversed(deps):
                ds = state.get(dep)
                if ds == 1:
                    raise errors.InvalidArgumentError(
                        None, op, "Graph contains a cycle through node '%s' (an input of '%s'); "
                        "a TensorFlow graph must be acyclic apart from while-loop back edges."
                        % (dep.name, op.name))
                if ds is None:
                    stack.append((dep, False))
    return order


# Stateless ops that still run when nothing reads their outputs: placeholders must still demand
# their feed, and these exist for their checks (TensorFlow's grappler keeps the same ones).
_ALWAYS_RUN_OPS = frozenset(["Placeholder", "PlaceholderV2", "PlaceholderWithDefault", "Assert",
                             "CheckNumerics", "ControlTrigger"])


def _free_of_side_effects(op):
    """Whether running `op` can matter only through its output values."""
    schema = op._schema
    if schema is None or schema.is_stateful or not op._outputs:
        return False
    op_type = op._type
    if op_type in _ALWAYS_RUN_OPS or "Queue" in op_type:
        return False
    if any(arg.is_ref for arg in schema.inputs):  # Assign-like: writes a variable
        return False
    # A read of a variable checks that it is initialized (TensorFlow keeps these too).
    return not (op_type == "Identity" and aliases_ref(op._inputs[0]))


def ops_run_as_noop(order, fetch_targets, fed_tensors):
    """The ops of a plan (`order`, without control flow) whose kernels need not run: not fetched,
    free of side effects, and whose outputs only ops that themselves do not run read as data;
    they are there for control dependencies alone (e.g. the gradient with respect to a fed
    input, reached only through `gate_gradients` groups). TensorFlow's grappler turns the same
    nodes into NoOps (dependency optimizer), so neither their work nor their errors happen.
    Skipping them keeps control ordering: the plan runs in topological order either way."""
    needed = set()  # ops fetched or read as data by an op that runs
    for target in fetch_targets:
        needed.add(target if isinstance(target, ops_lib.Operation) else target.op)
    skipped = set()
    for op in reversed(order):  # consumers before their inputs
        if op not in needed and _free_of_side_effects(op):
            skipped.add(op)
            continue
        for tensor in op._inputs:
            if tensor not in fed_tensors:
                needed.add(tensor.op)
    return skipped


@gc_pause.paused_gc
def build_plan(graph, fetch_targets, feed_tensors, ctx):
    """fetch_targets: list of Tensor or Operation; feed_tensors: list of Tensor."""
    plan = Plan()
    fed = {t: i for i, t in enumerate(feed_tensors)}
    plan.feed_slots = list(range(len(feed_tensors)))
    next_slot = len(feed_tensors)
    target_ops = []
    for target in fetch_targets:
        op = target if isinstance(target, ops_lib.Operation) else target.op
        if isinstance(target, ops_lib.Tensor) and target in fed:
            continue
        target_ops.append(op)
    order = topological_order(graph, target_ops, fed)
    slot_of = {}  # Tensor -> slot
    for t, i in fed.items():
        slot_of[t] = i
    for op in order:
        if op._type in _CONTROL_FLOW_TYPES:
            plan.has_control_flow = True
        if op._type in blas_threads.BLAS_OP_TYPES:
            plan.uses_blas = True
        for t in op._outputs:
            if t not in slot_of:
                slot_of[t] = next_slot
            next_slot += 1
        plan.ops.append(op)
    plan.n_slots = next_slot
    if plan.has_control_flow:
        from tensorkeep.runtime import control_flow_executor
        plan.runner = control_flow_executor.build_plan(graph, plan, order, slot_of, fed,
                                                       fetch_targets, ctx).run
        return plan
    run_as_noop = ops_run_as_noop(order, fetch_targets, fed)
    plan.initial_values = [None] * plan.n_slots
    out_slot = len(feed_tensors)
    for op in order:
        if op in run_as_noop:
            out_slot += len(op._outputs)
            continue
        if op._type == "Const":
            # A Const's value is fixed: it is placed in the slots a run starts from, so runs
            # make no call for it (a plan of 10,000 variable initializers has 20,000 of them).
            try:
                plan.initial_values[out_slot] = make_kernel(op, ctx)()
            except errors.OpError:
                raise
            except Exception as exc:  # e.g. a malformed TensorProto
                raise _kernel_error(op, exc) from exc
            out_slot += 1
            continue
        schema = op._schema
        if schema is None or schema.kernel is None:
            raise errors.UnimplementedError(
                None, op, "No kernel for op '%s' (type %s) in tensorkeep. tensorkeep implements "
                "the op types listed in docs/COMPATIBILITY.md; this graph needs one that is "
                "not among them." % (op.name, op.type))
        try:
            fn = make_kernel(op, ctx)
        except errors.OpError:
            raise
        except Exception as exc:  # e.g. a Const whose TensorProto is malformed
            raise _kernel_error(op, exc) from exc
        in_slots = tuple([slot_of[t] for t in op._inputs])
        derefs = tuple([i for i in range(len(op._inputs)) if _input_needs_deref(op, i)])
        n_out = len(op._outputs)
        plan.steps.append((fn, in_slots, derefs, out_slot, n_out, op, ()))
        out_slot += n_out
    for target in fetch_targets:
        if isinstance(target, ops_lib.Operation):
            plan.fetch_slots.append(None)
            plan.fetch_is_ref.append(False)
        else:
            plan.fetch_slots.append(slot_of[target])
            plan.fetch_is_ref.append(aliases_ref(target))
    _release_after_last_use(plan)
    return plan


def _release_after_last_use(plan):
    """Gives each step the slots it reads for the last time (fetched ones excepted), so a run
    drops every intermediate value as soon as nothing needs it: peak memory is what is live,
    not everything computed, and a variable's array read early in a step (the forward pass)
    is no longer held when its update runs, which may then write it in place."""
    last_reader = {}
    for index, step in enumerate(plan.steps):
        for slot in step[1]:
            last_reader[slot] = index
    kept = set(plan.fetch_slots)
    releases = {}  # step index -> slots
    for slot, index in last_reader.items():
        if slot not in kept:
            releases.setdefault(index, []).append(slot)
    plan.steps = [(fn, in_slots, derefs, out_slot, n_out, op, tuple(releases.get(index, ())))
                  for index, (fn, in_slots, derefs, out_slot, n_out, op, _)
                  in enumerate(plan.steps)]


def run_plan(plan, feed_values):
    """Runs the plan's steps; returns the list of fetched values (None for ops)."""
    if plan.runner is not None:
        return plan.runner(feed_values)
    vals = plan.initial_values.copy()
    vals[:len(feed_values)] = feed_values
    for fn, in_slots, derefs, out_slot, n_out, op, releases in plan.steps:
        if derefs:
            args = [vals[i] for i in in_slots]
            for i in derefs:
                args[i] = args[i].get(op._name)
        else:
            args = [vals[i] for i in in_slots]
        try:
            out = fn(*args)
        except errors.OpError:
            raise
        except Exception as exc:  # a kernel rejected its inputs: report it as TensorFlow does
            raise _kernel_error(op, exc) from exc
        if n_out == 1:
            vals[out_slot] = out
        elif n_out:
            vals[out_slot:out_slot + n_out] = out
        for slot in releases:
            vals[slot] = None
    args = out = None  # the last step's inputs and outputs are not held past the run either
    return fetch_results(plan, vals)


def fetch_results(plan, vals):
    results = []
    for slot, is_ref in zip(plan.fetch_slots, plan.fetch_is_ref):
        if slot is None:
            results.append(None)
            continue
        value = vals[slot]
        if is_ref and isinstance(value, VarRef):
            value = value.get()
        results.append(value)
    return results


def _kernel_error(op, exc):
    if isinstance(exc, MemoryError):
        return errors.ResourceExhaustedError(None, op, "OOM when running node %s (%s): %s"
                                             % (op.name, op.type, exc))
    return errors.InvalidArgumentError(
        None, op, "%s\n\t [[{{node %s}}]] (op type %s)" % (exc, op.name, op.type))


def as_numpy_output(value):
    """What Session.run returns for one tensor value."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return value[()]
        if not value.flags.writeable:
            return value.copy()
        return value
    return value
