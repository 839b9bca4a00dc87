"""The graded exercises (nprnn/exercises): solutions pass, skeletons and mutants fail, every
FAIL line names its culprit, and the command's errors are one line.

The mutation tests take each solution, make small wrong versions of the functions a learner
writes (an operator flipped, a transpose dropped, a sign, a comparison, an index or an axis
changed) and hold the grader to catching at least 90% of them.
"""
import argparse
import ast
import io
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nprnn.exercises import EXERCISES, check, get, names
from nprnn.exercises.cli import main, register
from nprnn.exercises.grader import expected
from nprnn.exercises.registry import skeleton_text, solution_text

NAMES = names()
MAX_MUTANTS = 40
REQUIRED = ["rnn_step_forward", "rnn_step_backward", "embedding_backward", "lstm_step_forward", "lstm_step_backward",
            "gru_step_backward", "bptt", "softmax_cross_entropy_backward", "greedy_decode", "attention_backward",
            "beam_search_step"]  # in lesson order: greedy decoding is lesson 7, attention lesson 9


def grade_text(text, path):
    """check() on `text` written to `path`: (exit status, stdout lines, stderr)."""
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = check(path, out=out, err=err)
    return code, out.getvalue().splitlines(), err.getvalue()


def replace_in_function(text, function, old, new):
    """`text` with `old` replaced by `new` inside the body of `function` only."""
    start = text.index(f"def {function}(")
    end = text.find("\ndef ", start + 1)
    end = len(text) if end == -1 else end
    body = text[start:end]
    assert old in body, (function, old)
    return text[:start] + body.replace(old, new) + text[end:]


# ---- solutions and skeletons -------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_solution_passes_every_check(name, tmp_path):
    path = tmp_path / f"{name}.py"
    assert main(["start", name, "--solution", "--out", str(path)]) == 0
    out, err = io.StringIO(), io.StringIO()
    code = check(path, out=out, err=err)
    lines = out.getvalue().splitlines()
    assert code == 0, lines
    assert len(lines) == len(get(name).outputs) and all(line.startswith("PASS  ") for line in lines), lines
    assert err.getvalue() == ""


@pytest.mark.parametrize("name", NAMES)
def test_the_skeleton_fails_as_not_written_yet(name, tmp_path):
    path = tmp_path / f"{name}.py"
    assert main(["start", name, "--out", str(path)]) == 0
    code, lines, _ = grade_text(path.read_text(), path)
    assert code == 1
    assert lines == [f"FAIL  {get(name).graded}  not written yet (it raises NotImplementedError)"]


@pytest.mark.parametrize("name", NAMES)
def test_the_skeleton_is_the_solution_without_the_bodies_to_write(name):
    ex = get(name)
    skeleton, solution = skeleton_text(ex), solution_text(ex)
    assert skeleton.splitlines()[0] == solution.splitlines()[0] == f"# nprnn exercise: {name}"
    tree, full = ast.parse(skeleton), ast.parse(solution)
    assert ast.get_docstring(tree) == ast.get_docstring(full)
    assert "Where it usually goes wrong" in ast.get_docstring(tree)
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    solved = {f.name: f for f in full.body if isinstance(f, ast.FunctionDef)}
    assert set(functions) == set(solved) and set(ex.todo + ex.given) <= set(functions)
    for fname, f in functions.items():
        assert ast.get_docstring(f) == ast.get_docstring(solved[fname]) and ast.get_docstring(f)
        if fname in ex.todo:
            assert isinstance(f.body[-1], ast.Raise) and len(f.body) == 2  # the docstring and the raise
        else:
            assert ast.dump(f) == ast.dump(solved[fname])  # what the file gives is given whole


def test_the_registry_is_in_lesson_order_and_holds_every_exercise():
    assert [n for n in NAMES if n in REQUIRED] == REQUIRED
    lessons = [int(ex.lesson.removeprefix("lessons/")[:2]) for ex in EXERCISES]
    assert all((Path(__file__).parents[1] / ex.lesson).is_file() for ex in EXERCISES)
    assert lessons == sorted(lessons) and lessons[0] == 1 and lessons[-1] == 10


def test_the_two_judges_agree_on_every_case():
    """nprnn's gradients and centred differences of its forward, for every case of every
    exercise: if they disagreed, a right answer could fail."""
    for ex in EXERCISES:
        for case, ref, num in expected(ex):
            for k, g in num.items():
                err = np.linalg.norm(ref[k] - g) / max(np.linalg.norm(ref[k]) + np.linalg.norm(g), 1e-8)
                assert err < 1e-7, (ex.name, k, case.label, err)


