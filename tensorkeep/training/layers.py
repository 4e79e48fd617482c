"""tf.layers (TF1): Dense, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dropout,
BatchNormalization, and their functional forms (tf.layers.dense, ...).

Layers create their variables with tf.get_variable inside their own variable scope, so
variables are named as TensorFlow names them (dense/kernel, dense_1/bias, conv2d/kernel,
batch_normalization/moving_mean, ...), and build their ops in that scope's name scope. A layer
object keeps its scope: calling it again reuses its variables. Batch normalization's
moving-average updates are added to the UPDATE_OPS collection, regularization losses to
REGULARIZATION_LOSSES.
"""

import re
import weakref

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.ops import array_ops
from tensorkeep.ops import math_ops
from tensorkeep.ops import nn_impl
from tensorkeep.ops import nn_ops

# Layer names are unique per graph, counted separately from name and variable scopes
# (TensorFlow keeps the same per-graph table).
_LAYER_NAME_UIDS = weakref.WeakKeyDictionary()


def _to_snake_case(name):
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def _unique_layer_name(base_name):
    uids = _LAYER_NAME_UIDS.setdefault(ops.get_default_graph(), {})
    number = uids.get(base_name, 0)
    uids[base_name] = number + 1
    return "%s_%d" % (base_name, number) if number else base_name


def _variable_scope_module():
    from tensorkeep.training import variable_scope
    return variable_scope


def _zeros_initializer():
    from tensorkeep.ops import init_ops
    return init_ops.zeros_initializer()


def _ones_initializer():
    from tensorkeep.ops import init_ops
    return init_ops.ones_initializer()


def _add_to_collection_once(name, elements):
    collection = ops.get_collection_ref(name)
    present = {id(e) for e in collection}
    for element in elements:
        if id(element) not in present:
            collection.append(element)
            present.add(id(element))


def smart_cond(pred, true_fn, false_fn, name=None):
    """true_fn() or false_fn() now when pred is known statically, else a tf.cond."""
    if isinstance(pred, ops.Tensor):
        value = tensor_util.constant_value(pred)
        if value is None:
            from tensorkeep.ops import control_flow_ops
            return control_flow_ops.cond(pred, true_fn=true_fn, false_fn=false_fn, name=name)
        pred = bool(value)
    elif pred not in (True, False, 0, 1):
        raise TypeError("`pred` must be a Tensor, or a Python bool, or 1 or 0. Found instead: "
                        "%s" % type(pred).__name__)
    return true_fn() if pred else false_fn()


def _static_bool(value):
    """True/False when known at graph-construction time, else None."""
    if isinstance(value, ops.Tensor):
        known = tensor_util.constant_value(value)
        return None if known is None else bool(known)
    return bool(value)


