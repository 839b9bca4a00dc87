"""`Module`: named parameters and their gradients, training and evaluation modes, state dicts.

A module owns parameters (NumPy arrays) and, beside each, a gradient array of the same shape
and the same key. A module made of other modules (an encoder holds an embedding and a cell)
lists theirs under dotted names: ``encoder.cell.Wh``. ``params`` and ``grads`` always hold the
live arrays, so an optimizer that writes ``p -= lr * g`` into them trains the model.

As in PyTorch: ``train()`` and ``eval()`` switch every child (dropout acts only in training,
and a new module starts in training mode); ``zero_grad()``, ``parameters()``,
``named_parameters()``; ``state_dict()`` and ``load_state_dict()`` use PyTorch's names and
layouts where PyTorch has the same parameter (an LSTM cell's ``Wx`` (D, 4H) is saved as
``weight_ih`` (4H, D)), so a state dict loads into the PyTorch module of the same shape.

Each module keeps what its backward needs from its last forward (its tape) and uses it once:
``_pop_tape`` hands it over, or says that a forward must come first.

Imports NumPy only.
"""
import numpy as np


class Module:
    """Base class: own parameters (``add_param``) plus child modules (``add_module``)."""

    # Own parameter name -> (PyTorch's name, stored transposed?) for state dicts; names not
    # listed keep their own name and layout.
    torch_names = {}

    def __init__(self):
        self._params = {}
        self._grads = {}
        self._modules = {}
        self._tape = None
        self.training = True

    def add_param(self, name, value):
        """Register `value` as a parameter and create its zero gradient; returns `value`."""
        self._params[name] = value
        self._grads[name] = np.zeros_like(value)
        return value

    def add_module(self, name, module):
        """Register a child module; its parameters appear as ``name.<its names>``."""
        self._modules[name] = module
        return module

    def _pop_tape(self, needs="forward"):
        """What the last forward kept for backward, handed over once."""
        tape = self._tape
        if tape is None:
            raise RuntimeError(f"{type(self).__name__}.backward needs a {needs} first (each {needs} allows one backward)")
        self._tape = None
        return tape

    # ---- parameters and gradients --------------------------------------------------------------

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

    def modules(self):
        """This module and every module inside it, depth first (as PyTorch's ``modules()``)."""
        yield self
        for child in self._modules.values():
            yield from child.modules()

    def parameters(self):
        """The live parameter arrays, in a fixed order."""
        return list(self.params.values())

    def named_parameters(self):
        """(dotted name, live parameter array) pairs, in the order of ``parameters()``."""
        return list(self.params.items())

    def zero_grad(self):
        """Set every gradient to zero, in place (backward passes add into them)."""
        for g in self.grads.values():
            g.fill(0.0)

    def num_params(self):
        """Total number of scalar parameters."""
        return sum(p.size for p in self.params.values())

    # ---- modes ---------------------------------------------------------------------------------

    def train(self, mode=True):
        """Training mode (dropout on) for this module and every child; returns self."""
        self.training = bool(mode)
        for child in self._modules.values():
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode (dropout off): ``train(False)``."""
        return self.train(False)

    # ---- state dicts ---------------------------------------------------------------------------

    def _state_items(self):
        """(state key, own parameter name, transposed?) for every parameter, children included."""
        items = []
        for name in self._params:
            key, transposed = self.torch_names.get(name, (name, False))
            items.append((key, name, transposed, self))
        for prefix, child in self._modules.items():
            items += [(f"{prefix}.{key}", name, t, owner) for key, name, t, owner in child._state_items()]
        return items

    def _torch_layout(self, which="_params"):
        """A copy of every parameter (or gradient, which="_grads") in PyTorch's names and layout."""
        return {key: (getattr(owner, which)[name].T if t else getattr(owner, which)[name]).copy()
                for key, name, t, owner in self._state_items()}

    def state_dict(self):
        """A copy of every parameter, keyed and laid out as PyTorch would (see the module doc)."""
        return self._torch_layout("_params")

    def load_state_dict(self, state):
        """Copy arrays from a ``state_dict()`` into the live parameters; keys and shapes must match."""
        items = self._state_items()
        keys = {key for key, *_ in items}
        missing, unexpected = sorted(keys - set(state)), sorted(set(state) - keys)
        if missing or unexpected:
            raise ValueError(f"state keys do not match the module: missing {missing}, unexpected {unexpected}")
        for key, name, transposed, owner in items:
            p = owner._params[name]
            v = np.asarray(state[key])
            v = v.T if transposed else v
            if v.shape != p.shape:
                want = p.shape[::-1] if transposed else p.shape
                raise ValueError(f"state[{key!r}] must have shape {want}, got {np.asarray(state[key]).shape}")
            p[...] = v
