"""TF1's optimizers (tf.train.*Optimizer) over the Apply*/SparseApply* training ops, with
TensorFlow's hyper-parameter tensors (`<Opt>/learning_rate`, ...), slot names (`w/Adam`,
`w/Adam_1`, `w/Momentum`, `w/RMSProp`, ...) and non-slot variables (`beta1_power`)."""

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework.indexed_slices import IndexedSlices
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops import init_ops
from tensorkeep.ops import math_ops
from tensorkeep.ops import resource_variable_ops
from tensorkeep.ops import state_ops
from tensorkeep.ops import training_ops
from tensorkeep.training import optimizer


def _cast(tensor, var):
    return math_ops.cast(tensor, var.dtype.base_dtype)


class GradientDescentOptimizer(optimizer.Optimizer):
    """var -= learning_rate * grad."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor = None

    def _prepare(self):
        self._learning_rate_tensor = self._hyper_tensor(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        return training_ops.apply_gradient_descent(
            var, _cast(self._learning_rate_tensor, var), grad, use_locking=self._use_locking).op

    def _resource_apply_dense(self, grad, handle):
        return training_ops.resource_apply_gradient_descent(
            handle.handle, _cast(self._learning_rate_tensor, grad), grad,
            use_locking=self._use_locking)

    def _apply_sparse_duplicate_indices(self, grad, var):
        # Scatter-subtracting every row is exact without summing duplicates first.
        delta = IndexedSlices(grad.values * _cast(self._learning_rate_tensor, var),
                              grad.indices, grad.dense_shape)
        return state_ops.scatter_sub(var, delta.indices, delta.values,
                                     use_locking=self._use_locking)

    def _resource_apply_sparse_duplicate_indices(self, grad, handle, indices):
        return resource_variable_ops.resource_scatter_add(
            handle.handle, indices, -grad * _cast(self._learning_rate_tensor, grad))


def _prepare_rate_and_regularization(optimizer):
    """The learning rate and the l1/l2 strengths of a proximal optimizer as tensors, named as
    TensorFlow names them."""
    optimizer._learning_rate_tensor = ops.convert_to_tensor(optimizer._learning_rate,
                                                            name="learning_rate")
    optimizer._l1_regularization_strength_tensor = ops.convert_to_tensor(
        optimizer._l1_regularization_strength, name="l1_regularization_strength")
    optimizer._l2_regularization_strength_tensor = ops.convert_to_tensor(
        optimizer._l2_regularization_strength, name="l2_regularization_strength")


class ProximalGradientDescentOptimizer(optimizer.Optimizer):
    """Gradient descent followed by the proximal step of l1/l2 regularization (FOBOS)."""

    def __init__(self, learning_rate, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, use_locking=False,
                 name="ProximalGradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength

    def _prepare(self):
        _prepare_rate_and_regularization(self)

    def _apply_dense(self, grad, var):
        return training_ops.apply_proximal_gradient_descent(
            var, self._learning_rate_tensor, self._l1_regularization_strength_tensor,
            self._l2_regularization_strength_tensor, grad, use_locking=self._use_locking).op

    def _apply_sparse(self, grad, var):
        return training_ops.sparse_apply_proximal_gradient_descent(
            var, self._learning_rate_tensor, self._l1_regularization_strength_tensor,
            self._l2_regularization_strength_tensor, grad.values, grad.indices,
            use_locking=self._use_locking).op


class MomentumOptimizer(optimizer.Optimizer):
    """accum = momentum * accum + grad; var -= learning_rate * accum (or the Nesterov step)."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper_tensor(self._learning_rate, "learning_rate")
        self._momentum_tensor = self._hyper_tensor(self._momentum, "momentum")

    def _apply_dense(self, grad, var):
        return training_ops.apply_momentum(
            var, self.get_slot(var, "momentum"), _cast(self._learning_rate_tensor, var), grad,
            _cast(self._momentum_tensor, var), use_locking=self._use_locking,
            use_nesterov=self._use_nesterov).op

    def _resource_apply_dense(self, grad, var):
        return training_ops.resource_apply_momentum(
            var.handle, self.get_slot(var, "momentum").handle,
            _cast(self._learning_rate_tensor, grad), grad, _cast(self._momentum_tensor, grad),
            use_locking=self._use_locking, use_nesterov=self._use_nesterov)

    def _apply_sparse(self, grad, var):
        return training_ops.sparse_apply_momentum(
            var, self.get_slot(var, "momentum"), _cast(self._learning_rate_tensor, var),
            grad.values, grad.indices, _cast(self._momentum_tensor, var),
            use_locking=self._use_locking, use_nesterov=self._use_nesterov).op


