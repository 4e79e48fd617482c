"""Running graphs with TF1 control flow: Switch/Merge conditionals and Enter/Exit while loops.

The flat executor (executor.py) runs each op once in topological order. Graphs with control
flow need TensorFlow's dataflow semantics instead:

* a value travels as a token tagged with the frame it lives in; the root frame's tag is None,
  iteration `i` of a loop frame entered from tag `t` has tag `(t, frame_name, i)`;
* an op instance (op, tag) runs once all its inputs (data and control) have arrived;
* `Switch` forwards its data to one output and a dead token to the other; an op with a dead
  input does not run, its outputs (and control edges) carry dead tokens too;
* `Merge` fires on its first live input (outputs the value and its index), or with a dead
  output once every input it can expect is dead;
* `Enter` moves a value into a child frame, `NextIteration` into the next iteration,
  `Exit` back to the parent frame; a constant `Enter` is visible in every iteration;
* a dead `NextIteration` token ends its loop (it is dropped); a loop's `Exit` that never saw a
  live value becomes dead in the parent frame once nothing else can run.

Everything is driven by a worklist of ready op instances, so nested loops and conditionals in
any combination run as TensorFlow runs them.
"""

import collections

import numpy as np

from tensorkeep.framework import errors
from tensorkeep.framework import ops as ops_lib
from tensorkeep.runtime import executor

DEAD = executor.DEAD

_NORMAL, _SWITCH, _MERGE, _ENTER, _EXIT, _NEXT_ITERATION, _CONTROL_TRIGGER = range(7)

_KIND_OF_TYPE = {
    "Switch": _SWITCH, "RefSwitch": _SWITCH,
    "Merge": _MERGE, "RefMerge": _MERGE,
    "Enter": _ENTER, "RefEnter": _ENTER,
    "Exit": _EXIT, "RefExit": _EXIT,
    "NextIteration": _NEXT_ITERATION, "RefNextIteration": _NEXT_ITERATION,
    "ControlTrigger": _CONTROL_TRIGGER,
}


class _Node:
    """Static facts about one op of the pruned graph."""

    __slots__ = ("op", "fn", "kind", "n_data", "n_control", "derefs", "out_edges",
                 "control_edges", "fetches", "frame_name", "is_constant", "back_edge_inputs",
                 "forward_inputs")

    def __init__(self, op):
        self.op = op
        self.fn = None
        self.kind = _KIND_OF_TYPE.get(op._type, _NORMAL)
        self.n_data = len(op._inputs)
        self.n_control = 0
        self.derefs = ()
        self.out_edges = [[] for _ in op._outputs]  # per output: [(node index, input pos)]
        self.control_edges = []                      # node indices
        self.fetches = []                            # [(output index, fetch position)]
        self.frame_name = None
        self.is_constant = False
        self.back_edge_inputs = 0  # Merge: inputs fed by NextIteration (a loop's back edge)
        self.forward_inputs = 0


class ControlFlowPlan:
    """A pruned graph with control flow, run by `run(feed_values)` (see the module doc)."""

    def __init__(self, nodes, feed_edges, seeds, fetch_count, fed_fetches, fetch_is_op,
                 fetch_is_ref, fetch_names):
        self.nodes = nodes
        self.feed_edges = feed_edges    # per feed position: [(node index, input pos)]
        self.seeds = seeds              # nodes with no inputs at all: start in the root frame
        self.fetch_count = fetch_count
        self.fed_fetches = fed_fetches  # [(fetch position, feed position)]
        self.fetch_is_op = fetch_is_op
        self.fetch_is_ref = fetch_is_ref
        self.fetch_names = fetch_names

    def run(self, feed_values):
        return _Run(self, feed_values).execute()


