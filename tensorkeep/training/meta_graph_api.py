"""tf.train.import_meta_graph / export_meta_graph / write_graph, and the collection protos of
variables and savers in meta graphs.

Variables (global, trainable, local, model, metric, moving-average, global step) are stored in
meta graphs as VariableDef protos and savers as SaverDef protos, as TensorFlow stores them;
the registrations live here because the framework layer, which holds the meta graph
machinery, cannot import the ops and training layers that define those objects.
"""

import logging

from tensorkeep.framework import gc_pause
from tensorkeep.framework import meta_graph
from tensorkeep.framework import ops
from tensorkeep.framework.graph_io import write_graph  # noqa: F401 (tf.train.write_graph)
from tensorkeep.framework.meta_graph import export_meta_graph  # noqa: F401
from tensorkeep.io import protos
from tensorkeep.ops import variables

_logger = logging.getLogger("tensorflow")


def _variable_to_proto(variable, export_scope=None):
    return variable.to_proto(export_scope=export_scope)


def _variable_from_proto(variable_def, import_scope=None):
    if variable_def.is_resource:
        from tensorkeep.ops import resource_variable_ops
        return resource_variable_ops.ResourceVariable.from_proto(variable_def,
                                                                 import_scope=import_scope)
    return variables.Variable.from_proto(variable_def, import_scope=import_scope)


for _key in (ops.GraphKeys.GLOBAL_VARIABLES, ops.GraphKeys.TRAINABLE_VARIABLES,
             ops.GraphKeys.MOVING_AVERAGE_VARIABLES, ops.GraphKeys.LOCAL_VARIABLES,
             ops.GraphKeys.MODEL_VARIABLES, ops.GraphKeys.GLOBAL_STEP,
             ops.GraphKeys.METRIC_VARIABLES):
    meta_graph.register_proto_function(_key, proto_type="VariableDef",
                                       to_proto=_variable_to_proto,
                                       from_proto=_variable_from_proto)


def _saver_class():
    from tensorkeep.training.saver import Saver

    return Saver


def _saver_to_proto(saver, export_scope=None):
    return saver.to_proto(export_scope=export_scope)


def _saver_from_proto(saver_def, import_scope=None):
    return _saver_class().from_proto(saver_def, import_scope=import_scope)


meta_graph.register_proto_function(ops.GraphKeys.SAVERS, proto_type="SaverDef",
                                   to_proto=_saver_to_proto, from_proto=_saver_from_proto)


@gc_pause.paused_gc
def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, **kwargs):
    """Recreates the graph of a MetaGraphDef (or `.meta` file, binary or text) in the default
    graph, with its collections.

    Returns a Saver built from the meta graph's SaverDef (its restore op restores the imported
    variables), a default Saver when there is no SaverDef but there are variables, else None.
    kwargs: input_map, return_elements, graph, unbound_inputs_col_name,
    restore_collections_predicate (as import_scoped_meta_graph takes them).
    """
    return _import_meta_graph_with_return_elements(meta_graph_or_file, clear_devices,
                                                   import_scope, **kwargs)[0]


def _import_meta_graph_with_return_elements(meta_graph_or_file, clear_devices=False,
                                            import_scope=None, return_elements=None, **kwargs):
    meta_graph_def = meta_graph.as_meta_graph_def(meta_graph_or_file)
    imported_vars, return_values = meta_graph.import_scoped_meta_graph_with_return_elements(
        meta_graph_def, clear_devices=clear_devices, import_scope=import_scope,
        return_elements=return_elements, **kwargs)
    return _saver_for_imported_graph(meta_graph_def, import_scope, imported_vars), \
        return_values


def _saver_for_imported_graph(meta_graph_def, import_scope, imported_vars):
    saver_class = _saver_class()
    if meta_graph_def.HasField("saver_def"):
        scope = import_scope
        if imported_vars:
            # The scope the import actually used (it was made unique) prefixes every name.
            sample_key, sample_var = next(iter(imported_vars.items()))
            scope = sample_var.name[:-len(sample_key)]
        return saver_class(saver_def=meta_graph_def.saver_def, name=scope)
    if variables.global_variables(scope=import_scope) or \
            ops.get_collection(ops.GraphKeys.SAVEABLE_OBJECTS, scope=import_scope):
        return saver_class()
    _logger.info("Saver not created because there are no variables in the graph to restore")
    return None
