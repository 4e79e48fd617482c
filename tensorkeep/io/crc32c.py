"""CRC-32C (Castagnoli) as TensorFlow's file formats use it, plain and masked.

Backed by the `crc32c` package's hardware-accelerated C implementation (SSE 4.2 / ARMv8
instructions). It takes any C-contiguous buffer (bytes, memoryviews, NumPy arrays of any
dtype) without copying, and releases the GIL for buffers of 32 KiB or more: large tensors are
checksummed in place at the speed of the C code, and two threads checksum two tensors at once
(bundle.py's parallel reads rely on that).
"""

# A mask keeps a CRC stored inside checksummed data from checksumming to itself.
_MASK_DELTA = 0xA282EAD8

_crc32c = None  # the package's crc32c(data, value=0), imported on first use


def _load():
    # The package's __init__ imports importlib.metadata (20-40 ms, 4 MiB): paid by the first
    # checksum, not by every program that builds a graph.
    global _crc32c
    from crc32c import crc32c as function

    _crc32c = function
    return function


def extend(crc, data):
    """CRC-32C of the bytes that gave `crc` followed by `data` (any C-contiguous buffer)."""
    return (_crc32c or _load())(data, crc)


def value(data):
    """CRC-32C of `data`."""
    return (_crc32c or _load())(data)


def mask(crc):
    """Rotate right by 15 bits and add a constant, as TensorFlow stores CRCs."""
    crc &= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def unmask(masked_crc):
    """Inverse of `mask`."""
    rotated = (masked_crc - _MASK_DELTA) & 0xFFFFFFFF
    return ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF
