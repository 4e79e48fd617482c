"""CRC-32C (Castagnoli) as TensorFlow's file formats use it, plain and masked.

Backed by the `crc32c` package's hardware-accelerated C implementation (SSE 4.2 / ARMv8
instructions). It takes any C-contiguous buffer (bytes, memoryviews, NumPy arrays of any
dtype) without copying, and releases the GIL for buffers of 32 KiB or more: large tensors are
checksummed in place at the speed of the C code, and two threads checksum two tensors at once
(bundle.py's parallel reads rely on that).
"""

import crc32c as _crc32c

# A mask keeps a CRC stored inside checksummed data from checksumming to itself.
_MASK_DELTA = 0xA282EAD8


def extend(crc, data):
    """CRC-32C of the bytes that gave `crc` followed by `data` (any C-contiguous buffer)."""
    return _crc32c.crc32c(data, crc)


def value(data):
    """CRC-32C of `data`."""
    return _crc32c.crc32c(data)


def mask(crc):
    """Rotate right by 15 bits and add a constant, as TensorFlow stores CRCs."""
    crc &= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def unmask(masked_crc):
    """Inverse of `mask`."""
    rotated = (masked_crc - _MASK_DELTA) & 0xFFFFFFFF
    return ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF
