"""tf.graph_util (TF1)"""
from tensorkeep.framework.graph_util import (  # noqa: F401
    convert_variables_to_constants, extract_sub_graph, must_run_on_cpu, remove_training_nodes,
    tensor_shape_from_node_def_name)
from tensorkeep.framework.importer import import_graph_def  # noqa: F401