def build_plan(graph, plan, order, slot_of, fed, fetch_targets, ctx):
    """Builds a ControlFlowPlan for `fetch_targets`; `fed` maps fed tensors to feed positions.

    `plan`, `order` and `slot_of` come from the flat executor; `order` omits loop bodies that are
    reachable only through a Merge's back edge, so the needed ops are collected here again.
    """
    del plan, order, slot_of, graph
    target_ops = []
    for target in fetch_targets:
        if isinstance(target, ops_lib.Tensor) and target in fed:
            continue
        target_ops.append(target if isinstance(target, ops_lib.Operation) else target.op)
    needed = _needed_ops(target_ops, fed)
    index = {op: i for i, op in enumerate(needed)}
    nodes = [_Node(op) for op in needed]
    feed_edges = [[] for _ in fed]
    seeds = []
    for node in nodes:
        op = node.op
        if node.kind == _NORMAL:
            schema = op._schema
            if schema is None or schema.kernel is None:
                raise errors.UnimplementedError(
                    None, op, "No kernel for op '%s' (type %s) in tensorkeep. tensorkeep "
                    "implements the op types listed in docs/COMPATIBILITY.md; this graph needs "
                    "one that is not among them." % (op.name, op.type))
            node.fn = executor.make_kernel(op, ctx)
        node.derefs = tuple(i for i in range(len(op._inputs))
                            if executor._input_needs_deref(op, i))
        if node.kind == _ENTER:
            frame_name = op._attrs.get("frame_name", b"")
            node.frame_name = frame_name.decode() if isinstance(frame_name, bytes) \
                else frame_name
            node.is_constant = bool(op._attrs.get("is_constant", False))
        for pos, tensor in enumerate(op._inputs):
            feed_pos = fed.get(tensor)
            if feed_pos is not None:
                feed_edges[feed_pos].append((index[op], pos))
                continue
            producer = nodes[index[tensor.op]]
            producer.out_edges[tensor.value_index].append((index[op], pos))
            if node.kind == _MERGE:
                if producer.kind == _NEXT_ITERATION:
                    node.back_edge_inputs += 1
                else:
                    node.forward_inputs += 1
        if node.kind == _MERGE:
            # Fed inputs count as forward inputs of a Merge.
            node.forward_inputs = node.n_data - node.back_edge_inputs
        for control in op._control_inputs:
            nodes[index[control]].control_edges.append(index[op])
            node.n_control += 1
        if not op._inputs and not op._control_inputs:
            seeds.append(index[op])
    fed_fetches = []
    fetch_is_op = []
    fetch_is_ref = []
    fetch_names = []
    for position, target in enumerate(fetch_targets):
        fetch_is_op.append(isinstance(target, ops_lib.Operation))
        if isinstance(target, ops_lib.Operation):
            fetch_is_ref.append(False)
            fetch_names.append(target.name)
            continue
        fetch_is_ref.append(target.dtype.is_ref_dtype)
        fetch_names.append(target.name)
        if target in fed:
            fed_fetches.append((position, fed[target]))
        else:
            nodes[index[target.op]].fetches.append((target.value_index, position))
    return ControlFlowPlan(nodes, feed_edges, seeds, len(fetch_targets), fed_fetches,
                           fetch_is_op, fetch_is_ref, fetch_names)


def _needed_ops(target_ops, fed):
    """Every op the targets depend on through data edges (including loop back edges) and
    control edges, stopping at fed tensors; in first-visit order."""
    seen = set()
    needed = []
    stack = list(reversed(target_ops))
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        needed.append(op)
        for tensor in op._inputs:
            if tensor not in fed and tensor.op not in seen:
                stack.append(tensor.op)
        for control in op._control_inputs:
            if control not in seen:
                stack.append(control)
    return needed


class _Frame:
    """One execution of a loop: the constant values entered into it and the iterations begun."""

    __slots__ = ("constants", "iterations", "depth")

    def __init__(self, depth):
        self.constants = []    # [(Enter node index, value)]
        self.iterations = set()
        self.depth = depth


