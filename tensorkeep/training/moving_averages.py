"""Exponential moving averages: tf.train.ExponentialMovingAverage and assign_moving_average.

The update is TensorFlow's, op for op, so values match bit for bit in float32:
    shadow -= (shadow - value) * (1 - decay)
with `1 - decay` computed by a Sub op (0.99 gives 0.00999999 in float32, hence the well-known
0.099999905 after one update towards 10).
"""

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops import init_ops
from tensorkeep.ops import math_ops
from tensorkeep.ops import state_ops
from tensorkeep.ops import variables
from tensorkeep.training import slot_creator
from tensorkeep.training import variable_scope


def assign_moving_average(variable, value, decay, zero_debias=True, name=None):
    """variable -= (variable - value) * (1 - decay); returns the updated reference.

    With zero_debias, the average is kept in a `biased` variable and divided by
    `1 - decay ** local_step`, so early averages are not pulled towards the zero start.
    """
    with ops.name_scope(name, "AssignMovingAvg", [variable, value, decay]) as scope:
        decay = ops.convert_to_tensor(1.0 - decay, name="decay")
        if decay.dtype != variable.dtype.base_dtype:
            decay = math_ops.cast(decay, variable.dtype.base_dtype)
        if zero_debias:
            return _zero_debias(variable, value, decay)
        return state_ops.assign_sub(variable, (variable - value) * decay, name=scope)


def _zero_debias(unbiased_var, value, decay):
    with variable_scope.variable_scope(unbiased_var.name[:-len(":0")],
                                       values=[unbiased_var, value, decay]):
        with ops.colocate_with(unbiased_var.op):
            biased_var = variable_scope.get_variable(
                _unique_in_current_scope("biased"), initializer=init_ops.zeros_initializer(),
                shape=unbiased_var.get_shape(), dtype=unbiased_var.dtype, trainable=False)
            local_step = variable_scope.get_variable(
                _unique_in_current_scope("local_step"), shape=[], dtype=unbiased_var.dtype,
                initializer=init_ops.zeros_initializer(), trainable=False)
    update_biased = state_ops.assign_sub(biased_var, (biased_var - value) * decay)
    update_local_step = local_step.assign_add(1)
    bias_factor = 1 - math_ops.pow(1.0 - decay, update_local_step)
    return state_ops.assign(unbiased_var, update_biased / bias_factor,
                            name=ops.get_name_scope() + "/")


def _unique_in_current_scope(name):
    """name, or name_1, name_2, ... : the first not yet a global variable of the scope."""
    scope = variable_scope.get_variable_scope()
    if scope.reuse:
        return name
    existing = set(v.op.name for v in scope.global_variables())
    full_name = scope.name + "/" + name
    if full_name not in existing:
        return name
    idx = 1
    while full_name + ("_%d" % idx) in existing:
        idx += 1
    return name + ("_%d" % idx)


def weighted_moving_average(value, decay, weight, truediv=True, collections=None, name=None):
    """The moving average of value * weight divided by the moving average of weight."""
    if collections is None:
        collections = [ops.GraphKeys.GLOBAL_VARIABLES]
    with variable_scope.variable_scope(name, "WeightedMovingAvg",
                                       [value, weight, decay]) as scope:
        value_x_weight_var = variable_scope.get_variable(
            "value_x_weight", shape=value.get_shape(), dtype=value.dtype,
            initializer=init_ops.zeros_initializer(), trainable=False, collections=collections)
        weight_var = variable_scope.get_variable(
            "weight", shape=weight.get_shape(), dtype=weight.dtype,
            initializer=init_ops.zeros_initializer(), trainable=False, collections=collections)
        numerator = assign_moving_average(value_x_weight_var, value * weight, decay,
                                          zero_debias=False)
        denominator = assign_moving_average(weight_var, weight, decay, zero_debias=False)
        if truediv:
            return math_ops.truediv(numerator, denominator, name=scope.name)
        return math_ops.divide(numerator, denominator, name=scope.name)


_FLOAT_DTYPES = (dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64)


class ExponentialMovingAverage:
    """Shadow copies `v/<name>` of variables (or tensors) that follow them with decay `decay`.

    With num_updates, the decay used is min(decay, (1 + num_updates) / (10 + num_updates)).
    """

    def __init__(self, decay, num_updates=None, zero_debias=False,
                 name="ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages = {}

    @property
    def name(self):
        return self._name

    def apply(self, var_list=None):
        """Creates the shadows (once per variable) and returns the op that updates them all."""
        if var_list is None:
            var_list = variables.trainable_variables()
        zero_debias_shadows = set()
        for var in var_list:
            if var.dtype.base_dtype not in _FLOAT_DTYPES:
                raise TypeError("The variables must be half, float, or double: %s" % var.name)
            if var in self._averages:
                continue
            with variable_scope.init_scope():
                if isinstance(var, variables.Variable):
                    with ops.device(var.device):
                        initial = slot_creator.current_or_initial_value(var)
                    avg = slot_creator.create_slot(var, initial, self._name,
                                                   colocate_with_primary=True)
                    ops.add_to_collection(ops.GraphKeys.MOVING_AVERAGE_VARIABLES, var)
                else:
                    avg = slot_creator.create_zeros_slot(
                        var, self._name,
                        colocate_with_primary=var.op.type in ("Variable", "VariableV2",
                                                              "VarHandleOp"))
                    if self._zero_debias:
                        zero_debias_shadows.add(avg)
            self._averages[var] = avg

        with ops.name_scope(self._name) as scope:
            decay = ops.convert_to_tensor(self._decay, dtype=dtypes.float32, name="decay")
            if self._num_updates is not None:
                num_updates = math_ops.cast(self._num_updates, dtypes.float32,
                                            name="num_updates")
                decay = math_ops.minimum(decay, (1.0 + num_updates) / (10.0 + num_updates))
            updates = []
            for var in var_list:
                avg = self._averages[var]
                updates.append(assign_moving_average(avg, var, decay,
                                                     zero_debias=avg in zero_debias_shadows))
            return control_flow_ops.group(*updates, name=scope)

    def average(self, var):
        """The shadow variable of var, or None if apply() has not seen it."""
        return self._averages.get(var)

    def average_name(self, var):
        """The name of var's shadow (existing or to be created), e.g. `v/ExponentialMovingAverage`;
        the key to use when restoring averages into the variables themselves."""
        if var in self._averages:
            return self._averages[var].name[:-len(":0")]
        return ops.get_default_graph().unique_name(var.name[:-len(":0")] + "/" + self._name,
                                                   mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables=None):
        """{checkpoint name: variable}: averaged variables restore from their shadows' names,
        every other global variable from its own name."""
        if moving_avg_variables is None:
            moving_avg_variables = (variables.trainable_variables() +
                                    variables.moving_average_variables())
        averaged = list(dict.fromkeys(moving_avg_variables))
        name_map = {}
        for var in averaged:
            name_map[self.average_name(var)] = var
        averaged_names = set(var.name for var in averaged)
        for var in dict.fromkeys(variables.global_variables()):
            if var.name not in averaged_names and var.op.name not in name_map:
                name_map[var.op.name] = var
        return name_map
