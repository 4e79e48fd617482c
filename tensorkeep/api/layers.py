"""tf.layers"""

from tensorkeep.training.layers import (  # noqa: F401
    AveragePooling2D, AveragePool2D, BatchNormalization, BatchNorm, Conv2D, Dense, Dropout,
    Flatten, Layer, MaxPooling2D, MaxPool2D, average_pooling2d, batch_normalization, conv2d,
    dense, dropout, flatten, max_pooling2d)
from tensorkeep.training.layers import Conv2D as Convolution2D  # noqa: F401
