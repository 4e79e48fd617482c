"""Thin maps that make up TensorFlow 1.x's sub-namespaces (tf.train, tf.nn, ...).

Nothing is defined here: each module re-exports names from the layers.
"""
