"""The real-world corpus harness: every case of a directory laid out like ../shared/corpus/
(each case with expect.json and usually io.npz, see its README) is checked against what real
TensorFlow recorded, item by item:

  file               size and sha256 of each file of the case
  checkpoint-tensor  dtype, shape and sha256 of each tensor (or TensorFlow's read error)
  object-graph       TF2 object-based checkpoints: the object graph names every saved tensor
  checkpoint-state   the `checkpoint` file, get_checkpoint_state and latest_checkpoint
  meta-info          versions, op histogram, collections, SaverDef, signatures of a .meta
  meta-restore       import_meta_graph + Saver.restore (or TensorFlow's error)
  meta-run           the recorded forward run of a meta graph after restore
  frozen-import      parse + import_graph_def of a GraphDef, placeholder shapes (or the error)
  frozen-run         the recorded run of a frozen graph
  savedmodel-load    tf.saved_model.loader.load and the signature defs (or the error)
  savedmodel-run     the recorded signature run of a SavedModel

Outputs must be exact or within rel 1e-5 where TensorFlow's run was deterministic (else shape
and dtype only). Where TensorFlow failed, the same error class with the same key names (files,
nodes) is an expected failure ("xfail"); anything else is a failure. No case is special-cased.

The directory is $TENSORKEEP_CORPUS (default ../shared/corpus next to the repository). Run
`python tests/test_corpus.py [DIR]` for the table alone.
"""

import collections
import contextlib
import hashlib
import json
import os
import re
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.environ.get("TENSORKEEP_CORPUS",
                        os.path.join(os.path.dirname(REPO), "shared", "corpus"))

Outcome = collections.namedtuple("Outcome", "case kind item status detail")
KINDS = ("file", "checkpoint-tensor", "object-graph", "checkpoint-state", "meta-info",
         "meta-restore", "meta-run", "frozen-import", "frozen-run", "savedmodel-load",
         "savedmodel-run")


def case_dirs(root):
    if not os.path.isdir(root):
        return []
    return sorted(name for name in os.listdir(root)
                  if os.path.isfile(os.path.join(root, name, "expect.json")))


# --- helpers ---------------------------------------------------------------------------------------

def tensor_sha256(array):
    """sha256 as the corpus records it: little-endian bytes; strings as per-element uint64-LE
    length + bytes."""
    array = np.asarray(array)
    if array.dtype.kind in "OSU":
        digest = hashlib.sha256()
        for element in array.reshape(-1):
            data = element if isinstance(element, bytes) else str(element).encode()
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
        return digest.hexdigest()
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    return hashlib.sha256(np.ascontiguousarray(little).tobytes()).hexdigest()


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key_fragments(text):
    """The identifying names (nodes, tensors, files) in a recorded TensorFlow error, as regexes;
    `_*` in the record stands for a node-name counter."""
    text = re.split(r" \[\[|Original stack", text or "")[0]
    fragments = []
    for token in re.split(r"[\s;,()'\"]+", text):
        token = token.strip(".:")
        if not token or not ("/" in token or re.search(r"\d{5}-of-\d{5}", token) or
                             re.search(r"\w:\d", token)):
            continue
        fragments.append(re.compile(re.escape(token).replace(r"_\*", r"(_\d+)?")))
    return fragments


def error_matches(expected, exc, names_must_match=True):
    """Whether `exc` is TensorFlow's recorded error: same class, and (unless
    `names_must_match` is false) the same key names."""
    wanted = expected.get("type", "")
    if wanted == "OpError":
        from tensorkeep import errors

        same_type = isinstance(exc, errors.OpError)
    else:
        same_type = any(cls.__name__ == wanted for cls in type(exc).__mro__)
    text = str(exc)
    fragments = _key_fragments(expected.get("cause") or expected.get("message"))
    missing = [f.pattern for f in fragments if not f.search(text)] if names_must_match else []
    return same_type and not missing, "%s: %s%s" % (
        type(exc).__name__, text[:300], " (missing %s)" % missing if missing else "")


def npz_value(npz, key, dtype):
    if dtype == "string":
        data = npz[key].tobytes()
        lengths = npz[key + "__lengths"]
        values, start = [], 0
        for length in lengths.reshape(-1):
            values.append(data[start:start + int(length)])
            start += int(length)
        return np.array(values, dtype=object).reshape(lengths.shape)
    return npz[key]


