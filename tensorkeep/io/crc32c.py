"""CRC-32C (Castagnoli) as TensorFlow's file formats use it, plain and masked.

Backed by google-crc32c's hardware-accelerated C implementation. Its C entry points accept
only `bytes`, so other buffers (numpy arrays, memoryviews, bytearrays) are fed in chunks.
"""

import google_crc32c

# A mask keeps a CRC stored inside checksummed data from checksumming to itself.
_MASK_DELTA = 0xA282EAD8
_CHUNK_BYTES = 1 << 20


def extend(crc, data):
    """CRC-32C of the bytes that gave `crc` followed by `data` (any C-contiguous buffer)."""
    if isinstance(data, bytes):
        return google_crc32c.extend(crc, data)
    view = memoryview(data).cast("B")
    for start in range(0, len(view), _CHUNK_BYTES):
        crc = google_crc32c.extend(crc, bytes(view[start:start + _CHUNK_BYTES]))
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
