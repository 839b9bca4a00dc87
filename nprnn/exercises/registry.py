"""The exercises in lesson order, and the two texts of each: the solution (``solutions/NAME.py``)
and the skeleton a learner starts from (the same file, with the body of every function the
learner writes replaced by ``raise NotImplementedError``; docstrings, equations and hints stay).
"""
import ast
import re

from . import specs_cells, specs_search, specs_sequences

# Sorted by lesson, stably: within a lesson, in the order the spec modules list them.
EXERCISES = tuple(sorted(specs_cells.EXERCISES + specs_sequences.EXERCISES + specs_search.EXERCISES,
                         key=lambda ex: ex.lesson))
BY_NAME = {ex.name: ex for ex in EXERCISES}
HEADER = re.compile(r"#\s*nprnn exercise:\s*(\S+)\s*$")


def names():
    """The exercises' names, in lesson order."""
    return [ex.name for ex in EXERCISES]


def get(name):
    """The exercise called `name`, or a KeyError."""
    return BY_NAME[name]


def header(name):
    """The first line of every exercise file: it tells `check` which exercise a file is."""
    return f"# nprnn exercise: {name}"


def exercise_name(first_line):
    """The name in a header line, or None when the line is not a header."""
    match = HEADER.match(first_line.strip().lstrip("\ufeff"))
    return match.group(1) if match else None


def solution_text(ex):
    return ex.solution_path.read_text(encoding="utf-8")


def skeleton_text(ex):
    """The solution with the body of every function in ``ex.todo`` cut to its docstring and
    ``raise NotImplementedError``."""
    text = solution_text(ex)
    lines = text.splitlines(keepends=True)
    cuts = []
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name in ex.todo:
            body = node.body
            has_doc = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
            start = body[0].end_lineno if has_doc else node.body[0].lineno - 1  # 1-based end of the docstring
            indent = " " * body[-1].col_offset
            stub = f"{indent}raise NotImplementedError(\"{node.name} is not written yet\")\n"
            cuts.append((start, node.end_lineno, stub))
    for start, end, stub in sorted(cuts, reverse=True):  # from the bottom up, so line numbers hold
        lines[start:end] = [stub]
    return "".join(lines)
