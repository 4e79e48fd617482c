"""tf.gfile (TF1) and tensorflow.python.platform.gfile"""
from tensorkeep.io.gfile import (  # noqa: F401
    Copy, DeleteRecursively, Exists, FastGFile, GFile, Glob, IsDirectory, ListDirectory,
    MakeDirs, MkDir, Open, Remove, Rename, Stat, Walk)