class _Run:
    """The state of one Session.run over a ControlFlowPlan."""

    def __init__(self, plan, feed_values):
        self.plan = plan
        self.nodes = plan.nodes
        self.feed_values = feed_values
        self.pending = {}                # (node index, tag) -> input state
        self.ready = collections.deque()
        self.frames = {}                 # (parent tag, frame name) -> _Frame
        self.exits_live = set()          # (Exit node index, parent tag, frame name)
        self.exits_dead = {}             # same key -> depth, for exits that only saw dead
        self.results = [None] * plan.fetch_count
        self.produced = [False] * plan.fetch_count

    # --- driving -----------------------------------------------------------------------------
    def execute(self):
        plan = self.plan
        for feed_pos, edges in enumerate(plan.feed_edges):
            value = self.feed_values[feed_pos]
            for node_index, pos in edges:
                self._deliver(node_index, pos, None, value)
        for node_index in plan.seeds:
            self.ready.append((node_index, None, None))
        while True:
            self._drain()
            if not self._release_dead_exits():
                break
        return self._results()

    def _drain(self):
        ready = self.ready
        nodes = self.nodes
        while ready:
            node_index, tag, state = ready.popleft()
            node = nodes[node_index]
            kind = node.kind
            if kind == _NORMAL:
                self._run_normal(node, tag, state)
            elif kind == _MERGE:
                self._run_merge(node, tag, state)
            elif kind == _SWITCH:
                self._run_switch(node, tag, state)
            elif kind == _ENTER:
                self._run_enter(node_index, node, tag, state)
            elif kind == _EXIT:
                self._run_exit(node_index, node, tag, state)
            elif kind == _NEXT_ITERATION:
                self._run_next_iteration(node, tag, state)
            else:  # ControlTrigger ignores the deadness of its inputs
                self._emit(node, tag, (), False)

    def _release_dead_exits(self):
        """Once nothing can run, loops whose Exit never saw a live value are over: the Exit
        outputs a dead token in the parent frame. Innermost loops go first, since that may let
        an enclosing loop make progress."""
        waiting = [(key, depth) for key, depth in self.exits_dead.items()
                   if key not in self.exits_live]
        if not waiting:
            return False
        deepest = max(depth for _, depth in waiting)
        for key, depth in waiting:
            if depth != deepest:
                continue
            node_index, parent_tag, _ = key
            del self.exits_dead[key]
            self.exits_live.add(key)
            self._emit(self.nodes[node_index], parent_tag, (DEAD,), True)
        return True

    # --- token delivery ----------------------------------------------------------------------
    def _deliver(self, node_index, pos, tag, value):
        """A data token (pos >= 0) or control token (pos < 0) arrives at (node, tag)."""
        key = (node_index, tag)
        state = self.pending.get(key)
        node = self.nodes[node_index]
        if node.kind == _MERGE:
            self._deliver_merge(key, node, pos, tag, value, state)
            return
        if state is None:
            state = [node.n_data + node.n_control, [None] * node.n_data, False]
            self.pending[key] = state
        if value is DEAD:
            state[2] = True
        elif pos >= 0:
            state[1][pos] = value
        state[0] -= 1
        if state[0] == 0:
            del self.pending[key]
            self.ready.append((node_index, tag, state))

    def _deliver_merge(self, key, node, pos, tag, value, state):
        # state: [fired, dead data inputs, control inputs missing, live value, its index]
        if state is None:
            state = [False, 0, node.n_control, None, -1]
            self.pending[key] = state
        if state[0]:
            return
        if pos < 0:
            state[2] -= 1
        elif value is DEAD:
            state[1] += 1
        elif state[4] < 0:
            state[3], state[4] = value, pos
        if state[2] > 0:
            return
        if tag is not None and node.back_edge_inputs:
            expected = node.back_edge_inputs if tag[2] > 0 else node.forward_inputs
        else:
            expected = node.n_data
        if state[4] >= 0 or state[1] >= expected:
            state[0] = True
            self.ready.append((key[0], tag, state))

    def _emit(self, node, tag, outputs, dead):
        """Sends a node's outputs (and its control token) to its consumers at `tag`."""
        deliver = self._deliver
        for out_index, edges in enumerate(node.out_edges):
            value = outputs[out_index] if not dead else DEAD
            for consumer, pos in edges:
                deliver(consumer, pos, tag, value)
        control = DEAD if dead else None
        for consumer in node.control_edges:
            deliver(consumer, -1, tag, control)
        if tag is None and node.fetches:
            for out_index, position in node.fetches:
                self.results[position] = DEAD if dead else outputs[out_index]
                self.produced[position] = True

    # --- op kinds ------------------------------------------------------------------------------
    def _arguments(self, node, args):
        if node.derefs:
            args = list(args)
            for i in node.derefs:
                args[i] = args[i].get(node.op._name)
        return args

    def _run_normal(self, node, tag, state):
        if state is not None and state[2]:
            self._emit(node, tag, (), True)
            return
        args = self._arguments(node, state[1]) if state is not None else ()
        try:
            out = node.fn(*args)
        except errors.OpError:
            raise
        except Exception as exc:  # a kernel rejected its inputs: report it as TensorFlow does
            raise executor._kernel_error(node.op, exc) from exc
        n_out = len(node.out_edges)
        if n_out == 1:
            out = (out,)
        elif n_out == 0:
            out = ()
        self._emit(node, tag, out, False)

    def _run_switch(self, node, tag, state):
        if state[2]:
            self._emit(node, tag, (), True)
            return
        data, pred = self._arguments(node, state[1])
        taken = bool(pred)
        self._emit(node, tag, (DEAD, data) if taken else (data, DEAD), False)

    def _run_merge(self, node, tag, state):
        if state[4] < 0:
            self._emit(node, tag, (), True)
            return
        value = state[3]
        if node.derefs and state[4] in node.derefs:
            value = value.get(node.op._name)
        self._emit(node, tag, (value, np.int32(state[4])), False)

    def _run_enter(self, node_index, node, tag, state):
        dead = state[2]
        value = DEAD if dead else self._arguments(node, state[1])[0]
        frame_key = (tag, node.frame_name)
        frame = self.frames.get(frame_key)
        if frame is None:
            depth = 1 if tag is None else self.frames[(tag[0], tag[1])].depth + 1
            frame = self.frames[frame_key] = _Frame(depth)
            frame.iterations.add(0)
        if node.is_constant:
            frame.constants.append((node_index, value))
            for iteration in sorted(frame.iterations):
                self._emit_value(node, (tag, node.frame_name, iteration), value)
        else:
            self._emit_value(node, (tag, node.frame_name, 0), value)

    def _emit_value(self, node, tag, value):
        self._emit(node, tag, (value,), value is DEAD)

    def _run_exit(self, node_index, node, tag, state):
        if tag is None:
            raise errors.InvalidArgumentError(
                None, node.op, "Exit node '%s' runs outside of any while loop frame; the "
                "graph's loop structure is malformed." % node.op.name)
        parent_tag = tag[0]
        key = (node_index, parent_tag, tag[1])
        if state[2]:
            if key not in self.exits_live and key not in self.exits_dead:
                self.exits_dead[key] = self.frames[(parent_tag, tag[1])].depth
            return
        if key in self.exits_live:
            return
        self.exits_live.add(key)
        self.exits_dead.pop(key, None)
        value = self._arguments(node, state[1])[0]
        self._emit(node, parent_tag, (value,), False)

    def _run_next_iteration(self, node, tag, state):
        if state[2]:
            return  # a dead back edge ends the loop
        if tag is None:
            raise errors.InvalidArgumentError(
                None, node.op, "NextIteration node '%s' runs outside of any while loop frame; "
                "the graph's loop structure is malformed." % node.op.name)
        value = self._arguments(node, state[1])[0]
        next_tag = (tag[0], tag[1], tag[2] + 1)
        frame = self.frames[(tag[0], tag[1])]
        if next_tag[2] not in frame.iterations:
            frame.iterations.add(next_tag[2])
            for enter_index, constant in frame.constants:
                self._emit_value(self.nodes[enter_index], next_tag, constant)
        self._emit(node, next_tag, (value,), False)

    # --- results -------------------------------------------------------------------------------
    def _results(self):
        plan = self.plan
        results = self.results
        for position, feed_pos in plan.fed_fetches:
            results[position] = self.feed_values[feed_pos]
            self.produced[position] = True
        for position, value in enumerate(results):
            if plan.fetch_is_op[position]:
                results[position] = None  # a target op may have been skipped (dead): no error
                continue
            if value is DEAD:
                raise errors.InvalidArgumentError(
                    None, None, "Retval[%d] does not have value: the fetched tensor %s is on "
                    "the branch of a conditional that was not taken in this run."
                    % (position, plan.fetch_names[position]))
            if not self.produced[position]:
                raise errors.InvalidArgumentError(
                    None, None, "The fetched tensor %s was never computed: it lives inside a "
                    "while loop (only a loop's Exit outputs can be fetched) or waits for an "
                    "input that never arrives." % plan.fetch_names[position])
            if plan.fetch_is_ref[position] and isinstance(value, executor.VarRef):
                results[position] = value.get()
        return results
