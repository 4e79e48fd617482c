"""BENCHMARKS.md's "Results" tables from a run's JSON (bench/run_all.py --json): one table per
benchmark, then the goals, as BENCHMARKS.md shows them.
Usage: .venv/bin/python bench/results_markdown.py [bench/results.json]"""

import json
import os
import sys

from common import REPO, _number, _versus


def sections(run):
    lines = []
    for result in run["results"]:
        lines += ["### %s (%s)" % (result["benchmark"], result["name"]), "",
                  "| figure | implementation | median | min | max | runs | vs TensorFlow |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for r in result.get("rows", []):
            for name, value in r["results"].items():
                lines.append("| %s (%s, %s is better) | %s | %s | %s | %s | %d | %s |" % (
                    r["figure"], r["unit"], r["better"], name, _number(value["median"]),
                    _number(value["min"]), _number(value["max"]), value.get("runs", 1),
                    "" if name == "tensorflow" else _versus(r, name)))
        lines.append("")
    lines += ["### Goals", "", "| goal | measured | met |", "| --- | --- | --- |"]
    for result in run["results"]:
        for g in result.get("goals", []):
            met = {True: "yes", False: "**no**", None: "n/a"}[g["met"]]
            lines.append("| %s | %s | %s |" % (g["goal"], g["measured"], met))
    return "\n".join(lines)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "bench", "results.json")
    with open(path) as f:
        print(sections(json.load(f)))


if __name__ == "__main__":
    main()
