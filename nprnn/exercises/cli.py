"""The `exercise` command: list the exercises, start one, check one.

    nprnn exercise list                                   NAME  description, in lesson order
    nprnn exercise start NAME [--out PATH] [--solution] [--force]
    nprnn exercise check PATH                             one PASS/FAIL line per graded output

`register(subparsers)` adds it to an argparse subparsers object (nprnn/cli.py's);
`add_actions(parser)` adds list, start and check to any parser (``python -m nprnn.exercises``).
Every handler returns its exit status and prints its own one-line errors to stderr as
``nprnn exercise: error: ...`` (exit status 2). What it prints, a path included, is written as
nprnn's command prints (files.one_line, files.printable): a line break in a path as \\n, a byte
of a file name that is not UTF-8 as its escape (\\udce9), never a UnicodeEncodeError.
"""
import argparse
import io
import sys
from pathlib import Path

from ..files import one_line, printable
from . import registry
from .grader import check

PROG = "nprnn exercise"


class _Parser(argparse.ArgumentParser):
    """A parser whose usage errors are one line, like nprnn's."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _print(text, file=None):
    """print(`text`) as one line, flushed, in what the stream can encode (see the module's doc)."""
    stream = sys.stdout if file is None else file
    if stream is None:  # no stdout or stderr at all (pythonw, a closed descriptor): nowhere to write
        return
    print(printable(one_line(text), stream), file=stream, flush=True)


def _error(message):
    _print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def cmd_list(args):
    width = max(len(n) for n in registry.names())
    for ex in registry.EXERCISES:
        _print(f"{ex.name:<{width}}  {ex.description}")
    return 0


def cmd_start(args):
    if args.name not in registry.BY_NAME:
        return _error(f"unknown exercise {args.name!r}; the exercises are: {', '.join(registry.names())}")
    ex = registry.get(args.name)
    out = Path(args.out) if args.out else Path(f"{ex.name}.py")
    if out.is_dir():
        out = out / f"{ex.name}.py"
    if out.exists() and not args.force:
        return _error(f"{out} exists; use --force to overwrite it")
    text = registry.solution_text(ex) if args.solution else registry.skeleton_text(ex)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        return _error(f"cannot write {out}: {e.strerror or e}")
    if args.solution:
        _print(f"wrote the solution of {ex.name} to {out}; grade it with: {PROG} check {out}")
    else:
        _print(f"wrote {out}: write {', '.join(ex.todo)} in it (lesson: {ex.lesson}), "
               f"then grade it with: {PROG} check {out}")
    return 0


def cmd_check(args):
    out, err = io.StringIO(), io.StringIO()  # the grader prints all its lines at the end: held, then printed safely
    code = check(args.path, out=out, err=err)
    for line in out.getvalue().split("\n")[:-1]:  # a PASS or FAIL line each, the last ended by "\n"
        _print(line)
    if err.getvalue():  # its one error line, a line break in the path escaped
        _print(err.getvalue().removesuffix("\n"), file=sys.stderr)
    return code


def add_actions(parser):
    """Add the list, start and check sub-commands to `parser`."""
    actions = parser.add_subparsers(dest="exercise_action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    p = actions.add_parser("list", help="the exercises, in lesson order")
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("start", help="write an exercise's skeleton (or its solution) to a file")
    p.add_argument("name", metavar="NAME", help="the exercise (see: list)")
    p.add_argument("--out", metavar="PATH", help="the file to write (default NAME.py)")
    p.add_argument("--solution", action="store_true", help="write the solution instead of the skeleton")
    p.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    p.set_defaults(func=cmd_start)
    p = actions.add_parser("check", help="grade an exercise file: one PASS/FAIL line per output")
    p.add_argument("path", metavar="PATH", help="the exercise file")
    p.set_defaults(func=cmd_check)
    return actions


def register(subparsers):
    """Add the `exercise` sub-command to an argparse subparsers object; returns its parser."""
    parser = subparsers.add_parser("exercise", help="graded exercises: write the backward passes yourself",
                                   description="Graded exercises: list, start NAME, check PATH.")
    add_actions(parser)
    return parser


def main(argv=None):
    """``python -m nprnn.exercises list|start|check``."""
    parser = _Parser(prog="python -m nprnn.exercises", description="nprnn's graded exercises.")
    add_actions(parser)
    args = parser.parse_args(argv)
    return args.func(args)
