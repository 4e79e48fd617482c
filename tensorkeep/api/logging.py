"""tf.logging (tensorflow.python.platform.tf_logging): the "tensorflow" logger.

Messages go to stderr as `LEVEL:tensorflow:message`, like TensorFlow 1.x; the default level is
WARN, so INFO messages (e.g. graph_util's "Froze N variables.") show after
`tf.logging.set_verbosity(tf.logging.INFO)`.
"""

import logging as _logging
import sys as _sys

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
WARNING = _logging.WARNING
ERROR = _logging.ERROR
FATAL = _logging.FATAL

_logger = _logging.getLogger("tensorflow")
if not _logger.handlers:
    _handler = _logging.StreamHandler(_sys.stderr)
    _handler.setFormatter(_logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    _logger.addHandler(_handler)
    _logger.propagate = False
    _logger.setLevel(WARN)


def get_logger():
    return _logger


def set_verbosity(level):
    _logger.setLevel(level)


def get_verbosity():
    return _logger.getEffectiveLevel()


def log(level, msg, *args, **kwargs):
    _logger.log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs):
    _logger.debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs):
    _logger.info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs):
    _logger.warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs):
    _logger.error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs):
    _logger.critical(msg, *args, **kwargs)


_logged_once = set()


def log_first_n(level, msg, n, *args):
    key = (msg, level)
    count = sum(1 for k in _logged_once if k[:2] == key)
    if count < n:
        _logged_once.add(key + (count,))
        _logger.log(level, msg, *args)


def log_every_n(level, msg, n, *args):
    log_first_n(level, msg, 1, *args)


def log_if(level, msg, condition, *args):
    if condition:
        _logger.log(level, msg, *args)


def vlog(level, msg, *args, **kwargs):
    _logger.log(level, msg, *args, **kwargs)


def flush():
    for handler in _logger.handlers:
        handler.flush()
