"""Reading tab-separated parallel corpora (the Tatoeba / manythings.org format), and splitting
them honestly.

Each line is ``source<TAB>target``, optionally followed by a third field (Tatoeba's
attribution), which is ignored; every line must have the same number of fields. Lines are split
at "\\n" only (see files.read_lines), so a U+2028 inside a sentence stays in it; invalid UTF-8,
a changing number of columns or an empty source or target is refused with its line number.
Blank lines are skipped and counted.

`split_by_source` removes duplicate pairs, then splits by source sentence: every translation
of one sentence lands on the same side, so no test sentence was seen in training.

Imports: files (from the package above: it knows nothing of the model).
"""
from typing import NamedTuple

import numpy as np

from ..files import read_lines


class Corpus(NamedTuple):
    """pairs: list of (source, target) strings, in file order; blank: lines skipped."""

    pairs: list
    blank: int


def read_tsv(path, *, swap_columns=False):
    """Read a tab-separated parallel corpus; a ValueError (files.FileProblem) names the line of
    any problem. swap_columns=True reads column 2 as the source and column 1 as the target."""
    pairs, blank, columns = [], 0, None
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            blank += 1
            continue
        fields = line.split("\t")
        if columns is None:
            columns = (len(fields), number)
            if not 2 <= len(fields) <= 3:
                raise ValueError(f"{path} line {number} has {len(fields)} tab-separated fields; expected "
                                 f"source<TAB>target, optionally <TAB>attribution")
        elif len(fields) != columns[0]:
            raise ValueError(f"{path} line {number} has {len(fields)} tab-separated fields, "
                             f"but line {columns[1]} has {columns[0]}")
        source, target = (fields[1], fields[0]) if swap_columns else (fields[0], fields[1])
        if not source.strip() or not target.strip():
            raise ValueError(f"{path} line {number} has an empty {'source' if not source.strip() else 'target'}")
        pairs.append((source.strip(), target.strip()))
    if not pairs:
        raise ValueError(f"{path} holds no source<TAB>target line ({blank} blank lines)")
    return Corpus(pairs, blank)


def split_by_source(pairs, fractions, seed):
    """(pairs without duplicates split into len(fractions) + 1 parts, number of duplicates).

    fractions: the sizes of the later parts (validation, test) as fractions of the distinct
    source sentences; the first part (training) gets the rest. Sources are shuffled by `seed`
    and dealt out whole: all the translations of a sentence go to one part.
    """
    unique = list(dict.fromkeys(pairs))  # the first of each duplicate pair, in file order
    by_source = {}
    for source, target in unique:
        by_source.setdefault(source, []).append((source, target))
    sources = list(by_source)
    order = np.random.default_rng(seed).permutation(len(sources))
    sizes = [max(1, int(round(f * len(sources)))) for f in fractions]
    if sum(sizes) >= len(sources):
        raise ValueError(f"{len(sources)} distinct source sentences are too few to hold out {sizes} of them "
                         f"and train on the rest")
    bounds = np.cumsum([len(sources) - sum(sizes)] + sizes)
    parts, start = [], 0
    for end in bounds:
        parts.append([pair for i in order[start:end] for pair in by_source[sources[i]]])
        start = end
    return parts, len(pairs) - len(unique)
