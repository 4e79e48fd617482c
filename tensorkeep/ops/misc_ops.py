"""Ops that real-world graphs contain and no other family owns: Assert and Print, summaries
(serialized Summary protos), fake quantization, depth <-> space rearrangement, RefIdentity; and
the schemas of input-pipeline ops (datasets, iterators, queues, readers, PyFunc) so that graphs
holding them import, with a clear error if such an op is run.
"""

import sys
import threading

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import AttrSpec, register_op, register_gradient, get_schema
from tensorkeep.ops import _helpers


# --- formatting tensors as TensorFlow's logging ops do ---------------------------------------------

_C_ESCAPES = {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord('"'): '\\"',
              ord("'"): "\\'", ord("\\"): "\\\\"}


def _c_escaped(data):
    """Bytes as C source would spell them (absl's CEscape, which TensorFlow's printing uses)."""
    return "".join(_C_ESCAPES.get(byte) or (chr(byte) if 0x20 <= byte < 0x7f else "\\%03o" % byte)
                   for byte in data)


def _element_text(value):
    if isinstance(value, (bytes, np.bytes_)):
        return _c_escaped(bytes(value))
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (float, np.floating)):
        return "%.6g" % value
    return str(value)


def summarize_value_v1(array, max_entries):
    """A tensor as Assert and Print show it (TensorFlow's original format): the elements in
    order, every dimension but the outermost in brackets, at most `max_entries` elements, then
    "..." when some were left out (also inside a row cut short); a negative count prints
    everything."""
    array = np.asarray(array)
    if array.ndim == 0:
        return _element_text(array[()])
    limit = array.size if max_entries < 0 else min(max_entries, array.size)
    flat = array.reshape(-1)
    printed = [0]
    pieces = []

    def dim(level):
        if printed[0] >= limit:
            return
        if level == array.ndim - 1:
            for i in range(array.shape[level]):
                if printed[0] >= limit:
                    if level:  # a row cut short says so inside its brackets
                        pieces.append("...")
                    return
                if i > 0:
                    pieces.append(" ")
                pieces.append(_element_text(flat[printed[0]]))
                printed[0] += 1
            return
        for _ in range(array.shape[level]):
            opened = printed[0] < limit
            if opened:
                pieces.append("[")
            dim(level + 1)
            if printed[0] < limit or opened:
                pieces.append("]")

    dim(0)
    if array.size > limit:
        pieces.append("...")
    return "".join(pieces)


def _element_text_v2(value):
    """An element as StringFormat prints it: strings in double quotes."""
    if isinstance(value, (bytes, np.bytes_)):
        return '"%s"' % _c_escaped(bytes(value))
    return _element_text(value)


def summarize_value(array, max_entries):
    """A tensor as StringFormat (and so tf.print) prints it: nested brackets, the first and
    last `max_entries` entries of every dimension with "..." between, rows on new lines
    indented one space per level; a negative count prints everything."""
    array = np.asarray(array)
    if array.ndim == 0:
        return _element_text_v2(array[()])
    at_ends = array.size if max_entries < 0 else max_entries
    flat = array.reshape(-1)
    pieces = []

    def spacing(level):
        if level == array.ndim - 1:
            pieces.append(" ")
        else:
            pieces.append("\n" * (array.ndim - level - 1) + " " * (level + 1))

    def dim(level, offset):
        if level == array.ndim:
            pieces.append(_element_text_v2(flat[offset]))
            return
        count = array.shape[level]
        stride = int(np.prod(array.shape[level + 1:], dtype=np.int64))
        shown = list(range(min(at_ends, count)))
        if count > 2 * at_ends:
            shown.append(None)  # the "..." between both ends
        shown += range(max(at_ends, count - at_ends), count)
        pieces.append("[")
        for position, i in enumerate(shown):
            if position:
                spacing(level)
            if i is None:
                pieces.append("...")
            else:
                dim(level + 1, offset + i * stride)
        pieces.append("]")
    dim(0, 0)
    return "".join(pieces)


# --- Assert / Print --------------------------------------------------------------------------------

def _assert_kernel(op, ctx):
    summarize = op._attrs.get("summarize", 3)

    def run(condition, *data):
        if not np.all(condition):
            raise errors.InvalidArgumentError(
                None, op, "assertion failed: %s\n\t [[{{node %s}}]]" % (
                    " ".join("[%s]" % summarize_value_v1(d, summarize) for d in data), op.name))
    return run


register_op("Assert", inputs=["condition: bool", "data: T"],
            attrs=["T: list(type) >= 1", "summarize: int = 3"], stateful=True,
            kernel=_assert_kernel)
register_gradient("Assert", None)


def Assert(condition, data, summarize=None, name=None):  # noqa: N802 (TensorFlow's name)
    """tf.Assert: fails the run with `data` in the message when `condition` is false. Unless
    all of `data` is string or int32, the check sits in a tf.cond named AssertGuard (as in
    TensorFlow), so the data is only computed when the check fails."""
    from tensorkeep.ops import control_flow_ops

    with ops.name_scope(name, "Assert", [condition, data]):
        xs = [ops.convert_to_tensor(x) for x in data]
        if all(x.dtype.base_dtype in (dtypes.string, dtypes.int32) for x in xs):
            return apply_op("Assert", condition=condition, data=list(data),
                            summarize=summarize, name="Assert")
        condition = ops.convert_to_tensor(condition, name="Condition")

        def true_assert():
            # The data is converted again inside the guard, as TensorFlow does.
            return apply_op("Assert", condition=condition, data=list(data),
                            summarize=summarize, name="Assert")
        guarded = control_flow_ops.cond(condition, control_flow_ops.no_op, true_assert,
                                        name="AssertGuard")
        return guarded.op