def compare_output(expected, actual, npz, deterministic):
    """'' if `actual` is what TensorFlow produced for the recorded output, else why not."""
    actual = np.asarray(actual)
    if str(actual.dtype) != expected["dtype"] and not (
            expected["dtype"] == "string" and actual.dtype == object):
        return "dtype %s, expected %s" % (actual.dtype, expected["dtype"])
    if list(actual.shape) != list(expected["shape"]):
        return "shape %s, expected %s" % (list(actual.shape), expected["shape"])
    if not deterministic:
        return ""
    if tensor_sha256(actual) == expected["sha256"]:
        return ""
    if npz is None or expected.get("npz_key") not in npz.files:
        return "values differ (sha256) and no recorded values to compare"
    want = npz_value(npz, expected["npz_key"], expected["dtype"])
    if actual.dtype.kind in "fc":
        scale = float(np.max(np.abs(want))) if want.size else 0.0
        if np.allclose(actual, want, rtol=1e-5, atol=1e-5 * scale, equal_nan=True):
            return ""
        worst = float(np.max(np.abs(actual.astype(np.float64) - want)))
        return "values differ: max abs error %g (scale %g)" % (worst, scale)
    return "values differ"


@contextlib.contextmanager
def working_directory(path):
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


# --- one case --------------------------------------------------------------------------------------

