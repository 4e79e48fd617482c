"""tf.train"""
# Saver and checkpoint management
# Optimizers and schedules
# Moving averages
