"""String ops (tensorkeep.ops.string_ops, tf.strings): the same expressions build the same
nodes and compute the same values, errors and messages in tensorkeep and in real TensorFlow,
each side's GraphDef runs on the other;
OpDefs equal TensorFlow's; the bucket hashes (FarmHash Fingerprint64, TensorFlow's Hash64,
SipHash-2-4) agree with TensorFlow on many strings."""

import json
import random

import pytest

import tensorkeep as tf
from tensorkeep.framework import op_def as op_registry
from tensorkeep.io import protos

from string_op_cases import CASES, run_cases, run_graph_defs
from tf_oracle import require_tensorflow, run_tensorflow

pytestmark = pytest.mark.tf

OP_TYPES = """AsString StringToNumber Substr RegexReplace StaticRegexReplace EncodeBase64
    DecodeBase64 StringStrip StringLength StringUpper StringLower StringSplit StringSplitV2
    StringToHashBucketFast StringToHashBucketStrong StringToHashBucket ReduceJoin""".split()


def _hash_inputs():
    """Strings of every length up to 200 (all FarmHash branches), random bytes, UTF-8 text."""
    generator = random.Random(7)
    texts = [bytes(generator.randrange(256) for _ in range(n)) for n in range(200)]
    texts += [bytes(generator.randrange(32, 127) for _ in range(generator.randrange(1000)))
              for _ in range(50)]
    texts += ["h\u00e9llo w\u00f6rld \u65e5\u672c\u8a9e".encode() * k for k in range(1, 12)]
    return texts


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    require_tensorflow()
    request = tmp_path_factory.mktemp("oracle") / "request.json"
    texts = _hash_inputs()
    ours = {"cases": run_cases(tf, CASES)}
    request.write_text(json.dumps({"cases": CASES, "op_types": OP_TYPES, "ours": ours["cases"],
                                   "texts": [t.hex() for t in texts]}))
    theirs = run_tensorflow("""
from string_op_cases import run_cases, run_graph_defs
from tf_oracle import stripped_op_def
with open(%r) as request_file:
    request = json.load(request_file)
texts = [bytes.fromhex(t) for t in request["texts"]]
with tf.Session() as session:
    hashes = session.run([tf.string_to_hash_bucket_fast(texts, 2**63 - 1),
                          tf.string_to_hash_bucket(texts, 2**63 - 1),
                          tf.string_to_hash_bucket_strong(texts, 2**63 - 1, [-3, 2**62 + 11]),
                          tf.string_to_hash_bucket_fast(texts, 97)])
emit({"cases": run_cases(tf, request["cases"]), "runs_ours": run_graph_defs(tf, request["ours"]),
      "op_defs": {name: stripped_op_def(name).hex() for name in request["op_types"]},
      "hashes": [h.tolist() for h in hashes]})
""" % str(request))
    with tf.Session() as session:
        hashes = session.run([tf.string_to_hash_bucket_fast(texts, 2**63 - 1),
                              tf.string_to_hash_bucket(texts, 2**63 - 1),
                              tf.string_to_hash_bucket_strong(texts, 2**63 - 1, [-3, 2**62 + 11]),
                              tf.string_to_hash_bucket_fast(texts, 97)])
    ours["hashes"] = [h.tolist() for h in hashes]
    ours["runs_theirs"] = run_graph_defs(tf, theirs["cases"])
    return ours, theirs


@pytest.mark.parametrize("name", OP_TYPES)
def test_op_defs_equal_tensorflows(both, name):
    theirs = protos.OpDef.FromString(bytes.fromhex(both[1]["op_defs"][name]))
    assert op_registry.get_schema(name).op_def == theirs


# RE2 and Python's re word their pattern errors differently: compared up to RE2's reason.
_PATTERN_ERRORS = {"regex_replace_bad", "regex_full_match_bad"}


def _compared(result):
    """A case's result without its serialized graph (attr order differs between systems)."""
    return {key: value for key, value in result.items() if key not in ("graph_def", "fetches")}


def _without_reason(result):
    return dict(result, message=result["message"].split(", error: ")[0])


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases_match_tensorflow(both, name):
    ours, theirs = (_compared(side["cases"][name]) for side in both)
    if name in _PATTERN_ERRORS:
        ours, theirs = _without_reason(ours), _without_reason(theirs)
    assert ours == theirs


@pytest.mark.parametrize("name", sorted(CASES))
def test_graph_defs_run_on_the_other_side(both, name):
    ours, theirs = both[0]["cases"][name], both[1]["cases"][name]
    if "values" in theirs:
        assert both[0]["runs_theirs"][name] == theirs["values"], "TensorFlow's graph here"
        assert both[1]["runs_ours"][name] == ours["values"], "our graph in TensorFlow"


@pytest.mark.parametrize("which", range(4))
def test_hash_buckets_match_tensorflow(both, which):
    assert both[0]["hashes"][which] == both[1]["hashes"][which]


def test_string_ops_have_no_gradient():
    for name in OP_TYPES:
        assert op_registry.gradient_function(name) == (None, True)
