"""TensorFlow 1.x string ops: formatting and parsing numbers, substrings, regular expressions,
base64, splitting, hashing into buckets, joining along axes. String tensors are NumPy object
arrays of bytes. None of these ops has a gradient.

Regular expressions: TensorFlow uses RE2, tensorkeep Python's `re`, made to act as RE2 does by
default (UTF-8 characters, ASCII \\w \\d \\s \\b, `$` only at the end, no empty match right
after a match in global replacement). Known differences: Python accepts what RE2 rejects
(backreferences, lookaround, atomic groups), RE2's \\C, \\pN, \\z and [[:alpha:]] classes are
not understood, (?i) folds only ASCII letters, and pattern errors give Python's reason after
"Invalid pattern: <pattern>, error: ".
"""

import base64
import re

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.ops import _helpers

_MASK64 = (1 << 64) - 1


def _fail(op, message):
    return errors.InvalidArgumentError(None, op, "%s\n\t [[{{node %s}}]]" % (message, op.name))


def _elementwise(values, fn, out_dtype=object):
    array = np.asarray(values, dtype=object)
    out = np.empty(array.shape, dtype=out_dtype)
    for index in np.ndindex(array.shape):
        out[index] = fn(bytes(array[index]))
    return out


def _text_attr(op, name):
    value = op._attrs[name]
    return value.decode() if isinstance(value, bytes) else value


# --- AsString --------------------------------------------------------------------------------------

_AS_STRING_TYPES = ("float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, "
                    "uint32, uint64, complex64, complex128, bool, variant, string")
_FLOAT32_TINY = np.finfo(np.float32).tiny
_FLOATING = ("float32", "float64", "float16", "bfloat16", "complex64", "complex128")


def _as_string_kernel(op, ctx):
    dtype = op._attrs["T"]
    precision, width = op._attrs["precision"], op._attrs["width"]
    scientific, shortest = op._attrs["scientific"], op._attrs["shortest"]
    fill = _text_attr(op, "fill")
    type_name = dtypes.opdef_type_name(dtype)
    if dtype.name not in _FLOATING:
        if scientific or shortest:
            raise _fail(op, "scientific and shortest format not supported for datatype "
                        + type_name)
        if precision >= 0:
            raise _fail(op, "precision not supported for datatype " + type_name)
    if len(fill) > 1:
        raise _fail(op, "Fill string must be one or fewer characters")
    if scientific and shortest:
        raise _fail(op, "Cannot select both scientific and shortest notation")
    if fill and fill not in " +-0#":
        raise _fail(op, 'Fill argument not supported: "%s"' % fill)
    spec = "%"
    if width > -1:
        spec += "%s%d" % (fill, width)
    if precision > -1:
        spec += ".%d" % precision
    if dtype.name in _FLOATING:
        spec += "g" if shortest else "e" if scientific else "f"
    elif dtype.name == "bool":
        spec += "s"
    elif dtype.name == "string":
        spec += "s"
    else:
        spec += "d"
    if dtype.name.startswith("complex"):
        spec = "(%s,%s)" % (spec, spec)

    def encode(value):
        if dtype.name == "bool":
            return (spec % ("true" if value else "false")).encode()
        if dtype.name == "string":
            return (spec % bytes(value).decode("latin-1")).encode("latin-1")
        if dtype.name.startswith("complex"):
            return (spec % (float(value.real), float(value.imag))).encode()
        if dtype.name == "float32" and 0 < abs(value) < _FLOAT32_TINY:
            value = np.copysign(np.float32(0), value)  # TensorFlow's kernels flush denormals
        if dtype.name in _FLOATING:
            return (spec % float(value)).encode()
        return (spec % int(value)).encode()

    def run(values):
        array = np.asarray(values)
        out = np.empty(array.shape, dtype=object)
        for index in np.ndindex(array.shape):
            out[index] = encode(array[index])
        return out
    return run


register_op("AsString", inputs=["input: T"], outputs=["output: string"],
            attrs=["T: {%s}" % _AS_STRING_TYPES, "precision: int = -1",
                   "scientific: bool = false", "shortest: bool = false", "width: int = -1",
                   "fill: string = ''"],
            kernel=_as_string_kernel, shape=_helpers.unchanged_shape)


def as_string(input, precision=-1, scientific=False,  # noqa: A002 (TF's argument names)
              shortest=False, width=-1, fill="", name=None):
    return apply_op("AsString", input=input, precision=precision, scientific=scientific,
                    shortest=shortest, width=width, fill=fill, name=name)


