"""Small pieces shared by the command-line tools: the error type, dtype names, formatting."""

import json
import math

import numpy as np

from tensorkeep.io import numpy_codec


class CommandError(Exception):
    """An expected failure the user can act on; the CLI prints it as one line and exits 1."""


class MissingExtraError(CommandError):
    """An optional dependency is not installed."""

    def __init__(self, what, extra):
        super().__init__(f"{what} needs the optional dependency: pip install tensorkeep[{extra}]")


def dtype_name(datatype):
    """TensorFlow's name for a DataType enum: float32, bfloat16, string, qint8, float8_e5m2, ..."""
    from tensorkeep.framework import dtypes

    try:
        return dtypes.as_dtype(int(datatype)).base_dtype.name
    except TypeError:
        return numpy_codec.numpy_dtype(datatype).name


def datatype_of_name(name):
    """The DataType enum of a TensorFlow dtype name (inverse of `dtype_name`)."""
    from tensorkeep.framework import dtypes

    try:
        return dtypes.as_dtype(name).as_datatype_enum
    except TypeError:
        return numpy_codec.datatype_of(np.dtype(_ml_dtype(name)))


def _ml_dtype(name):
    import ml_dtypes

    try:
        return getattr(ml_dtypes, name)
    except AttributeError:
        raise CommandError(f"unknown dtype {name!r}") from None


def format_shape(shape):
    """`[2,3]`, `[?,784]` for unknown sizes, `<unknown>` for unknown rank (None)."""
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if size is None or size < 0 else str(size) for size in shape) + "]"


def format_bytes(count):
    """A byte count for people: 512 B, 4.0 KiB, 1.0 GiB."""
    if count < 1024:
        return f"{count} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        count /= 1024
        if count < 1024 or unit == "TiB":
            return f"{count:.1f} {unit}"


def print_table(rows, header, out, right_align=()):
    """Print rows of strings as aligned columns under `header`."""
    widths = [len(title) for title in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row)]

    def line(cells):
        parts = [cell.rjust(width) if index in right_align else cell.ljust(width)
                 for index, (cell, width) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    print(line(header), file=out)
    for row in rows:
        print(line(row), file=out)


def jsonable_values(array):
    """A numpy array as nested JSON-ready lists.

    Non-finite floats become the strings "nan", "inf", "-inf" (JSON has no such numbers),
    complex numbers become [real, imaginary] pairs, bytes are decoded as UTF-8 with
    undecodable bytes escaped (\\xNN), and 16-bit and 8-bit floats are widened to float.
    """
    array = np.asarray(array)
    if array.dtype == object:
        flat = [element.decode("utf-8", "backslashreplace") if isinstance(element, bytes) else str(element)
                for element in array.reshape(-1)]
        return np.array(flat, dtype=object).reshape(array.shape).tolist()
    if array.dtype.kind == "c":
        pairs = np.stack([array.real, array.imag], axis=-1).astype(np.float64)
        return _finite_or_text(pairs)
    if array.dtype.kind in "biu":
        return array.tolist()
    if array.dtype.name.startswith(("int", "uint")):  # ml_dtypes' int4, uint2, ...
        return array.astype(np.int64).tolist()
    return _finite_or_text(array.astype(np.float64))


def _finite_or_text(array):
    values = array.tolist()
    if np.isfinite(array).all():
        return values

    def fix(value):
        if isinstance(value, list):
            return [fix(item) for item in value]
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value

    return fix(values)


def dump_json(document, out):
    json.dump(document, out, indent=2, sort_keys=False, allow_nan=False)
    out.write("\n")


def contiguous(value):
    """`value` as a C-contiguous array of the same shape (np.ascontiguousarray turns 0-d into 1-d)."""
    value = np.asarray(value)
    return value if value.flags.c_contiguous else value.copy(order="C")


def local_path(path):
    """The local file-system path of `path`, or None when it is a URL served by fsspec."""
    from tensorkeep.io import gfile

    path = gfile.path_str(path)
    if path.startswith("file://"):
        return path[len("file://"):]
    return None if "://" in path else path
