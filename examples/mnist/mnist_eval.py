"""Evaluates the newest checkpoint written by mnist_train.py on the held-out images, in a
separate program: it builds the model again and restores every variable from its moving
average (`ema.variables_to_restore()`), which usually predicts better than the raw weights.

    tensorkeep exec mnist_eval.py --data_dir MNIST_data --model_dir MNIST_model

With --eval_interval_secs > 0 it keeps evaluating the newest checkpoint while training runs.
"""

import time

import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

import mnist_inference
import mnist_train  # noqa: F401 (defines --data_dir, --model_dir, --moving_average_decay)

tf.app.flags.DEFINE_integer("eval_interval_secs", 0,
                            "seconds between evaluations; 0 evaluates once and exits")
FLAGS = tf.app.flags.FLAGS


def evaluate(mnist):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, mnist_inference.INPUT_NODE], name="x-input")
        y_ = tf.placeholder(tf.float32, [None, mnist_inference.OUTPUT_NODE], name="y-input")
        test_feed = {x: mnist.test.images, y_: mnist.test.labels}

        y = mnist_inference.inference(x, None)
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

        # Maps "layer1/weights/ExponentialMovingAverage" in the checkpoint to layer1/weights.
        variable_averages = tf.train.ExponentialMovingAverage(FLAGS.moving_average_decay)
        saver = tf.train.Saver(variable_averages.variables_to_restore())

        while True:
            with tf.Session() as sess:
                ckpt = tf.train.get_checkpoint_state(FLAGS.model_dir)
                if not (ckpt and ckpt.model_checkpoint_path):
                    print("No checkpoint file found in %s" % FLAGS.model_dir)
                    return 1
                saver.restore(sess, ckpt.model_checkpoint_path)
                global_step = ckpt.model_checkpoint_path.split("/")[-1].split("-")[-1]
                accuracy_score = sess.run(accuracy, feed_dict=test_feed)
                print("After %s training step(s), held-out accuracy = %g (%d images)"
                      % (global_step, accuracy_score, mnist.test.num_examples))
            if FLAGS.eval_interval_secs <= 0:
                return 0
            time.sleep(FLAGS.eval_interval_secs)


def main(argv=None):
    mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True, validation_size=0)
    return evaluate(mnist)


if __name__ == "__main__":
    tf.app.run()
