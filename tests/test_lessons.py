"""Every lesson runs top to bottom as a script (its own asserts checking its claims) and
writes at least one figure."""
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