# --- StringToNumber --------------------------------------------------------------------------------

_INTEGER_TEXT = re.compile(rb"\s*[+-]?[0-9]+\s*")
_FLOAT_TEXT = re.compile(rb"\s*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                         rb"|inf|infinity|nan)\s*", re.IGNORECASE)
_HEX_TEXT = re.compile(rb"\s*[+-]?0[xX][0-9a-fA-F]+\s*")


def _string_to_number_kernel(op, ctx):
    out_type = op._attrs["out_type"].as_numpy
    floating = out_type.kind == "f"
    info = None if floating else np.iinfo(out_type)

    def parse(text):
        if floating:
            if _FLOAT_TEXT.fullmatch(text):
                return float(text)
            if _HEX_TEXT.fullmatch(text):
                return float(int(text, 16))
        elif _INTEGER_TEXT.fullmatch(text):
            number = int(text)
            if info.min <= number <= info.max:
                return number
        raise _fail(op, "StringToNumberOp could not correctly convert string: "
                    + text.decode("utf-8", "replace"))

    def run(values):
        array = np.asarray(values, dtype=object)
        out = np.empty(array.shape, dtype=out_type)
        with np.errstate(over="ignore"):
            for index in np.ndindex(array.shape):
                out[index] = parse(bytes(array[index]))
        return out
    return run


register_op("StringToNumber", inputs=["string_tensor: string"], outputs=["output: out_type"],
            attrs=["out_type: {float, double, int32, int64, uint32, uint64} = DT_FLOAT"],
            kernel=_string_to_number_kernel, shape=_helpers.unchanged_shape)


def string_to_number(string_tensor=None, out_type=dtypes.float32, name=None,
                     input=None):  # noqa: A002 (TF's argument names)
    if string_tensor is None:
        string_tensor = input
    return apply_op("StringToNumber", string_tensor=string_tensor, out_type=out_type, name=name)


# --- Substr ----------------------------------------------------------------------------------------

def _utf8_char_starts(text):
    """Byte offsets where each UTF-8 character of `text` starts, plus len(text)."""
    starts = [i for i, byte in enumerate(text) if byte & 0xC0 != 0x80]
    return starts + [len(text)]


def _substr_kernel(op, ctx):
    by_char = _text_attr(op, "unit") == "UTF8_CHAR"

    def piece(index, text, pos, length):
        starts = _utf8_char_starts(text) if by_char else None
        size = len(starts) - 1 if by_char else len(text)
        if abs(pos) > size:
            shown = "" if by_char else " b'%s'" % text.decode("latin-1")
            raise _fail(op, "pos %d out of range for string%s at index %d" % (pos, shown, index))
        if pos < 0:
            pos += size
        end = size if length < 0 else min(size, pos + length)
        if by_char:
            return text[starts[pos]:starts[end]]
        return text[pos:end]

    def run(values, pos, length):
        values, pos, length = np.asarray(values, dtype=object), np.asarray(pos), np.asarray(length)
        if pos.ndim == 0:
            pos, length = np.broadcast_to(pos, values.shape), np.broadcast_to(length, values.shape)
        values, pos, length = np.broadcast_arrays(values, pos, length)
        out = np.empty(values.shape, dtype=object)
        for flat, index in enumerate(np.ndindex(values.shape)):
            out[index] = piece(flat, bytes(values[index]), int(pos[index]), int(length[index]))
        return out
    return run


def _substr_shape(op):
    text, pos, length = (t._shape_val for t in op._inputs)
    if length.ndims is not None and pos.ndims is not None and pos.ndims != length.ndims:
        raise ValueError("Shape must be rank %d but is rank %d" % (length.ndims, pos.ndims))
    pos = pos.merge_with(length)
    try:
        return [_helpers.broadcast_static_shapes(text, pos)]
    except ValueError as failure:  # TensorFlow's message names no shapes
        raise ValueError(str(failure).split(" for shapes")[0]) from None


register_op("Substr", inputs=["input: string", "pos: T", "len: T"], outputs=["output: string"],
            attrs=["T: {int32, int64}", "unit: {'BYTE', 'UTF8_CHAR'} = 'BYTE'"],
            kernel=_substr_kernel, shape=_substr_shape)


def substr(input, pos, len, name=None, unit="BYTE"):  # noqa: A002 (TF's argument names)
    return apply_op("Substr", input=input, pos=pos, len=len, unit=unit, name=name)


# --- regular expressions ---------------------------------------------------------------------------