# The grader's own cases are a seeded sweep, the same every run, so a learner who reruns `check`
# sees the same verdict (and nprnn needs no hypothesis at run time). Here hypothesis sweeps the
# seed of that sweep, so the one-step exercises are graded over shapes their fixed cases never
# draw: the solution must pass on all of them, and a typical wrong answer must fail.
CELL_EXERCISES = {  # name: (gate blocks, lstm, a wrong edit of the solution)
    "rnn_step_forward": (1, False, ("a = x @ Wx", "a = x @ Wx * 1.5")),
    "rnn_step_backward": (1, False, ("dWx = x.T @ da", "dWx = x.T @ da * 1.5")),
    "lstm_step_forward": (4, True, ("c = f * c_prev + i * g", "c = f * c_prev + g")),
    "lstm_step_backward": (4, True, ("dWh = h_prev.T @ da", "dWh = (h_prev + 0.5).T @ da")),
    "gru_step_backward": (3, False, ("dWh = h_prev.T @ dah", "dWh = (h_prev + 0.5).T @ dah")),
}


@pytest.mark.parametrize("name", sorted(CELL_EXERCISES))
def test_the_grader_holds_over_shapes_hypothesis_draws(name, tmp_path):
    import dataclasses

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from nprnn.exercises import grader
    from nprnn.exercises.specs_cells import cell_cases

    gates, lstm, (old, new) = CELL_EXERCISES[name]
    ex = get(name)
    right, wrong = solution_text(ex), replace_in_function(solution_text(ex), name, old, new)
    modules = {}
    for kind, text in (("right", right), ("wrong", wrong)):
        path = tmp_path / f"{kind}.py"
        path.write_text(text, encoding="utf-8")
        _, code = grader.read_exercise(path)
        modules[kind] = grader.run_module(ex, code, path)

    @settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(seed=st.integers(100, 2**20))
    def graded_at(seed):
        swept = dataclasses.replace(ex, name=f"{name}@{seed}", cases=lambda: cell_cases(seed, gates, lstm=lstm))
        try:
            assert all(passed for passed, _ in grader.grade(swept, modules["right"])), seed
            assert not all(passed for passed, _ in grader.grade(swept, modules["wrong"])), seed
        finally:
            grader._EXPECTED.pop(swept.name, None)

    graded_at()


@pytest.mark.parametrize("name, tags", [
    ("embedding_backward", {"repeated ids", "<pad> ids", "all pad", "no padding_idx", "1-D ids", "B=1"}),
    ("bptt", {"padding", "no padding", "a length 0", "T=1", "B=1"}),
    ("attention_backward", {"padding", "no padding", "an empty source", "B=1", "S=1"}),
    ("softmax_cross_entropy_backward", {"padding", "2-D logits", "ignore_index=None", "no padding"}),
    ("greedy_decode", {"rows ending at different steps", "a row that never says <eos>", "max_len=0", "max_len=1",
                       "<pad>/<sos> would win unmasked", "B=1"}),
    ("beam_search_step", {"first step", "k=1", "B=1"}),
    ("lstm_step_backward", {"B=1", "H=1", "D=1"}),
])
def test_the_cases_cover_the_edges(name, tags):
    covered = set().union(*(case.tags for case, _, _ in expected(get(name))))
    assert tags <= covered, tags - covered


# ---- what a failing line says ------------------------------------------------------------------


def test_a_wrong_dWh_is_named_and_the_rest_pass(tmp_path):
    text = replace_in_function(solution_text(get("lstm_step_backward")), "lstm_step_backward",
                               "dWh = h_prev.T @ da", "dWh = (h_prev + 0.5).T @ da")
    code, lines, _ = grade_text(text, tmp_path / "l.py")
    assert code == 1
    failing = [line for line in lines if line.startswith("FAIL")]
    assert len(failing) == 1 and len(lines) == 7, lines
    line = failing[0]
    assert line.startswith("FAIL  lstm_step_backward dWh  rel error ")
    assert "vs reference" in line and "vs finite differences" in line
    assert "dWh wrong (dx, dh_prev, dc_prev, dWx, dbx, dbh right)" in line
    assert "hint: dWh sums h_prev^T @ da over the batch" in line


