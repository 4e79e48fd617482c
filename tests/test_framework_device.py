"""tf.DeviceSpec and device-string canonicalisation against TensorFlow 2.21's own DeviceSpec
(tf.compat.v1), both run over the same strings in one TensorFlow subprocess."""

import functools

import pytest

from tf_oracle import run_tensorflow
from tensorkeep.framework import device as device_lib

STRINGS = [
    "", "/cpu:0", "/CPU:1", "/gpu:2", "cpu:0", "/device:CPU:0", "/device:GPU:*", "/device:cpu:0",
    "/device:TPU:3", "/job:ps", "/job:worker/task:3", "/job:w/replica:1/task:2/device:GPU:0",
    "/task:1/job:ps", "/replica:4", "/job:ps/cpu:*", "/job:localhost/replica:0/task:0/cpu:0",
    "//job:x//", "/gpu", "/device:CPU:0/cpu:0", "/foo:bar", "/device:CPU", "/task:x",
    "/job:a:b",
]
PAIRS = [("/job:ps/task:1", "/device:CPU:0"), ("/job:ps", "/job:worker/gpu:1"),
         ("/device:GPU:0", "/task:2"), ("", "/cpu:0"), ("/job:a/replica:1", "")]

CODE = """
def parse(text):
    try:
        spec = tf.DeviceSpec.from_string(text)
    except ValueError as error:
        return ["ValueError"]
    return [spec.to_string(), spec.job, spec.replica, spec.task, spec.device_type,
            spec.device_index]
merged = []
for outer, inner in PAIRS:
    spec = tf.DeviceSpec.from_string(outer)
    spec.merge_from(tf.DeviceSpec.from_string(inner))
    merged.append(spec.to_string())
emit({"parsed": [parse(text) for text in STRINGS], "merged": merged,
      "built": tf.DeviceSpec(job="ps", task=2, device_type="gpu", device_index=1).to_string()})
"""


@functools.lru_cache(maxsize=None)
def tensorflow_results():
    return run_tensorflow("STRINGS = %r\nPAIRS = %r\n" % (STRINGS, PAIRS) + CODE)


def _parse(text):
    try:
        spec = device_lib.DeviceSpec.from_string(text)
    except ValueError:
        return ["ValueError"]
    return [spec.to_string(), spec.job, spec.replica, spec.task, spec.device_type,
            spec.device_index]


@pytest.mark.tf
@pytest.mark.parametrize("index", range(len(STRINGS)), ids=[repr(s) for s in STRINGS])
def test_device_strings_parse_like_tensorflow(index):
    assert _parse(STRINGS[index]) == tensorflow_results()["parsed"][index]


@pytest.mark.tf
def test_merge_and_constructor_like_tensorflow():
    merged = []
    for outer, inner in PAIRS:
        spec = device_lib.DeviceSpec.from_string(outer)
        spec.merge_from(device_lib.DeviceSpec.from_string(inner))
        merged.append(spec.to_string())
    assert merged == tensorflow_results()["merged"]
    built = device_lib.DeviceSpec(job="ps", task=2, device_type="gpu", device_index=1)
    assert built.to_string() == tensorflow_results()["built"]


def test_canonical_name_and_make_merged_spec_leave_inputs_alone():
    outer = device_lib.DeviceSpec.from_string("/job:ps/task:1")
    merged = outer.make_merged_spec(device_lib.DeviceSpec.from_string("/cpu:0"))
    assert merged.to_string() == "/job:ps/task:1/device:CPU:0"
    assert outer.to_string() == "/job:ps/task:1"
    assert device_lib.canonical_name("/gpu:1") == "/device:GPU:1"
    assert device_lib.canonical_name(None) == ""
