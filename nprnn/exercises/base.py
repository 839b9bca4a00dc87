"""What every exercise is made of: `Exercise`, its graded `Output`s and its test `Case`s; the
shape sweep that draws the cases; and the finite-difference helper every backward exercise uses.

An exercise is a file a learner fills in (its text is ``solutions/NAME.py`` with the bodies of
the functions in ``todo`` cut out) and the means to grade it:

    cases()            the seeded test cases, the same every run
    reference(case)    {output name: what nprnn's own implementation gives}
    numeric(case)      {output name: centred finite differences in float64} (backward exercises)
    run(module, case)  calls the learner's functions, returns their outputs as a tuple

The grader (grader.py) compares ``run`` with both judges, output by output.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..gradcheck import numerical_gradient

SOLUTIONS = Path(__file__).with_name("solutions")
EPS = 1e-6  # the finite-difference step: rounding (1/eps) and truncation (eps^2) balance near here


@dataclass(frozen=True)
class Output:
    """One graded output of a function: dWh of lstm_step_backward, h of rnn_step_forward...

    wrt:       the input it is the gradient of (checked against finite differences too), or None
    kind:      "array" (relative error), "exact" (integers, equal), "lists" (lists of token ids)
    hint:      what to look at when it is wrong
    tag_hints: a sharper hint for when it is wrong only in the cases carrying a tag
    blocks:    names of the gate blocks along the last axis (i, f, g, o), to say which are wrong
    time_axis: True when axis 0 is time, to say at which timesteps it is wrong
    """

    name: str
    hint: str
    wrt: Optional[str] = None
    kind: str = "array"
    tag_hints: dict = field(default_factory=dict)
    blocks: Optional[tuple] = None
    time_axis: bool = False


@dataclass
class Case:
    """One test case: the inputs (copied before each call), a label and tags for the report."""

    label: str
    inputs: dict
    tags: frozenset = frozenset()


@dataclass(frozen=True)
class Exercise:
    """One exercise: what the learner writes, and how each of its outputs is judged.

    run(module, inputs) calls the learner's functions on a copy of a case's inputs and returns
    what the graded function returned; `returns` names those values (one name: a single value),
    and `outputs` are the ones graded. observe(inputs), if given, adds what the run left behind
    in its inputs (how often greedy_decode called step). all_wrong_hint replaces the outputs'
    own hints when every one of them is wrong: then the mistake is in what they share; a block
    hint replaces an output's when only that gate block of it is wrong.
    """

    name: str
    description: str
    lesson: str  # the lesson it belongs to, e.g. "lessons/03_lstm_cell.py"
    todo: tuple  # the functions the learner writes
    given: tuple  # the functions the file already holds, which `run` calls too
    returns: tuple  # the names of what the graded function returns, in order
    outputs: tuple  # of Output: the graded ones
    cases: Callable[[], list]
    reference: Callable[[Case], dict]
    run: Callable[[object, dict], object]
    numeric: Optional[Callable[[Case], dict]] = None
    observe: Optional[Callable[[dict], dict]] = None
    all_wrong_hint: str = ""
    block_hints: dict = field(default_factory=dict)  # gate block -> hint, when it alone is wrong

    @property
    def graded(self):
        """The function whose outputs are graded (the last one the learner writes)."""
        return self.todo[-1]

    @property
    def solution_path(self):
        return SOLUTIONS / f"{self.name}.py"


def sweep(seed, n, **ranges):
    """n dicts of sizes drawn from a seeded generator: sweep(0, 4, B=(1, 4), H=(1, 5))."""
    rng = np.random.default_rng(seed)
    return [{k: int(rng.integers(lo, hi + 1)) for k, (lo, hi) in ranges.items()} for _ in range(n)]


def label(**sizes):
    """'B=2 D=3 H=4' from B=2, D=3, H=4."""
    return " ".join(f"{k}={v}" for k, v in sizes.items())


def size_tags(**sizes):
    """The edge cases a shape is: {'B=1'} for a batch of one, and so on for each size of 1."""
    return frozenset(f"{k}=1" for k, v in sizes.items() if v == 1)


def finite_differences(loss, inputs, wrt, eps=EPS):
    """{output name: d loss / d inputs[input name]} for each (output, input) in `wrt`.

    `loss()` must read the arrays of `inputs` each time it runs: they are nudged in place."""
    return {out: numerical_gradient(loss, inputs[name], eps) for out, name in wrt.items()}


def weighted_sum(outputs, weights):
    """sum over k of sum(outputs[k] * weights[k]): the scalar whose gradient backward computes."""
    return float(sum(np.sum(o * w) for o, w in zip(outputs, weights)))
