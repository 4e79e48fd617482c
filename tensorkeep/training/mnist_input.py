"""`tensorflow.examples.tutorials.mnist.input_data`: MNIST from local idx(.gz) files.

Behaves as TensorFlow's tutorial helper (same splits, scaling, one-hot labels, shuffling and
`next_batch` epochs) but never downloads: the files must already be in `train_dir`.
"""

import collections
import gzip
import os

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework.errors import NotFoundError, DataLossError

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])

_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049


def _open_idx(path):
    if os.path.exists(path):
        return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    plain = path[:-3] if path.endswith(".gz") else path
    if os.path.exists(plain):
        return open(plain, "rb")
    raise NotFoundError(None, None, "MNIST file %s not found (tensorkeep does not download data"
                        "sets). Put %s (or its uncompressed form) in %s." % (
                            path, os.path.basename(path), os.path.dirname(path) or "."))


def _read_exactly(stream, count, path):
    data = stream.read(count)
    if len(data) != count:
        raise DataLossError(None, None, "%s is truncated: wanted %d more bytes, got %d"
                            % (path, count, len(data)))
    return data


def extract_images(path):
    """uint8 array [N, rows, cols, 1] from an idx3 file."""
    with _open_idx(path) as stream:
        header = np.frombuffer(_read_exactly(stream, 16, path), dtype=">u4")
        if header[0] != _IMAGES_MAGIC:
            raise ValueError("Invalid magic number %d in MNIST image file: %s" % (header[0], path))
        count, rows, cols = (int(v) for v in header[1:])
        data = _read_exactly(stream, count * rows * cols, path)
    return np.frombuffer(data, dtype=np.uint8).reshape(count, rows, cols, 1)


def extract_labels(path, one_hot=False, num_classes=10):
    """uint8 labels [N] (or float one-hot [N, num_classes]) from an idx1 file."""
    with _open_idx(path) as stream:
        header = np.frombuffer(_read_exactly(stream, 8, path), dtype=">u4")
        if header[0] != _LABELS_MAGIC:
            raise ValueError("Invalid magic number %d in MNIST label file: %s" % (header[0], path))
        labels = np.frombuffer(_read_exactly(stream, int(header[1]), path), dtype=np.uint8)
    return dense_to_one_hot(labels, num_classes) if one_hot else labels


def dense_to_one_hot(labels_dense, num_classes):
    one_hot = np.zeros((labels_dense.shape[0], num_classes))
    one_hot[np.arange(labels_dense.shape[0]), labels_dense] = 1
    return one_hot


class DataSet:
    """Images and labels with epoch-aware, shuffled `next_batch` (TensorFlow's tutorial class)."""

    def __init__(self, images, labels, fake_data=False, one_hot=False, dtype=dtypes.float32,
                 reshape=True, seed=None):
        from tensorkeep.ops import random_ops

        seed1, seed2 = random_ops.get_seed(seed)
        # Same seeding rule as TensorFlow's helper, so a seeded program shuffles the same way.
        np.random.seed(seed1 if seed is None else seed2)
        dtype = dtypes.as_dtype(dtype).base_dtype
        if dtype not in (dtypes.uint8, dtypes.float32):
            raise TypeError("Invalid image dtype %r, expected uint8 or float32" % dtype)
        if fake_data:
            self._num_examples = 10000
            self.one_hot = one_hot
        else:
            if images.shape[0] != labels.shape[0]:
                raise ValueError("images.shape: %s labels.shape: %s" % (images.shape,
                                                                       labels.shape))
            self._num_examples = images.shape[0]
            if reshape:
                images = images.reshape(images.shape[0], images.shape[1] * images.shape[2])
            if dtype == dtypes.float32:
                images = images.astype(np.float32)
                images = np.multiply(images, 1.0 / 255.0)
        self._images = images
        self._labels = labels
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @property
    def images(self):
        return self._images

    @property
    def labels(self):
        return self._labels

    @property
    def num_examples(self):
        return self._num_examples

    @property
    def epochs_completed(self):
        return self._epochs_completed

    def next_batch(self, batch_size, fake_data=False, shuffle=True):
        if fake_data:
            fake_image = [1] * 784
            fake_label = [1] + [0] * 9 if self.one_hot else 0
            return ([fake_image for _ in range(batch_size)],
                    [fake_label for _ in range(batch_size)])
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            perm0 = np.arange(self._num_examples)
            np.random.shuffle(perm0)
            self._images = self.images[perm0]
            self._labels = self.labels[perm0]
        if start + batch_size > self._num_examples:
            self._epochs_completed += 1
            rest = self._num_examples - start
            images_rest = self._images[start:self._num_examples]
            labels_rest = self._labels[start:self._num_examples]
            if shuffle:
                perm = np.arange(self._num_examples)
                np.random.shuffle(perm)
                self._images = self.images[perm]
                self._labels = self.labels[perm]
            start = 0
            self._index_in_epoch = batch_size - rest
            end = self._index_in_epoch
            return (np.concatenate((images_rest, self._images[start:end]), axis=0),
                    np.concatenate((labels_rest, self._labels[start:end]), axis=0))
        self._index_in_epoch += batch_size
        end = self._index_in_epoch
        return self._images[start:end], self._labels[start:end]


def read_data_sets(train_dir, fake_data=False, one_hot=False, dtype=dtypes.float32,
                   reshape=True, validation_size=5000, seed=None, source_url=None):
    """Reads train/validation/test splits from the four standard MNIST files in train_dir."""
    if fake_data:
        def fake():
            return DataSet([], [], fake_data=True, one_hot=one_hot, dtype=dtype, seed=seed)
        return Datasets(train=fake(), validation=fake(), test=fake())
    paths = [os.path.join(train_dir, name) for name in
             (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)]
    missing = [p for p in paths if not (os.path.exists(p) or os.path.exists(p[:-3]))]
    if missing:
        raise NotFoundError(None, None, "MNIST files missing from %s: %s. tensorkeep reads local "
                            "files only (no download): put the four standard files %s there."
                            % (train_dir, ", ".join(os.path.basename(p) for p in missing),
                               ", ".join(os.path.basename(p) for p in paths)))
    train_images = extract_images(paths[0])
    train_labels = extract_labels(paths[1], one_hot=one_hot)
    test_images = extract_images(paths[2])
    test_labels = extract_labels(paths[3], one_hot=one_hot)
    if not 0 <= validation_size <= len(train_images):
        raise ValueError("Validation size should be between 0 and {}. Received: {}."
                         .format(len(train_images), validation_size))
    validation_images = train_images[:validation_size]
    validation_labels = train_labels[:validation_size]
    train_images = train_images[validation_size:]
    train_labels = train_labels[validation_size:]
    options = dict(dtype=dtype, reshape=reshape, seed=seed)
    return Datasets(train=DataSet(train_images, train_labels, **options),
                    validation=DataSet(validation_images, validation_labels, **options),
                    test=DataSet(test_images, test_labels, **options))


def load_mnist(train_dir="MNIST-data"):
    return read_data_sets(train_dir)