class CaseChecker:
    """Checks one case directory; `run()` returns its Outcomes."""

    def __init__(self, root, case):
        self.case = case
        self.dir = os.path.join(root, case)
        with open(os.path.join(self.dir, "expect.json")) as handle:
            self.expect = json.load(handle)
        npz_path = os.path.join(self.dir, "io.npz")
        self.npz = np.load(npz_path, allow_pickle=False) if os.path.exists(npz_path) else None
        self.outcomes = []

    def record(self, kind, item, status, detail=""):
        self.outcomes.append(Outcome(self.case, kind, item, status, detail))

    def attempt(self, kind, item, fn, expected_error=None, names_must_match=True):
        """Runs fn() -> failure text ('' = pass); an exception is an expected failure when it
        matches `expected_error`, else a failure. Returns whether fn completed."""
        try:
            problem = fn()
        except Exception as exc:  # noqa: BLE001 (every failure is reported, none is fatal)
            if expected_error is not None:
                matched, text = error_matches(expected_error, exc, names_must_match)
                self.record(kind, item, "xfail" if matched else "fail",
                            text if matched else "wrong error: " + text)
            else:
                self.record(kind, item, "fail", "%s: %s" % (type(exc).__name__, str(exc)[:500]))
            return False
        if expected_error is not None:
            self.record(kind, item, "fail", "TensorFlow failed here (%s) but tensorkeep did not"
                        % expected_error.get("type"))
            return True
        self.record(kind, item, "fail" if problem else "pass", problem or "")
        return True

    def run(self):
        with working_directory(self.dir):
            self.check_files()
            self.check_checkpoints()
            self.check_state_files()
            for meta in self.expect.get("meta_graphs", []):
                self.check_meta_graph(meta)
            for frozen in self.expect.get("frozen_graphs", []):
                self.check_frozen_graph(frozen)
            for saved_model in self.expect.get("saved_models", []):
                self.check_saved_model(saved_model)
        return self.outcomes

    # --- files and checkpoints -------------------------------------------------------------------
    def check_files(self):
        missing = set(self.expect.get("missing_in_snapshot", []))
        for entry in self.expect.get("files", []):
            if entry["path"] in missing:
                continue

            def check(entry=entry):
                size = os.path.getsize(entry["path"])
                if size != entry["size"]:
                    return "size %d, expected %d" % (size, entry["size"])
                return "" if file_sha256(entry["path"]) == entry["sha256"] else "sha256 differs"
            self.attempt("file", entry["path"], check)

    def check_checkpoints(self):
        from tensorkeep.io import bundle, checkpoint_v1

        for ckpt in self.expect.get("checkpoints", []):
            prefix = ckpt["prefix"]
            label = "%s (%s)" % (prefix, ckpt["format"])
            try:
                reader = (checkpoint_v1.V1CheckpointReader(prefix) if ckpt["format"] == "V1"
                          else bundle.BundleReader(prefix))
            except Exception as exc:  # noqa: BLE001
                self.record("checkpoint-tensor", label, "fail", "open: %s: %s"
                            % (type(exc).__name__, exc))
                continue
            with reader:
                keys = set(reader.keys())
                expected_keys = {v["name"] for v in ckpt["variables"]}
                if keys != expected_keys:
                    self.record("checkpoint-tensor", label + " keys", "fail",
                                "extra %s, missing %s" % (sorted(keys - expected_keys)[:5],
                                                          sorted(expected_keys - keys)[:5]))
                for variable in ckpt["variables"]:
                    self.attempt("checkpoint-tensor", "%s:%s" % (prefix, variable["name"]),
                                 lambda v=variable: self._check_tensor(reader, v),
                                 expected_error=variable.get("read_error"))
            if ckpt.get("tf2_object_based"):
                graph_key = "_CHECKPOINTABLE_OBJECT_GRAPH"
                read_error = next((v.get("read_error") for v in ckpt["variables"]
                                   if v["name"] == graph_key), None)
                self.attempt("object-graph", prefix,
                             lambda p=prefix, k=expected_keys: self._check_object_graph(p, k),
                             expected_error=read_error)

    @staticmethod
    def _check_tensor(reader, variable):
        from tensorkeep.io import numpy_codec

        datatype, shape = reader.dtype_and_shape(variable["name"])
        dtype = numpy_codec.numpy_dtype(datatype)
        dtype_name = "string" if dtype == object else str(np.dtype(dtype))
        if dtype_name != variable["dtype"] or list(shape) != list(variable["shape"]):
            return "%s%s, expected %s%s" % (dtype_name, list(shape), variable["dtype"],
                                            variable["shape"])
        value = reader.read(variable["name"])
        if tensor_sha256(value) != variable["sha256"]:
            return "sha256 differs"
        return ""

    @staticmethod
    def _check_object_graph(prefix, keys):
        from tensorkeep.training import trackable

        listed = trackable.list_object_variables(prefix)
        named = {entry.checkpoint_key for entry in listed}
        unnamed = keys - named - {"_CHECKPOINTABLE_OBJECT_GRAPH"}
        unknown = named - keys
        if unnamed or unknown:
            return "keys without an object %s, objects without a key %s" % (
                sorted(unnamed)[:5], sorted(unknown)[:5])
        return ""

    def check_state_files(self):
        import tensorkeep as tf
        from tensorkeep.io import checkpoint_state

        for state in self.expect.get("checkpoint_state_files", []):
            def check(state=state):
                with open(state["path"], encoding="utf-8") as handle:
                    parsed = checkpoint_state.parse_checkpoint_state(handle.read())
                problems = []
                if parsed.model_checkpoint_path != state["model_checkpoint_path"] or \
                        list(parsed.all_model_checkpoint_paths) != \
                        state["all_model_checkpoint_paths"]:
                    problems.append("parsed %r" % parsed)
                directory = os.path.dirname(state["path"])
                got = tf.train.get_checkpoint_state(directory)
                want = state["tf_get_checkpoint_state"]
                got_dict = None if got is None else {
                    "model_checkpoint_path": got.model_checkpoint_path,
                    "all_model_checkpoint_paths": list(got.all_model_checkpoint_paths)}
                if got_dict != want:
                    problems.append("get_checkpoint_state %r, expected %r" % (got_dict, want))
                latest = tf.train.latest_checkpoint(directory)
                if latest != state["tf_latest_checkpoint"]:
                    problems.append("latest_checkpoint %r, expected %r"
                                    % (latest, state["tf_latest_checkpoint"]))
                return "; ".join(problems)
            self.attempt("checkpoint-state", state["path"], check)

    # --- meta graphs -----------------------------------------------------------------------------
    def check_meta_graph(self, meta):
        import tensorkeep as tf

        path = meta["path"]
        self.attempt("meta-info", path, lambda: self._check_meta_info(meta))
        imported = meta.get("import_meta_graph") or {}
        if not imported:
            return
        graph = tf.Graph()
        session = tf.Session(graph=graph)
        with graph.as_default():
            def import_and_restore():
                saver = tf.train.import_meta_graph(path)
                if imported.get("saver_created") and saver is None:
                    return "no Saver was created"
                if imported.get("restore_ok") is not None and saver is not None:
                    saver.restore(session, imported["checkpoint_prefix"])
                return ""
            restored = self.attempt("meta-restore", path, import_and_restore,
                                    expected_error=imported.get("restore_error") or
                                    imported.get("import_error"))
            forward = meta.get("forward") or {}
            if restored and "inputs" in forward:
                self._check_run("meta-run", path, session, forward)
        session.close()

    def _check_meta_info(self, meta):
        from tensorkeep.framework import meta_graph

        meta_graph_def = meta_graph.read_meta_graph_file(meta["path"])
        return self._compare_meta_graph_def(meta, meta_graph_def)

    @staticmethod
    def _compare_meta_graph_def(meta, meta_graph_def):
        problems = []
        info = meta_graph_def.meta_info_def
        graph_def = meta_graph_def.graph_def
        if "tensorflow_version" in meta and info.tensorflow_version != meta["tensorflow_version"]:
            problems.append("tensorflow_version %r" % info.tensorflow_version)
        if "graph_producer" in meta and graph_def.versions.producer != meta["graph_producer"]:
            problems.append("producer %d" % graph_def.versions.producer)
        if "node_count" in meta and len(graph_def.node) != meta["node_count"]:
            problems.append("%d nodes" % len(graph_def.node))
        if "op_histogram" in meta:
            histogram = collections.Counter(node.op for node in graph_def.node)
            if dict(histogram) != meta["op_histogram"]:
                problems.append("op histogram differs")
        if "stripped_op_list" in meta:
            ops_listed = sorted(op.name for op in info.stripped_op_list.op)
            if ops_listed != sorted(meta["stripped_op_list"]):
                problems.append("stripped op list differs")
        if "collection_names" in meta and \
                sorted(meta_graph_def.collection_def) != sorted(meta["collection_names"]):
            problems.append("collections %s" % sorted(meta_graph_def.collection_def))
        saver_def = meta.get("saver_def")
        if saver_def:
            actual = meta_graph_def.saver_def
            for field in ("filename_tensor_name", "save_tensor_name", "restore_op_name",
                          "max_to_keep", "sharded"):
                if field in saver_def and getattr(actual, field) != saver_def[field]:
                    problems.append("saver_def.%s %r" % (field, getattr(actual, field)))
        signatures = meta.get("signature_defs")
        if signatures is not None:
            problem = _compare_signatures(signatures, meta_graph_def.signature_def)
            if problem:
                problems.append(problem)
        return "; ".join(problems)

    def _check_run(self, kind, label, session, run):
        deterministic = run.get("deterministic", True)
        expected_error = run.get("joint_run_error")

        def execute():
            graph = session.graph
            feeds = {graph.get_tensor_by_name(entry["tensor"]):
                     npz_value(self.npz, entry["npz_key"], entry["dtype"])
                     for entry in run["inputs"]}
            fetch_names = [entry["tensor"] for entry in run["outputs"]] or \
                list((run.get("fetch_errors") or {}).keys())
            values = session.run([graph.get_tensor_by_name(n) for n in fetch_names], feeds)
            problems = []
            for entry, value in zip(run["outputs"], values):
                problem = compare_output(entry, value, self.npz, deterministic)
                if problem:
                    problems.append("%s: %s" % (entry["tensor"], problem))
            return "; ".join(problems)
        # TensorFlow runs independent nodes concurrently, so when several nodes fail (say,
        # several uninitialized variables) which one its error names is not determined: a run
        # must fail with the same error class; imports and restores must also name the same
        # nodes and files.
        self.attempt(kind, label if deterministic else label + " (shape only)", execute,
                     expected_error=expected_error, names_must_match=False)

    # --- frozen graphs ---------------------------------------------------------------------------
    def check_frozen_graph(self, frozen):
        import tensorkeep as tf

        path = frozen["path"]
        graph = tf.Graph()
        expected_error = None if frozen.get("tf_import_ok", True) else \
            frozen.get("tf_import_error")

        def import_graph():
            graph_def, encoding = _parse_graph_def(path)
            problems = []
            if frozen.get("encoding") and encoding != frozen["encoding"]:
                problems.append("parsed as %s, expected %s" % (encoding, frozen["encoding"]))
            with graph.as_default():
                tf.import_graph_def(graph_def, name="")
            for placeholder in frozen.get("placeholders", []):
                if "tf_shape" not in placeholder:
                    continue
                tensor = graph.get_tensor_by_name(placeholder["name"] + ":0")
                shape = tensor.shape.as_list() if tensor.shape.ndims is not None else None
                shape = None if shape is None else [-1 if d is None else d for d in shape]
                if shape != placeholder["tf_shape"]:
                    problems.append("placeholder %s shape %s, expected %s"
                                    % (placeholder["name"], shape, placeholder["tf_shape"]))
            return "; ".join(problems)
        imported = self.attempt("frozen-import", path, import_graph, expected_error)
        run = frozen.get("run") or {}
        if imported and expected_error is None and "inputs" in run:
            with tf.Session(graph=graph) as session:
                self._check_run("frozen-run", path, session, run)

    # --- SavedModels -----------------------------------------------------------------------------
    def check_saved_model(self, saved_model):
        import tensorkeep as tf

        export_dir = os.path.dirname(saved_model["path"])
        load = saved_model.get("tf1_loader_load") or {}
        graph = tf.Graph()
        session = tf.Session(graph=graph)
        with graph.as_default():
            def load_model():
                meta_graph_def = tf.saved_model.loader.load(session, load.get("tags", []),
                                                            export_dir)
                recorded = next((m for m in saved_model.get("meta_graphs", [])
                                 if sorted(m.get("tags", [])) == sorted(load.get("tags", []))),
                                None)
                if recorded is None:
                    return ""
                return _compare_signatures(recorded.get("signature_defs", {}),
                                           meta_graph_def.signature_def)
            loaded = self.attempt("savedmodel-load", saved_model["path"], load_model,
                                  expected_error=None if load.get("ok", True)
                                  else load.get("error"))
            run = saved_model.get("run") or {}
            if loaded and load.get("ok", True) and "inputs" in run:
                self._check_run("savedmodel-run", "%s:%s" % (saved_model["path"],
                                                             run.get("signature", "")),
                                session, run)
        session.close()