def compile_re2_like(pattern):
    """`pattern` (UTF-8 bytes) compiled to act as RE2 does by default: on UTF-8 characters,
    with ASCII-only \\w, \\d, \\s and \\b, `$` only at the very end. Match it against
    as_text(bytes)."""
    return re.compile(_end_anchored(as_text(pattern)), re.ASCII)


_MULTILINE_FLAG = re.compile(r"\(\?[a-zA-Z]*m")


def _end_anchored(pattern):
    """Python's `$` also matches before a final newline, RE2's (outside multi-line mode) only
    at the end: each `$` outside a character class becomes \\Z."""
    if _MULTILINE_FLAG.search(pattern):
        return pattern
    out = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            opening = re.match(r"\[\^?\]?", pattern[i:]).group()  # a leading ] is literal
            out.append(opening)
            i += len(opening)
            continue
        elif char == "$":
            char = "\\Z"
        out.append(char)
        i += 1
    return "".join(out)


def as_text(data):
    return data.decode("utf-8", "surrogateescape")


def _as_bytes(text):
    return text.encode("utf-8", "surrogateescape")


def compile_pattern(op, pattern):
    """compile_re2_like, a bad pattern failing as TensorFlow's kernels fail."""
    try:
        return compile_re2_like(pattern)
    except re.error as failure:
        raise _fail(op, "Invalid pattern: %s, error: %s"
                    % (pattern.decode("utf-8", "replace"), failure.msg))


def _python_rewrite(rewrite):
    """RE2 rewrites name groups \\0..\\9 and escape a backslash as \\\\; Python's templates
    spell the whole match \\g<0>."""
    return re.sub(r"\\([0-9\\])",
                  lambda m: "\\\\" if m.group(1) == "\\" else "\\g<" + m.group(1) + ">",
                  as_text(rewrite))


def _replace(op, values, pattern, rewrite, replace_global):
    compiled = compile_pattern(op, pattern)
    template = _python_rewrite(rewrite)

    def replace_all(text):
        # As RE2's GlobalReplace: no empty match where the previous match ended (Python's
        # re.sub takes those).
        pieces, last = [], 0
        for match in compiled.finditer(text):
            if match.start() == match.end() == last and pieces:
                continue
            pieces += [text[last:match.start()], match.expand(template)]
            last = match.end()
        return "".join(pieces) + text[last:]

    def replace_first(text):
        return compiled.sub(template, text, count=1)

    replace = replace_all if replace_global else replace_first
    return _elementwise(values, lambda text: _as_bytes(replace(as_text(text))))


def _static_regex_replace_kernel(op, ctx):
    pattern, rewrite = op._attrs["pattern"], op._attrs["rewrite"]
    replace_global = op._attrs["replace_global"]
    return lambda values: _replace(op, values, pattern, rewrite, replace_global)


def _regex_replace_kernel(op, ctx):
    replace_global = op._attrs["replace_global"]
    return lambda values, pattern, rewrite: _replace(
        op, values, bytes(np.asarray(pattern).item()), bytes(np.asarray(rewrite).item()),
        replace_global)


register_op("RegexReplace", inputs=["input: string", "pattern: string", "rewrite: string"],
            outputs=["output: string"], attrs=["replace_global: bool = true"],
            kernel=_regex_replace_kernel, shape=_helpers.unchanged_shape)
register_op("StaticRegexReplace", inputs=["input: string"], outputs=["output: string"],
            attrs=["pattern: string", "rewrite: string", "replace_global: bool = true"],
            kernel=_static_regex_replace_kernel, shape=_helpers.unchanged_shape)


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):  # noqa: A002
    """A python pattern and rewrite build the static op, as TensorFlow's builder does."""
    if isinstance(pattern, (str, bytes)) and isinstance(rewrite, (str, bytes)):
        return apply_op("StaticRegexReplace", input=input, pattern=pattern, rewrite=rewrite,
                        replace_global=replace_global, name=name)
    return apply_op("RegexReplace", input=input, pattern=pattern, rewrite=rewrite,
                    replace_global=replace_global, name=name)


# --- base64 (the web-safe alphabet) ----------------------------------------------------------------

def _encode_base64_kernel(op, ctx):
    pad = op._attrs["pad"]

    def encode(text):
        encoded = base64.urlsafe_b64encode(text)
        return encoded if pad else encoded.rstrip(b"=")
    return lambda values: _elementwise(values, encode)


_WEB_SAFE = re.compile(rb"[A-Za-z0-9_-]*")


