"""Weight regularizers (tf.contrib.layers.l1_regularizer, l2_regularizer, ...).

A regularizer is a function `reg(weights) -> scalar loss Tensor` (or None); pass it as
`regularizer=` to tf.get_variable / tf.variable_scope to collect the losses in
REGULARIZATION_LOSSES. Ops are named as TensorFlow names them: `l2_regularizer/scale`,
`l2_regularizer/L2Loss`, `l2_regularizer` (the Mul).
"""

import logging
import numbers

from tensorkeep.framework import ops
from tensorkeep.ops import array_ops
from tensorkeep.ops import math_ops


def _check_scale(scale):
    """Rejects integer and negative scales; True when the scale disables the regularizer."""
    if isinstance(scale, numbers.Integral):
        raise ValueError("scale cannot be an integer: %s" % (scale,))
    if isinstance(scale, numbers.Real):
        if scale < 0.:
            raise ValueError("Setting a scale less than 0 on a regularizer: %g." % scale)
        if scale == 0.:
            logging.getLogger("tensorkeep").info("Scale of 0 disables regularizer.")
            return True
    return False


def _scaled_regularizer(scale, scope, default_name, penalty):
    """weights -> scale * penalty(weights), named like TensorFlow's: `<scope>/scale`, the
    penalty's ops, then the Mul named after the scope."""
    if _check_scale(scale):
        return lambda _: None

    def regularizer(weights):
        with ops.name_scope(scope, default_name, [weights]) as name:
            my_scale = ops.convert_to_tensor(scale, dtype=weights.dtype.base_dtype,
                                             name="scale")
            return math_ops.multiply(my_scale, penalty(weights), name=name)
    return regularizer


def l1_regularizer(scale, scope=None):
    """scale * sum(|weights|)."""
    return _scaled_regularizer(scale, scope, "l1_regularizer",
                               lambda weights: math_ops.reduce_sum(math_ops.abs(weights)))


def l2_regularizer(scale, scope=None):
    """scale * sum(weights ** 2) / 2 (an L2Loss op)."""
    from tensorkeep.ops import nn_ops

    return _scaled_regularizer(scale, scope, "l2_regularizer", nn_ops.l2_loss)


def sum_regularizer(regularizer_list, scope=None):
    """The sum (AddN) of several regularizers; None when the list has none."""
    regularizer_list = [reg for reg in regularizer_list if reg is not None]
    if not regularizer_list:
        return None

    def sum_reg(weights):
        with ops.name_scope(scope, "sum_regularizer", [weights]) as name:
            return math_ops.add_n([reg(weights) for reg in regularizer_list], name=name)
    return sum_reg


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    return sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)],
                           scope=scope or "l1_l2_regularizer")


def apply_regularization(regularizer, weights_list=None):
    """Sums regularizer(w) over weights_list (default: the WEIGHTS collection) into one loss
    named `get_regularization_penalty`, also added to REGULARIZATION_LOSSES."""
    if not weights_list:
        weights_list = ops.get_collection(ops.GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize.")
    with ops.name_scope("get_regularization_penalty", values=weights_list) as scope:
        penalties = [regularizer(w) for w in weights_list]
        penalties = [p if p is not None else array_ops.constant(0.0) for p in penalties]
        for p in penalties:
            if p.get_shape().ndims != 0:
                raise ValueError("regularizer must return a scalar Tensor instead of a Tensor "
                                 "with rank %d." % p.get_shape().ndims)
        summed = math_ops.add_n(penalties, name=scope)
        ops.add_to_collection(ops.GraphKeys.REGULARIZATION_LOSSES, summed)
        return summed