def _parse_graph_def(path):
    """A GraphDef from a binary or (if that fails) text file; returns (graph_def, encoding)."""
    from google.protobuf import text_format

    from tensorkeep.io import protos

    with open(path, "rb") as handle:
        data = handle.read()
    graph_def = protos.GraphDef()
    try:
        graph_def.ParseFromString(data)
        return graph_def, "binary"
    except Exception:  # noqa: BLE001 (not a binary GraphDef: try the text format)
        graph_def = protos.GraphDef()
        text_format.Merge(data.decode("utf-8"), graph_def)
        return graph_def, "text"


def _compare_signatures(expected, actual):
    problems = []
    if sorted(expected) != sorted(actual):
        return "signatures %s, expected %s" % (sorted(actual), sorted(expected))
    for key, want in expected.items():
        have = actual[key]
        if want.get("method_name", "") != have.method_name:
            problems.append("%s.method_name %r" % (key, have.method_name))
        for side in ("inputs", "outputs"):
            have_side = getattr(have, side)
            if sorted(want.get(side, {})) != sorted(have_side):
                problems.append("%s.%s keys %s" % (key, side, sorted(have_side)))
                continue
            for name, info in want.get(side, {}).items():
                if info.get("name") != have_side[name].name:
                    problems.append("%s.%s.%s name %r" % (key, side, name, have_side[name].name))
    return "; ".join(problems)


