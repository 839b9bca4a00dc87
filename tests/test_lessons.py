"""Every lesson runs top to bottom as a script (its own asserts checking its claims) and
writes at least one figure; ends with "Try it" and the exercises it prepares (held to the
exercise registry); and opens as a notebook that shows its figures inline (when jupytext,
nbclient and ipykernel are installed: the `notebooks` extra)."""
import re
import runpy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

LESSONS = sorted((Path(__file__).resolve().parent.parent / "lessons").glob("[0-9][0-9]_*.py"))


def test_the_path_through_the_lessons_is_there():
    names = [p.stem for p in LESSONS]
    assert len(names) >= 8
    assert [n[:2] for n in names] == [f"{i:02d}" for i in range(1, len(names) + 1)]  # numbered, no gaps
    readme = (LESSONS[0].parent / "README.md").read_text(encoding="utf-8")
    for p in LESSONS:
        assert p.name in readme
    assert not list(LESSONS[0].parent.glob("*.ipynb"))


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_and_writes_a_figure(path, tmp_path, monkeypatch):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# %% [markdown]\n# # Lesson") and "\n# %%\n" in text  # percent format
    monkeypatch.setenv("NPRNN_FIGURES", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")
    figures = list(tmp_path.rglob("*.png"))
    assert figures, f"{path.name} wrote no figure"
    assert all(f.stat().st_size > 5000 for f in figures)


EXERCISE_COMMAND = re.compile(r"nprnn exercise start (\S+)")


def _sections(text):
    """The level-2 headings of a lesson's markdown cells, in order."""
    return re.findall(r"^# ## (.+)$", text, re.M)


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_ends_with_try_it_and_the_exercises_it_prepares(path):
    from nprnn.exercises import EXERCISES

    text = path.read_text(encoding="utf-8")
    sections = _sections(text)
    assert sections[-2:] == ["Try it", "Exercises"], f"{path.name} must end with ## Try it, then ## Exercises"
    exercises_section = text[text.rindex("# ## Exercises"):]
    named = EXERCISE_COMMAND.findall(exercises_section)
    assert named, f"{path.name}: its Exercises section names no `nprnn exercise start NAME` command"
    registry = {ex.name: ex for ex in EXERCISES}
    unknown = [name for name in named if name not in registry]
    assert not unknown, f"{path.name} names exercises the registry does not hold: {unknown}"
    own = [ex.name for ex in EXERCISES if Path(ex.lesson).name == path.name]
    missing = [name for name in own if name not in named]
    assert not missing, f"{path.name} does not name its own exercises {missing}"


def test_every_exercise_belongs_to_a_lesson_that_exists():
    from nprnn.exercises import EXERCISES

    names = {p.name for p in LESSONS}
    assert all(Path(ex.lesson).name in names for ex in EXERCISES)


NOTEBOOK_LESSON = LESSONS[0]  # the quickest to run; every lesson is the same format


def _notebook_tools():
    """jupytext and nbclient, skipping without the `notebooks` extra; where CI sets
    NPRNN_REQUIRE_NOTEBOOKS=1 a missing package is a failure, not a skip."""
    import importlib
    import os

    names = ("jupytext", "nbclient", "ipykernel")
    if os.environ.get("NPRNN_REQUIRE_NOTEBOOKS") == "1":
        return [importlib.import_module(name) for name in names]
    return [pytest.importorskip(name) for name in names]


def test_a_lesson_runs_as_a_notebook_with_its_figures_inline(tmp_path, monkeypatch):
    jupytext, nbclient, _ = _notebook_tools()
    monkeypatch.setenv("NPRNN_FIGURES", str(tmp_path / "figures"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel picks its own (inline) backend
    notebook = jupytext.read(NOTEBOOK_LESSON)  # the percent-format script, as a notebook
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# Lesson")
    assert sum(cell.cell_type == "code" for cell in notebook.cells) >= 3
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.get("output_type") == "error"]
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    written = list((tmp_path / "figures").rglob("*.png"))
    assert written, "the notebook wrote no figure file"
    assert len(images) == len(written), "each figure should be shown inline exactly once"
