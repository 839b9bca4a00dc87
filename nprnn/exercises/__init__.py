"""Graded exercises: learners write the backward passes (and a few forward passes and decoders)
themselves, and nprnn grades them.

    nprnn exercise list                         the exercises, in lesson order
    nprnn exercise start lstm_step_backward     writes lstm_step_backward.py: equations, shapes,
                                                hints, and the function to write
    nprnn exercise check lstm_step_backward.py  one PASS/FAIL line per output

Every gradient is judged twice, against nprnn's own implementation and against centred finite
differences in float64, over a seeded sweep of shapes and edge cases (a batch of one, a length
of one, padding, a sequence of length 0, repeated ids, <pad>); a failure names the culprit
(``dWh wrong (dx, dh_prev right)``) and gives a hint aimed at it.

Modules: base (Exercise, Output, Case), specs_cells / specs_sequences / specs_search (the cases
and references of each exercise), registry (lesson order, skeleton and solution texts; the
solutions are in solutions/), grader (`check`), diagnose (what a FAIL line says), cli (the command).
"""
from .grader import check
from .registry import EXERCISES, get, names

__all__ = ["EXERCISES", "check", "get", "names"]
