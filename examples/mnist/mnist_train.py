"""Trains the mnist_inference model with the usual best practices: an exponentially decaying
learning rate, L2 regularisation, and exponential moving averages of every trainable variable,
updated in the same step as the gradients. Every --checkpoint_every steps it saves a checkpoint
named <model_name>-<global step>; the Saver keeps the newest --max_to_keep of them.

    tensorkeep exec mnist_train.py --data_dir MNIST_data --model_dir MNIST_model
"""

import os

import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

import mnist_inference

flags = tf.app.flags
flags.DEFINE_string("data_dir", "MNIST_data", "directory with the four MNIST idx .gz files")
flags.DEFINE_string("model_dir", "MNIST_model", "where checkpoints are written")
flags.DEFINE_string("model_name", "mnist_model", "checkpoint file prefix")
flags.DEFINE_integer("training_steps", 5000, "number of training steps")
flags.DEFINE_integer("batch_size", 100, "images per training step")
flags.DEFINE_float("learning_rate_base", 0.8, "learning rate at step 0")
flags.DEFINE_float("learning_rate_decay", 0.99, "learning rate factor per epoch")
flags.DEFINE_float("regularization_rate", 0.0001, "weight of the L2 loss")
flags.DEFINE_float("moving_average_decay", 0.99, "decay of the moving averages")
flags.DEFINE_integer("checkpoint_every", 1000, "save a checkpoint every this many steps")
flags.DEFINE_integer("max_to_keep", 5, "number of newest checkpoints kept")
flags.DEFINE_integer("log_every", 1000, "print the training loss every this many steps")
flags.DEFINE_integer("seed", 0, "graph-level random seed and data shuffling seed")
FLAGS = flags.FLAGS


def train(mnist):
    x = tf.placeholder(tf.float32, [None, mnist_inference.INPUT_NODE], name="x-input")
    y_ = tf.placeholder(tf.float32, [None, mnist_inference.OUTPUT_NODE], name="y-input")
    regularizer = tf.contrib.layers.l2_regularizer(FLAGS.regularization_rate)
    y = mnist_inference.inference(x, regularizer)
    global_step = tf.Variable(0, trainable=False)

    # Passing global_step as num_updates makes the averages follow the weights closely early
    # in training: the effective decay is min(decay, (1 + step) / (10 + step)).
    variable_averages = tf.train.ExponentialMovingAverage(FLAGS.moving_average_decay,
                                                          global_step)
    variables_averages_op = variable_averages.apply(tf.trainable_variables())

    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(logits=y,
                                                                   labels=tf.argmax(y_, 1))
    cross_entropy_mean = tf.reduce_mean(cross_entropy)
    loss = cross_entropy_mean + tf.add_n(tf.get_collection("losses"))
    learning_rate = tf.train.exponential_decay(
        FLAGS.learning_rate_base, global_step,
        mnist.train.num_examples / FLAGS.batch_size, FLAGS.learning_rate_decay,
        staircase=True)
    train_step = tf.train.GradientDescentOptimizer(learning_rate).minimize(
        loss, global_step=global_step)
    # One op that runs both the gradient step and the moving-average update.
    with tf.control_dependencies([train_step, variables_averages_op]):
        train_op = tf.no_op(name="train")

    saver = tf.train.Saver(max_to_keep=FLAGS.max_to_keep)
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        for i in range(FLAGS.training_steps):
            xs, ys = mnist.train.next_batch(FLAGS.batch_size)
            _, loss_value, step = sess.run([train_op, loss, global_step],
                                           feed_dict={x: xs, y_: ys})
            if i % FLAGS.log_every == 0:
                print("After %d training step(s), loss on training batch is %.8g."
                      % (step, loss_value))
            if step % FLAGS.checkpoint_every == 0 or i == FLAGS.training_steps - 1:
                saver.save(sess, os.path.join(FLAGS.model_dir, FLAGS.model_name),
                           global_step=global_step)


def main(argv=None):
    # validation_size=0: every image of train-* is used for training; the held-out images
    # (t10k-*) are for mnist_eval.py.
    mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True, validation_size=0,
                                      seed=FLAGS.seed)
    tf.set_random_seed(FLAGS.seed)
    train(mnist)


if __name__ == "__main__":
    tf.app.run()
