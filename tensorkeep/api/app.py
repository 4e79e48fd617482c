"""tf.app: `tf.app.run()` and `tf.app.flags`, the small part of absl's command-line flags that
TF1 scripts use (DEFINE_string/integer/float/boolean/list/enum and FLAGS).

Parsing follows absl: `--name=value`, `--name value`, a single dash works too, booleans take
`--name`/`--noname`, `--` ends the flags. Like TensorFlow's `tf.app.run`, unknown flags are
tolerated and left in the argv handed to `main`.
"""

import sys
import types


class Error(Exception):
    """A flag definition or parsing error (absl's flags.Error)."""


class UnparsedFlagAccessError(Error, AttributeError):
    pass


class _Flag:
    def __init__(self, name, default, help_text, parse, type_name, is_bool=False):
        self.name = name
        self.default = default
        self.help = help_text
        self.parse = parse
        self.type_name = type_name
        self.is_bool = is_bool
        self.value = default


def _parse_bool(text):
    lowered = text.lower()
    if lowered in ("true", "t", "1"):
        return True
    if lowered in ("false", "f", "0"):
        return False
    raise ValueError("Non-boolean argument to boolean flag: %r" % text)


class FlagValues:
    """The registry and the parsed values: `FLAGS.name` after `FLAGS(argv)`."""

    def __init__(self):
        self.__dict__["_flags"] = {}
        self.__dict__["_parsed"] = False

    def _define(self, flag):
        if flag.name in self._flags:
            raise Error("The flag '%s' is defined twice." % flag.name)
        self._flags[flag.name] = flag

    def __getattr__(self, name):
        flags = self.__dict__["_flags"]
        if name not in flags:
            raise AttributeError(name)
        if not self.__dict__["_parsed"]:
            raise UnparsedFlagAccessError(
                "Trying to access flag --%s before flags were parsed (call tf.app.run(), or "
                "FLAGS(sys.argv))." % name)
        return flags[name].value

    def __setattr__(self, name, value):
        if name not in self._flags:
            raise AttributeError("no flag --%s is defined" % name)
        self._flags[name].value = value

    def __contains__(self, name):
        return name in self._flags

    def is_parsed(self):
        return self._parsed

    def mark_as_parsed(self):
        self.__dict__["_parsed"] = True

    def flag_values_dict(self):
        return {name: flag.value for name, flag in self._flags.items()}

    def __call__(self, argv, known_only=False):
        """Parses argv[1:]; returns [argv[0]] + the arguments that are not flags (and, with
        known_only, the unknown flags)."""
        argv = list(argv)
        remaining = argv[:1]
        args = argv[1:]
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                # absl hands the separator on too when it tolerates unknown flags.
                remaining.extend(args[i - 1 if known_only else i:])
                break
            if not arg.startswith("-") or arg == "-":
                remaining.append(arg)
                continue
            name, has_value, value = arg.lstrip("-").partition("=")
            flag = self._flags.get(name)
            if flag is None and name.startswith("no") and not has_value:
                negated = self._flags.get(name[2:])
                if negated is not None and negated.is_bool:
                    negated.value = False
                    continue
            if flag is None:
                if known_only:
                    remaining.append(arg)
                    continue
                raise Error("Unknown command line flag '%s'" % name)
            if not has_value:
                if flag.is_bool:
                    flag.value = True
                    continue
                if i >= len(args):
                    raise Error("Flag --%s must have a value other than None." % name)
                value = args[i]
                i += 1
            try:
                flag.value = flag.parse(value)
            except ValueError as e:
                raise Error("flag --%s=%s: %s" % (name, value, e)) from None
        self.mark_as_parsed()
        return remaining

    def help_text(self):
        lines = []
        for name, flag in sorted(self._flags.items()):
            lines.append("  --%s: %s\n    (default: %r)%s" % (
                name, flag.help or "", flag.default,
                "" if flag.type_name in ("string", "bool") else "\n    (%s)" % flag.type_name))
        return "\n".join(lines)


FLAGS = FlagValues()


def DEFINE_string(name, default, help, flag_values=FLAGS):  # noqa: N802,A002 (absl's names)
    flag_values._define(_Flag(name, default, help, str, "string"))


def _bounded(convert, value_format, lower_bound, upper_bound):
    """A flag parser: convert(text), refused outside [lower_bound, upper_bound] (None: open)."""
    def parse(text):
        value = convert(text)
        if (lower_bound is not None and value < lower_bound) or \
                (upper_bound is not None and value > upper_bound):
            raise ValueError((value_format + " is outside [%s, %s]")
                             % (value, lower_bound, upper_bound))
        return value
    return parse


def DEFINE_integer(name, default, help, lower_bound=None, upper_bound=None,  # noqa: N802,A002
                   flag_values=FLAGS):
    flag_values._define(_Flag(name, default, help,
                              _bounded(int, "%d", lower_bound, upper_bound), "an integer"))


def DEFINE_float(name, default, help, lower_bound=None, upper_bound=None,  # noqa: N802,A002
                 flag_values=FLAGS):
    flag_values._define(_Flag(name, default, help,
                              _bounded(float, "%g", lower_bound, upper_bound), "a number"))


def DEFINE_boolean(name, default, help, flag_values=FLAGS):  # noqa: N802,A002
    flag_values._define(_Flag(name, default, help, _parse_bool, "bool", is_bool=True))


DEFINE_bool = DEFINE_boolean


def DEFINE_list(name, default, help, flag_values=FLAGS):  # noqa: N802,A002
    def parse(text):
        return [item.strip() for item in text.split(",") if item.strip()]
    flag_values._define(_Flag(name, default, help, parse, "a comma separated list"))


def DEFINE_enum(name, default, enum_values, help, flag_values=FLAGS):  # noqa: N802,A002
    def parse(text):
        if text not in enum_values:
            raise ValueError("value should be one of <%s>" % "|".join(enum_values))
        return text
    flag_values._define(_Flag(name, default, help, parse,
                              "one of: %s" % ", ".join(enum_values)))


flags = types.ModuleType(__name__ + ".flags", "tf.app.flags (absl-style command-line flags)")
flags.__dict__.update(
    FLAGS=FLAGS, FlagValues=FlagValues, Error=Error,
    UnparsedFlagAccessError=UnparsedFlagAccessError, DEFINE_string=DEFINE_string,
    DEFINE_integer=DEFINE_integer, DEFINE_float=DEFINE_float, DEFINE_boolean=DEFINE_boolean,
    DEFINE_bool=DEFINE_bool, DEFINE_list=DEFINE_list, DEFINE_enum=DEFINE_enum)
sys.modules[flags.__name__] = flags


def run(main=None, argv=None):
    """Parses the flags from argv (default sys.argv), then exits with main(remaining_argv).
    main defaults to the `main` function of the __main__ module."""
    argv = sys.argv if argv is None else argv
    if any(arg in ("--help", "-help", "--helpfull", "-h") for arg in argv[1:]):
        print("%s:\n%s" % (argv[0] if argv else "", FLAGS.help_text()))
        sys.exit(0)
    try:
        remaining = FLAGS(argv, known_only=True)
    except Error as e:
        sys.stderr.write("FATAL Flags parsing error: %s\n" % e)
        sys.exit(1)
    main = main or sys.modules["__main__"].main
    sys.exit(main(remaining))