def test_a_wrong_gate_block_is_named_with_its_own_hint(tmp_path):
    text = replace_in_function(solution_text(get("lstm_step_backward")), "lstm_step_backward",
                               "dg * (1 - g * g)", "dg * g * (1 - g)")
    code, lines, _ = grade_text(text, tmp_path / "l.py")
    dWx = next(line for line in lines if " dWx " in line)
    assert code == 1 and "wrong in gate block g, right in i, f, o" in dWx and "g is the one gate made by tanh" in dWx
    assert any(line.startswith("PASS  lstm_step_backward dc_prev") for line in lines)


def test_a_constant_factor_is_seen(tmp_path):
    text = replace_in_function(solution_text(get("rnn_step_backward")), "rnn_step_backward",
                               "dWx = x.T @ da", "dWx = 2 * x.T @ da")
    code, lines, _ = grade_text(text, tmp_path / "r.py")
    assert code == 1 and "it is 2 times the right answer" in next(line for line in lines if " dWx " in line)


def test_repeated_ids_are_seen_in_the_embedding(tmp_path):
    text = replace_in_function(solution_text(get("embedding_backward")), "embedding_backward",
                               "np.add.at(dW, flat_ids, flat_dout)", "dW[flat_ids] += flat_dout")
    code, lines, _ = grade_text(text, tmp_path / "e.py")
    assert code == 1 and len(lines) == 1
    assert "wrong only in the cases with repeated ids" in lines[0] and "np.add.at" in lines[0]


def test_forgetting_the_padding_in_bptt_is_seen(tmp_path):
    text = replace_in_function(solution_text(get("bptt")), "rnn_backward",
                               "dh_new = np.where(m, dh + dhs[t], 0.0)", "dh_new = dh + dhs[t]")
    code, lines, _ = grade_text(text, tmp_path / "b.py")
    assert code == 1 and all("wrong only in the cases with padding" in line for line in lines), lines


def test_greedy_decoding_that_keeps_eos_is_seen(tmp_path):
    text = replace_in_function(solution_text(get("greedy_decode")), "greedy_decode",
                               "if not done[b] and ids[b] != EOS:", "if not done[b]:")
    code, lines, _ = grade_text(text, tmp_path / "g.py")
    assert code == 1 and "a row keeps its <eos> (id 2)" in lines[0] and lines[1].startswith("PASS  greedy_decode steps")


def test_a_wrong_shape_names_both_shapes(tmp_path):
    text = replace_in_function(solution_text(get("lstm_step_backward")), "lstm_step_backward",
                               "return dx, dh_prev, dc_prev, dWx, dWh, dbx, dbh",
                               "return dx, dh_prev, dc_prev, dWx, dWh.T, dbx, dbh")
    code, lines, _ = grade_text(text, tmp_path / "l.py")
    line = next(line for line in lines if " dWh " in line)
    assert code == 1 and line.startswith("FAIL") and "has shape (" in line and "expected (" in line
    assert "transposed?" in line


def test_an_exception_is_one_line_with_its_line_number(tmp_path):
    text = replace_in_function(solution_text(get("gru_step_backward")), "gru_step_backward",
                               "dz = dh * (h_prev - n)", "dz = dh * (h_prev - n)\n    raise ValueError('oops\\nmore')")
    code, lines, _ = grade_text(text, tmp_path / "g.py")
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("FAIL  gru_step_backward  raised ValueError: oops (line ")
    assert ", in gru_step_backward; case " in lines[0]


def test_the_wrong_number_of_results_is_named(tmp_path):
    text = replace_in_function(solution_text(get("lstm_step_backward")), "lstm_step_backward",
                               "return dx, dh_prev, dc_prev, dWx, dWh, dbx, dbh",
                               "return dx, dh_prev, dWx, dWh, dbx, dbh")
    code, lines, _ = grade_text(text, tmp_path / "l.py")
    assert code == 1 and lines == ["FAIL  lstm_step_backward  returned 6 values, expected 7: "
                                   "(dx, dh_prev, dc_prev, dWx, dWh, dbx, dbh)"]