def _print_kernel(op, ctx):
    message = op._attrs.get("message", b"")
    message = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    first_n = op._attrs.get("first_n", -1)
    summarize = op._attrs.get("summarize", 3)
    counter = {"printed": 0}
    lock = threading.Lock()

    def run(value, *data):
        with lock:
            if first_n >= 0 and counter["printed"] >= first_n:
                return value
            counter["printed"] += 1
        text = message + "".join("[%s]" % summarize_value_v1(d, summarize) for d in data)
        print(text, file=sys.stderr)
        return value
    return run


register_op("Print", inputs=["input: T", "data: U"], outputs=["output: T"],
            attrs=["T: type", "U: list(type) >= 0", "message: string = ''",
                   "first_n: int = -1", "summarize: int = 3"],
            stateful=True, kernel=_print_kernel, shape=_helpers.unchanged_shape)
register_gradient("Print", lambda op, grad: [grad] + [None] * (len(op._inputs) - 1))


def Print(input_, data, message=None, first_n=None, summarize=None, name=None):  # noqa: N802
    """tf.Print: the identity of `input_` that prints `message` and `data` to stderr."""
    return apply_op("Print", input=input_, data=list(data), message=message, first_n=first_n,
                    summarize=summarize, name=name)


def _string_format_kernel(op, ctx):
    template = op._attrs.get("template", b"%s")
    template = template.decode() if isinstance(template, bytes) else template
    placeholder = op._attrs.get("placeholder", b"%s")
    placeholder = placeholder.decode() if isinstance(placeholder, bytes) else placeholder
    summarize = op._attrs.get("summarize", 3)
    pieces = template.split(placeholder)

    def run(*inputs):
        if len(pieces) != len(inputs) + 1:
            raise errors.InvalidArgumentError(
                None, op, "%d placeholder(s) in template does not match %d input(s) provided"
                % (len(pieces) - 1, len(inputs)))
        text = pieces[0]
        for value, piece in zip(inputs, pieces[1:]):
            text += summarize_value(value, summarize) + piece
        return np.array(text.encode(), dtype=object)
    return run


register_op("StringFormat", inputs=["inputs: T"], outputs=["output: string"],
            attrs=["T: list(type) >= 0", "template: string = '%s'",
                   "placeholder: string = '%s'", "summarize: int = 3"],
            kernel=_string_format_kernel, shape=_helpers.scalar_shape)


def _print_v2_kernel(op, ctx):
    stream = op._attrs.get("output_stream", b"stderr")
    stream = stream.decode() if isinstance(stream, bytes) else stream
    end = op._attrs.get("end", b"\n")
    end = end.decode() if isinstance(end, bytes) else end
    target = sys.stdout if stream in ("stdout", "log(info)") else sys.stderr

    def run(text):
        target.write(bytes(np.asarray(text)[()]).decode("utf-8", "replace") + end)
    return run


_print_v2 = register_op("PrintV2", inputs=["input: string"],
                        attrs=["output_stream: string = 'stderr'", "end: string = ''"],
                        stateful=True, kernel=_print_v2_kernel)
_print_v2.attrs["end"].default = b"\n"  # a newline cannot be spelled in a one-line attr spec


# --- summaries -------------------------------------------------------------------------------------

def _text(value):
    return bytes(value).decode("utf-8", "replace")


def _scalar_summary_kernel(op, ctx):
    from tensorkeep.io import protos

    def run(tags, values):
        tags = np.asarray(tags)
        values = np.asarray(values)
        if tags.shape != values.shape:
            raise errors.InvalidArgumentError(
                None, op, "tags and values are not the same shape: %s != %s"
                % (list(tags.shape), list(values.shape)))
        summary = protos.Summary()
        for tag, value in zip(tags.reshape(-1), values.reshape(-1)):
            summary.value.add(tag=_text(tag), simple_value=float(value))
        return np.array(summary.SerializeToString(), dtype=object)
    return run


_SUMMARY_TYPES = ("{float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, "
                  "uint32, uint64}")
register_op("ScalarSummary", inputs=["tags: string", "values: T"], outputs=["summary: string"],
            attrs=["T: " + _SUMMARY_TYPES], kernel=_scalar_summary_kernel,
            shape=_helpers.scalar_shape)


def _default_histogram_limits():
    """Bucket edges growing by 10% from 1e-12 to 1e20, mirrored for negatives, around 0."""
    positive = []
    edge = 1.0e-12
    while edge < 1.0e20:
        positive.append(edge)
        edge *= 1.1
    positive.append(np.finfo(np.float64).max)
    return np.array([-x for x in reversed(positive)] + [0.0] + positive)


_HISTOGRAM_LIMITS = None


def histogram_proto(values):
    """A HistogramProto of `values` with TensorFlow's default buckets (runs of empty buckets
    collapsed into one)."""
    from tensorkeep.io import protos

    global _HISTOGRAM_LIMITS
    if _HISTOGRAM_LIMITS is None:
        _HISTOGRAM_LIMITS = _default_histogram_limits()
    limits = _HISTOGRAM_LIMITS
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    counts = np.bincount(np.searchsorted(limits, values, side="right"),
                         minlength=len(limits)).astype(np.float64)[:len(limits)]
    proto = protos.HistogramProto()
    if values.size:
        proto.min, proto.max = float(values.min()), float(values.max())
    else:
        proto.min, proto.max = float(limits[-1]), float(-limits[-1])
    proto.num = float(values.size)
    proto.sum = float(values.sum())
    proto.sum_squares = float(np.dot(values, values))
    i = 0
    while i < len(counts):
        end, count = limits[i], counts[i]
        i += 1
        if count <= 0.0:
            while i < len(counts) and counts[i] <= 0.0:
                end, count = limits[i], counts[i]
                i += 1
        proto.bucket_limit.append(float(end))
        proto.bucket.append(float(count))
    if not proto.bucket:
        proto.bucket_limit.append(float(limits[-1]))
        proto.bucket.append(0.0)
    return proto


