"""`tensorkeep diff A B`: compare two checkpoints, or a checkpoint with what a meta graph expects.

    from tensorkeep.tools.diff import diff
    report = diff("old/model.ckpt", "new/model.ckpt.meta")
    report["renames"]   # {name in A: name in B} for names that differ only by scope/suffix
"""

import re
import sys

import numpy as np

from tensorkeep.io import gfile, numpy_codec
from tensorkeep.tools import model_files
from tensorkeep.tools.common import CommandError, dtype_name, dump_json, format_shape, print_table
from tensorkeep.tools.inspect import open_reader, read_tensor

_VARIABLE_OPS = ("VariableV2", "Variable", "VarHandleOp")
_CHUNK = 1 << 20  # Elements compared at a time, so a big tensor needs little extra memory.


class _Side:
    """One side of a diff: {name: (dtype name, shape or None)} and, for checkpoints, its prefix."""

    def __init__(self, label, kind, path, entries, prefix=None):
        self.label = label
        self.kind = kind
        self.path = path
        self.entries = entries
        self.prefix = prefix

    def describe(self):
        return {"path": self.path, "kind": self.kind, "count": len(self.entries)}


def _checkpoint_side(label, prefix, kind=model_files.CHECKPOINT):
    with open_reader(prefix) as reader:
        entries = {}
        for key in reader.keys():
            datatype, shape = reader.dtype_and_shape(key)
            entries[key] = (dtype_name(datatype), tuple(shape))
    return _Side(label, kind, prefix, entries, prefix)


def _shape_or_none(node):
    if "shape" not in node.attr:
        return None
    dims = numpy_codec.tensor_shape_dims(node.attr["shape"].shape)
    return None if dims is None else tuple(dims)


def expected_variables(meta_graph_def):
    """{checkpoint key: (dtype name, shape or None)} that the meta graph's Saver would restore.

    Taken from the `variables` collection (partitioned variables under their full name and
    shape), else from the graph's variable nodes.
    """
    nodes = {node.name: node for node in meta_graph_def.graph_def.node}
    expected = {}
    collection = meta_graph_def.collection_def.get("variables")
    if collection is not None and collection.bytes_list.value:
        from tensorkeep.io import protos

        for raw in collection.bytes_list.value:
            variable = protos.VariableDef.FromString(raw)
            op_name = variable.variable_name.split(":")[0]
            node = nodes.get(op_name)
            dtype = dtype_name(node.attr["dtype"].type) if node is not None and "dtype" in node.attr else None
            slice_info = variable.save_slice_info_def
            if slice_info.full_name:
                expected[slice_info.full_name] = (dtype, tuple(slice_info.full_shape))
            else:
                expected[op_name] = (dtype, _shape_or_none(node) if node is not None else None)
        return expected
    for node in meta_graph_def.graph_def.node:
        if node.op in _VARIABLE_OPS:
            expected[node.name] = (dtype_name(node.attr["dtype"].type), _shape_or_none(node))
    return expected


def load_side(label, path):
    resolved = model_files.resolve(path)
    if resolved.kind == model_files.CHECKPOINT:
        return _checkpoint_side(label, resolved.path)
    if resolved.kind == model_files.SAVED_MODEL:
        return _checkpoint_side(label, gfile.join(resolved.path, "variables", "variables"), model_files.SAVED_MODEL)
    if resolved.kind == model_files.META_GRAPH:
        entries = expected_variables(model_files.load_meta_graph(resolved.path))
        return _Side(label, model_files.META_GRAPH, resolved.path, entries)
    graph_def = model_files.load_graph_def(resolved.path)
    entries = {node.name: (dtype_name(node.attr["dtype"].type), _shape_or_none(node))
               for node in graph_def.node if node.op in _VARIABLE_OPS}
    if not entries:
        raise CommandError(f"{path} is a GraphDef without variables (a frozen graph holds constants): "
                           "nothing to compare with a checkpoint")
    return _Side(label, model_files.GRAPH_DEF, resolved.path, entries)


# ------------------------------------------------------------------ comparing


def _shapes_compatible(first, second):
    if first is None or second is None:
        return True
    return len(first) == len(second) and all(a == b or a < 0 or b < 0 for a, b in zip(first, second))