def _decode_base64_kernel(op, ctx):
    def decode(text):
        body = text.rstrip(b"=") if len(text) % 4 == 0 else text
        if len(body) % 4 == 1:
            raise _fail(op, "Base64 string length cannot be 1 modulo 4.")
        if not _WEB_SAFE.fullmatch(body):
            raise _fail(op, "Invalid character found in base64.")
        return base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
    return lambda values: _elementwise(values, decode)


register_op("EncodeBase64", inputs=["input: string"], outputs=["output: string"],
            attrs=["pad: bool = false"], kernel=_encode_base64_kernel,
            shape=_helpers.unchanged_shape)
register_op("DecodeBase64", inputs=["input: string"], outputs=["output: string"],
            kernel=_decode_base64_kernel, shape=_helpers.unchanged_shape)


def encode_base64(input, pad=False, name=None):  # noqa: A002
    return apply_op("EncodeBase64", input=input, pad=pad, name=name)


def decode_base64(input, name=None):  # noqa: A002
    return apply_op("DecodeBase64", input=input, name=name)


# --- strip, length, case ---------------------------------------------------------------------------

register_op("StringStrip", inputs=["input: string"], outputs=["output: string"],
            compute=lambda values: _elementwise(values, lambda t: t.strip(b" \t\n\v\f\r")),
            shape=_helpers.unchanged_shape)


def string_strip(input, name=None):  # noqa: A002
    return apply_op("StringStrip", input=input, name=name)


def _string_length_kernel(op, ctx):
    if _text_attr(op, "unit") == "UTF8_CHAR":
        count = lambda text: sum(1 for byte in text if byte & 0xC0 != 0x80)  # noqa: E731
    else:
        count = len
    return lambda values: _elementwise(values, count, np.int32)


register_op("StringLength", inputs=["input: string"], outputs=["output: int32"],
            attrs=["unit: {'BYTE', 'UTF8_CHAR'} = 'BYTE'"],
            kernel=_string_length_kernel, shape=_helpers.unchanged_shape)


def string_length(input, name=None, unit="BYTE"):  # noqa: A002
    return apply_op("StringLength", input=input, unit=unit, name=name)


_ASCII_UPPER = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def _case_kernel(upper):
    def factory(op, ctx):
        encoding = _text_attr(op, "encoding")
        if encoding not in ("", "utf-8"):
            raise _fail(op, "only utf-8 or '' (no encoding) is supported, received %s"
                        % encoding)
        if encoding:
            def convert(text):
                decoded = text.decode("utf-8")
                return (decoded.upper() if upper else decoded.lower()).encode("utf-8")
        else:
            table = _ASCII_UPPER if upper else _ASCII_LOWER
            convert = lambda text: text.translate(table)  # noqa: E731
        return lambda values: _elementwise(values, convert)
    return factory


register_op("StringUpper", inputs=["input: string"], outputs=["output: string"],
            attrs=["encoding: string = ''"], kernel=_case_kernel(True),
            shape=_helpers.unchanged_shape)
register_op("StringLower", inputs=["input: string"], outputs=["output: string"],
            attrs=["encoding: string = ''"], kernel=_case_kernel(False),
            shape=_helpers.unchanged_shape)


def string_upper(input, encoding="", name=None):  # noqa: A002
    return apply_op("StringUpper", input=input, encoding=encoding, name=name)


def string_lower(input, encoding="", name=None):  # noqa: A002
    return apply_op("StringLower", input=input, encoding=encoding, name=name)


# --- splitting into a SparseTensor -----------------------------------------------------------------

def _sparse_split_outputs(pieces_per_row):
    indices = [(row, column) for row, pieces in enumerate(pieces_per_row)
               for column in range(len(pieces))]
    values = np.empty(len(indices), dtype=object)
    values[:] = [piece for pieces in pieces_per_row for piece in pieces]
    width = max((len(pieces) for pieces in pieces_per_row), default=0)
    return (np.array(indices, dtype=np.int64).reshape(-1, 2), values,
            np.array([len(pieces_per_row), width], dtype=np.int64))


def _string_split_kernel(op, ctx):
    skip_empty = op._attrs["skip_empty"]

    def split(text, delimiter):
        if not delimiter:
            return [bytes([byte]) for byte in text]
        pieces = re.split(b"[" + re.escape(delimiter) + b"]", text) if text else []
        return [p for p in pieces if p] if skip_empty else pieces

    def run(values, delimiter):
        values = np.asarray(values, dtype=object)
        if values.ndim != 1:
            raise _fail(op, "input must be a vector, got shape: %s"
                        % _helpers._shape_str(tensor_shape.TensorShape(values.shape)))
        delimiter = bytes(np.asarray(delimiter).item())
        return _sparse_split_outputs([split(bytes(v), delimiter) for v in values])
    return run


