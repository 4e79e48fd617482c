#!/usr/bin/env bash
# Installs everything the tests need and runs them:
#   .venv     tensorkeep (editable) with its test extras
#   .venv-tf  real TensorFlow, the oracle for interop tests (never imported by tensorkeep)
# Extra arguments go to pytest (e.g. scripts/test.sh -k saver).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
if [ "${TENSORKEEP_SKIP_TF:-0}" != "1" ]; then
  if [ ! -x .venv-tf/bin/python ] || ! .venv-tf/bin/python -c "import tensorflow" 2>/dev/null; then
    "$PY" -m venv .venv-tf
    .venv-tf/bin/pip install -q --disable-pip-version-check tensorflow-cpu
  fi
  # tf.compat.v1.layers' batch normalization lives in tf-keras, at TensorFlow's version.
  if ! .venv-tf/bin/python -c "import tf_keras" 2>/dev/null; then
    tf_minor=$(.venv-tf/bin/python -c "import tensorflow as tf; print('.'.join(tf.__version__.split('.')[:2]))" 2>/dev/null)
    .venv-tf/bin/pip install -q --disable-pip-version-check --no-deps "tf-keras==${tf_minor}.*"
  fi
fi
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
