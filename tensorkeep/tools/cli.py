"""The `tensorkeep` command line.

Every command is a function of parsed arguments returning an exit status: 0 success, 1 a
failure the user can act on (printed as one `tensorkeep: error: ...` line on stderr), 2 a
usage error. `main(argv)` never raises for expected failures, so it can be called in-process.
"""

import argparse
import sys

from tensorkeep.tools.common import CommandError

_FORMATTER = argparse.RawDescriptionHelpFormatter


def _cmd_exec(args):
    from tensorkeep.tools import runner

    runner.run_script(args.script, args.args)
    return 0


def _cmd_demo(args):
    from tensorkeep.tools import demo

    return demo.main(keep=args.keep)


def _cmd_inspect(args):
    from tensorkeep.tools import inspect

    return inspect.run(args)


def _cmd_diff(args):
    from tensorkeep.tools import diff

    return diff.run(args)


def _cmd_convert(args):
    from tensorkeep.tools import convert

    return convert.run(args)


def _cmd_freeze(args):
    from tensorkeep.tools import freeze_graph

    return freeze_graph.run(args)


def _cmd_run(args):
    from tensorkeep.tools import run_model

    return run_model.run(args)


INSPECT_HELP = """\
PATH may be:
  a checkpoint prefix (model.ckpt, or one of its files: model.ckpt.index)
  a directory with a `checkpoint` state file (its latest checkpoint; the others are listed)
  a .meta MetaGraphDef, a .pb / .pbtxt GraphDef, or a SavedModel directory
  any of these as an fsspec URL (s3://bucket/run/model.ckpt needs: pip install tensorkeep[s3])

examples:
  tensorkeep inspect train/                      # variables of the latest checkpoint
  tensorkeep inspect model.ckpt --tensor dense/kernel
  tensorkeep inspect model.ckpt --all-tensors    # every value, as TF's inspect_checkpoint
  tensorkeep inspect model.ckpt.meta             # ops, inputs, outputs, collections, saver
  tensorkeep inspect frozen.pb --json | jq .outputs

--json document (all shapes are lists of dims, -1 for an unknown size, null for unknown rank):
  checkpoint:  {kind: "checkpoint", path, format: "V2"|"V1", num_shards, missing_data_files,
                variables: [{name, dtype, shape, elements, bytes}],
                totals: {variables, elements, bytes}, other_checkpoints?, note?}
  graph_def:   {kind: "graph_def", path, node_count, producer, min_consumer,
                op_histogram: {op: count}, inputs: [{name, dtype, shape}],
                inputs_with_default: [...], outputs: [{name, op}], library_functions}
  meta_graph:  graph_def's fields + tensorflow_version, tensorflow_git_version, tags,
                stripped_default_attrs, stripped_op_list: [op],
                collections: {name: {kind, count, values? | variables?}},
                saver_def: {filename_tensor_name, save_tensor_name, restore_op_name,
                            max_to_keep, sharded, keep_checkpoint_every_n_hours, version},
                signature_defs: {key: {method_name, inputs: {k: {name, dtype, shape}}, outputs}}
  saved_model: {kind: "saved_model", path, saved_model_schema_version,
                meta_graphs: [meta_graph fields], variables: checkpoint document}
  with --tensor/--all-tensors: tensors: [{name, dtype, shape, values}] (nested lists;
  "nan"/"inf"/"-inf" for non-finite floats, [re, im] for complex, UTF-8 text for strings).
docs/CLI.md describes every field."""

DIFF_HELP = """\
A and B are checkpoints (prefixes or directories) or meta graphs (.meta: the variables the
graph expects, from its `variables` collection or its variable nodes); a SavedModel directory
stands for its variables. Reported: tensors only in A, only in B, shape/dtype mismatches, and
for tensors in both checkpoints the largest absolute and relative difference
(|a-b| / max(|a|,|b|)). Names that differ only by a scope or a suffix (dense/kernel vs
model/dense/kernel, v1 vs v1_1) are paired when shape and dtype match exactly one candidate;
the pairs are printed as a Python dict {name in A: name in B}. To restore checkpoint A into
the graph of B with it:
  renames = {...}   # the printed dict
  by_name = {v.op.name: v for v in tf.global_variables()}
  saver = tf.train.Saver({old: by_name[new] for old, new in renames.items()})

exit status: 0 (also when they differ, unless --exit-code), 1 on failure or, with
--exit-code, when A and B differ; 2 for usage errors.

examples:
  tensorkeep diff run1/model.ckpt run2/model.ckpt
  tensorkeep diff old/model.ckpt new_graph.meta     # will the graph restore from it?
  tensorkeep diff a.ckpt b.ckpt --json"""