def _string_split_v2_kernel(op, ctx):
    maxsplit = op._attrs["maxsplit"]

    def split(text, sep):
        return text.split(sep or None, maxsplit)

    def run(values, sep):
        values = np.asarray(values, dtype=object)
        sep = bytes(np.asarray(sep).item())
        return _sparse_split_outputs([split(bytes(v), sep) for v in values])
    return run


def _split_shape(op):
    for tensor, rank in zip(op._inputs, (1, 0)):
        ndims = tensor._shape_val.ndims
        if ndims is not None and ndims != rank:
            raise ValueError("Shape must be rank %d but is rank %d" % (rank, ndims))
    return [tensor_shape.TensorShape([None, 2]), tensor_shape.TensorShape([None]),
            tensor_shape.TensorShape([2])]


register_op("StringSplit", inputs=["input: string", "delimiter: string"],
            outputs=["indices: int64", "values: string", "shape: int64"],
            attrs=["skip_empty: bool = true"], kernel=_string_split_kernel, shape=_split_shape)
register_op("StringSplitV2", inputs=["input: string", "sep: string"],
            outputs=["indices: int64", "values: string", "shape: int64"],
            attrs=["maxsplit: int = -1"], kernel=_string_split_v2_kernel, shape=_split_shape)


def _sparse(outputs):
    from tensorkeep.framework.sparse_tensor import SparseTensor

    indices, values, shape = outputs
    return SparseTensor(indices, values, shape)


def string_split(source, sep=None, skip_empty=True, delimiter=None, result_type="SparseTensor",
                 name=None):
    """tf.string_split (TF1): one row of the SparseTensor per element of the vector `source`;
    each character of `sep` (alias `delimiter`, default " ") delimits."""
    if result_type != "SparseTensor":
        raise NotImplementedError("tensorkeep has no RaggedTensor: result_type must be "
                                  "'SparseTensor'")
    delimiter = sep if sep is not None else delimiter if delimiter is not None else " "
    with ops.name_scope(name, "StringSplit", [source]):
        delimiter = ops.convert_to_tensor(delimiter, dtype=dtypes.string)
        source = ops.convert_to_tensor(source, dtype=dtypes.string)
        return _sparse(apply_op("StringSplit", input=source, delimiter=delimiter,
                                skip_empty=skip_empty))


def split(input=None, sep=None, maxsplit=-1, result_type="SparseTensor", source=None,  # noqa: A002
          name=None):
    """tf.strings.split (TF1): StringSplitV2 on a scalar or vector; `sep` None splits on runs
    of whitespace. Higher ranks (TensorFlow goes through RaggedTensor) are not supported."""
    from tensorkeep.ops import array_ops

    if result_type != "SparseTensor":
        raise NotImplementedError("tensorkeep has no RaggedTensor: result_type must be "
                                  "'SparseTensor'")
    if input is None:
        input = source
    with ops.name_scope(name, "StringSplit", [input]):
        input = ops.convert_to_tensor(input, dtype=dtypes.string, name="input")
        if input._shape_val.ndims == 0:
            input = array_ops.expand_dims(input, 0)
        if input._shape_val.ndims != 1:
            raise NotImplementedError("tf.strings.split of rank > 1 needs RaggedTensor")
        sep = ops.convert_to_tensor("" if sep is None else sep, dtype=dtypes.string)
        return _sparse(apply_op("StringSplitV2", input=input, sep=sep, maxsplit=maxsplit))


# --- hashing into buckets --------------------------------------------------------------------------

_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


def _fetch64(data, at):
    return int.from_bytes(data[at:at + 8], "little")


def _fetch32(data, at):
    return int.from_bytes(data[at:at + 4], "little")


def _rotate(value, shift):
    return ((value >> shift) | (value << (64 - shift))) & _MASK64 if shift else value


def _shift_mix(value):
    return value ^ (value >> 47)


def _hash_len16(u, v, mul):
    a = ((u ^ v) * mul) & _MASK64
    a ^= a >> 47
    b = ((v ^ a) * mul) & _MASK64
    b ^= b >> 47
    return (b * mul) & _MASK64


