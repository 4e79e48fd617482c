"""The `tensorkeep` command line."""

import argparse
import sys


def _cmd_exec(args):
    from tensorkeep.tools import runner

    runner.run_script(args.script, args.args)
    return 0


def _cmd_demo(args):
    from tensorkeep.tools import demo

    return demo.main(keep=args.keep)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tensorkeep",
        description="TensorFlow 1.x model persistence on NumPy: run TF1 scripts, inspect and "
                    "convert model files.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("exec", help="run an unmodified TF1 script with `import tensorflow` "
                                    "resolving to tensorkeep",
                       description="Run a TensorFlow 1.x script on tensorkeep.\n\nexample:\n"
                                   "  tensorkeep exec train.py --steps 100",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("script", help="path of the Python script")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    p.set_defaults(func=_cmd_exec)

    p = sub.add_parser("demo", help="the seed walkthrough end to end in a temporary directory",
                       description="Save, restore, import a meta graph, rename variables, keep "
                                   "moving averages and freeze a graph, printing each step."
                                   "\n\nexample:\n  tensorkeep demo",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keep", metavar="DIR", help="write the files into DIR and keep them")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