class Layer:
    """Base class of the TF1 layers: naming, variable scope, weights, updates and losses."""

    def __init__(self, trainable=True, name=None, dtype=None, _scope=None, _reuse=None):
        self.trainable = trainable
        self.built = False
        self._reuse = _reuse
        self._dtype = None if dtype is None else dtypes.as_dtype(dtype).base_dtype
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._updates = []
        self._losses = []
        if name:
            self._name = self._base_name = name
        else:
            self._base_name = _to_snake_case(type(self).__name__)
            self._name = _unique_layer_name(self._base_name)
        self._scope = None
        if _scope:
            with _variable_scope_module().variable_scope(_scope) as captured:
                self._scope = captured
        self._current_scope = None
        self._reuse_scope = None

    # --- properties ---------------------------------------------------------------------------
    @property
    def name(self):
        return self._name

    @property
    def dtype(self):
        return self._dtype

    @property
    def scope_name(self):
        if not self._scope:
            raise ValueError('No name available for layer scope because the layer "%s" has not '
                             "been used yet. The scope name is determined the first time the "
                             "layer instance is called." % self._name)
        return self._scope.name

    @property
    def trainable_weights(self):
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return list(self._non_trainable_weights)
        return self._trainable_weights + self._non_trainable_weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    variables = weights

    @property
    def updates(self):
        return list(self._updates)

    @property
    def losses(self):
        return list(self._losses)

    # --- scopes -------------------------------------------------------------------------------
    def _set_scope(self, scope=None):
        if self._scope is None:
            vs = _variable_scope_module()
            if self._reuse:
                with vs.variable_scope(scope if scope is not None else self._base_name) as captured:
                    self._scope = captured
            else:
                with vs.variable_scope(scope, default_name=self._base_name) as captured:
                    self._scope = captured

    def _name_scope(self):
        return self._current_scope.original_name_scope

    # --- weights --------------------------------------------------------------------------------
    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None,
                   trainable=None, constraint=None, partitioner=None, synchronization=None,
                   aggregation=None):
        vs = _variable_scope_module()
        from tensorkeep.ops import variables as variables_lib
        on_read = synchronization == variables_lib.VariableSynchronization.ON_READ
        if on_read:
            if trainable:
                raise ValueError("Synchronization value can be set to "
                                 "VariableSynchronization.ON_READ only for non-trainable "
                                 "variables.")
            trainable = False
        elif trainable is None:
            trainable = True
        dtype = dtypes.as_dtype(dtype or self.dtype or dtypes.float32)
        existing = set(variables_lib.global_variables())
        self._set_scope(None)
        reuse = self.built or self._reuse
        extra = {}
        if synchronization is not None:
            extra["synchronization"] = synchronization
        if aggregation is not None:
            extra["aggregation"] = aggregation
        with vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False) as scope:
            self._current_scope = scope
            with ops.name_scope(self._name_scope()):
                if initializer is None:
                    initializer = scope.initializer
                variable = vs.get_variable(name, shape=shape, dtype=dtype,
                                           initializer=initializer,
                                           trainable=trainable and self.trainable,
                                           constraint=constraint, partitioner=partitioner,
                                           **extra)
                if regularizer is not None and variable not in existing:
                    self._regularize(variable, regularizer)
        if trainable and self.trainable and variable in variables_lib.trainable_variables():
            self._trainable_weights.append(variable)
        else:
            self._non_trainable_weights.append(variable)
        return variable

    def _regularize(self, variable, regularizer):
        variable_name = variable.name[:variable.name.find(":")]
        with ops.name_scope(variable_name + "/Regularizer/"):
            loss = regularizer(variable)
        if loss is not None:
            self._losses.append(loss)
            _add_to_collection_once(ops.GraphKeys.REGULARIZATION_LOSSES, [loss])

    def add_update(self, updates):
        """Records update ops (built now if callables); __call__ adds them to UPDATE_OPS."""
        for update in updates if isinstance(updates, (list, tuple)) else [updates]:
            if callable(update):
                update = update()
            self._updates.append(update if isinstance(update, ops.Operation) else update.op)

    # --- calling ----------------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def __call__(self, inputs, *args, **kwargs):
        vs = _variable_scope_module()
        scope = kwargs.pop("scope", None)
        self._set_scope(scope)
        if self.built:
            if self._reuse_scope is None:
                self._reuse_scope = vs.variable_scope(self._scope, reuse=True,
                                                      auxiliary_name_scope=False)
            scope_manager = self._reuse_scope
        else:
            scope_manager = vs.variable_scope(self._scope, reuse=self._reuse,
                                              auxiliary_name_scope=False)
        if not isinstance(inputs, ops.Tensor) and not hasattr(inputs, "_as_graph_element"):
            inputs = ops.convert_to_tensor(inputs)
        with scope_manager as current:
            self._current_scope = current
            with ops.name_scope(self._name_scope()):
                if not self.built:
                    inputs_tensor = ops.convert_to_tensor(inputs)
                    if self._dtype is None:
                        self._dtype = inputs_tensor.dtype.base_dtype
                    self.build(inputs_tensor.shape)
                    self.built = True
                outputs = self.call(inputs, *args, **kwargs)
        _add_to_collection_once(ops.GraphKeys.UPDATE_OPS, self._updates)
        return outputs

    def apply(self, inputs, *args, **kwargs):
        return self.__call__(inputs, *args, **kwargs)


def _int_tuple(value, n, name):
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError("The `%s` argument must be a tuple of %d integers. Received: %s"
                         % (name, n, value))
    return value


def _padding(padding):
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError("The `padding` argument must be one of 'valid', 'same'. Received: %s"
                         % padding)
    return padding.upper()


def _data_format(data_format):
    data_format = (data_format or "channels_last").lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of 'channels_first', "
                         "'channels_last'. Received: %s" % data_format)
    return data_format


# --- Dense ---------------------------------------------------------------------------------------