def _hash_len0to16(s):
    n = len(s)
    if n >= 8:
        mul = _K2 + n * 2
        a = (_fetch64(s, 0) + _K2) & _MASK64
        b = _fetch64(s, n - 8)
        c = (_rotate(b, 37) * mul + a) & _MASK64
        d = ((_rotate(a, 25) + b) * mul) & _MASK64
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _hash_len16((n + (_fetch32(s, 0) << 3)) & _MASK64, _fetch32(s, n - 4), mul)
    if n > 0:
        y = (s[0] + (s[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (s[n - 1] << 2)) & 0xFFFFFFFF
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _MASK64) * _K2) & _MASK64
    return _K2


def _hash_len17to32(s):
    n = len(s)
    mul = _K2 + n * 2
    a = (_fetch64(s, 0) * _K1) & _MASK64
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _MASK64
    d = (_fetch64(s, n - 16) * _K2) & _MASK64
    return _hash_len16((_rotate((a + b) & _MASK64, 43) + _rotate(c, 30) + d) & _MASK64,
                       (a + _rotate((b + _K2) & _MASK64, 18) + c) & _MASK64, mul)


def _hash_len33to64(s):
    n = len(s)
    mul = _K2 + n * 2
    a = (_fetch64(s, 0) * _K2) & _MASK64
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _MASK64
    d = (_fetch64(s, n - 16) * _K2) & _MASK64
    y = (_rotate((a + b) & _MASK64, 43) + _rotate(c, 30) + d) & _MASK64
    z = _hash_len16(y, (a + _rotate((b + _K2) & _MASK64, 18) + c) & _MASK64, mul)
    e = (_fetch64(s, 16) * mul) & _MASK64
    f = _fetch64(s, 24)
    g = ((y + _fetch64(s, n - 32)) * mul) & _MASK64
    h = ((z + _fetch64(s, n - 24)) * mul) & _MASK64
    return _hash_len16((_rotate((e + f) & _MASK64, 43) + _rotate(g, 30) + h) & _MASK64,
                       (e + _rotate((f + a) & _MASK64, 18) + g) & _MASK64, mul)


def _weak_hash_len32_with_seeds(s, at, a, b):
    w, x, y, z = (_fetch64(s, at + 8 * i) for i in range(4))
    a = (a + w) & _MASK64
    b = _rotate((b + a + z) & _MASK64, 21)
    c = a
    a = (a + x + y) & _MASK64
    b = (b + _rotate(a, 44)) & _MASK64
    return (a + z) & _MASK64, (b + c) & _MASK64