def _histogram_summary_kernel(op, ctx):
    from tensorkeep.io import protos

    def run(tag, values):
        tag_text = _text(np.asarray(tag)[()])
        values = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise errors.InvalidArgumentError(
                None, op, "%s for: %s" % ("Nan in summary histogram" if np.any(np.isnan(values))
                                          else "Infinity in summary histogram", tag_text))
        summary = protos.Summary()
        summary.value.add(tag=tag_text).histo.CopyFrom(histogram_proto(values))
        return np.array(summary.SerializeToString(), dtype=object)
    return run


register_op("HistogramSummary", inputs=["tag: string", "values: T"],
            outputs=["summary: string"], attrs=["T: " + _SUMMARY_TYPES + " = DT_FLOAT"],
            kernel=_histogram_summary_kernel, shape=_helpers.scalar_shape)


def _merge_summary_kernel(op, ctx):
    from tensorkeep.io import protos

    def run(*inputs):
        merged = protos.Summary()
        tags = set()
        for serialized in inputs:
            summary = protos.Summary()
            try:
                summary.ParseFromString(bytes(np.asarray(serialized)[()]))
            except Exception:  # noqa: BLE001 (any parse failure means a corrupt input)
                raise errors.InvalidArgumentError(None, op, "Could not parse one of the "
                                                  "summary inputs")
            for value in summary.value:
                if value.tag in tags:
                    raise errors.InvalidArgumentError(
                        None, op, "Duplicate tag %s found in summary inputs " % value.tag)
                tags.add(value.tag)
                merged.value.add().CopyFrom(value)
        return np.array(merged.SerializeToString(), dtype=object)
    return run


register_op("MergeSummary", inputs=["inputs: N * string"], outputs=["summary: string"],
            attrs=["N: int >= 1"], kernel=_merge_summary_kernel, shape=_helpers.scalar_shape)