class _KernelLayer(Layer):
    """Dense and Conv2D: a kernel, an optional bias added to the product, an activation."""

    def __init__(self, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        if activity_regularizer is not None:
            raise NotImplementedError("tensorkeep's tf.layers do not support "
                                      "activity_regularizer")
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer or _zeros_initializer()
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint

    def _build_weights(self, kernel_shape, bias_shape):
        self.kernel = self.add_weight("kernel", shape=kernel_shape,
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, dtype=self.dtype,
                                      trainable=True)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=bias_shape,
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, dtype=self.dtype,
                                        trainable=True)
        self.built = True

    def _add_bias_and_activate(self, outputs, data_format=None):
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias, data_format=data_format)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


class Dense(_KernelLayer):
    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 trainable=True, name=None, **kwargs):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, trainable, name, **kwargs)
        self.units = int(units)

    def build(self, input_shape):
        input_shape = tensor_shape.as_shape(input_shape)
        last_dim = input_shape[-1].value if input_shape.ndims else None
        if last_dim is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. "
                             "Found `None`.")
        self._build_weights([last_dim, self.units], [self.units])

    def call(self, inputs):
        inputs = ops.convert_to_tensor(inputs)
        if inputs.dtype.base_dtype != self.dtype:
            inputs = math_ops.cast(inputs, self.dtype)
        rank = inputs.shape.ndims
        if rank == 2 or rank is None:
            outputs = apply_op("MatMul", a=inputs, b=self.kernel)
        else:
            outputs = math_ops.tensordot(inputs, self.kernel, [[rank - 1], [0]])
            outputs.set_shape(inputs.shape.as_list()[:-1] + [self.units])
        return self._add_bias_and_activate(outputs)


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          trainable=True, name=None, reuse=None):
    layer = Dense(units, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                  bias_constraint=bias_constraint, trainable=trainable, name=name,
                  _scope=name, _reuse=reuse)
    return layer.apply(inputs)


# --- Conv2D --------------------------------------------------------------------------------------

class Conv2D(_KernelLayer):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format="channels_last", dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer=None, bias_initializer=None,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, trainable, name, **kwargs)
        self.filters = int(filters)
        self.kernel_size = _int_tuple(kernel_size, 2, "kernel_size")
        self.strides = _int_tuple(strides, 2, "strides")
        self.padding = _padding(padding)
        self.data_format = _data_format(data_format)
        self.dilation_rate = _int_tuple(dilation_rate, 2, "dilation_rate")

    @property
    def _tf_data_format(self):
        return "NCHW" if self.data_format == "channels_first" else "NHWC"

    def build(self, input_shape):
        input_shape = tensor_shape.as_shape(input_shape)
        channel_axis = 1 if self.data_format == "channels_first" else -1
        if input_shape.ndims != 4:
            raise ValueError("Input 0 of layer %s is incompatible with the layer: expected "
                             "ndim=4, found ndim=%s. Full shape received: %s"
                             % (self.name, input_shape.ndims, input_shape))
        input_dim = input_shape[channel_axis].value
        if input_dim is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found "
                             "`None`.")
        self._build_weights(self.kernel_size + (input_dim, self.filters), (self.filters,))

    def call(self, inputs):
        channel_index = 1 if self.data_format == "channels_first" else 3
        strides = nn_ops._get_sequence(list(self.strides), 2, channel_index, "strides")
        dilations = nn_ops._get_sequence(list(self.dilation_rate), 2, channel_index,
                                         "dilations")
        with ops.name_scope(None, "Conv2D", [inputs, self.kernel]) as scope:
            outputs = nn_ops.conv2d(inputs, self.kernel, strides=strides, padding=self.padding,
                                    data_format=self._tf_data_format, dilations=dilations,
                                    name=scope)
        return self._add_bias_and_activate(outputs, data_format=self._tf_data_format)


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1), activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=None, kernel_regularizer=None,
           bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None):
    layer = Conv2D(filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
                   data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                   use_bias=use_bias, kernel_initializer=kernel_initializer,
                   bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                   bias_regularizer=bias_regularizer,
                   activity_regularizer=activity_regularizer,
                   kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                   trainable=trainable, name=name, _reuse=reuse, _scope=name)
    return layer.apply(inputs)


# --- pooling -----------------------------------------------------------------------------------

