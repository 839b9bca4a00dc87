"""Padding and batching: lists of token ids -> time-major (T, B) int arrays and lengths."""
from typing import NamedTuple

import numpy as np

from ..checks import as_rng, check_positive_int
from .vocab import PAD


class Batch(NamedTuple):
    """src (S, B) and tgt (T, B) ids, padded with 0; src_lengths (B,); index: rows of the data."""

    src: np.ndarray
    src_lengths: np.ndarray
    tgt: np.ndarray
    index: np.ndarray


def pad_batch(seqs):
    """A list of B id lists -> (ids (T, B) int64 padded with <pad>, lengths (B,)), T the longest."""
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    ids = np.full((int(lengths.max(initial=0)), len(seqs)), PAD, dtype=np.int64)
    for b, s in enumerate(seqs):
        ids[: len(s), b] = s
    return ids, lengths


def lengths_from_padding(ids, name="src"):
    """Each column's number of tokens before its padding; padding must only trail."""
    real = ids != PAD
    lengths = real.sum(axis=0)
    trailing = np.arange(ids.shape[0])[:, None] < lengths[None, :]
    if not np.array_equal(real, trailing):
        bad = int(np.nonzero((real != trailing).any(axis=0))[0][0])
        raise ValueError(f"{name} column {bad} has <pad> (0) before a real token; padding must come at the end")
    return lengths


def make_batches(src_ids, tgt_ids, batch_size, *, rng=None, shuffle=True):
    """Batches of similar length, so that little of each is padding.

    src_ids, tgt_ids: lists of id lists (the targets already <sos> ... <eos>). The rows are
    shuffled by ``rng``, sorted by length (a stable sort, so equal lengths stay shuffled), cut
    into batches, and the batches shuffled. With shuffle=False, rows keep their order.
    """
    if len(src_ids) != len(tgt_ids):
        raise ValueError(f"src_ids and tgt_ids must be the same length, got {len(src_ids)} and {len(tgt_ids)}")
    batch_size = check_positive_int("batch_size", batch_size)
    n = len(src_ids)
    if shuffle:
        rng = as_rng(rng)
        order = rng.permutation(n)
        keys = np.array([len(src_ids[i]) * 1000 + len(tgt_ids[i]) for i in order])
        order = order[np.argsort(keys, kind="stable")]
    else:
        order = np.arange(n)
    chunks = [order[k : k + batch_size] for k in range(0, n, batch_size)]
    if shuffle:
        chunks = [chunks[i] for i in rng.permutation(len(chunks))]
    batches = []
    for idx in chunks:
        src, src_lengths = pad_batch([src_ids[i] for i in idx])
        tgt, _ = pad_batch([tgt_ids[i] for i in idx])
        batches.append(Batch(src, src_lengths, tgt, idx))
    return batches