CONVERT_HELP = """\
Formats (from the extension, or --to): checkpoint (a prefix: no extension), safetensors
(.safetensors), npz (.npz), torch (.pt/.pth, write only: a state_dict for
torch.load(path, weights_only=True)). SRC may be any of them but torch; DST any of them.
Tensors are streamed one at a time, so memory stays near the largest tensor (torch:
tensors are memory-mapped from a local single-file checkpoint when no cast is needed,
otherwise the whole state dict is held in memory, because torch.save writes one dict).

Checkpoint -> safetensors -> checkpoint is bit-exact (same .index and .data bytes) for
single-file checkpoints. String tensors cannot be stored in safetensors or torch files;
npz stores them as fixed-width bytes. bfloat16/float8 tensors go to npz as their raw bits
(uint16/uint8) with the real dtype in the member's zip comment, which convert reads back.

  --rename 'REGEX=REPL'  re.sub(REGEX, REPL, name) on every name, in the order given
                         (split at the first '='; write \\x3d for a '=' inside REGEX)
  --exclude REGEX        leave out tensors whose (original) name matches, e.g. '/Adam(_1)?$'
  --dtype T              cast floating-point tensors to T (float16, bfloat16, float32,
                         float64); integer, bool and string tensors keep their dtype

examples:
  tensorkeep convert model.ckpt model.safetensors
  tensorkeep convert model.safetensors restored/model.ckpt
  tensorkeep convert train/ weights.npz --rename '^model/=' --dtype float16
  tensorkeep convert model.ckpt model.pt --exclude 'Adam|global_step'
  tensorkeep convert s3://bucket/run/model.ckpt local.safetensors"""

FREEZE_HELP = """\
Imports the meta graph, restores the checkpoint into it, replaces every variable the
outputs depend on with a constant holding its value, keeps only what the outputs need,
and writes the GraphDef (binary, or text format with --text).

examples:
  tensorkeep freeze --meta model.ckpt.meta --checkpoint model.ckpt --outputs add -o frozen.pb
  tensorkeep freeze --meta m.meta --checkpoint train/ --outputs softmax,loss -o f.pbtxt --text"""

RUN_HELP = """\
MODEL is a frozen GraphDef (.pb/.pbtxt), or a checkpoint prefix (or directory) with its
.meta beside it (the variables are restored before running). Inputs are fed from .npy
files; each output is written as DIR/<output name with / replaced by __>.npy and its
shape and dtype printed. Names may be node names (output 0) or tensor names (name:1).

examples:
  tensorkeep run frozen.pb --input x=x.npy --output softmax -o out/
  tensorkeep run train/model.ckpt --input x-input=batch.npy --output layer2/add:0"""