def _compatible(first, second):
    (dtype_a, shape_a), (dtype_b, shape_b) = first, second
    return (dtype_a is None or dtype_b is None or dtype_a == dtype_b) and _shapes_compatible(shape_a, shape_b)


def _without_index_suffixes(name):
    """dense_1/kernel_2 -> dense/kernel: TF's uniquifying suffixes removed."""
    return re.sub(r"_\d+(?=/|$)", "", name)


def _is_scoped(longer, shorter):
    return longer.endswith("/" + shorter)


# Relations tried in order; a pair is suggested when each name has exactly one partner.
_RELATIONS = (
    ("scope", lambda a, b: _is_scoped(a, b) or _is_scoped(b, a)),
    ("suffix", lambda a, b: _without_index_suffixes(a) == _without_index_suffixes(b)),
    ("scope+suffix", lambda a, b: _is_scoped(_without_index_suffixes(a), _without_index_suffixes(b))
     or _is_scoped(_without_index_suffixes(b), _without_index_suffixes(a))),
    ("affix", lambda a, b: a.endswith(b) or b.endswith(a) or a.startswith(b) or b.startswith(a)),
)


def suggest_renames(only_a, only_b):
    """{name in A: name in B} for names that line up uniquely (same dtype, compatible shape)."""
    remaining_a = dict(only_a)
    remaining_b = dict(only_b)
    renames = {}
    for _, related in _RELATIONS:
        partners_of_a = {a: [b for b in remaining_b if related(a, b) and _compatible(remaining_a[a], remaining_b[b])]
                         for a in remaining_a}
        partners_of_b = {}
        for a, partners in partners_of_a.items():
            for b in partners:
                partners_of_b.setdefault(b, []).append(a)
        for a, partners in partners_of_a.items():
            if len(partners) == 1 and len(partners_of_b[partners[0]]) == 1:
                renames[a] = partners[0]
        for a, b in renames.items():
            remaining_a.pop(a, None)
            remaining_b.pop(b, None)
    return dict(sorted(renames.items()))


def value_difference(first, second, atol=0.0):
    """{equal, differing_elements, max_abs_diff, max_rel_diff} of two same-shaped arrays.

    The relative difference is |a-b| / max(|a|,|b|) (0 where both are 0); NaN equals NaN;
    a NaN against a number counts as an infinite difference.
    """
    flat_a, flat_b = first.reshape(-1), second.reshape(-1)
    if first.dtype == object:
        differing = int(sum(x != y for x, y in zip(flat_a, flat_b)))
        return {"equal": differing == 0, "differing_elements": differing, "max_abs_diff": None, "max_rel_diff": None}
    wide = np.complex128 if first.dtype.kind == "c" else np.float64
    differing, max_abs, max_rel = 0, 0.0, 0.0
    for start in range(0, flat_a.size, _CHUNK):
        x = flat_a[start:start + _CHUNK].astype(wide)
        y = flat_b[start:start + _CHUNK].astype(wide)
        same = (x == y) | (np.isnan(x) & np.isnan(y))
        with np.errstate(invalid="ignore", over="ignore"):
            absolute = np.where(same, 0.0, np.abs(x - y))
        absolute = np.where(np.isnan(absolute), np.inf, absolute)
        scale = np.maximum(np.abs(x), np.abs(y))
        with np.errstate(invalid="ignore", divide="ignore"):
            relative = np.where(absolute == 0, 0.0, absolute / np.where(scale > 0, scale, 1.0))
        relative = np.where(np.isnan(relative), np.inf, relative)
        differing += int(np.count_nonzero(absolute > atol))
        if absolute.size:
            max_abs = max(max_abs, float(absolute.max()))
            max_rel = max(max_rel, float(relative.max()))
    return {"equal": differing == 0, "differing_elements": differing, "max_abs_diff": _json_float(max_abs),
            "max_rel_diff": _json_float(max_rel)}


def _json_float(value):
    return "inf" if value == np.inf else value


def _listing(side, names):
    return [{"name": name, "dtype": side.entries[name][0],
             "shape": None if side.entries[name][1] is None else list(side.entries[name][1])} for name in names]