class _Pooling2D(Layer):
    def __init__(self, pool_function, pool_size, strides, padding="valid",
                 data_format="channels_last", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_function = pool_function
        self.pool_size = _int_tuple(pool_size, 2, "pool_size")
        self.strides = _int_tuple(strides if strides is not None else pool_size, 2, "strides")
        self.padding = _padding(padding)
        self.data_format = _data_format(data_format)

    def call(self, inputs):
        if self.data_format == "channels_last":
            ksize = [1] + list(self.pool_size) + [1]
            strides = [1] + list(self.strides) + [1]
            data_format = "NHWC"
        else:
            ksize = [1, 1] + list(self.pool_size)
            strides = [1, 1] + list(self.strides)
            data_format = "NCHW"
        return self.pool_function(inputs, ksize=ksize, strides=strides, padding=self.padding,
                                  data_format=data_format)


def _max_pool_op(inputs, ksize, strides, padding, data_format):
    return apply_op("MaxPool", input=inputs, ksize=ksize, strides=strides, padding=padding,
                    data_format=data_format)


class MaxPooling2D(_Pooling2D):
    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(_max_pool_op, pool_size=pool_size, strides=strides, padding=padding,
                         data_format=data_format, name=name, **kwargs)


class AveragePooling2D(_Pooling2D):
    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(nn_ops.avg_pool, pool_size=pool_size, strides=strides,
                         padding=padding, data_format=data_format, name=name, **kwargs)


def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    layer = MaxPooling2D(pool_size=pool_size, strides=strides, padding=padding,
                         data_format=data_format, name=name)
    return layer.apply(inputs)


def average_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                      name=None):
    layer = AveragePooling2D(pool_size=pool_size, strides=strides, padding=padding,
                             data_format=data_format, name=name)
    return layer.apply(inputs)


MaxPool2D = MaxPooling2D
AveragePool2D = AveragePooling2D


# --- Flatten -------------------------------------------------------------------------------------

class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)

    def call(self, inputs):
        inputs = ops.convert_to_tensor(inputs)
        if self.data_format == "channels_first":
            rank = inputs.shape.ndims
            if rank and rank > 1:
                inputs = array_ops.transpose(inputs, perm=[0] + list(range(2, rank)) + [1])
        shape = inputs.shape
        if shape.ndims == 1:
            return array_ops.expand_dims(inputs, axis=1)
        batch = shape[0].value if shape.ndims is not None else None
        rest = shape[1:]
        if rest.is_fully_defined():
            flattened = array_ops.constant([-1, int(np.prod(rest.as_list(), dtype=np.int64))])
        elif batch is not None:
            flattened = array_ops.constant([int(batch), -1])
        else:
            flattened = [array_ops.shape(inputs)[0], -1]
        return array_ops.reshape(inputs, flattened)


def flatten(inputs, name=None, data_format="channels_last"):
    return Flatten(name=name, data_format=data_format).apply(inputs)


# --- Dropout -------------------------------------------------------------------------------------

class Dropout(Layer):
    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def _get_noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        concrete = array_ops.shape(inputs)
        return ops.convert_to_tensor([concrete[i] if value is None else value
                                      for i, value in enumerate(self.noise_shape)])

    def call(self, inputs, training=False):
        def dropped():
            return nn_impl.dropout(inputs, noise_shape=self._get_noise_shape(inputs),
                                   seed=self.seed, rate=self.rate)
        return smart_cond(training, dropped, lambda: array_ops.identity(inputs))


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    layer = Dropout(rate, noise_shape=noise_shape, seed=seed, name=name)
    return layer.apply(inputs, training=training)


# --- BatchNormalization --------------------------------------------------------------------------