def _add_command(sub, name, summary, epilog, func):
    parser = sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".",
                            epilog=epilog, formatter_class=_FORMATTER)
    parser.set_defaults(func=func)
    return parser


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tensorkeep",
        description="TensorFlow 1.x model persistence on NumPy: run TF1 scripts, inspect and "
                    "convert model files.",
        epilog="`tensorkeep COMMAND --help` shows each command's options and examples.",
        formatter_class=_FORMATTER)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("exec", help="run an unmodified TF1 script with `import tensorflow` "
                                    "resolving to tensorkeep",
                       description="Run a TensorFlow 1.x script on tensorkeep.\n\nexample:\n"
                                   "  tensorkeep exec train.py --steps 100",
                       formatter_class=_FORMATTER)
    p.add_argument("script", help="path of the Python script")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    p.set_defaults(func=_cmd_exec)

    p = sub.add_parser("demo", help="the seed walkthrough end to end in a temporary directory",
                       description="Save, restore, import a meta graph, rename variables, keep "
                                   "moving averages and freeze a graph, printing each step."
                                   "\n\nexample:\n  tensorkeep demo",
                       formatter_class=_FORMATTER)
    p.add_argument("--keep", metavar="DIR", help="write the files into DIR and keep them")
    p.set_defaults(func=_cmd_demo)

    p = _add_command(sub, "inspect", "show what a checkpoint, meta graph, GraphDef or SavedModel holds",
                     INSPECT_HELP, _cmd_inspect)
    p.add_argument("path", metavar="PATH", help="checkpoint prefix or directory, .meta, .pb/.pbtxt, SavedModel")
    p.add_argument("--tensor", metavar="NAME", action="append",
                   help="print the value of tensor NAME (repeatable); for graphs, of Const node NAME")
    p.add_argument("--all-tensors", action="store_true", help="print the value of every tensor")
    p.add_argument("--json", action="store_true", help="print a JSON document instead (schema below)")

    p = _add_command(sub, "diff", "compare two checkpoints, or a checkpoint with what a meta graph expects",
                     DIFF_HELP, _cmd_diff)
    p.add_argument("a", metavar="A", help="checkpoint or .meta")
    p.add_argument("b", metavar="B", help="checkpoint or .meta")
    p.add_argument("--json", action="store_true", help="print a JSON document instead")
    p.add_argument("--exit-code", action="store_true", help="exit with 1 when A and B differ")
    p.add_argument("--atol", type=float, default=0.0, metavar="X",
                   help="values within X of each other count as equal (default 0: exact)")

    p = _add_command(sub, "convert", "convert between checkpoint, safetensors, npz and PyTorch files",
                     CONVERT_HELP, _cmd_convert)
    p.add_argument("src", metavar="SRC", help="checkpoint prefix or directory, .safetensors or .npz")
    p.add_argument("dst", metavar="DST", help="checkpoint prefix, .safetensors, .npz or .pt")
    p.add_argument("--rename", metavar="REGEX=REPL", action="append", default=[],
                   help="rename tensors with re.sub (repeatable, applied in order)")
    p.add_argument("--exclude", metavar="REGEX", action="append", default=[],
                   help="leave out tensors whose name matches REGEX (re.search; repeatable), e.g. Adam")
    p.add_argument("--dtype", metavar="T", help="cast floating-point tensors to T")
    p.add_argument("--to", metavar="FORMAT", choices=("checkpoint", "safetensors", "npz", "torch"),
                   help="output format when DST's extension does not say (checkpoint, safetensors, npz, torch)")
    p.add_argument("--from", dest="from_format", metavar="FORMAT",
                   choices=("checkpoint", "safetensors", "npz", "torch"),
                   help="input format when SRC's extension does not say")

    p = _add_command(sub, "freeze", "fold a meta graph and its checkpoint into one constant GraphDef",
                     FREEZE_HELP, _cmd_freeze)
    p.add_argument("--meta", required=True, metavar="M", help="the .meta file")
    p.add_argument("--checkpoint", required=True, metavar="C", help="checkpoint prefix or directory")
    p.add_argument("--outputs", required=True, metavar="A,B", help="comma-separated output node names")
    p.add_argument("-o", "--output-file", required=True, metavar="FILE", help="where to write the GraphDef")
    p.add_argument("--text", action="store_true", help="write text format (pbtxt) instead of binary")

    p = _add_command(sub, "run", "run a frozen graph or a meta graph + checkpoint on .npy inputs",
                     RUN_HELP, _cmd_run)
    p.add_argument("model", metavar="MODEL", help=".pb/.pbtxt, or checkpoint prefix with .meta beside it")
    p.add_argument("--input", metavar="NAME=FILE.npy", action="append", default=[], help="feed (repeatable)")
    p.add_argument("--output", metavar="NAME", action="append", required=True, help="fetch (repeatable)")
    p.add_argument("-o", "--output-dir", metavar="DIR", help="write each output as DIR/<name>.npy")
    return parser


_EXTRA_OF_PACKAGE = {"s3fs": "s3", "torch": "torch", "tqdm": "progress"}


def _missing_package_message(error):
    text = str(error)
    for package, extra in _EXTRA_OF_PACKAGE.items():
        if package in text:
            return f"{text.rstrip('.')}: pip install tensorkeep[{extra}]"
    return text


def _fail(message):
    sys.stderr.write(f"tensorkeep: error: {message}\n")
    return 1


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # --help (0) or a usage error (2, already printed)
        return exit_request.code if isinstance(exit_request.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    if args.func in (_cmd_exec, _cmd_demo):
        return args.func(args)  # A script's own errors keep their tracebacks.
    from tensorkeep.io import errors as io_errors

    try:
        return args.func(args)
    except CommandError as error:
        return _fail(str(error))
    except io_errors.OpError as error:
        return _fail(error.message)
    except ImportError as error:  # fsspec naming the package a URL scheme needs
        return _fail(_missing_package_message(error))
    except BrokenPipeError:  # `tensorkeep inspect ... | head`
        return 0
    except OSError as error:
        return _fail(f"{error.filename + ': ' if getattr(error, 'filename', None) else ''}"
                     f"{error.strerror or error}")
    except KeyboardInterrupt:
        return _fail("interrupted")


if __name__ == "__main__":
    sys.exit(main())