def diff(path_a, path_b, atol=0.0):
    """The comparison report of A and B (the `--json` document)."""
    side_a, side_b = load_side("A", path_a), load_side("B", path_b)
    names_a, names_b = set(side_a.entries), set(side_b.entries)
    common = sorted(names_a & names_b)
    only_a, only_b = sorted(names_a - names_b), sorted(names_b - names_a)
    mismatched = []
    comparable = []
    for name in common:
        entry_a, entry_b = side_a.entries[name], side_b.entries[name]
        if _compatible(entry_a, entry_b):
            comparable.append((name, name))
        else:
            mismatched.append({
                "name": name,
                "a": {"dtype": entry_a[0], "shape": None if entry_a[1] is None else list(entry_a[1])},
                "b": {"dtype": entry_b[0], "shape": None if entry_b[1] is None else list(entry_b[1])}})
    renames = suggest_renames({name: side_a.entries[name] for name in only_a},
                              {name: side_b.entries[name] for name in only_b})
    compared = []
    if side_a.prefix is not None and side_b.prefix is not None:
        with open_reader(side_a.prefix) as reader_a, open_reader(side_b.prefix) as reader_b:
            for name_a, name_b in comparable + sorted(renames.items()):
                entry = {"name": name_a}
                if name_b != name_a:
                    entry["b_name"] = name_b
                entry.update(value_difference(read_tensor(reader_a, name_a), read_tensor(reader_b, name_b), atol))
                compared.append(entry)
    identical = not (only_a or only_b or mismatched) and all(entry["equal"] for entry in compared)
    return {
        "a": side_a.describe(), "b": side_b.describe(),
        "only_in_a": _listing(side_a, only_a), "only_in_b": _listing(side_b, only_b),
        "mismatched": mismatched, "compared": compared, "renames": renames, "identical": identical,
    }


def _number(value):
    return "-" if value is None else value if isinstance(value, str) else f"{value:.6g}"


def print_report(report, out):
    for label in ("a", "b"):
        side = report[label]
        noun = "variables expected" if side["kind"] in (model_files.META_GRAPH, model_files.GRAPH_DEF) else "tensors"
        print(f"{label.upper()}: {side['path']} ({side['kind'].replace('_', ' ')}, {side['count']} {noun})", file=out)
    for key, title in (("only_in_a", "only in A"), ("only_in_b", "only in B")):
        if report[key]:
            print(f"{title} ({len(report[key])}):", file=out)
            rows = [("  " + entry["name"], entry["dtype"] or "?", format_shape(entry["shape"])) for entry in report[key]]
            print_table(rows, ("  name", "dtype", "shape"), out)
    if report["mismatched"]:
        print(f"shape/dtype mismatches ({len(report['mismatched'])}):", file=out)
        for entry in report["mismatched"]:
            print(f"  {entry['name']}: A {entry['a']['dtype']} {format_shape(entry['a']['shape'])}, "
                  f"B {entry['b']['dtype']} {format_shape(entry['b']['shape'])}", file=out)
    if report["compared"]:
        differing = [entry for entry in report["compared"] if not entry["equal"]]
        print(f"values: {len(report['compared']) - len(differing)} of {len(report['compared'])} compared "
              "tensors are equal", file=out)
        if differing:
            rows = [("  " + entry["name"] + (f" -> {entry['b_name']}" if "b_name" in entry else ""),
                     str(entry["differing_elements"]), _number(entry["max_abs_diff"]), _number(entry["max_rel_diff"]))
                    for entry in differing]
            print_table(rows, ("  differing tensor", "elements", "max abs diff", "max rel diff"), out,
                        right_align={1, 2, 3})
    if report["renames"]:
        print("suggested renames {name in A: name in B} (Saver var_list: see --help):", file=out)
        print(repr(report["renames"]), file=out)
    print("A and B match" if report["identical"] else "A and B differ", file=out)


def run(args, out=None):
    out = sys.stdout if out is None else out
    report = diff(args.a, args.b, args.atol)
    if args.json:
        dump_json(report, out)
    else:
        print_report(report, out)
    return 1 if args.exit_code and not report["identical"] else 0
