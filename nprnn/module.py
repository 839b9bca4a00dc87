"""`Module`: named parameters, their gradients, and the checks made at the public boundary.

A module owns parameters (NumPy arrays) and, beside each, a gradient array of the same shape
and the same key. A module made of other modules (an encoder holds an embedding and a cell)
lists theirs under dotted names: ``encoder.cell.Wh``. ``params`` and ``grads`` always hold the
live arrays, so an optimizer that writes ``p -= lr * g`` into them trains the model.
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


class Module:
    """Base class: own parameters (``add_param``) plus child modules (``add_module``)."""

    def __init__(self):
        self._params = {}
        self._grads = {}
        self._modules = {}

    def add_param(self, name, value):
        """Register `value` as a parameter and create its zero gradient; returns `value`."""
        self._params[name] = value
        self._grads[name] = np.zeros_like(value)
        return value

    def add_module(self, name, module):
        """Register a child module; its parameters appear as ``name.<its names>``."""
        self._modules[name] = module
        return module

    def _named(self, which):
        out = dict(getattr(self, which))
        for prefix, child in self._modules.items():
            for key, value in child._named(which).items():
                out[f"{prefix}.{key}"] = value
        return out

    @property
    def params(self):
        """Flat dict: dotted name -> live parameter array."""
        return self._named("_params")

    @property
    def grads(self):
        """Flat dict: dotted name -> live gradient array (same keys as ``params``)."""
        return self._named("_grads")

    def zero_grad(self):
        """Set every gradient to zero, in place (backward passes add into them)."""
        for g in self.grads.values():
            g.fill(0.0)

    def state_dict(self):
        """A copy of every parameter, keyed by dotted name."""
        return {k: v.copy() for k, v in self.params.items()}

    def load_state_dict(self, state):
        """Copy arrays from `state` into the live parameters; keys and shapes must match exactly."""
        params = self.params
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise ValueError(f"state keys do not match the module: missing {missing}, unexpected {unexpected}")
        for k, p in params.items():
            v = np.asarray(state[k])
            if v.shape != p.shape:
                raise ValueError(f"state[{k!r}] must have shape {p.shape}, got {v.shape}")
            p[...] = v

    def num_params(self):
        """Total number of scalar parameters."""
        return sum(p.size for p in self.params.values())
