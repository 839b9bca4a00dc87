"""The grader: `check(path)` runs a learner's exercise file against its cases and prints one
verdict line per graded output.

Two judges, computed before the learner's file runs (so nothing in it can change them):
nprnn's own implementation, and (for a gradient) centred finite differences in float64 of
nprnn's forward pass. An output passes when it agrees with both in every case. A failing line
names the culprit among the function's outputs, says what is wrong with it where that can be
seen (all zeros, the wrong sign, a constant factor, the wrong gate block, the wrong timesteps,
only the cases with padding...) and gives a hint aimed at that output.

    PASS  lstm_step_backward dWh  (worst rel error 3e-10 over 8 cases)
    FAIL  lstm_step_backward dWh  rel error 0.71 vs reference, 0.71 vs finite differences (wrong in
          8 of 8 cases, worst B=2 D=3 H=4) — dWh wrong (dx, dh_prev, ... right); hint: ...

Exit status: 0 all pass, 1 something fails, 2 the file cannot be graded at all (missing, does not
compile or import, no exercise header, a function missing), with one line on stderr.
"""
import contextlib
import copy
import sys
import traceback
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import registry
from .diagnose import as_lists, describe_failure, rel_error

REF_BAR = 1e-7  # against nprnn's own result: only rounding separates two right answers
FD_BAR = 1e-6  # against finite differences: their own error is about 1e-9 at eps 1e-6
_EXPECTED = {}  # exercise name -> [(case, reference, numeric)], computed once per process


class ExerciseError(Exception):
    """The file cannot be graded: reported as one line, exit status 2."""


@dataclass
class Verdict:
    """The judgement of one output over every case."""

    output: object  # base.Output
    errors: list = field(default_factory=list)  # per case: (vs reference, vs finite differences or None)
    failing: list = field(default_factory=list)  # indices of the failing cases
    shape_problem: str = ""

    @property
    def passed(self):
        return not self.failing and not self.shape_problem


# ---- loading a learner's file ------------------------------------------------------------------


