"""tf.nn"""