def test_calling_nprnn_itself_is_allowed_and_graded_by_its_numbers(tmp_path):
    text = replace_in_function(solution_text(get("rnn_step_forward")), "rnn_step_forward",
                               "    a = x @ Wx + bx + h_prev @ Wh + bh  # (B, H): the input's and the previous "
                               "state's share\n    h = np.tanh(a)\n",
                               "    from nprnn.cells import RNNCell\n"
                               "    cell = RNNCell(Wx.shape[0], Wx.shape[1], rng=0)\n"
                               "    for k, v in dict(Wx=Wx, Wh=Wh, bx=bx, bh=bh).items():\n"
                               "        cell.params[k][...] = v\n"
                               "    h, _ = cell.forward(x, h_prev)\n")
    code, lines, _ = grade_text(text, tmp_path / "r.py")
    assert code == 0, lines


def test_a_file_that_tampers_with_the_reference_is_still_graded_by_the_numbers(tmp_path):
    """The judges are computed before the learner's file runs: a file that patches nprnn's own
    backward and finite differences to agree with its wrong answer still fails (in a fresh
    process, so the patch cannot reach the other tests)."""
    text = solution_text(get("rnn_step_backward")).replace("import numpy as np\n", (
        "import numpy as np\n"
        "import nprnn.cells, nprnn.gradcheck\n"
        "nprnn.cells.RNNCell.backward = lambda self, d, c: (0 * c.x @ self.params['Wx'], 0 * d)\n"
        "nprnn.gradcheck.numerical_gradient = lambda f, x, eps=0: np.zeros(x.shape)\n"), 1)
    text = replace_in_function(text, "rnn_step_backward", "dx = da @ Wx.T", "dx = 0 * da @ Wx.T")
    path = tmp_path / "r.py"
    path.write_text(text)
    result = subprocess.run([sys.executable, "-m", "nprnn.exercises", "check", str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  rnn_step_backward dx  rel error 1 vs reference, 1 vs finite differences" in result.stdout


def test_check_leaves_no_module_behind(tmp_path):
    before = set(sys.modules)
    path = tmp_path / "b.py"
    path.write_text(solution_text(get("beam_search_step")))
    assert check(path, out=io.StringIO()) == 0
    assert set(sys.modules) - before == set()
    assert not (tmp_path / "__pycache__").exists()


# The mistakes each exercise's docstring warns about, made on purpose: each must fail, and its
# line must say something that points at the mistake.
LEARNER_BUGS = [
    ("rnn_step_forward", "rnn_step_forward", [("x @ Wx + bx + h_prev", "x @ Wx + h_prev")],
     ["FAIL  rnn_step_forward h  rel error", "hint: h = tanh(x @ Wx + bx + h_prev @ Wh + bh)"]),
    ("rnn_step_backward", "rnn_step_backward", [("da = dh * (1 - h * h)", "da = dh * (1 - np.arctanh(h) ** 2)")],
     ["dx wrong, and so are", "tanh' written with the output h"]),
    ("rnn_step_backward", "rnn_step_backward", [("dWh = h_prev.T @ da", "dWh = da.T @ h_prev")],
     ["dWh wrong (dx, dh_prev, dWx, dbx, dbh right)", "did you use h instead of h_prev?"]),
    ("embedding_backward", "embedding_backward", [("keep = flat_ids != padding_idx", "keep = flat_ids == flat_ids")],
     ["wrong only in the cases with <pad> ids", "its row gets no gradient"]),
    ("lstm_step_forward", "lstm_step_forward",  # CS231n's gate order, i f o g
     [("g = np.tanh(a[:, 2 * H : 3 * H])", "g = np.tanh(a[:, 3 * H : 4 * H])"),
      ("o = sigmoid(a[:, 3 * H : 4 * H])", "o = sigmoid(a[:, 2 * H : 3 * H])")],
     ["FAIL  lstm_step_forward c", "in that order"]),
    ("lstm_step_backward", "lstm_step_backward", [("dc_total = dc + dh", "dc_total = dh")],
     ["dx wrong, and so are", "c reaches the loss directly and through h"]),
    ("lstm_step_backward", "lstm_step_backward", [("dc_prev = dc_total * f", "dc_prev = dc * f")],
     ["dc_prev wrong (dx, dh_prev, dWx, dWh, dbx, dbh right)", "flows back through f alone"]),
    ("gru_step_backward", "gru_step_backward", [("dz = dh * (h_prev - n)", "dz = dh * (n - h_prev)")],
     ["wrong in gate block z, right in r, n", "the z block"]),
    ("gru_step_backward", "gru_step_backward", [("dh_prev = dh * z", "dh_prev = 0 * dh")],
     ["dh_prev wrong (dx, dWx, dWh, dbx, dbh right)", "dh * z directly"]),
    ("bptt", "rnn_backward", [("dWh += dWh_t", "dWh = dWh_t")],
     ["dWh wrong (dxs, dh0, dWx, dbx, dbh right)", "add each step's gradient"]),
    ("bptt", "rnn_backward", [("dh = dh_prev + np.where(m, 0.0, dh)", "dh = dh_prev")],
     ["wrong only in the cases with padding", "dh passed straight through"]),
    ("softmax_cross_entropy_backward", "softmax_cross_entropy_backward",
     [("dlogits *= real.reshape(-1, 1) / real.sum()", "dlogits /= real.size")],
     ["wrong only in the cases with padding", "not by every position"]),
    ("softmax_cross_entropy_backward", "softmax_cross_entropy_backward",
     [("return dloss * dlogits.reshape(p.shape)", "return dlogits.reshape(p.shape)")],
     ["it is off by a factor that differs from case to case", "dloss"]),
    ("greedy_decode", "greedy_decode", [("logits, state = step(ids, state)",
                                         "logits, state = step(np.full(batch_size, SOS), state)")],
     ["FAIL  greedy_decode ids", "rows differ"]),
    ("greedy_decode", "greedy_decode", [("if done.all():", "if done.any():")],
     ["a row stops before its own <eos>", "FAIL  greedy_decode steps"]),
    ("attention_backward", "attention_backward", [("de = w * (dw - (w * dw).sum(axis=2, keepdims=True))",
                                                   "de = w * dw")],
     ["dqueries wrong (dW_c, db_c right; dkeys, dW_a wrong too)", "not dw * w"]),
    ("attention_backward", "attention_backward", [("dQ = dQ + de @ KW", "dQ = de @ KW")],
     ["dqueries wrong (dkeys, dW_a, dW_c, db_c right)", "a query reaches out twice"]),
    ("beam_search_step", "beam_search_step", [("parent = best // V", "parent = best % k"),
                                              ("token = best % V", "token = best // k")],
     ["parent wrong (new_sum right; token wrong too)", "parent = index // V"]),
    ("beam_search_step", "beam_search_step", [("np.argsort(-total", "np.argsort(total")],
     ["FAIL  beam_search_step new_sum", "the k largest of each row, best first"]),
]


@pytest.mark.parametrize("name, function, edits, phrases", LEARNER_BUGS,
                         ids=[f"{b[0]}-{n}" for n, b in enumerate(LEARNER_BUGS)])
def test_a_typical_mistake_fails_with_a_line_that_points_at_it(name, function, edits, phrases, tmp_path):
    text = solution_text(get(name))
    for old, new in edits:
        text = replace_in_function(text, function, old, new)
    code, lines, _ = grade_text(text, tmp_path / f"{name}.py")
    assert code == 1
    report = "\n".join(lines)
    for phrase in phrases:
        assert phrase in report, (phrase, report)


# ---- mutation testing --------------------------------------------------------------------------

FLIP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Mod,
        ast.Mod: ast.FloorDiv, ast.MatMult: ast.Mult}
SWAP = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
        ast.Is: ast.IsNot, ast.IsNot: ast.Is}


