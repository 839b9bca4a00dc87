"""Reading tab-separated parallel corpora (the Tatoeba / manythings.org format).

Each line is ``source<TAB>target``, optionally followed by more tab-separated fields (Tatoeba's
attribution), which are ignored. Blank lines are skipped; lines without a non-empty source and
target are skipped too, and both are counted, so a user learns how much of a file was used.
"""
from pathlib import Path
from typing import NamedTuple


class Corpus(NamedTuple):
    """pairs: list of (source, target) strings; blank, malformed: lines skipped."""

    pairs: list
    blank: int
    malformed: int


def read_tsv(path):
    """Read a tab-separated parallel corpus; a file with no usable pair is a ValueError."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such corpus file: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text (byte {e.start}): expected source<TAB>target lines") from None
    pairs, blank, malformed = [], 0, 0
    for line in text.splitlines():
        if not line.strip():
            blank += 1
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            malformed += 1
            continue
        pairs.append((fields[0].strip(), fields[1].strip()))
    if not pairs:
        raise ValueError(
            f"{path} holds no usable source<TAB>target pair ({blank} blank and {malformed} malformed lines)"
        )
    return Corpus(pairs, blank, malformed)