def encode_png(image):
    """PNG bytes of a uint8 [height, width, channels] image (channels 1, 3 or 4)."""
    import struct
    import zlib

    height, width, channels = image.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    rows = b"".join(b"\x00" + image[row].tobytes() for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def _image_to_uint8(image, bad_color):
    """A float image as TensorFlow's summary scales it (in the image's precision): no
    negatives: x * 255 / max; else x * 127 / max|x| + 128; then truncated to uint8. Pixels with
    a non-finite channel are left out of the range and drawn in `bad_color`."""
    compute = np.float64 if image.dtype == np.float64 else np.float32
    image = image.astype(compute)
    finite = np.isfinite(image).all(axis=-1)
    values = image[finite]
    low = float(values.min()) if values.size else np.inf
    high = float(values.max()) if values.size else -np.inf
    if low < 0:
        bound = np.float32(max(abs(low), abs(high)))
        scale = compute(0.0 if bound < 1e-6 else np.float32(127.0) / bound)
        offset = compute(128.0)
    else:
        scale = compute(0.0 if high < 1e-6 else np.float32(255.0) / np.float32(high))
        offset = compute(0.0)
    out = np.zeros(image.shape, np.uint8)
    out[finite] = (image[finite] * scale + offset).astype(np.uint8)
    out[~finite] = bad_color[:image.shape[-1]]
    return out


def _image_summary_kernel(op, ctx):
    from tensorkeep.framework import tensor_util
    from tensorkeep.io import protos

    max_images = op._attrs.get("max_images", 3)
    bad_color = np.asarray(tensor_util.make_ndarray(op.get_attr("bad_color")), np.uint8) \
        if "bad_color" in op._attrs else np.array([255, 0, 0, 255], np.uint8)

    def run(tag, tensor):
        tensor = np.asarray(tensor)
        if tensor.ndim != 4 or tensor.shape[-1] not in (1, 3, 4):
            raise errors.InvalidArgumentError(
                None, op, "Tensor must be 4-D with last dim 1, 3, or 4, not %s"
                % list(tensor.shape))
        base = _text(np.asarray(tag)[()])
        count = min(tensor.shape[0], max_images)
        summary = protos.Summary()
        for i in range(count):
            image = tensor[i]
            if image.dtype != np.uint8:
                image = _image_to_uint8(image, bad_color)
            value = summary.value.add(tag="%s/image" % base if max_images == 1
                                      else "%s/image/%d" % (base, i))
            value.image.height, value.image.width = image.shape[0], image.shape[1]
            value.image.colorspace = image.shape[2]
            value.image.encoded_image_string = encode_png(np.ascontiguousarray(image))
        return np.array(summary.SerializeToString(), dtype=object)
    return run


_image_summary = register_op(
    "ImageSummary", inputs=["tag: string", "tensor: T"], outputs=["summary: string"],
    attrs=["max_images: int >= 1 = 3", "T: {uint8, float, half, double} = DT_FLOAT",
           "bad_color: tensor"],
    kernel=_image_summary_kernel, shape=_helpers.scalar_shape)


def _default_bad_color():
    """TensorFlow's default: opaque red, written as a uint8 TensorProto with int_val."""
    from tensorkeep.io import protos

    proto = protos.TensorProto(dtype=dtypes.uint8.as_datatype_enum, int_val=[255, 0, 0, 255])
    proto.tensor_shape.dim.add(size=4)
    return proto


class _BadColorAttr(AttrSpec):
    """bad_color's default is a TensorProto: built when first used, since protobuf messages
    load lazily (importing tensorkeep must not load them)."""

    __slots__ = ()

    @property
    def default(self):
        return _default_bad_color()


_image_summary.attrs["bad_color"].__class__ = _BadColorAttr
for _op_type in ("ScalarSummary", "HistogramSummary", "MergeSummary", "ImageSummary"):
    register_gradient(_op_type, None)


def _clean_tag(name):
    import re

    if name is not None:
        name = re.sub(r"[^-/\w\.]", "_", name).lstrip("/")
    return name


class _SummaryScope:
    """(tag, scope) for a summary named `name` (under `family`), as TensorFlow names them."""

    def __init__(self, name, family, values):
        self._name = _clean_tag(name)
        self._family = _clean_tag(family)
        self._values = values
        self._scope = None

    def __enter__(self):
        base = self._name if self._family is None else "%s/%s" % (self._family, self._name)
        self._scope = ops.name_scope(base, None, self._values)
        scope = self._scope.__enter__()
        tag = scope.rstrip("/")
        if self._family is not None:
            tag = "%s/%s" % (self._family, tag)
        return tag, scope

    def __exit__(self, *exc):
        return self._scope.__exit__(*exc)


def _collect(value, collections, default_collections):
    for key in default_collections if collections is None else collections:
        ops.add_to_collection(key, value)


def scalar_summary(name, tensor, collections=None, family=None):
    """tf.summary.scalar: a serialized Summary with one simple value."""
    with _SummaryScope(name, family, [tensor]) as (tag, scope):
        value = apply_op("ScalarSummary", tags=tag, values=tensor, name=scope)
        _collect(value, collections, [ops.GraphKeys.SUMMARIES])
    return value


def histogram_summary(name, values, collections=None, family=None):
    """tf.summary.histogram: a serialized Summary with a histogram of `values`."""
    with _SummaryScope(name, family, [values]) as (tag, scope):
        value = apply_op("HistogramSummary", tag=tag, values=values, name=scope)
        _collect(value, collections, [ops.GraphKeys.SUMMARIES])
    return value


def image_summary(name, tensor, max_outputs=3, collections=None, family=None):
    """tf.summary.image: a serialized Summary with up to `max_outputs` PNG images."""
    with _SummaryScope(name, family, [tensor]) as (tag, scope):
        value = apply_op("ImageSummary", tag=tag, tensor=tensor, max_images=max_outputs,
                         name=scope)
        _collect(value, collections, [ops.GraphKeys.SUMMARIES])
    return value


def merge_summary(inputs, collections=None, name=None):
    """tf.summary.merge: one Summary holding the values of all `inputs`."""
    with ops.name_scope(name, "Merge", inputs):
        value = apply_op("MergeSummary", inputs=list(inputs), name=name)
        _collect(value, collections, [])
    return value


def merge_all_summaries(key=ops.GraphKeys.SUMMARIES, scope=None, name=None):
    """tf.summary.merge_all: merges the summaries collected under `key` (None if there are
    none)."""
    summaries = ops.get_collection(key, scope=scope)
    if not summaries:
        return None
    return merge_summary(summaries, name=name)


# --- fake quantization -----------------------------------------------------------------------------

def _nudged_range(min_value, max_value, num_bits, narrow_range):
    """TensorFlow's nudging of [min, max] so that zero is exactly representable (float32):
    returns (nudged min, nudged max, scale, quant_min - zero point)."""
    f32 = np.float32
    quant_min = f32(1 if narrow_range else 0)
    quant_max = f32((1 << num_bits) - 1)
    min_value, max_value = f32(min_value), f32(max_value)
    scale = (max_value - min_value) / (quant_max - quant_min)
    zero_point_from_min = quant_min - min_value / scale
    if zero_point_from_min < quant_min:
        nudged_zero_point = quant_min
    elif zero_point_from_min > quant_max:
        nudged_zero_point = quant_max
    else:
        # std::round: halves away from zero
        nudged_zero_point = f32(np.sign(zero_point_from_min) *
                                np.floor(np.abs(zero_point_from_min) + f32(0.5)))
    nudged_min = (quant_min - nudged_zero_point) * scale
    nudged_max = (quant_max - nudged_zero_point) * scale
    return f32(nudged_min), f32(nudged_max), f32(scale), f32(quant_min - nudged_zero_point)


def fake_quantize(inputs, min_value, max_value, num_bits, narrow_range):
    """Quantize to one of 2**num_bits levels of the nudged range and back, as TensorFlow's
    kernel does: the output is (level + quant_min - zero point) * scale."""
    f32 = np.float32
    inputs = np.asarray(inputs, dtype=f32)
    if f32(min_value) == 0 and f32(max_value) == 0:
        return np.zeros_like(inputs)
    nudged_min, nudged_max, scale, offset = _nudged_range(min_value, max_value, num_bits,
                                                          narrow_range)
    inv_scale = f32(1.0) / scale
    shifted = np.clip(inputs, nudged_min, nudged_max) - nudged_min
    level = np.floor(shifted * inv_scale + f32(0.5))
    return ((level + offset) * scale).astype(f32)


def _check_fake_quant_attrs(op):
    num_bits = op._attrs.get("num_bits", 8)
    if not 2 <= num_bits <= 16:
        raise ValueError("num_bits is out of range, expected between 2 and 16, was: %d"
                         % num_bits)
    return num_bits, bool(op._attrs.get("narrow_range", False))


def _fake_quant_vars_kernel(op, ctx):
    num_bits, narrow_range = _check_fake_quant_attrs(op)

    def run(inputs, min_value, max_value):
        if min_value > max_value:
            raise errors.InvalidArgumentError(
                None, op, "min has to be smaller or equal to max: min=%s, max=%s"
                % (min_value, max_value))
        return fake_quantize(inputs, min_value, max_value, num_bits, narrow_range)
    return run


def _fake_quant_args_kernel(op, ctx):
    num_bits, narrow_range = _check_fake_quant_attrs(op)
    min_value, max_value = op._attrs.get("min", -6.0), op._attrs.get("max", 6.0)
    return lambda inputs: fake_quantize(inputs, min_value, max_value, num_bits, narrow_range)


def _fake_quant_vars_gradient_kernel(op, ctx):
    num_bits, narrow_range = _check_fake_quant_attrs(op)

    def run(gradients, inputs, min_value, max_value):
        f32 = np.float32
        nudged_min, nudged_max, _, _ = _nudged_range(min_value, max_value, num_bits,
                                                     narrow_range)
        below = inputs < nudged_min
        above = inputs > nudged_max
        inside = ~(below | above)
        zero = f32(0)
        return (np.where(inside, gradients, zero).astype(f32),
                np.asarray(np.sum(np.where(below, gradients, zero)), dtype=f32),
                np.asarray(np.sum(np.where(above, gradients, zero)), dtype=f32))
    return run


_FAKE_QUANT_ATTRS = ["num_bits: int = 8", "narrow_range: bool = false"]
register_op("FakeQuantWithMinMaxVars", inputs=["inputs: float", "min: float", "max: float"],
            outputs=["outputs: float"], attrs=_FAKE_QUANT_ATTRS,
            kernel=_fake_quant_vars_kernel, shape=_helpers.unchanged_shape)
register_op("FakeQuantWithMinMaxArgs", inputs=["inputs: float"], outputs=["outputs: float"],
            attrs=["min: float = -6.0", "max: float = 6.0"] + _FAKE_QUANT_ATTRS,
            kernel=_fake_quant_args_kernel, shape=_helpers.unchanged_shape)
register_op("FakeQuantWithMinMaxVarsGradient",
            inputs=["gradients: float", "inputs: float", "min: float", "max: float"],
            outputs=["backprops_wrt_input: float", "backprop_wrt_min: float",
                     "backprop_wrt_max: float"],
            attrs=_FAKE_QUANT_ATTRS, kernel=_fake_quant_vars_gradient_kernel,
            shape=lambda op: [op._inputs[1]._shape_val, tensor_shape.TensorShape([]),
                              tensor_shape.TensorShape([])])
register_op("FakeQuantWithMinMaxArgsGradient", inputs=["gradients: float", "inputs: float"],
            outputs=["backprops: float"],
            attrs=["min: float = -6.0", "max: float = 6.0"] + _FAKE_QUANT_ATTRS,
            kernel=lambda op, ctx: _fake_quant_args_gradient(op),
            shape=_helpers.unchanged_shape)


def _fake_quant_args_gradient(op):
    num_bits, narrow_range = _check_fake_quant_attrs(op)
    nudged_min, nudged_max, _, _ = _nudged_range(op._attrs.get("min", -6.0),
                                                 op._attrs.get("max", 6.0), num_bits,
                                                 narrow_range)

    def run(gradients, inputs):
        inside = (inputs >= nudged_min) & (inputs <= nudged_max)
        return np.where(inside, gradients, np.float32(0)).astype(np.float32)
    return run


def _fake_quant_vars_grad(op, grad):
    return apply_op("FakeQuantWithMinMaxVarsGradient", gradients=grad, inputs=op._inputs[0],
                    min=op._inputs[1], max=op._inputs[2], num_bits=op._attrs["num_bits"],
                    narrow_range=op._attrs["narrow_range"])


def _fake_quant_args_grad(op, grad):
    return [apply_op("FakeQuantWithMinMaxArgsGradient", gradients=grad, inputs=op._inputs[0],
                     min=op._attrs["min"], max=op._attrs["max"],
                     num_bits=op._attrs["num_bits"], narrow_range=op._attrs["narrow_range"])]


register_gradient("FakeQuantWithMinMaxVars", _fake_quant_vars_grad)
register_gradient("FakeQuantWithMinMaxArgs", _fake_quant_args_grad)


def fake_quant_with_min_max_vars(inputs, min, max, num_bits=8, narrow_range=False,  # noqa: A002
                                 name=None):
    return apply_op("FakeQuantWithMinMaxVars", inputs=inputs, min=min, max=max,
                    num_bits=num_bits, narrow_range=narrow_range, name=name)


def fake_quant_with_min_max_args(inputs, min=-6.0, max=6.0, num_bits=8,  # noqa: A002
                                 narrow_range=False, name=None):
    return apply_op("FakeQuantWithMinMaxArgs", inputs=inputs, min=min, max=max,
                    num_bits=num_bits, narrow_range=narrow_range, name=name)


# --- depth <-> space -------------------------------------------------------------------------------

def _data_format(op):
    fmt = op._attrs.get("data_format", b"NHWC")
    return fmt.decode() if isinstance(fmt, bytes) else fmt


def _block_and_data_format(op, op_type):
    block = op._attrs["block_size"]
    data_format = _data_format(op)
    if data_format == "NCHW_VECT_C":
        raise errors.UnimplementedError(None, op, "%s with data_format NCHW_VECT_C "
                                        "(quantized int8 layout) is not supported" % op_type)
    return block, data_format


def _nhwc_dims(shape, data_format):
    """(batch, height, width, channels) of a rank-4 shape in either layout."""
    if data_format == "NHWC":
        return shape
    n, c, h, w = shape
    return n, h, w, c


def _check_rank_4(op, x):
    if x.ndim != 4:
        raise errors.InvalidArgumentError(None, op, "Input rank should be: 4 instead of: %d"
                                          % x.ndim)


def _depth_to_space_kernel(op, ctx):
    block, data_format = _block_and_data_format(op, "DepthToSpace")

    def run(x):
        _check_rank_4(op, x)
        n, h, w, c = _nhwc_dims(x.shape, data_format)
        if c % (block * block):
            raise errors.InvalidArgumentError(
                None, op, "Input depth dimension %d should be divisible by: %d"
                % (c, block * block))
        depth = c // (block * block)
        if data_format == "NHWC":
            y = x.reshape(n, h, w, block, block, depth).transpose(0, 1, 3, 2, 4, 5)
            return np.ascontiguousarray(y).reshape(n, h * block, w * block, depth)
        y = x.reshape(n, block, block, depth, h, w).transpose(0, 3, 4, 1, 5, 2)
        return np.ascontiguousarray(y).reshape(n, depth, h * block, w * block)
    return run


def _space_to_depth_kernel(op, ctx):
    block, data_format = _block_and_data_format(op, "SpaceToDepth")

    def run(x):
        _check_rank_4(op, x)
        n, h, w, c = _nhwc_dims(x.shape, data_format)
        if h % block or w % block:
            raise errors.InvalidArgumentError(
                None, op, "Image width %d and height %d should be divisible by block_size: %d"
                % (w, h, block))
        if data_format == "NHWC":
            y = x.reshape(n, h // block, block, w // block, block, c).transpose(0, 1, 3, 2, 4, 5)
            return np.ascontiguousarray(y).reshape(n, h // block, w // block, block * block * c)
        y = x.reshape(n, c, h // block, block, w // block, block).transpose(0, 3, 5, 1, 2, 4)
        return np.ascontiguousarray(y).reshape(n, block * block * c, h // block, w // block)
    return run


def _rearrange_shape(to_depth):
    def shape(op):
        block = op._attrs["block_size"]
        input_shape = op._inputs[0]._shape_val
        if input_shape.ndims is None:
            return [tensor_shape.unknown_shape(4)]
        if input_shape.ndims != 4:
            raise ValueError("Shape must be rank 4 but is rank %d for '{{node %s}} = %s'"
                             % (input_shape.ndims, op.name, op.type))
        dims = input_shape.as_list()
        if _data_format(op) == "NHWC":
            spatial, channel = [1, 2], 3
        else:
            spatial, channel = [2, 3], 1

        def scaled(value, factor, divide):
            if value is None:
                return None
            if divide:
                if value % factor:
                    raise ValueError("Dimension size must be evenly divisible by %d but is %d "
                                     "for '{{node %s}} = %s'" % (factor, value, op.name, op.type))
                return value // factor
            return value * factor
        out = list(dims)
        for axis in spatial:
            out[axis] = scaled(dims[axis], block, to_depth)
        out[channel] = scaled(dims[channel], block * block, not to_depth)
        return [tensor_shape.TensorShape(out)]
    return shape


_REARRANGE_ATTRS = ["T: type", "block_size: int >= 2",
                    "data_format: {'NHWC', 'NCHW', 'NCHW_VECT_C'} = 'NHWC'"]
register_op("DepthToSpace", inputs=["input: T"], outputs=["output: T"], attrs=_REARRANGE_ATTRS,
            kernel=_depth_to_space_kernel, shape=_rearrange_shape(to_depth=False))
register_op("SpaceToDepth", inputs=["input: T"], outputs=["output: T"], attrs=_REARRANGE_ATTRS,
            kernel=_space_to_depth_kernel, shape=_rearrange_shape(to_depth=True))


def depth_to_space(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    return apply_op("DepthToSpace", input=input, block_size=block_size,
                    data_format=data_format, name=name)


def space_to_depth(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    return apply_op("SpaceToDepth", input=input, block_size=block_size,
                    data_format=data_format, name=name)


register_gradient("DepthToSpace", lambda op, grad: [space_to_depth(
    grad, op._attrs["block_size"], data_format=_data_format(op))])
register_gradient("SpaceToDepth", lambda op, grad: [depth_to_space(
    grad, op._attrs["block_size"], data_format=_data_format(op))])


# --- DecodeRaw, AdjustContrastv2, DenseToDenseSetOperation ------------------------------------------

def _decode_raw_kernel(op, ctx):
    dtype = op._attrs["out_type"].as_numpy
    order = "<" if op._attrs.get("little_endian", True) else ">"
    element = np.dtype(dtype).newbyteorder(order) if np.dtype(dtype).itemsize > 1 else \
        np.dtype(dtype)

    def run(data):
        data = np.asarray(data)
        flat = [bytes(x) for x in data.reshape(-1)]
        if not flat:
            return np.zeros(data.shape + (0,), dtype)
        size = len(flat[0])
        if size % element.itemsize:
            raise errors.InvalidArgumentError(
                None, op, "Input to DecodeRaw has length %d that is not a multiple of %d, the "
                "size of %s" % (size, element.itemsize, op._attrs["out_type"].name))
        for i, item in enumerate(flat):
            if len(item) != size:
                raise errors.InvalidArgumentError(
                    None, op, "DecodeRaw requires input strings to all be the same size, but "
                    "element %d has size %d != %d" % (i, len(item), size))
        values = np.frombuffer(b"".join(flat), dtype=element).astype(dtype)
        return values.reshape(data.shape + (size // element.itemsize,))
    return run


register_op("DecodeRaw", inputs=["bytes: string"], outputs=["output: out_type"],
            attrs=["out_type: {half, float, double, int32, uint16, uint8, int16, int8, int64, "
                   "complex64, complex128, bool, bfloat16}", "little_endian: bool = true"],
            kernel=_decode_raw_kernel,
            shape=lambda op: [op._inputs[0]._shape_val.concatenate([None])
                              if op._inputs[0]._shape_val.ndims is not None
                              else tensor_shape.unknown_shape()])
register_gradient("DecodeRaw", None)


def _adjust_contrast_kernel(op, ctx):
    dtype = op._attrs["T"].as_numpy

    def run(images, contrast_factor):
        images = np.asarray(images)
        if images.ndim < 3:
            raise errors.InvalidArgumentError(None, op, "input must be at least 3-D, got shape"
                                              "%s" % list(images.shape))
        if np.ndim(contrast_factor) != 0:
            raise errors.InvalidArgumentError(None, op, "contrast_factor must be scalar: %s"
                                              % list(np.shape(contrast_factor)))
        values = images.astype(np.float32)
        means = values.mean(axis=(-3, -2), keepdims=True, dtype=np.float32)
        factor = np.float32(contrast_factor)
        return ((values - means) * factor + means).astype(dtype)
    return run


register_op("AdjustContrastv2", inputs=["images: T", "contrast_factor: float"],
            outputs=["output: T"], attrs=["T: {half, float} = DT_FLOAT"],
            kernel=_adjust_contrast_kernel, shape=_helpers.unchanged_shape)
register_gradient("AdjustContrastv2", None)

_SET_OPERATIONS = {
    "a-b": lambda a, b: a - b, "b-a": lambda a, b: b - a,
    "intersection": lambda a, b: a & b, "union": lambda a, b: a | b,
}


def _set_operation_kernel(op, ctx):
    operation_name = op._attrs["set_operation"]
    operation_name = operation_name.decode() if isinstance(operation_name, bytes) \
        else operation_name
    operation = _SET_OPERATIONS.get(operation_name.lower())
    if operation is None:
        raise ValueError("Invalid set_operation %s." % operation_name)
    dtype = op._attrs["T"].as_numpy

    def run(set1, set2):
        set1, set2 = np.asarray(set1), np.asarray(set2)
        if set1.ndim < 2 or set1.shape[:-1] != set2.shape[:-1]:
            raise errors.InvalidArgumentError(
                None, op, "Shapes %s and %s must match in all but the last dimension"
                % (list(set1.shape), list(set2.shape)))
        groups = set1.shape[:-1]
        indices, values, max_size = [], [], 0
        for group in np.ndindex(*groups):
            result = sorted(operation(set(set1[group].tolist()), set(set2[group].tolist())))
            max_size = max(max_size, len(result))
            for position, value in enumerate(result):
                indices.append(list(group) + [position])
                values.append(value)
        rank = set1.ndim
        return (np.array(indices, dtype=np.int64).reshape(-1, rank),
                np.array(values, dtype=dtype),
                np.array(list(groups) + [max_size], dtype=np.int64))
    return run


register_op("DenseToDenseSetOperation", inputs=["set1: T", "set2: T"],
            outputs=["result_indices: int64", "result_values: T", "result_shape: int64"],
            attrs=["set_operation: string", "validate_indices: bool = true",
                   "T: {int8, int16, int32, int64, uint8, uint16, string}"],
            kernel=_set_operation_kernel,
            shape=lambda op: [tensor_shape.TensorShape([None, op._inputs[0]._shape_val.ndims]),
                              tensor_shape.TensorShape([None]),
                              tensor_shape.TensorShape([op._inputs[0]._shape_val.ndims])])
register_gradient("DenseToDenseSetOperation", None)


def decode_raw(input_bytes=None, out_type=None, little_endian=True, name=None, bytes=None):  # noqa: A002
    """tf.decode_raw: each string's bytes as a vector of `out_type` numbers."""
    if input_bytes is None:
        input_bytes = bytes
    return apply_op("DecodeRaw", bytes=input_bytes, out_type=out_type,
                    little_endian=little_endian, name=name)


def adjust_contrast(images, contrast_factor):
    """tf.image.adjust_contrast for float images: (x - mean) * factor + mean per channel."""
    with ops.name_scope(None, "adjust_contrast", [images, contrast_factor]) as name:
        images = ops.convert_to_tensor(images, name="images")
        if images.dtype.base_dtype not in (dtypes.float16, dtypes.float32):
            raise TypeError("adjust_contrast: tensorkeep supports float16/float32 images, got "
                            "%s" % images.dtype.name)
        adjusted = apply_op("AdjustContrastv2", images=images, contrast_factor=contrast_factor,
                            name=name)
        # TensorFlow's convert_image_dtype back to the same dtype: an Identity.
        return apply_op("Identity", input=adjusted)


def _set_operation(a, b, set_operation, validate_indices=True):
    from tensorkeep.framework.sparse_tensor import SparseTensor

    indices, values, shape = apply_op("DenseToDenseSetOperation", set1=a, set2=b,
                                      set_operation=set_operation,
                                      validate_indices=validate_indices)
    return SparseTensor(indices, values, shape)


def set_difference(a, b, aminusb=True, validate_indices=True):
    return _set_operation(a, b, "a-b" if aminusb else "b-a", validate_indices)


def set_intersection(a, b, validate_indices=True):
    return _set_operation(a, b, "intersection", validate_indices)


def set_union(a, b, validate_indices=True):
    return _set_operation(a, b, "union", validate_indices)


# --- RefIdentity (ref-typed loop variables pass through it in tf.while_loop) -----------------------

if get_schema("RefIdentity") is None:
    register_op("RefIdentity", inputs=["input: Ref(T)"], outputs=["output: Ref(T)"],
                attrs=["T: type"], compute=lambda ref: ref, shape=_helpers.unchanged_shape,
                allows_uninitialized_input=True)
    register_gradient("RefIdentity", lambda op, grad: [grad])


# --- input pipelines: schemas only -----------------------------------------------------------------
# Graphs exported from training scripts carry their input pipeline (tf.data, queues, readers,
# py_func). They import and their other parts run; running the pipeline itself needs the
# original Python program or files, so these ops have no kernel (running one raises
# UnimplementedError naming the op).

_DATASET_ATTRS = ["output_types: list(type) >= 1", "output_shapes: list(shape) >= 1"]
_PIPELINE_SCHEMAS = [
    ("TensorDataset", ["components: Toutput_types"], ["handle: variant"],
     ["Toutput_types: list(type) >= 1", "output_shapes: list(shape) >= 1", "metadata: string = ''"],
     True),
    ("BatchDatasetV2", ["input_dataset: variant", "batch_size: int64", "drop_remainder: bool"],
     ["handle: variant"], ["parallel_copy: bool = false"] + _DATASET_ATTRS +
     ["metadata: string = ''"], False),
    ("RepeatDataset", ["input_dataset: variant", "count: int64"], ["handle: variant"],
     _DATASET_ATTRS + ["metadata: string = ''"], False),
    ("FlatMapDataset", ["input_dataset: variant", "other_arguments: Targuments"],
     ["handle: variant"], ["f: func", "Targuments: list(type) >= 0"] + _DATASET_ATTRS +
     ["metadata: string = ''"], False),
    ("GeneratorDataset", ["init_func_other_args: Tinit_func_args",
                          "next_func_other_args: Tnext_func_args",
                          "finalize_func_other_args: Tfinalize_func_args"],
     ["handle: variant"],
     ["init_func: func", "next_func: func", "finalize_func: func",
      "Tinit_func_args: list(type) >= 0", "Tnext_func_args: list(type) >= 0",
      "Tfinalize_func_args: list(type) >= 0"] + _DATASET_ATTRS + ["metadata: string = ''"],
     True),
    ("OptimizeDataset", ["input_dataset: variant", "optimizations: string"],
     ["handle: variant"], _DATASET_ATTRS + ["optimization_configs: list(string) = []"], False),
    ("ModelDataset", ["input_dataset: variant"], ["handle: variant"],
     ["algorithm: int = 0", "cpu_budget: int = 0", "ram_budget: int = 0"] + _DATASET_ATTRS,
     False),
    ("IteratorV2", [], ["handle: resource"],
     ["shared_name: string", "container: string"] + _DATASET_ATTRS, True),
    ("MakeIterator", ["dataset: variant", "iterator: resource"], [], [], True),
    ("IteratorGetNext", ["iterator: resource"], ["components: output_types"], _DATASET_ATTRS,
     True),
    ("IteratorToStringHandle", ["resource_handle: resource"], ["string_handle: string"], [],
     True),
    ("PyFunc", ["input: Tin"], ["output: Tout"],
     ["token: string", "Tin: list(type) >= 0", "Tout: list(type) >= 0"], True),
    ("FIFOQueueV2", [], ["handle: resource"],
     ["component_types: list(type) >= 1", "shapes: list(shape) >= 0 = []",
      "capacity: int = -1", "container: string = ''", "shared_name: string = ''"], True),
    ("RandomShuffleQueueV2", [], ["handle: resource"],
     ["component_types: list(type) >= 1", "shapes: list(shape) >= 0 = []",
      "capacity: int = -1", "min_after_dequeue: int = 0", "seed: int = 0", "seed2: int = 0",
      "container: string = ''", "shared_name: string = ''"], True),
    ("QueueEnqueueV2", ["handle: resource", "components: Tcomponents"], [],
     ["Tcomponents: list(type) >= 1", "timeout_ms: int = -1"], True),
    ("QueueEnqueueManyV2", ["handle: resource", "components: Tcomponents"], [],
     ["Tcomponents: list(type) >= 1", "timeout_ms: int = -1"], True),
    ("QueueDequeueManyV2", ["handle: resource", "n: int32"], ["components: component_types"],
     ["component_types: list(type) >= 1", "timeout_ms: int = -1"], True),
    ("QueueCloseV2", ["handle: resource"], [], ["cancel_pending_enqueues: bool = false"], True),
    ("QueueSizeV2", ["handle: resource"], ["size: int32"], [], True),
    ("FixedLengthRecordReaderV2", [], ["reader_handle: resource"],
     ["header_bytes: int = 0", "record_bytes: int", "footer_bytes: int = 0",
      "hop_bytes: int = 0", "container: string = ''", "shared_name: string = ''",
      "encoding: string = ''"], True),
    ("ReaderReadV2", ["reader_handle: resource", "queue_handle: resource"],
     ["key: string", "value: string"], [], True),
]


def _dataset_full_type(types_attr):
    """The full type of a dataset handle whose elements have the types in `types_attr`."""
    return ('type_id: TFT_DATASET args { type_id: TFT_FOR_EACH args { type_id: TFT_PRODUCT } '
            'args { type_id: TFT_TENSOR args { type_id: TFT_VAR s: "%s" } } '
            'args { type_id: TFT_VAR s: "%s" } }' % (types_attr, types_attr))


for _name, _inputs, _outputs, _attrs, _stateful in _PIPELINE_SCHEMAS:
    if get_schema(_name) is None:
        _full_types = None
        if _name.endswith(("Dataset", "DatasetV2")):
            _full_types = {"handle": _dataset_full_type(
                "Toutput_types" if _name == "TensorDataset" else "output_types")}
        register_op(_name, inputs=_inputs, outputs=_outputs, attrs=_attrs, stateful=_stateful,
                    shape=_helpers.unknown_shapes, output_full_types=_full_types)
        register_gradient(_name, None)