class Mutator(ast.NodeTransformer):
    """Counts the mutation sites in the bodies of `functions` (their docstrings left alone), and
    applies the one numbered `target`, describing it in `self.applied`.

    Sites: + <-> -, * <-> /, // <-> %, @ -> * (in expressions and augmented assignments);
    x.T -> x; -x -> x and not x -> x; a comparison swapped (< >, <= >=, == !=, is / is not); an
    integer index or slice bound (not inside a call within the brackets) shifted by +1 and by -1;
    axis=0 <-> axis=1.
    """

    def __init__(self, functions, target=-1):
        self.functions, self.target, self.count, self.applied, self.inside = functions, target, 0, None, False

    def _hit(self, node, what):
        hit = self.count == self.target
        self.count += 1
        if hit:
            self.applied = f"line {node.lineno}: {what}"
        return hit

    def visit_FunctionDef(self, node):
        if node.name not in self.functions:
            return node
        self.inside = True
        body = node.body[1:] if ast.get_docstring(node) else node.body
        for stmt in body:
            self.visit(stmt)
        self.inside = False
        return node

    def _flip(self, node):
        if self.inside and type(node.op) in FLIP and self._hit(node, f"{type(node.op).__name__} flipped in "
                                                                     f"{ast.unparse(node)}"):
            node.op = FLIP[type(node.op)]()
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return self._flip(node)

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        return self._flip(node)

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if self.inside and node.attr == "T" and self._hit(node, f"dropped .T of {ast.unparse(node)}"):
            return node.value
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if self.inside and isinstance(node.op, (ast.USub, ast.Not)) and self._hit(node, f"dropped the sign or not "
                                                                                        f"of {ast.unparse(node)}"):
            return node.operand
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if self.inside and len(node.ops) == 1 and type(node.ops[0]) in SWAP and \
                self._hit(node, f"swapped the comparison {ast.unparse(node)}"):
            node.ops = [SWAP[type(node.ops[0])]()]
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if not self.inside:
            return node
        for const in index_constants(node.slice):
            if type(const.value) is int:
                for delta in (1, -1):
                    if self._hit(node, f"index {const.value} -> {const.value + delta} in {ast.unparse(node)}"):
                        const.value += delta
        return node

    def visit_keyword(self, node):
        self.generic_visit(node)
        if self.inside and node.arg == "axis" and isinstance(node.value, ast.Constant) and node.value.value in (0, 1) \
                and self._hit(node.value, f"axis={node.value.value} -> axis={1 - node.value.value}"):
            node.value = ast.Constant(1 - node.value.value)
        return node