# --- the whole corpus ------------------------------------------------------------------------------

def summarize(outcomes):
    """The per-kind table of pass / fail / expected-failure counts."""
    counts = collections.OrderedDict((kind, collections.Counter()) for kind in KINDS)
    for outcome in outcomes:
        counts.setdefault(outcome.kind, collections.Counter())[outcome.status] += 1
    lines = ["%-18s %6s %6s %6s" % ("kind", "pass", "xfail", "fail")]
    total = collections.Counter()
    for kind, counter in counts.items():
        if not counter:
            continue
        total.update(counter)
        lines.append("%-18s %6d %6d %6d" % (kind, counter["pass"], counter["xfail"],
                                            counter["fail"]))
    lines.append("%-18s %6d %6d %6d" % ("total", total["pass"], total["xfail"], total["fail"]))
    return "\n".join(lines)


_RESULTS = {}


@pytest.mark.parametrize("case", case_dirs(CORPUS) or
                         [pytest.param(None, marks=pytest.mark.skip(
                             reason="no corpus at %s (set TENSORKEEP_CORPUS)" % CORPUS))])
def test_corpus_case(case):
    outcomes = CaseChecker(CORPUS, case).run()
    _RESULTS[case] = outcomes
    failures = ["%s %s: %s" % (o.kind, o.item, o.detail) for o in outcomes if o.status == "fail"]
    assert not failures, "\n".join(failures)


