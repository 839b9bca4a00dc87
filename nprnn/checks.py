"""Argument checks for the public boundary: each raises a ValueError or TypeError that names the
argument and says what was expected, so a mistake never surfaces as an IndexError from deep
inside a matmul, and never as a silently wrong answer.

Imports NumPy only; every other module may import it.
"""
import numpy as np


def as_rng(rng):
    """A `numpy.random.Generator` from a Generator, an int seed, or None (seed 0).

    nprnn never touches NumPy's global random state: the same seed gives the same run.
    """
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}")


def as_float_dtype(dtype):
    """np.float32 or np.float64 from anything NumPy reads as one of them, else TypeError."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


def check_positive_int(name, value):
    """Raise unless `value` is a positive int (sizes of layers, vocabularies, batches)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def check_probability(name, value):
    """Raise unless `value` is a number in [0, 1) (a dropout probability: 1 would drop everything)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1), got {value!r}")
    return float(value)


def check_array(name, x, shape, dtype):
    """Raise a ValueError/TypeError naming `name` unless x is an ndarray of `shape` and `dtype`.

    `shape` is a tuple whose entries are ints or None (any size); its length is the rank wanted.
    Shapes are written as a string like ``(T, B, 16)`` in the message.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
    if x.ndim != len(shape):
        raise ValueError(f"{name} must have {len(shape)} dimensions {want}, got shape {x.shape}")
    for got, expected in zip(x.shape, shape):
        if expected is not None and got != expected:
            raise ValueError(f"{name} must have shape {want}, got {x.shape}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype)} (the module's dtype), got {x.dtype}")
    return x


def check_ids(name, ids, shape, num_embeddings):
    """Raise unless `ids` is an integer array of `shape` with every entry in 0..num_embeddings-1."""
    if not isinstance(ids, np.ndarray):
        raise TypeError(f"{name} must be a numpy integer array, got {type(ids).__name__}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{name} must hold integer token ids, got dtype {ids.dtype}")
    check_array(name, ids, shape, None)
    if ids.size and (ids.min() < 0 or ids.max() >= num_embeddings):
        raise ValueError(
            f"{name} must hold token ids in 0..{num_embeddings - 1}, got values in {ids.min()}..{ids.max()}"
        )
    return ids


def check_lengths(lengths, T, B, name="lengths"):
    """lengths as an int array (B,) with values in 0..T, or a ValueError/TypeError naming it."""
    arr = np.asarray(lengths)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise TypeError(f"{name} must be integers, got dtype {arr.dtype}")
    if arr.shape != (B,):
        raise ValueError(f"{name} must have shape ({B},) (one per sequence), got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > T):
        raise ValueError(f"{name} must be in 0..{T} (the number of timesteps), got values in {arr.min()}..{arr.max()}")
    return arr.astype(np.int64)
