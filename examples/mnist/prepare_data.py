"""Builds the example's MNIST directory from the one MNIST archive we have: the 10,000 images of
t10k-*.gz are split (a fixed random permutation) into 9,000 training images, written as
train-*-ubyte.gz, and 1,000 held-out images, written as t10k-*-ubyte.gz, so that
`input_data.read_data_sets(output_dir)` finds the four standard file names.

    python examples/mnist/prepare_data.py --output_dir /tmp/mnist_data

Needs only NumPy; the files are byte-for-byte reproducible (fixed seed, gzip mtime 0).
"""

import argparse
import gzip
import os

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_SOURCE = os.path.join(
    os.environ.get("TENSORKEEP_SHARED", os.path.join(os.path.dirname(REPO), "shared")),
    "data", "mnist")

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def read_idx(path, magic):
    """The header dimensions and the uint8 payload of an idx(.gz) file."""
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    header_words = 4 if magic == IMAGES_MAGIC else 2
    header = np.frombuffer(data[:4 * header_words], dtype=">u4")
    if header[0] != magic:
        raise ValueError("%s: magic number %d, expected %d" % (path, header[0], magic))
    dims = [int(d) for d in header[1:]]
    payload = np.frombuffer(data[4 * header_words:], dtype=np.uint8)
    if payload.size != int(np.prod(dims)):
        raise ValueError("%s: %d bytes of data for dimensions %s" % (path, payload.size, dims))
    return payload.reshape(dims)


def write_idx(path, magic, array):
    header = np.array([magic] + list(array.shape), dtype=">u4").tobytes()
    # mtime=0 and no file name in the gzip header keep the output reproducible.
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                 mtime=0) as stream:
        stream.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def split(source_dir, output_dir, held_out=1000, seed=0):
    """Writes the four files; returns (number of training images, number held out)."""
    images = read_idx(os.path.join(source_dir, "t10k-images-idx3-ubyte.gz"), IMAGES_MAGIC)
    labels = read_idx(os.path.join(source_dir, "t10k-labels-idx1-ubyte.gz"), LABELS_MAGIC)
    if len(images) != len(labels) or not 0 < held_out < len(images):
        raise ValueError("cannot hold out %d of %d images (%d labels)"
                         % (held_out, len(images), len(labels)))
    # A random split: the archive's first half is known to be easier than its second half.
    order = np.random.RandomState(seed).permutation(len(images))
    train, test = order[held_out:], order[:held_out]
    os.makedirs(output_dir, exist_ok=True)
    for prefix, rows in (("train", train), ("t10k", test)):
        write_idx(os.path.join(output_dir, prefix + "-images-idx3-ubyte.gz"), IMAGES_MAGIC,
                  images[rows])
        write_idx(os.path.join(output_dir, prefix + "-labels-idx1-ubyte.gz"), LABELS_MAGIC,
                  labels[rows])
    return len(train), len(test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source_dir", default=DEFAULT_SOURCE,
                        help="directory holding t10k-images-idx3-ubyte.gz and "
                             "t10k-labels-idx1-ubyte.gz (default: %(default)s)")
    parser.add_argument("--output_dir", default="MNIST_data")
    parser.add_argument("--held_out", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    trained, held = split(args.source_dir, args.output_dir, args.held_out, args.seed)
    print("Wrote %d training and %d held-out images to %s" % (trained, held, args.output_dir))


if __name__ == "__main__":
    main()