def index_constants(node):
    """The constants of a subscript's index: its elements, slice bounds and their arithmetic,
    but not the arguments of a call inside the brackets (x[ids.reshape(-1)])."""
    if isinstance(node, ast.Constant):
        return [node]
    if isinstance(node, ast.Call):
        return []
    return [c for child in ast.iter_child_nodes(node) for c in index_constants(child)]


def mutants(ex):
    """(description, source) of the mutants of the solution's functions to write: at most
    MAX_MUTANTS, sampled with a seed of the exercise's name."""
    text = solution_text(ex)
    counter = Mutator(ex.todo)
    counter.visit(ast.parse(text))
    sites = list(range(counter.count))
    if len(sites) > MAX_MUTANTS:
        sites = sorted(random.Random(ex.name).sample(sites, MAX_MUTANTS))
    out = []
    for target in sites:
        mutator = Mutator(ex.todo, target)
        tree = mutator.visit(ast.parse(text))
        out.append((mutator.applied, text.splitlines()[0] + "\n" + ast.unparse(ast.fix_missing_locations(tree))))
    return out


def test_the_mutator_rewrites_only_the_functions_to_write():
    ex = get("lstm_step_backward")
    for what, text in mutants(ex)[:5]:
        tree = ast.parse(text)
        given = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "lstm_step_forward")
        original = next(f for f in ast.parse(solution_text(ex)).body
                        if isinstance(f, ast.FunctionDef) and f.name == "lstm_step_forward")
        assert ast.dump(given) == ast.dump(original), what


@pytest.mark.parametrize("name", NAMES)
def test_the_grader_catches_mutants(name, tmp_path):
    ex = get(name)
    found = mutants(ex)
    assert len(found) >= 3, f"only {len(found)} mutants of {name}: the set would say nothing"
    unmutated = solution_text(ex).splitlines()[0] + "\n" + ast.unparse(ast.parse(solution_text(ex)))
    assert grade_text(unmutated, tmp_path / "same.py")[0] == 0  # what ast.unparse writes still passes
    survivors = []
    for n, (what, text) in enumerate(found):
        code, _, _ = grade_text(text, tmp_path / f"mutant{n}.py")
        if code == 0:
            survivors.append(what)
    caught = len(found) - len(survivors)
    print(f"{name}: {caught}/{len(found)} mutants caught")
    assert caught >= 0.9 * len(found), f"{name}: {caught}/{len(found)} caught; survivors: {survivors}"


# ---- the command -------------------------------------------------------------------------------