def test_corpus_totals(capsys):
    """Prints the per-kind table of pass / xfail / fail counts (failures are reported by the
    per-case tests; cases they did not run are run here)."""
    cases = case_dirs(CORPUS)
    if not cases:
        pytest.skip("no corpus at %s (set TENSORKEEP_CORPUS)" % CORPUS)
    for case in cases:
        if case not in _RESULTS:
            _RESULTS[case] = CaseChecker(CORPUS, case).run()
    outcomes = [o for case in cases for o in _RESULTS[case]]
    with capsys.disabled():
        print("\ncorpus %s: %d cases\n%s" % (CORPUS, len(cases), summarize(outcomes)))


def _smallest_case_with(kinds):
    """The smallest case of the corpus whose expect.json has entries of all `kinds`."""
    best = None
    for case in case_dirs(CORPUS):
        with open(os.path.join(CORPUS, case, "expect.json")) as handle:
            expect = json.load(handle)
        if all(expect.get(kind) for kind in kinds) and "io_npz" in expect:
            size = expect.get("total_size", 0)
            if best is None or size < best[0]:
                best = (size, case)
    if best is None:
        pytest.skip("no corpus case with %s at %s" % (", ".join(kinds), CORPUS))
    return best[1]


def test_harness_reports_damaged_files_and_wrong_records(tmp_path):
    """The harness is not vacuous: on a copy of a case with a flipped data byte and a wrong
    recorded output, the damaged items fail and the rest still pass."""
    import shutil

    case = _smallest_case_with(["checkpoints", "frozen_graphs"])
    shutil.copytree(os.path.join(CORPUS, case), str(tmp_path / case))
    with open(tmp_path / case / "expect.json") as handle:
        expect = json.load(handle)
    data_file = next(f["path"] for f in expect["files"] if ".data-" in f["path"])
    with open(tmp_path / case / data_file, "r+b") as handle:
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 0xFF]))
    frozen = next(f for f in expect["frozen_graphs"] if "outputs" in (f.get("run") or {}))
    frozen["run"]["outputs"][0]["sha256"] = "0" * 64
    key = frozen["run"]["outputs"][0]["npz_key"]
    with open(tmp_path / case / "expect.json", "w") as handle:
        json.dump(expect, handle)
    npz = dict(np.load(tmp_path / case / "io.npz"))
    npz[key] = npz[key] + 1.0
    np.savez(tmp_path / case / "io.npz", **npz)
    outcomes = CaseChecker(str(tmp_path), case).run()
    failed = {(o.kind, o.item) for o in outcomes if o.status == "fail"}
    assert ("file", data_file) in failed
    assert any(kind == "checkpoint-tensor" for kind, _ in failed)
    assert ("frozen-run", frozen["path"]) in failed
    assert any(o.status == "pass" and o.kind == "frozen-import" for o in outcomes)


def main(argv):
    root = argv[1] if len(argv) > 1 else CORPUS
    outcomes = []
    for case in case_dirs(root):
        outcomes.extend(CaseChecker(root, case).run())
    for outcome in outcomes:
        if outcome.status != "pass":
            print("%-5s %-45s %-17s %s %s" % (outcome.status, outcome.case[:45], outcome.kind,
                                             outcome.item, outcome.detail[:300]))
    print(summarize(outcomes))
    return 1 if any(o.status == "fail" for o in outcomes) else 0


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    sys.exit(main(sys.argv))