def fingerprint64(s):
    """FarmHash's Fingerprint64 (farmhashna::Hash64) of the bytes `s`."""
    n = len(s)
    if n <= 16:
        return _hash_len0to16(s)
    if n <= 32:
        return _hash_len17to32(s)
    if n <= 64:
        return _hash_len33to64(s)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _MASK64
    z = (_shift_mix((y * _K2 + 113) & _MASK64) * _K2) & _MASK64
    v = (0, 0)
    w = (0, 0)
    x = (x * _K2 + _fetch64(s, 0)) & _MASK64
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    at = 0
    while at != end:
        x = (_rotate((x + y + v[0] + _fetch64(s, at + 8)) & _MASK64, 37) * _K1) & _MASK64
        y = (_rotate((y + v[1] + _fetch64(s, at + 48)) & _MASK64, 42) * _K1) & _MASK64
        x ^= w[1]
        y = (y + v[0] + _fetch64(s, at + 40)) & _MASK64
        z = (_rotate((z + w[0]) & _MASK64, 33) * _K1) & _MASK64
        v = _weak_hash_len32_with_seeds(s, at, (v[1] * _K1) & _MASK64, (x + w[0]) & _MASK64)
        w = _weak_hash_len32_with_seeds(s, at + 32, (z + w[1]) & _MASK64,
                                        (y + _fetch64(s, at + 16)) & _MASK64)
        z, x = x, z
        at += 64
    mul = _K1 + ((z & 0xFF) << 1)
    at = last64
    w = ((w[0] + ((n - 1) & 63)) & _MASK64, w[1])
    v = ((v[0] + w[0]) & _MASK64, v[1])
    w = ((w[0] + v[0]) & _MASK64, w[1])
    x = (_rotate((x + y + v[0] + _fetch64(s, at + 8)) & _MASK64, 37) * mul) & _MASK64
    y = (_rotate((y + v[1] + _fetch64(s, at + 48)) & _MASK64, 42) * mul) & _MASK64
    x ^= (w[1] * 9) & _MASK64
    y = (y + v[0] * 9 + _fetch64(s, at + 40)) & _MASK64
    z = (_rotate((z + w[0]) & _MASK64, 33) * mul) & _MASK64
    v = _weak_hash_len32_with_seeds(s, at, (v[1] * mul) & _MASK64, (x + w[0]) & _MASK64)
    w = _weak_hash_len32_with_seeds(s, at + 32, (z + w[1]) & _MASK64,
                                    (y + _fetch64(s, at + 16)) & _MASK64)
    z, x = x, z
    return _hash_len16((_hash_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _MASK64,
                       (_hash_len16(v[1], w[1], mul) + x) & _MASK64, mul)


def legacy_hash64(s, seed=0xDECAFCAFFE):
    """TensorFlow's own Hash64 (a MurmurHash64A variant), used by StringToHashBucket."""
    m, r = 0xC6A4A7935BD1E995, 47
    n = len(s)
    h = (seed ^ (n * m)) & _MASK64
    body = n - n % 8
    for at in range(0, body, 8):
        k = (_fetch64(s, at) * m) & _MASK64
        k ^= k >> r
        k = (k * m) & _MASK64
        h = ((h ^ k) * m) & _MASK64
    tail = s[body:]
    if tail:
        for i, byte in enumerate(tail):
            h ^= byte << (8 * i)
        h = (h * m) & _MASK64
    h ^= h >> r
    h = (h * m) & _MASK64
    return h ^ (h >> r)


def _sip_round(v0, v1, v2, v3):
    v0 = (v0 + v1) & _MASK64
    v1 = _rotate(v1, 64 - 13) ^ v0
    v0 = _rotate(v0, 64 - 32)
    v2 = (v2 + v3) & _MASK64
    v3 = _rotate(v3, 64 - 16) ^ v2
    v0 = (v0 + v3) & _MASK64
    v3 = _rotate(v3, 64 - 21) ^ v0
    v2 = (v2 + v1) & _MASK64
    v1 = _rotate(v1, 64 - 17) ^ v2
    v2 = _rotate(v2, 64 - 32)
    return v0, v1, v2, v3


def siphash24(key0, key1, s):
    """SipHash-2-4 of `s` under the 128-bit key (key0, key1)."""
    v0 = key0 ^ 0x736F6D6570736575
    v1 = key1 ^ 0x646F72616E646F6D
    v2 = key0 ^ 0x6C7967656E657261
    v3 = key1 ^ 0x7465646279746573
    n = len(s)
    padded = s + b"\0" * (7 - n % 8) + bytes([n & 0xFF])
    for at in range(0, len(padded), 8):
        m = _fetch64(padded, at)
        v3 ^= m
        v0, v1, v2, v3 = _sip_round(*_sip_round(v0, v1, v2, v3))
        v0 ^= m
    v2 ^= 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def _bucket_kernel(hash_fn):
    def factory(op, ctx):
        buckets = op._attrs["num_buckets"]
        return lambda values: _elementwise(values, lambda t: hash_fn(t) % buckets, np.int64)
    return factory


def _strong_bucket_kernel(op, ctx):
    key = op._attrs["key"]
    if len(key) != 2:
        raise _fail(op, "Key must have 2 elements")
    key0, key1 = (k & _MASK64 for k in key)
    buckets = op._attrs["num_buckets"]
    return lambda values: _elementwise(values, lambda t: siphash24(key0, key1, t) % buckets,
                                       np.int64)


register_op("StringToHashBucketFast", inputs=["input: string"], outputs=["output: int64"],
            attrs=["num_buckets: int >= 1"], kernel=_bucket_kernel(fingerprint64),
            shape=_helpers.unchanged_shape)
register_op("StringToHashBucketStrong", inputs=["input: string"], outputs=["output: int64"],
            attrs=["num_buckets: int >= 1", "key: list(int)"], kernel=_strong_bucket_kernel,
            shape=_helpers.unchanged_shape)
register_op("StringToHashBucket", inputs=["string_tensor: string"], outputs=["output: int64"],
            attrs=["num_buckets: int >= 1"], kernel=_bucket_kernel(legacy_hash64),
            shape=_helpers.unchanged_shape)


def string_to_hash_bucket_fast(input, num_buckets, name=None):  # noqa: A002
    return apply_op("StringToHashBucketFast", input=input, num_buckets=num_buckets, name=name)


def string_to_hash_bucket_strong(input, num_buckets, key, name=None):  # noqa: A002
    return apply_op("StringToHashBucketStrong", input=input, num_buckets=num_buckets, key=key,
                    name=name)


def string_to_hash_bucket(string_tensor, num_buckets, name=None):
    return apply_op("StringToHashBucket", string_tensor=string_tensor, num_buckets=num_buckets,
                    name=name)


# --- ReduceJoin ------------------------------------------------------------------------------------

def _reduce_join_kernel(op, ctx):
    keep_dims, separator = op._attrs["keep_dims"], op._attrs["separator"]

    def run(values, axes):
        values = np.asarray(values, dtype=object)
        rank = values.ndim
        reduced = []
        for axis in (int(a) for a in np.asarray(axes).reshape(-1)):
            if not -rank <= axis < rank:
                raise _fail(op, "Invalid reduction dimension %d for input with %d dimensions."
                            % (axis, rank))
            if axis % rank in reduced:
                raise _fail(op, "Duplicate reduction dimension %d" % axis)
            reduced.append(axis % rank)
        kept = [d for d in range(rank) if d not in reduced]
        # Axes are reduced one after the other in the order given: the first varies fastest.
        moved = np.transpose(values, kept + reduced[::-1])
        kept_shape = tuple(values.shape[d] for d in kept)
        rows = moved.reshape(kept_shape + (int(np.prod([values.shape[d] for d in reduced])),))
        out = np.empty(kept_shape, dtype=object)
        for index in np.ndindex(kept_shape):
            out[index] = separator.join(bytes(v) for v in rows[index])
        if keep_dims:
            out = out.reshape([1 if d in reduced else values.shape[d] for d in range(rank)])
        return out
    return run


def _reduce_join_shape(op):
    values, axes = op._inputs
    shape = values._shape_val
    axes_value = tensor_util.constant_value(axes)
    if shape.ndims is None or axes_value is None:
        return [tensor_shape.unknown_shape()]
    rank = shape.ndims
    reduced = set()
    for axis in np.asarray(axes_value).reshape(-1):
        if not -rank <= axis < rank:
            raise ValueError("Invalid reduction dimension %d for input with %d dimensions."
                             % (axis, rank))
        reduced.add(int(axis) % rank)
    dims = list(shape.dims)
    if op._attrs["keep_dims"]:
        return [tensor_shape.TensorShape([1 if d in reduced else dims[d] for d in range(rank)])]
    return [tensor_shape.TensorShape([dims[d] for d in range(rank) if d not in reduced])]


register_op("ReduceJoin", inputs=["inputs: string", "reduction_indices: int32"],
            outputs=["output: string"],
            attrs=["keep_dims: bool = false", "separator: string = ''"],
            kernel=_reduce_join_kernel, shape=_reduce_join_shape)


def reduce_join(inputs, axis=None, keep_dims=None, separator="", name=None,
                reduction_indices=None, keepdims=None):
    """Joins the strings along `axis` (all axes when None)."""
    if axis is None:
        axis = reduction_indices
    keep_dims = bool(keepdims if keepdims is not None else keep_dims)
    with ops.name_scope(None, "ReduceJoin", [inputs, axis]):
        inputs = ops.convert_to_tensor(inputs, dtype=dtypes.string)
        if axis is None:
            rank = inputs._shape_val.ndims
            # Every axis, the last first: the result reads in row-major order.
            axis = ops.convert_to_tensor(np.arange(rank - 1, -1, -1, dtype=np.int32))
        return apply_op("ReduceJoin", inputs=inputs, reduction_indices=axis,
                        keep_dims=keep_dims, separator=separator, name=name or "ReduceJoin")


for _op_type in ("AsString", "StringToNumber", "Substr", "RegexReplace", "StaticRegexReplace",
                 "EncodeBase64", "DecodeBase64", "StringStrip", "StringLength", "StringUpper",
                 "StringLower", "StringSplit", "StringSplitV2", "StringToHashBucketFast",
                 "StringToHashBucketStrong", "StringToHashBucket", "ReduceJoin"):
    register_gradient(_op_type, None)


def string_format(template, inputs, placeholder="{}", summarize=3, name=None):
    """tf.strings.format: the StringFormat op (tensorkeep.ops.misc_ops) over `inputs`."""
    if isinstance(inputs, ops.Tensor):
        inputs = [inputs]
    if template.count(placeholder) != len(inputs):
        raise ValueError("The template expects %d tensors, but the inputs only has %d. Please "
                         "ensure the number of placeholders in template matches inputs length."
                         % (template.count(placeholder), len(inputs)))
    return apply_op("StringFormat", inputs=list(inputs), template=template,
                    placeholder=placeholder, summarize=summarize, name=name)
