"""Benchmarks measured in turns: each implementation runs in its own long-lived interpreter and
the parent asks them for one sample at a time, in rotation, so that a change in the machine's
load (other processes on a shared machine) hits every implementation alike instead of whichever
one happened to run at that moment.

A worker program defines `handle(request)` (a JSON-able dict in, a JSON-able value out) and
ends with WORKER_LOOP."""

import json
import subprocess
import textwrap

from common import REPO, child_environment

WORKER_LOOP = """
import json as _json, sys as _sys
for _line in _sys.stdin:
    print("@@" + _json.dumps(handle(_json.loads(_line))), flush=True)
"""


class Worker:
    """One implementation's interpreter running a worker program."""

    def __init__(self, python, code):
        self.process = subprocess.Popen(
            [python, "-c", textwrap.dedent(code) + WORKER_LOOP], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=child_environment(), cwd=REPO)

    def ask(self, request):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith("@@"):
                return json.loads(line[2:])
        raise RuntimeError("benchmark worker died: %s" % self.process.stderr.read()[-3000:])

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


class Workers(dict):
    """{name: Worker} started from {name: (python, code)}; a context manager that ends them."""

    def __init__(self, programs):
        super().__init__()
        try:
            for name, (python, code) in programs.items():
                self[name] = Worker(python, code)
        except BaseException:
            self.close()
            raise

    def close(self):
        for worker in self.values():
            worker.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def in_turns(workers, request, samples):
    """{name: [the answers of workers[name] to `request`, `samples` of them]}, asking the
    workers in rotation (each round starting with the next worker)."""
    names = list(workers)
    answers = {name: [] for name in names}
    for index in range(samples):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            answers[name].append(workers[name].ask(request))
    return answers