class AdamOptimizer(optimizer.Optimizer):
    """Adam (Kingma & Ba): slots `m` (`w/Adam`) and `v` (`w/Adam_1`); the running powers of
    beta1 and beta2 are the non-slot variables `beta1_power` and `beta2_power`."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam", use_own_namescope_for_non_slot_vars=False):
        super().__init__(use_locking, name, use_own_namescope_for_non_slot_vars)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon
        self._lr_t = None
        self._beta1_t = None
        self._beta2_t = None
        self._epsilon_t = None

    def _get_beta_accumulators(self):
        graph = ops.get_default_graph()
        return (self._get_non_slot_variable("beta1_power", graph=graph),
                self._get_non_slot_variable("beta2_power", graph=graph))

    def _create_slots(self, var_list):
        # The beta powers live beside the variable that sorts first by name.
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(initial_value=self._beta1, name="beta1_power",
                                       colocate_with=first_var)
        self._create_non_slot_variable(initial_value=self._beta2, name="beta2_power",
                                       colocate_with=first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self):
        self._lr_t = self._hyper_tensor(self._lr, "learning_rate")
        self._beta1_t = self._hyper_tensor(self._beta1, "beta1")
        self._beta2_t = self._hyper_tensor(self._beta2, "beta2")
        self._epsilon_t = self._hyper_tensor(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        beta1_power, beta2_power = self._get_beta_accumulators()
        return training_ops.apply_adam(
            var, self.get_slot(var, "m"), self.get_slot(var, "v"), _cast(beta1_power, var),
            _cast(beta2_power, var), _cast(self._lr_t, var), _cast(self._beta1_t, var),
            _cast(self._beta2_t, var), _cast(self._epsilon_t, var), grad,
            use_locking=self._use_locking).op

    def _resource_apply_dense(self, grad, var):
        beta1_power, beta2_power = self._get_beta_accumulators()
        return training_ops.resource_apply_adam(
            var.handle, self.get_slot(var, "m").handle, self.get_slot(var, "v").handle,
            _cast(beta1_power, grad), _cast(beta2_power, grad), _cast(self._lr_t, grad),
            _cast(self._beta1_t, grad), _cast(self._beta2_t, grad), _cast(self._epsilon_t, grad),
            grad, use_locking=self._use_locking)

    def _apply_sparse_shared(self, grad, var, indices, scatter_add):
        beta1_power, beta2_power = self._get_beta_accumulators()
        beta1_power = _cast(beta1_power, var)
        beta2_power = _cast(beta2_power, var)
        lr_t = _cast(self._lr_t, var)
        beta1_t = _cast(self._beta1_t, var)
        beta2_t = _cast(self._beta2_t, var)
        epsilon_t = _cast(self._epsilon_t, var)
        lr = lr_t * math_ops.sqrt(1 - beta2_power) / (1 - beta1_power)
        # m_t = beta1 * m + (1 - beta1) * g_t, touching only the gradient's rows
        m = self.get_slot(var, "m")
        m_scaled_g_values = grad * (1 - beta1_t)
        m_t = state_ops.assign(m, m * beta1_t, use_locking=self._use_locking)
        with ops.control_dependencies([m_t]):
            m_t = scatter_add(m, indices, m_scaled_g_values)
        # v_t = beta2 * v + (1 - beta2) * (g_t * g_t)
        v = self.get_slot(var, "v")
        v_scaled_g_values = grad * grad * (1 - beta2_t)
        v_t = state_ops.assign(v, v * beta2_t, use_locking=self._use_locking)
        with ops.control_dependencies([v_t]):
            v_t = scatter_add(v, indices, v_scaled_g_values)
        v_sqrt = math_ops.sqrt(v_t)
        var_update = state_ops.assign_sub(var, lr * m_t / (v_sqrt + epsilon_t),
                                          use_locking=self._use_locking)
        return control_flow_ops.group(*[var_update, m_t, v_t])

    def _apply_sparse(self, grad, var):
        return self._apply_sparse_shared(
            grad.values, var, grad.indices,
            lambda x, i, v: state_ops.scatter_add(x, i, v, use_locking=self._use_locking))

    def _resource_scatter_add(self, x, i, v):
        with ops.control_dependencies([resource_variable_ops.resource_scatter_add(
                x.handle, i, v)]):
            return x.value()

    def _resource_apply_sparse(self, grad, var, indices):
        return self._apply_sparse_shared(grad, var, indices, self._resource_scatter_add)

    def _finish(self, update_ops, name_scope):
        # Advance the beta powers once every variable has been updated.
        with ops.control_dependencies(update_ops):
            beta1_power, beta2_power = self._get_beta_accumulators()
            with ops.colocate_with(beta1_power.op):
                update_beta1 = beta1_power.assign(beta1_power * self._beta1_t,
                                                  use_locking=self._use_locking)
                update_beta2 = beta2_power.assign(beta2_power * self._beta2_t,
                                                  use_locking=self._use_locking)
        return control_flow_ops.group(*update_ops + [update_beta1, update_beta2],
                                      name=name_scope)


class RMSPropOptimizer(optimizer.Optimizer):
    """RMSProp: slots `rms` (`w/RMSProp`, starting at ones), `momentum` (`w/RMSProp_1`) and,
    centered, `mg` (the mean gradient)."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False,
                 centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot_with_initializer(
                v, init_ops.ones_initializer(dtype=v.dtype.base_dtype), v.get_shape(),
                v.dtype.base_dtype, "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper_tensor(self._learning_rate, "learning_rate")
        self._decay_tensor = self._hyper_tensor(self._decay, "decay")
        self._momentum_tensor = self._hyper_tensor(self._momentum, "momentum")
        self._epsilon_tensor = self._hyper_tensor(self._epsilon, "epsilon")

    def _hyper(self, like):
        return (_cast(self._learning_rate_tensor, like), _cast(self._decay_tensor, like),
                _cast(self._momentum_tensor, like), _cast(self._epsilon_tensor, like))

    def _apply_dense(self, grad, var):
        rms = self.get_slot(var, "rms")
        mom = self.get_slot(var, "momentum")
        if self._centered:
            return training_ops.apply_centered_rms_prop(
                var, self.get_slot(var, "mg"), rms, mom, *self._hyper(var), grad,
                use_locking=self._use_locking).op
        return training_ops.apply_rms_prop(var, rms, mom, *self._hyper(var), grad,
                                           use_locking=self._use_locking).op

    def _resource_apply_dense(self, grad, var):
        rms = self.get_slot(var, "rms").handle
        mom = self.get_slot(var, "momentum").handle
        if self._centered:
            return training_ops.resource_apply_centered_rms_prop(
                var.handle, self.get_slot(var, "mg").handle, rms, mom, *self._hyper(grad), grad,
                use_locking=self._use_locking)
        return training_ops.resource_apply_rms_prop(var.handle, rms, mom, *self._hyper(grad),
                                                    grad, use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        rms = self.get_slot(var, "rms")
        mom = self.get_slot(var, "momentum")
        if self._centered:
            return training_ops.sparse_apply_centered_rms_prop(
                var, self.get_slot(var, "mg"), rms, mom, *self._hyper(var), grad.values,
                grad.indices, use_locking=self._use_locking)
        return training_ops.sparse_apply_rms_prop(var, rms, mom, *self._hyper(var), grad.values,
                                                  grad.indices, use_locking=self._use_locking)


class AdagradOptimizer(optimizer.Optimizer):
    """Adagrad: slot `accumulator` (`w/Adagrad`) starting at initial_accumulator_value."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: %s"
                             % initial_accumulator_value)
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            dtype = v.dtype.base_dtype
            init = init_ops.constant_initializer(self._initial_accumulator_value, dtype=dtype)
            self._get_or_make_slot_with_initializer(v, init, v.get_shape(), dtype,
                                                    "accumulator", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper_tensor(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        return training_ops.apply_adagrad(var, self.get_slot(var, "accumulator"),
                                          _cast(self._learning_rate_tensor, var), grad,
                                          use_locking=self._use_locking)

    def _resource_apply_dense(self, grad, var):
        return training_ops.resource_apply_adagrad(
            var.handle, self.get_slot(var, "accumulator").handle,
            _cast(self._learning_rate_tensor, grad), grad, use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        return training_ops.sparse_apply_adagrad(
            var, self.get_slot(var, "accumulator"), _cast(self._learning_rate_tensor, var),
            grad.values, grad.indices, use_locking=self._use_locking)


class AdadeltaOptimizer(optimizer.Optimizer):
    """Adadelta: slots `accum` (`w/Adadelta`) and `accum_update` (`w/Adadelta_1`)."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False,
                 name="Adadelta"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._rho = rho
        self._epsilon = epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self):
        self._lr_t = self._hyper_tensor(self._lr, "lr")
        self._rho_t = self._hyper_tensor(self._rho, "rho")
        self._epsilon_t = self._hyper_tensor(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        return training_ops.apply_adadelta(
            var, self.get_slot(var, "accum"), self.get_slot(var, "accum_update"),
            _cast(self._lr_t, var), _cast(self._rho_t, var), _cast(self._epsilon_t, var), grad,
            use_locking=self._use_locking)

    def _resource_apply_dense(self, grad, var):
        return training_ops.resource_apply_adadelta(
            var.handle, self.get_slot(var, "accum").handle,
            self.get_slot(var, "accum_update").handle, _cast(self._lr_t, grad),
            _cast(self._rho_t, grad), _cast(self._epsilon_t, grad), grad,
            use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        return training_ops.sparse_apply_adadelta(
            var, self.get_slot(var, "accum"), self.get_slot(var, "accum_update"),
            _cast(self._lr_t, var), _cast(self._rho_t, var), _cast(self._epsilon_t, var),
            grad.values, grad.indices, use_locking=self._use_locking)


class FtrlOptimizer(optimizer.Optimizer):
    """FTRL-Proximal (McMahan et al., 2013): slots `accum` (`w/Ftrl`, starting at
    initial_accumulator_value) and `linear` (`w/Ftrl_1`); with l2 shrinkage the V2 ops."""

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="Ftrl", accum_name=None, linear_name=None,
                 l2_shrinkage_regularization_strength=0.0, beta=None):
        super().__init__(use_locking, name)
        if learning_rate_power > 0.0:
            raise ValueError("learning_rate_power %f needs to be negative or zero"
                             % learning_rate_power)
        for what, value in [("initial_accumulator_value", initial_accumulator_value),
                            ("l1_regularization_strength", l1_regularization_strength),
                            ("l2_regularization_strength", l2_regularization_strength),
                            ("l2_shrinkage_regularization_strength",
                             l2_shrinkage_regularization_strength)]:
            if value < 0.0:
                raise ValueError("%s %f needs to be positive or zero" % (what, value))
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self._accum_name = accum_name
        self._linear_name = linear_name

    def _create_slots(self, var_list):
        def accum_initializer(shape, dtype=dtypes.float32, partition_info=None):
            return array_ops.ones(shape=shape, dtype=dtype) * self._initial_accumulator_value

        for v in var_list:
            self._get_or_make_slot_with_initializer(
                v, accum_initializer, v.get_shape(), v.dtype.base_dtype, "accum",
                self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _prepare(self):
        self._learning_rate_tensor = ops.convert_to_tensor(self._learning_rate,
                                                           name="learning_rate")
        self._l1_regularization_strength_tensor = ops.convert_to_tensor(
            self._l1_regularization_strength, name="l1_regularization_strength")
        # beta enters as extra l2: beta / (2 * learning_rate), kept away from a zero rate.
        self._adjusted_l2_regularization_strength_tensor = ops.convert_to_tensor(
            self._l2_regularization_strength
            + self._beta / (2. * math_ops.maximum(self._learning_rate, 1e-36)),
            name="adjusted_l2_regularization_strength")
        self._beta_tensor = ops.convert_to_tensor(self._beta, name="beta")
        self._l2_shrinkage_regularization_strength_tensor = ops.convert_to_tensor(
            self._l2_shrinkage_regularization_strength,
            name="l2_shrinkage_regularization_strength")
        self._learning_rate_power_tensor = ops.convert_to_tensor(self._learning_rate_power,
                                                                 name="learning_rate_power")

    def _hyper(self, like):
        """(lr, l1, adjusted l2, [l2 shrinkage], lr_power) cast to `like`'s dtype: the scalar
        inputs of the Ftrl ops, V2 (with shrinkage) when shrinkage is on."""
        tensors = [self._learning_rate_tensor, self._l1_regularization_strength_tensor,
                   self._adjusted_l2_regularization_strength_tensor]
        if self._with_shrinkage():
            tensors.append(self._l2_shrinkage_regularization_strength_tensor)
        tensors.append(self._learning_rate_power_tensor)
        return [_cast(t, like) for t in tensors]

    def _with_shrinkage(self):
        return self._l2_shrinkage_regularization_strength > 0.0

    def _slots_of(self, var):
        return self.get_slot(var, "accum"), self.get_slot(var, "linear")

    def _apply_dense(self, grad, var):
        accum, linear = self._slots_of(var)
        apply = training_ops.apply_ftrl_v2 if self._with_shrinkage() else training_ops.apply_ftrl
        return apply(var, accum, linear, grad, *self._hyper(var), use_locking=self._use_locking)

    def _resource_apply_dense(self, grad, var):
        accum, linear = self._slots_of(var)
        apply = training_ops.resource_apply_ftrl_v2 if self._with_shrinkage() \
            else training_ops.resource_apply_ftrl
        return apply(var.handle, accum.handle, linear.handle, grad, *self._hyper(var),
                     use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        accum, linear = self._slots_of(var)
        apply = training_ops.sparse_apply_ftrl_v2 if self._with_shrinkage() \
            else training_ops.sparse_apply_ftrl
        return apply(var, accum, linear, grad.values, grad.indices, *self._hyper(var),
                     use_locking=self._use_locking)

    def _resource_apply_sparse(self, grad, var, indices):
        accum, linear = self._slots_of(var)
        apply = training_ops.resource_sparse_apply_ftrl_v2 if self._with_shrinkage() \
            else training_ops.resource_sparse_apply_ftrl
        return apply(var.handle, accum.handle, linear.handle, grad, indices, *self._hyper(grad),
                     use_locking=self._use_locking)


class ProximalAdagradOptimizer(optimizer.Optimizer):
    """Adagrad followed by the proximal step of l1/l2 regularization: slot `accumulator`
    (`w/ProximalAdagrad`). Like TensorFlow, the ref-variable ops take the hyper-parameters
    uncast (a float64 variable needs float64 hyper-parameter tensors)."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="ProximalAdagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: %s"
                             % initial_accumulator_value)
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength

    def _create_slots(self, var_list):
        for v in var_list:
            with ops.colocate_with(v):
                val = array_ops.constant(self._initial_accumulator_value, shape=v.get_shape(),
                                         dtype=v.dtype.base_dtype)
            self._get_or_make_slot(v, val, "accumulator", self._name)

    def _prepare(self):
        _prepare_rate_and_regularization(self)

    def _hyper(self):
        return (self._learning_rate_tensor, self._l1_regularization_strength_tensor,
                self._l2_regularization_strength_tensor)

    def _apply_dense(self, grad, var):
        return training_ops.apply_proximal_adagrad(
            var, self.get_slot(var, "accumulator"), *self._hyper(), grad,
            use_locking=self._use_locking)

    def _resource_apply_dense(self, grad, var):
        return training_ops.resource_apply_proximal_adagrad(
            var.handle, self.get_slot(var, "accumulator").handle, *self._hyper(), grad,
            use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        return training_ops.sparse_apply_proximal_adagrad(
            var, self.get_slot(var, "accumulator"), *self._hyper(), grad.values, grad.indices,
            use_locking=self._use_locking)

    def _resource_apply_sparse(self, grad, var, indices):
        return training_ops.resource_sparse_apply_proximal_adagrad(
            var.handle, self.get_slot(var, "accumulator").handle,
            *[_cast(t, grad) for t in self._hyper()], grad, indices,
            use_locking=self._use_locking)


class AdagradDAOptimizer(optimizer.Optimizer):
    """Adagrad dual averaging (Duchi et al., 2011): slots `gradient_accumulator`
    (`w/AdagradDA`) and `gradient_squared_accumulator` (`w/AdagradDA_1`); each update reads
    global_step + 1, so pass the same global step to minimize() to advance it."""

    def __init__(self, learning_rate, global_step,
                 initial_gradient_squared_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, use_locking=False, name="AdagradDA"):
        if initial_gradient_squared_accumulator_value <= 0.0:
            raise ValueError("initial_gradient_squared_accumulator_value must be positive: %s"
                             % initial_gradient_squared_accumulator_value)
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_gradient_squared_accumulator_value = (
            initial_gradient_squared_accumulator_value)
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._global_step = global_step
        self._global_step_on_worker = None

    def _create_slots(self, var_list):
        for v in var_list:
            with ops.colocate_with(v):
                g_val = array_ops.constant(0.0, shape=v.get_shape(), dtype=v.dtype.base_dtype)
                gg_val = array_ops.constant(self._initial_gradient_squared_accumulator_value,
                                            shape=v.get_shape(), dtype=v.dtype.base_dtype)
            self._get_or_make_slot(v, g_val, "gradient_accumulator", self._name)
            self._get_or_make_slot(v, gg_val, "gradient_squared_accumulator", self._name)

    def _prepare(self):
        self._learning_rate_tensor = ops.convert_to_tensor(self._learning_rate,
                                                           name="learning_rate")
        # One local copy of the step for all the updates, beside the learning rate.
        with ops.colocate_with(self._learning_rate_tensor):
            self._global_step_on_worker = array_ops.identity(self._global_step) + 1

    def _inputs(self, var, like):
        """(gradient_accumulator, gradient_squared_accumulator) and (lr, l1, l2, global_step)
        for the update of `var`, the scalars cast to `like`'s dtype."""
        slots = (self.get_slot(var, "gradient_accumulator"),
                 self.get_slot(var, "gradient_squared_accumulator"))
        with ops.device(var.device):
            global_step = array_ops.identity(self._global_step_on_worker)
        scalars = (_cast(self._learning_rate_tensor, like),
                   _cast(self._l1_regularization_strength, like),
                   _cast(self._l2_regularization_strength, like), global_step)
        return slots, scalars

    def _apply_dense(self, grad, var):
        (g_acc, gg_acc), scalars = self._inputs(var, var)
        return training_ops.apply_adagrad_da(var, g_acc, gg_acc, grad, *scalars,
                                             use_locking=self._use_locking)

    def _resource_apply_dense(self, grad, var):
        (g_acc, gg_acc), scalars = self._inputs(var, grad)
        return training_ops.resource_apply_adagrad_da(
            var.handle, g_acc.handle, gg_acc.handle, grad, *scalars,
            use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        (g_acc, gg_acc), scalars = self._inputs(var, var)
        return training_ops.sparse_apply_adagrad_da(var, g_acc, gg_acc, grad.values,
                                                    grad.indices, *scalars,
                                                    use_locking=self._use_locking)

    def _resource_apply_sparse(self, grad, var, indices):
        (g_acc, gg_acc), scalars = self._inputs(var, grad)
        return training_ops.resource_sparse_apply_adagrad_da(
            var.handle, g_acc.handle, gg_acc.handle, grad, indices, *scalars,
            use_locking=self._use_locking)
