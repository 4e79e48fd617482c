"""tf.app.flags and tf.app.run: command lines parse as absl (TensorFlow's flags library) parses
them; the `tf` test asks absl itself in the .venv-tf interpreter."""

import json
import subprocess
import sys
import textwrap

import pytest

from tensorkeep.api import app
from tf_oracle import run_tensorflow_process

DEFINITIONS = [("string", "data_dir", "MNIST_data"), ("integer", "steps", 10),
               ("float", "rate", 0.5), ("boolean", "fast", False), ("boolean", "check", True),
               ("list", "names", ["a"])]

COMMAND_LINES = [
    [],
    ["--data_dir=/tmp/x", "--steps", "30", "--rate=0.25", "--fast"],
    ["-steps=7", "--nocheck", "positional", "--names=x,y", "--", "--steps=9"],
    ["--fast=false", "--check=true", "--unknown=1", "rest"],
]


def define_all(flag_values):
    for kind, name, default in DEFINITIONS:
        getattr(app.flags, "DEFINE_" + kind)(name, default, "help for " + name,
                                             flag_values=flag_values)


def parse(argv):
    values = app.FlagValues()
    define_all(values)
    remaining = values(["prog"] + argv, known_only=True)
    return {"remaining": remaining, "values": values.flag_values_dict()}


def test_values_types_and_remaining_arguments():
    result = parse(COMMAND_LINES[2])
    assert result["remaining"] == ["prog", "positional", "--", "--steps=9"]
    assert result["values"] == {"data_dir": "MNIST_data", "steps": 7, "rate": 0.5,
                                "fast": False, "check": False, "names": ["x", "y"]}


def test_flags_cannot_be_read_before_parsing_or_defined_twice():
    values = app.FlagValues()
    define_all(values)
    with pytest.raises(app.UnparsedFlagAccessError, match="--steps"):
        values.steps
    with pytest.raises(app.Error, match="defined twice"):
        app.flags.DEFINE_integer("steps", 1, "again", flag_values=values)
    with pytest.raises(app.Error, match="Unknown command line flag 'bogus'"):
        values(["prog", "--bogus=1"])
    with pytest.raises(app.Error, match="--steps=many"):
        values(["prog", "--steps=many"])


def test_run_parses_sys_argv_and_exits_with_mains_result(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import tensorflow as tf
        tf.app.flags.DEFINE_integer("steps", 3, "number of steps")
        FLAGS = tf.app.flags.FLAGS

        def main(argv):
            print("steps=%d argv=%s" % (FLAGS.steps, argv[1:]))
            return 3

        if __name__ == "__main__":
            tf.app.run()
    """))
    proc = subprocess.run([sys.executable, "-m", "tensorkeep", "exec", str(script),
                           "--steps=5", "extra"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.strip() == "steps=5 argv=['extra']"


@pytest.mark.tf
def test_command_lines_parse_as_absl_parses_them():
    code = textwrap.dedent("""
        import json, sys
        from absl import flags
        results = []
        for argv in json.loads(sys.argv[1]):
            values = flags.FlagValues()
            for kind, name, default in json.loads(sys.argv[2]):
                getattr(flags, "DEFINE_" + kind)(name, default, "help for " + name,
                                                 flag_values=values)
            remaining = values(["prog"] + argv, known_only=True)
            results.append({"remaining": remaining, "values": values.flag_values_dict()})
        print(json.dumps(results))
    """)
    stdout = run_tensorflow_process(["-c", code, json.dumps(COMMAND_LINES),
                                     json.dumps(DEFINITIONS)], timeout=120)
    assert [parse(argv) for argv in COMMAND_LINES] == json.loads(stdout)