def test_list_prints_every_exercise_in_lesson_order(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == NAMES
    for line, ex in zip(lines, EXERCISES):
        assert line.endswith("  " + ex.description)


def test_start_writes_a_skeleton_and_refuses_to_overwrite_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["start", "lstm_step_backward"]) == 0
    path = tmp_path / "lstm_step_backward.py"
    assert path.read_text() == skeleton_text(get("lstm_step_backward"))
    assert "check lstm_step_backward.py" in capsys.readouterr().out
    path.write_text("# nprnn exercise: lstm_step_backward\n# my work\n")
    assert main(["start", "lstm_step_backward"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nprnn exercise: error: ") and "--force" in err
    assert "my work" in path.read_text()  # untouched
    assert main(["start", "lstm_step_backward", "--solution", "--force"]) == 0
    assert path.read_text() == solution_text(get("lstm_step_backward"))


def test_start_and_check_print_any_path_in_one_line_without_a_traceback(tmp_path, capsys, monkeypatch):
    """A file name's byte that is not UTF-8 is printed as its escape (capsys's stdout, like a
    strict UTF-8 terminal's, cannot encode it), a line break in it as \\n: one line each."""
    monkeypatch.chdir(tmp_path)
    latin1, newline = os.fsdecode(b"caf\xe9.py"), "two\nlines.py"
    for name, shown in ((latin1, "caf\\udce9.py"), (newline, "two\\nlines.py")):
        assert main(["start", "bptt", "--out", name, "--solution"]) == 0
        assert Path(name).read_text(encoding="utf-8") == solution_text(get("bptt"))
        captured = capsys.readouterr()
        assert captured.err == "" and captured.out.count("\n") == 1 and captured.out.count(shown) == 2, captured
        assert main(["start", "bptt", "--out", name]) == 2  # it exists now
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1, captured
        assert captured.err.startswith("nprnn exercise: error: ") and shown in captured.err and "--force" in captured.err
        assert main(["check", name]) == 0
        captured = capsys.readouterr()
        assert captured.err == "" and captured.out.count("PASS") == captured.out.count("\n") > 0, captured
        assert main(["check", "missing-" + name]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1, captured
        assert f"no such file: missing-{shown}" in captured.err


def test_start_of_an_unknown_exercise_lists_the_names(capsys):
    assert main(["start", "lstm_backward"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "unknown exercise 'lstm_backward'" in captured.err and all(n in captured.err for n in NAMES)


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("# nprnn exercise: bptt\ndef rnn_backward(:\n", "does not compile: invalid syntax (line 2)"),
    ("import numpy as np\n", "has no exercise header"),
    ("# nprnn exercise: lstm_backwards\n", "unknown exercise 'lstm_backwards'"),
    ("# nprnn exercise: rnn_step_backward\ndef rnn_step_forward(x):\n    pass\n", "has no function rnn_step_backward"),
    ("# nprnn exercise: rnn_step_forward\nimport numpy as np\nnp.zeros(3)[7]\n", "raised IndexError when imported"),
])
def test_check_of_a_file_it_cannot_grade_is_one_line_and_exit_2(content, message, tmp_path, capsys):
    path = tmp_path / "work.py"
    if content is not None:
        path.write_text(content)
    assert main(["check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured
    assert captured.err.startswith("nprnn exercise: error: ") and message in captured.err
    assert "Traceback" not in captured.err


def test_python_dash_m_runs_start_and_check_end_to_end(tmp_path):
    def run(*argv):
        return subprocess.run([sys.executable, "-m", "nprnn.exercises", *argv], capture_output=True, text=True,
                              cwd=tmp_path, timeout=120)

    started = run("start", "beam_search_step", "--solution")
    assert started.returncode == 0 and (tmp_path / "beam_search_step.py").exists()
    checked = run("check", "beam_search_step.py")
    assert checked.returncode == 0 and checked.stdout.count("PASS") == 3, checked.stdout + checked.stderr
    missing = run("check", "nothing.py")
    assert missing.returncode == 2 and missing.stdout == "" and missing.stderr.count("\n") == 1
    assert "Traceback" not in missing.stderr
    usage = run("frobnicate")
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1


def test_register_adds_the_exercise_command_to_a_parser(capsys):
    parser = argparse.ArgumentParser(prog="nprnn")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["exercise", "list"])
    assert args.func(args) == 0 and capsys.readouterr().out.split()[0] == NAMES[0]
    args = parser.parse_args(["exercise", "start", "bptt", "--out", "x.py", "--solution", "--force"])
    assert (args.name, args.out, args.solution, args.force) == ("bptt", "x.py", True, True)
    args = parser.parse_args(["exercise", "check", "x.py"])
    assert args.path == "x.py" and callable(args.func)