class BatchNormalization(Layer):
    """Normalizes over all axes but `axis`; in training uses batch statistics and updates the
    moving mean/variance (ops in UPDATE_OPS), otherwise uses the moving statistics."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer=None, gamma_initializer=None, moving_mean_initializer=None,
                 moving_variance_initializer=None, beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 renorm=False, renorm_clipping=None, renorm_momentum=0.99, fused=None,
                 trainable=True, virtual_batch_size=None, adjustment=None, name=None, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        if renorm or virtual_batch_size is not None or adjustment is not None:
            raise NotImplementedError("tensorkeep's batch_normalization does not support renorm, "
                                      "virtual_batch_size or adjustment")
        if not isinstance(axis, (int, list, tuple)):
            raise TypeError("Expected an int or a list/tuple of ints for the argument 'axis', "
                            "but received: %r" % (axis,))
        self.axis = [axis] if isinstance(axis, int) else list(axis)
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = beta_initializer or _zeros_initializer()
        self.gamma_initializer = gamma_initializer or _ones_initializer()
        self.moving_mean_initializer = moving_mean_initializer or _zeros_initializer()
        self.moving_variance_initializer = moving_variance_initializer or _ones_initializer()
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.fused = True if fused is None else fused

    @property
    def _param_dtype(self):
        if self.dtype in (dtypes.float16, dtypes.bfloat16):
            return dtypes.float32
        return self.dtype or dtypes.float32

    def build(self, input_shape):
        from tensorkeep.ops import variables as variables_lib
        input_shape = tensor_shape.as_shape(input_shape)
        rank = input_shape.ndims
        if rank is None:
            raise ValueError("Input has undefined rank.")
        self.axis = [a + rank if a < 0 else a for a in self.axis]
        for a in self.axis:
            if not 0 <= a < rank:
                raise ValueError("Invalid axis: %d" % a)
        fusable = len(self.axis) == 1 and self._param_dtype == dtypes.float32 and \
            self.dtype in (dtypes.float16, dtypes.bfloat16, dtypes.float32)
        self.fused = bool(self.fused) and rank in (4, 5) and fusable
        if self.fused:
            formats = {(1, 4): "NCHW", (1, 5): "NCDHW", (3, 4): "NHWC", (4, 5): "NDHWC"}
            self._data_format = formats.get((self.axis[0], rank))
            if self._data_format is None:
                if rank == 5:
                    self.fused = False
                else:
                    raise ValueError("Unsupported axis. The use of `fused=True` is only "
                                     "possible with `axis=1` or `axis=3` for 4D input tensors. "
                                     "Received: axis=%s" % (tuple(self.axis),))
        dims = {a: input_shape[a].value for a in self.axis}
        if any(d is None for d in dims.values()):
            raise ValueError("Input has undefined `axis` dimension. Received input with shape "
                             "%s and axis=%s" % (input_shape, tuple(self.axis)))
        if len(dims) == 1:
            param_shape = (list(dims.values())[0],)
        else:
            param_shape = [dims.get(i, 1) for i in range(rank)]
        self._param_shape = param_shape
        self.gamma = self.add_weight("gamma", shape=param_shape, dtype=self._param_dtype,
                                     initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint,
                                     trainable=True) if self.scale else None
        self.beta = self.add_weight("beta", shape=param_shape, dtype=self._param_dtype,
                                    initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint,
                                    trainable=True) if self.center else None
        on_read = variables_lib.VariableSynchronization.ON_READ
        mean_aggregation = variables_lib.VariableAggregation.MEAN
        self.moving_mean = self.add_weight("moving_mean", shape=param_shape,
                                           dtype=self._param_dtype,
                                           initializer=self.moving_mean_initializer,
                                           synchronization=on_read, trainable=False,
                                           aggregation=mean_aggregation)
        self.moving_variance = self.add_weight("moving_variance", shape=param_shape,
                                               dtype=self._param_dtype,
                                               initializer=self.moving_variance_initializer,
                                               synchronization=on_read, trainable=False,
                                               aggregation=mean_aggregation)
        self.built = True

    def _assign_moving_average(self, variable, value, momentum):
        from tensorkeep.ops import state_ops
        with ops.name_scope(None, "AssignMovingAvg") as scope:
            with ops.colocate_with(variable.op if hasattr(variable, "op") else variable):
                decay = ops.convert_to_tensor(1.0 - momentum, name="decay")
                if decay.dtype.base_dtype != variable.dtype.base_dtype:
                    decay = math_ops.cast(decay, variable.dtype.base_dtype)
                update_delta = (variable - math_ops.cast(value, variable.dtype.base_dtype)) * \
                    decay
                return state_ops.assign_sub(variable, update_delta, name=scope)

    def _training_value(self, training):
        if isinstance(training, int) and not isinstance(training, bool):
            training = bool(training)
        return training if self.trainable else False

    def _fused_call(self, inputs, training):
        beta = self.beta if self.center else array_ops.constant(
            0.0, dtype=self._param_dtype, shape=self._param_shape)
        gamma = self.gamma if self.scale else array_ops.constant(
            1.0, dtype=self._param_dtype, shape=self._param_shape)

        def fused_training():
            return nn_impl.fused_batch_norm(inputs, gamma, beta, mean=self.moving_mean,
                                            variance=self.moving_variance,
                                            epsilon=self.epsilon, is_training=True,
                                            data_format=self._data_format)

        def fused_inference():
            return nn_impl.fused_batch_norm(inputs, gamma, beta, mean=self.moving_mean,
                                            variance=self.moving_variance,
                                            epsilon=self.epsilon, is_training=False,
                                            data_format=self._data_format)

        output, mean, variance = smart_cond(training, fused_training, fused_inference)
        training_value = _static_bool(training)
        if training_value or training_value is None:
            if training_value is None:
                momentum = smart_cond(training, lambda: self.momentum, lambda: 1.0)
            else:
                momentum = ops.convert_to_tensor(self.momentum)
            self.add_update(lambda: self._assign_moving_average(self.moving_mean, mean,
                                                                momentum))
            self.add_update(lambda: self._assign_moving_average(self.moving_variance,
                                                                variance, momentum))
        return output

    def call(self, inputs, training=False):
        inputs = ops.convert_to_tensor(inputs)
        training = self._training_value(training)
        if self.fused:
            return self._fused_call(inputs, training)
        input_dtype = inputs.dtype.base_dtype
        if input_dtype in (dtypes.float16, dtypes.bfloat16):
            inputs = math_ops.cast(inputs, dtypes.float32)
        input_shape = inputs.shape
        ndims = input_shape.ndims
        reduction_axes = [i for i in range(ndims) if i not in self.axis]
        broadcast_shape = [1] * ndims
        broadcast_shape[self.axis[0]] = input_shape[self.axis[0]].value

        def broadcast(v):
            if v is not None and len(v.shape) != ndims and \
                    reduction_axes != list(range(ndims - 1)):
                return array_ops.reshape(v, broadcast_shape)
            return v

        scale, offset = broadcast(self.gamma), broadcast(self.beta)
        if _static_bool(training) is False:
            mean, variance = self.moving_mean, self.moving_variance
        else:
            mean, variance = nn_impl.moments(math_ops.cast(inputs, self._param_dtype),
                                             reduction_axes, keep_dims=len(self.axis) > 1)
            moving_mean, moving_variance = self.moving_mean, self.moving_variance
            mean = smart_cond(training, lambda: mean, lambda: ops.convert_to_tensor(moving_mean))
            variance = smart_cond(training, lambda: variance,
                                  lambda: ops.convert_to_tensor(moving_variance))
            new_mean, new_variance = mean, variance
            self.add_update(lambda: smart_cond(
                training, lambda: self._assign_moving_average(self.moving_mean, new_mean,
                                                              self.momentum),
                lambda: self.moving_mean))
            self.add_update(lambda: smart_cond(
                training, lambda: self._assign_moving_average(self.moving_variance,
                                                              new_variance, self.momentum),
                lambda: self.moving_variance))
        mean = math_ops.cast(mean, inputs.dtype)
        variance = math_ops.cast(variance, inputs.dtype)
        if offset is not None:
            offset = math_ops.cast(offset, inputs.dtype)
        if scale is not None:
            scale = math_ops.cast(scale, inputs.dtype)
        outputs = nn_impl.batch_normalization(inputs, broadcast(mean), broadcast(variance),
                                              offset, scale, self.epsilon)
        if input_dtype in (dtypes.float16, dtypes.bfloat16):
            outputs = math_ops.cast(outputs, input_dtype)
        outputs.set_shape(input_shape)
        return outputs


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=None, gamma_initializer=None,
                        moving_mean_initializer=None, moving_variance_initializer=None,
                        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                        gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                        fused=None, virtual_batch_size=None, adjustment=None):
    layer = BatchNormalization(
        axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
        moving_mean_initializer=moving_mean_initializer,
        moving_variance_initializer=moving_variance_initializer,
        beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
        beta_constraint=beta_constraint, gamma_constraint=gamma_constraint, renorm=renorm,
        renorm_clipping=renorm_clipping, renorm_momentum=renorm_momentum, fused=fused,
        trainable=trainable, virtual_batch_size=virtual_batch_size, adjustment=adjustment,
        name=name, _reuse=reuse, _scope=name)
    return layer.apply(inputs, training=training)


BatchNorm = BatchNormalization
