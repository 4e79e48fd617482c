"""`tensorkeep convert`: checkpoint <-> safetensors <-> npz, checkpoint -> PyTorch state dict.

    from tensorkeep.tools.convert import convert
    convert("model.ckpt", "model.safetensors", renames=["^model/="], dtype="float16")

Tensors are read and written one at a time (see tools/converters for each format).
"""

import math
import re
import sys

from tensorkeep.io import numpy_codec
from tensorkeep.tools import converters
from tensorkeep.tools.common import CommandError, format_bytes
from tensorkeep.tools.converters import TensorInfo
from tensorkeep.tools.progress import progress

FLOATING = {1: "float32", 2: "float64", 14: "bfloat16", 19: "float16"}
CAST_TARGETS = {name: datatype for datatype, name in FLOATING.items()}


def parse_renames(specs):
    """[(compiled regex, replacement)] from 'REGEX=REPL' strings."""
    rules = []
    for spec in specs:
        pattern, separator, replacement = spec.partition("=")
        if not separator or not pattern:
            raise CommandError(f"--rename {spec!r}: expected REGEX=REPL, e.g. '^model/=' or 'kernel$=weight'")
        try:
            rules.append((re.compile(pattern), replacement))
        except re.error as error:
            raise CommandError(f"--rename {spec!r}: bad regular expression: {error}") from None
    return rules


def rename(name, rules):
    for pattern, replacement in rules:
        try:
            name = pattern.sub(replacement, name)
        except (re.error, IndexError) as error:
            raise CommandError(f"--rename {pattern.pattern!r}: bad replacement: {error}") from None
    return name


def plan(source_infos, rules=(), dtype=None, excludes=()):
    """[(output TensorInfo, source TensorInfo)] after excluding, renaming and casting."""
    target = None
    if dtype is not None:
        target = CAST_TARGETS.get(dtype)
        if target is None:
            raise CommandError(f"--dtype {dtype}: floating-point tensors can be cast to "
                               f"{', '.join(CAST_TARGETS)}")
    steps = []
    sources_of = {}
    for info in source_infos:
        if any(pattern.search(info.name) for pattern in excludes):
            continue
        new_name = rename(info.name, rules)
        if not new_name:
            raise CommandError(f"--rename turns {info.name!r} into an empty name")
        if new_name in sources_of:
            raise CommandError(f"--rename gives {sources_of[new_name]!r} and {info.name!r} the same name "
                               f"{new_name!r}")
        sources_of[new_name] = info.name
        datatype = target if target is not None and info.datatype in FLOATING else info.datatype
        steps.append((TensorInfo(new_name, datatype, tuple(info.shape)), info))
    return steps


def _cast(value, datatype):
    storage = numpy_codec.numpy_dtype(datatype)
    return value if value.dtype == storage else value.astype(storage)


def _nbytes(info):
    if info.datatype == numpy_codec.DT_STRING:
        return 0
    return math.prod(info.shape) * numpy_codec.numpy_dtype(info.datatype).itemsize


def parse_excludes(patterns):
    try:
        return [re.compile(pattern) for pattern in patterns]
    except re.error as error:
        raise CommandError(f"--exclude: bad regular expression: {error}") from None


def convert(src, dst, renames=(), dtype=None, to=None, from_format=None, excludes=()):
    """Convert the tensors in `src` into `dst`; returns a summary dict (formats, counts, bytes)."""
    src_format = converters.format_of(src, from_format)
    dst_format = converters.format_of(dst, to)
    if src_format == "torch" and dst_format == "torch":
        raise CommandError("both SRC and DST are PyTorch files: nothing to convert")
    write = converters.writer(dst_format)
    source = converters.open_source(src, src_format)
    try:
        steps = plan(source.tensors, parse_renames(renames), dtype, parse_excludes(excludes))
        if not steps and source.tensors:
            raise CommandError(f"--exclude leaves none of the {len(source.tensors)} tensors of {src}")
        infos = [output for output, _ in steps]
        total = sum(_nbytes(info) for info in infos)
        with progress(total=total, desc=f"{src_format} -> {dst_format}", unit="B") as bar:
            def fetch(index):
                output, original = steps[index]
                value = _cast(source.read(original.name), output.datatype)
                bar.update(_nbytes(output))
                return value

            if dst_format == "torch" and hasattr(source, "mapped"):
                def mapped(index):
                    output, original = steps[index]
                    if output.datatype != original.datatype:
                        return None
                    value = source.mapped(original.name)
                    if value is not None:
                        bar.update(_nbytes(output))
                    return value

                write(dst, infos, fetch, mapped=mapped)
            else:
                write(dst, infos, fetch)
    finally:
        source.close()
    return {
        "source": getattr(source, "path", src), "source_format": src_format,
        "destination": dst, "destination_format": dst_format,
        "tensors": len(steps),
        "renamed": sum(output.name != original.name for output, original in steps),
        "cast": sum(output.datatype != original.datatype for output, original in steps),
        "bytes": total,
    }


def run(args, out=None):
    out = sys.stdout if out is None else out
    summary = convert(args.src, args.dst, args.rename, args.dtype, args.to, args.from_format, args.exclude)
    details = []
    if summary["renamed"]:
        details.append(f"{summary['renamed']} renamed")
    if summary["cast"]:
        details.append(f"{summary['cast']} cast to {args.dtype}")
    print(f"wrote {summary['destination']} ({summary['destination_format']}): {summary['tensors']} tensors, "
          f"{format_bytes(summary['bytes'])}" + (f" ({', '.join(details)})" if details else "")
          + f" from {summary['source']} ({summary['source_format']})", file=out)
    return 0