def read_exercise(path):
    """(exercise, source text, code object) of the file at `path`, without running it."""
    path = Path(path)
    if not path.is_file():
        raise ExerciseError(f"no such file: {path}" if not path.exists() else f"not a file: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a BOM some editors write is not code
    except (OSError, UnicodeDecodeError) as e:
        raise ExerciseError(f"cannot read {path}: {e}") from None
    first_line = text.splitlines()[0] if text else ""
    name = registry.exercise_name(first_line)
    if name is None:
        raise ExerciseError(f"{path} has no exercise header: its first line must be "
                            f"'{registry.header('NAME')}' (start one with: nprnn exercise start NAME)")
    if name not in registry.BY_NAME:
        raise ExerciseError(f"{path} names an unknown exercise {name!r}; the exercises are: "
                            f"{', '.join(registry.names())}")
    try:
        code = compile(text, str(path), "exec")
    except SyntaxError as e:
        raise ExerciseError(f"{path} does not compile: {e.msg} (line {e.lineno})") from None
    except ValueError as e:  # e.g. a NUL byte
        raise ExerciseError(f"{path} does not compile: {e}") from None
    return registry.get(name), code


def run_module(ex, code, path):
    """Execute the file as a fresh module (not left in sys.modules, no bytecode written) and
    check that it defines every function the exercise calls."""
    module_name = f"_nprnn_exercise_{ex.name}"
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    saved = sys.modules.get(module_name)
    sys.modules[module_name] = module  # while it runs: dataclasses and pickling look it up
    try:
        with _quiet():
            exec(code, module.__dict__)
    except (Exception, SystemExit) as e:
        where = _where(e, str(path)).rstrip("; ")
        raise ExerciseError(f"{path} raised {type(e).__name__} when imported: {_message(e)}"
                            + (f" ({where})" if where else "")) from None
    finally:
        if saved is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = saved
    needed = ex.given + ex.todo
    missing = [f for f in needed if not callable(getattr(module, f, None))]
    if missing:
        raise ExerciseError(f"{path} has no function {', '.join(missing)} (exercise {ex.name} needs "
                            f"{', '.join(needed)})")
    return module


# ---- the judges --------------------------------------------------------------------------------


def expected(ex):
    """[(case, reference outputs, finite differences)] of an exercise, computed once."""
    if ex.name not in _EXPECTED:
        rows = []
        for case in ex.cases():
            with _quiet():
                ref = ex.reference(case)
                num = ex.numeric(case) if ex.numeric else {}
            rows.append((case, ref, num))
        _EXPECTED[ex.name] = rows
    return _EXPECTED[ex.name]


def run_cases(ex, module, rows):
    """The learner's outputs in every case, as [{name: value}]; or a failure line (a str) when a
    function raises, is not written yet, or returns the wrong number of values."""
    results = []
    for case, _, _ in rows:
        inputs = copy.deepcopy(case.inputs)  # the learner may write into them
        try:
            with _quiet():
                raw = ex.run(module, inputs)
        except NotImplementedError as e:
            func = _learner_function(e, module) or ex.graded
            return f"{func}  not written yet (it raises NotImplementedError)"
        except (Exception, SystemExit) as e:
            func = _learner_function(e, module) or ex.graded
            return f"{func}  raised {type(e).__name__}: {_message(e)} ({_where(e, module.__file__)}case {case.label})"
        values = _unpack(ex, raw)
        if isinstance(values, str):
            return f"{ex.graded}  {values}"
        if ex.observe:
            values.update(ex.observe(inputs))
        results.append(values)
    return results


def judge(output, rows, results):
    """Compare one output with the reference (and finite differences) in every case."""
    verdict = Verdict(output)
    for n, ((case, ref, num), got) in enumerate(zip(rows, results)):
        want, value = ref[output.name], got[output.name]
        if output.kind == "array":
            got_arr, problem = _as_array(value, np.shape(want))
            if problem:
                verdict.shape_problem = f"{problem} (case {case.label})"
                return verdict
            e_ref = rel_error(got_arr, want)
            e_num = rel_error(got_arr, num[output.name]) if output.name in num else None
            verdict.errors.append((e_ref, e_num))
            ok = e_ref <= REF_BAR and (e_num is None or e_num <= FD_BAR)  # NaN fails both
        elif output.kind == "exact":
            ok = _equal(value, want)
        else:  # lists of token ids
            ok = as_lists(value) == want
        if not ok:
            verdict.failing.append(n)
    return verdict


def grade(ex, module):
    """Every verdict line for a loaded module, as [(passed, text)]."""
    rows = expected(ex)
    results = run_cases(ex, module, rows)
    if isinstance(results, str):
        return [(False, results)]
    verdicts = [judge(o, rows, results) for o in ex.outputs]
    wrong = [v.output.name for v in verdicts if not v.passed]
    lines = []
    for v in verdicts:
        name = f"{ex.graded} {v.output.name}"
        if v.passed:
            lines.append((True, f"{name}  {_pass_summary(v, len(rows))}"))
        else:
            lines.append((False, f"{name}  {describe_failure(ex, v, rows, results, wrong)}"))
    return lines


def check(path, *, out=None, err=None):
    """Grade the exercise file at `path`, print one line per check; return the exit status."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        ex, code = read_exercise(path)
        expected(ex)  # the judges first, before any of the learner's code runs
        module = run_module(ex, code, path)
    except ExerciseError as e:
        print(f"nprnn exercise: error: {e}", file=err)
        return 2
    lines = grade(ex, module)
    for passed, text in lines:
        print(f"{'PASS' if passed else 'FAIL'}  {text}", file=out)
    return 0 if all(passed for passed, _ in lines) else 1


# ---- helpers -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet():
    """Silence NumPy's floating-point warnings (a wrong answer is reported, not warned about)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _message(e):
    """An exception's message, on one line."""
    text = str(e).strip().splitlines()
    return text[0] if text else "(no message)"


def _learner_frames(e, filename):
    return [f for f in traceback.extract_tb(e.__traceback__) if f.filename == filename]


def _where(e, filename):
    """'line 12, in f; ' for the innermost line of the learner's file in e's traceback, or ''."""
    frames = _learner_frames(e, filename)
    if not frames:
        return ""
    f = frames[-1]
    return f"line {f.lineno}" + (f", in {f.name}" if f.name != "<module>" else "") + "; "


def _learner_function(e, module):
    """The innermost function of the learner's file that `e` passed through."""
    frames = _learner_frames(e, module.__file__)
    return frames[-1].name if frames and frames[-1].name != "<module>" else None


def _unpack(ex, raw):
    """{name: value} of what the graded function returned, or what is wrong with it (a str)."""
    if len(ex.returns) == 1:
        return {ex.returns[0]: raw}
    n = len(ex.returns)
    if not isinstance(raw, (tuple, list)):
        return f"returned {type(raw).__name__}, expected a tuple of {n}: ({', '.join(ex.returns)})"
    if len(raw) != n:
        return f"returned {len(raw)} values, expected {n}: ({', '.join(ex.returns)})"
    return dict(zip(ex.returns, raw))


def _as_array(value, shape):
    """(value as a float64 array, '') or (None, what is wrong with its type or shape)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"is not an array of numbers (got {type(value).__name__})"
    if arr.shape != tuple(shape):
        hint = "; transposed?" if arr.shape == tuple(shape)[::-1] and len(shape) > 1 else ""
        return None, f"has shape {arr.shape}, expected {tuple(shape)}{hint}"
    return arr, ""


def _equal(value, want):
    try:
        got = np.asarray(value)
        return got.shape == np.shape(want) and bool(np.all(got == want))
    except (TypeError, ValueError):
        return False


def _pass_summary(v, n_cases):
    if v.output.kind != "array":
        return f"(equal to the reference in {n_cases} cases)"
    worst = max(max(e for e in pair if e is not None) for pair in v.errors)
    return f"(worst rel error {_short(worst)} over {n_cases} cases)"


def _short(x):
    return "0" if x == 0 else f"{x:.0e}"
