"""tf.compat: `tensorkeep.compat.v1` is the TF1 namespace itself (tensorkeep is TF1)."""

import sys as _sys

import tensorkeep as v1  # noqa: F401  (the package is the v1 namespace)

_sys.modules[__name__ + ".v1"] = v1


def as_bytes(bytes_or_text, encoding="utf-8"):
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    raise TypeError("Expected binary or unicode string, got %r" % (bytes_or_text,))


def as_text(bytes_or_text, encoding="utf-8"):
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text.decode(encoding)
    raise TypeError("Expected binary or unicode string, got %r" % (bytes_or_text,))


as_str = as_text
as_str_any = lambda value: value if isinstance(value, str) else (  # noqa: E731
    value.decode() if isinstance(value, bytes) else str(value))
