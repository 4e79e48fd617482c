"""CRC-32C (Castagnoli) as TensorFlow's file formats use it, plain and masked.

Backed by google-crc32c's hardware-accelerated C implementation. Its C entry point takes
`bytes` and C-contiguous numpy arrays of any dtype without copying; other buffers
(memoryviews, bytearrays) are viewed as a uint8 array first, so that no buffer is ever
copied to be checksummed (a 1 GiB tensor is checksummed in place at the speed of the C code).
"""

import google_crc32c
import numpy as np

# A mask keeps a CRC stored inside checksummed data from checksumming to itself.
_MASK_DELTA = 0xA282EAD8
_CHUNK_BYTES = 1 << 20


def extend(crc, data):
    """CRC-32C of the bytes that gave `crc` followed by `data` (any C-contiguous buffer)."""
    if isinstance(data, (bytes, np.ndarray)):  # C-contiguous arrays of any dtype, as they are
        try:
            return google_crc32c.extend(crc, data)
        except TypeError:  # an implementation that accepts bytes only
            pass
    view = np.frombuffer(data, dtype=np.uint8)  # a view of the same memory, for any buffer
    try:
        return google_crc32c.extend(crc, view)
    except TypeError:  # an implementation that accepts bytes only: feed it bounded copies
        for start in range(0, len(view), _CHUNK_BYTES):
            crc = google_crc32c.extend(crc, view[start:start + _CHUNK_BYTES].tobytes())
        return crc


def value(data):
    """CRC-32C of `data`."""
    return extend(0, data)


def mask(crc):
    """Rotate right by 15 bits and add a constant, as TensorFlow stores CRCs."""
    crc &= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def unmask(masked_crc):
    """Inverse of `mask`."""
    rotated = (masked_crc - _MASK_DELTA) & 0xFFFFFFFF
    return ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF
