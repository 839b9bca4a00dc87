"""Recurrent cells: one timestep of a plain RNN, an LSTM and a GRU, forward and backward.

Shapes: B batch, D input size, H hidden size, G the number of gate blocks (RNN 1, GRU 3, LSTM 4).

Every cell holds four parameters, PyTorch's four tensors transposed so that a batch of row
vectors multiplies them from the left:

    Wx (D, G*H) = weight_ih.T     bx (G*H,) = bias_ih
    Wh (H, G*H) = weight_hh.T     bh (G*H,) = bias_hh

The G blocks of H columns are the gates, in PyTorch's order: LSTM i, f, g, o; GRU r, z, n.
Keeping both biases, as PyTorch does, makes weights move between the two libraries exactly.

The one-timestep API is

    state, cache = cell.forward(x, state)             # x (B, D); state h, or (h, c) for an LSTM
    dx, dstate_prev = cell.backward(dstate, cache)    # adds this step's weight gradients into cell.grads

and it is built from pieces that `Recurrent` also uses, so that nothing but the recurrence
itself is done one timestep at a time:

    xp = cell.input_projection(x)                     # x @ Wx + bias: needs no previous state
    state, step_cache = cell.step(xp, state)          # the recurrence: h_prev @ Wh, the gates
    dxp, dah, dstate_prev = cell.step_backward(dstate, step_cache)
    cell.accumulate_grads(x, [step_cache], dxp, dah)  # dWx, dWh, dbx, dbh from the step's gradients
    dx = cell.input_projection_backward(dxp)          # dxp @ Wx.T

`dxp` is the gradient of the input projection (what `x @ Wx + bx` feeds into). `dah` is the
gradient of the hidden projection (what `h_prev @ Wh + bh` feeds into) where it differs from
`dxp`, and None where it does not: an LSTM or plain RNN simply adds the two projections, so
their gradients are one array; a GRU with the reset after the matmul scales part of the hidden
projection by r, so there the two differ.

The state dict uses PyTorch's names and layout (``weight_ih`` = Wx.T, ``weight_hh`` = Wh.T,
``bias_ih`` = bx, ``bias_hh`` = bh), so ``torch.nn.LSTMCell(D, H).load_state_dict`` takes it
(as tensors) unchanged.

Imports: functional, checks, module.
"""
from typing import NamedTuple, Optional

import numpy as np

from .checks import as_float_dtype, as_rng, check_array, check_positive_int
from .functional import gate_blocks, matmul, matmul_weight_grad, sigmoid, sigmoid_grad, squash, squash_grad, tanh, tanh_grad
from .module import Module


def _transposed(Wh, Wh_T):
    """Wh.T (G*H, H): the caller's contiguous copy Wh_T if it made one, else the transposed view."""
    return Wh.T if Wh_T is None else Wh_T


class CellCache(NamedTuple):
    """What `Cell.forward` hands to `Cell.backward`: the input and the recurrence's own cache."""

    x: np.ndarray
    step: tuple


class Cell(Module):
    """What RNNCell, LSTMCell and GRUCell share: parameters, validation, PyTorch layouts."""

    num_gates = 1  # G: blocks of H columns in Wx and Wh
    state_is_pair = False  # True for the LSTM, whose state is (h, c)
    # RNN and LSTM add the two projections, so both biases can join x @ Wx, once for all steps;
    # a GRU keeps bh with h_prev @ Wh, where its reset gate scales part of it.
    hidden_bias_in_input = True
    torch_names = {"Wx": ("weight_ih", True), "Wh": ("weight_hh", True), "bx": ("bias_ih", False),
                   "bh": ("bias_hh", False)}

    def __init__(self, input_size, hidden_size, *, rng=None, dtype=np.float64):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.dtype = as_float_dtype(dtype)
        rng = as_rng(rng)
        D, H, GH = self.input_size, self.hidden_size, self.num_gates * self.hidden_size
        # PyTorch's initialisation, U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias: it keeps
        # each pre-activation O(1) at the start whatever H is, and a model initialised here or
        # in PyTorch starts from the same distribution.
        k = 1.0 / np.sqrt(H)
        uniform = lambda *shape: rng.uniform(-k, k, size=shape).astype(self.dtype)  # noqa: E731
        self.add_param("Wx", uniform(D, GH))
        self.add_param("Wh", uniform(H, GH))
        self.add_param("bx", uniform(GH))
        self.add_param("bh", uniform(GH))

    def __repr__(self):
        return f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, dtype={self.dtype})"

    # ---- the state -------------------------------------------------------------------------

    def initial_state(self, batch_size):
        """Zeros: h (B, H), or the pair (h, c) for an LSTM."""
        B = check_positive_int("batch_size", batch_size)
        zeros = lambda: np.zeros((B, self.hidden_size), dtype=self.dtype)  # noqa: E731
        return (zeros(), zeros()) if self.state_is_pair else zeros()

    def check_state(self, name, state, batch_size):
        """Raise a clear error unless `state` is this cell's state for `batch_size` rows."""
        shape = (batch_size, self.hidden_size)
        if self.state_is_pair:
            if not (isinstance(state, (tuple, list)) and len(state) == 2):
                raise TypeError(f"{name} must be a pair (h, c) of arrays of shape {shape} for an LSTM, got {type(state).__name__}")
            check_array(f"{name}[0] (h)", state[0], shape, self.dtype)
            check_array(f"{name}[1] (c)", state[1], shape, self.dtype)
            return tuple(state)
        if isinstance(state, (tuple, list)):
            raise TypeError(f"{name} must be one array h of shape {shape} for a {type(self).__name__}, got a {type(state).__name__}")
        return check_array(name, state, shape, self.dtype)

    # ---- the one-timestep API --------------------------------------------------------------

    def forward(self, x, state=None):
        """One timestep: x (B, D), state (or None for zeros) -> (new state, cache)."""
        check_array("x", x, (None, self.input_size), self.dtype)
        B = x.shape[0]
        state = self.initial_state(B) if state is None else self.check_state("state", state, B)
        state, step_cache = self.step(self.input_projection(x), state)
        return state, CellCache(x, step_cache)

    def backward(self, dstate, cache):
        """Gradients of one timestep: dstate like the state -> (dx (B, D), dstate_prev).

        Adds this step's contribution into ``self.grads`` (the same weights serve every step).
        """
        if not isinstance(cache, CellCache):
            raise TypeError(f"cache must be the CellCache returned by forward, got {type(cache).__name__}")
        dstate = self.check_state("dstate", dstate, cache.x.shape[0])
        dxp, dah, dstate_prev = self.step_backward(dstate, cache.step)
        self.accumulate_grads(cache.x, [cache.step], dxp, dah)
        return self.input_projection_backward(dxp), dstate_prev

    # ---- the pieces that Recurrent shares --------------------------------------------------

    def input_projection(self, x):
        """x @ Wx + bx (+ bh for RNN and LSTM) for x of shape (..., D) -> (..., G*H).

        It needs no previous state, so `Recurrent` runs it once for every timestep."""
        p = self._params
        xp = matmul(x, p["Wx"])  # one large matmul for all rows
        xp += p["bx"]
        if self.hidden_bias_in_input:
            xp += p["bh"]
        return xp

    def input_projection_backward(self, dxp):
        """dxp (..., G*H) -> dx (..., D), the gradient of the input of `input_projection`."""
        return matmul(dxp, self._params["Wx"].T)  # xp = x @ Wx + b

    def step(self, xp, state):
        """The recurrence: input projection xp (B, G*H) and state -> (new state, step cache)."""
        raise NotImplementedError

    def step_backward(self, dstate, cache, out=None, Wh_T=None):
        """Back through `step`: dstate -> (dxp (B, G*H), dah (B, G*H) or None, dstate_prev).

        dah is None where the hidden projection's gradient is dxp itself. Two optional helps
        for a caller that runs many steps (`Recurrent`): `out`, a (B, G*H) array to write dxp
        into, and `Wh_T`, Wh.T copied row by row (C-contiguous) once for every step: BLAS
        multiplies by it faster than by the transposed view ``Wh.T``.
        """
        raise NotImplementedError

    def accumulate_grads(self, x, caches, dxp, dah):
        """Add the weight gradients of one or many steps into ``self.grads``.

        x (..., D) the inputs, caches their step caches in the same order, dxp and dah (..., G*H)
        from `step_backward` (dah None: the same as dxp). Each gradient is one matmul over every
        row of every step.
        """
        g = self._grads
        dah = dxp if dah is None else dah
        h_prev = np.stack([c.h_prev for c in caches])  # what met Wh, step by step
        g["Wx"] += matmul_weight_grad(x, dxp)  # xp = x @ Wx + bx
        g["bx"] += dxp.reshape(-1, dxp.shape[-1]).sum(axis=0)
        g["Wh"] += matmul_weight_grad(h_prev, dah)  # ah = h_prev @ Wh + bh
        g["bh"] += dah.reshape(-1, dah.shape[-1]).sum(axis=0)

    # ---- PyTorch layouts -------------------------------------------------------------------

    def to_torch(self, grads=False):
        """The four arrays under PyTorch's names and layout (the gradients with grads=True)."""
        return self._torch_layout("_grads" if grads else "_params")

    @classmethod
    def from_torch(cls, weights, *, dtype=np.float64):
        """A cell whose weights are `weights`: a mapping of PyTorch's four names to NumPy arrays.

        Laid out exactly as in torch.nn.RNNCell / LSTMCell / GRUCell (and torch.nn.RNN / LSTM /
        GRU's ``*_l0`` tensors): weight_ih (G*H, D), weight_hh (G*H, H), bias_ih and bias_hh (G*H,).
        """
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        missing = [n for n in names if n not in weights]
        if missing:
            raise ValueError(f"weights is missing {missing}; it needs {list(names)}")
        w = {n: np.asarray(weights[n]) for n in names}
        if w["weight_ih"].ndim != 2 or w["weight_ih"].shape[0] % cls.num_gates:
            raise ValueError(f"weights['weight_ih'] must have shape ({cls.num_gates}*H, D), got {w['weight_ih'].shape}")
        GH, D = w["weight_ih"].shape
        H = GH // cls.num_gates
        for n, shape in (("weight_hh", (GH, H)), ("bias_ih", (GH,)), ("bias_hh", (GH,))):
            if w[n].shape != shape:
                raise ValueError(f"weights[{n!r}] must have shape {shape}, got {w[n].shape}")
        cell = cls(D, H, dtype=dtype)
        cell.load_state_dict(w)
        return cell


class RNNCell(Cell):
    """The plain (Elman) RNN cell:  h = tanh(x @ Wx + bx + h_prev @ Wh + bh).

    Its state is h (B, H). It is here for contrast: gradients through many of its steps vanish
    or explode, which is what the LSTM and GRU were made to fix.
    """

    num_gates = 1

    class Cache(NamedTuple):
        h_prev: np.ndarray
        h: np.ndarray

    def step(self, xp, h_prev):
        a = h_prev @ self._params["Wh"]
        a += xp  # a = x @ Wx + bx + h_prev @ Wh + bh
        h = tanh(a, out=a)
        return h, self.Cache(h_prev, h)

    def step_backward(self, dh, cache, out=None, Wh_T=None):
        da = np.multiply(dh, tanh_grad(cache.h), out=out)  # h = tanh(a)
        dh_prev = da @ _transposed(self._params["Wh"], Wh_T)  # a = ... + h_prev @ Wh
        return da, None, dh_prev  # xp and h_prev @ Wh are added: one gradient for both


class LSTMCell(Cell):
    """The LSTM cell (Hochreiter & Schmidhuber 1997, with a forget gate), PyTorch's layout.

        a = x @ Wx + bx + h_prev @ Wh + bh       (B, 4H), four blocks of H columns
        i = sigmoid(a_i)   input gate: how much of the candidate to write
        f = sigmoid(a_f)   forget gate: how much of the old memory to keep
        g = tanh(a_g)      candidate memory
        o = sigmoid(a_o)   output gate: how much of the memory to show
        c = f * c_prev + i * g
        h = o * tanh(c)

    Its state is the pair (h, c), each (B, H). The memory c is updated by addition, so its
    gradient flows back through f alone, not through a squashing function at every step.

    The four activations are one call: sigmoid(x) = (1 + tanh(x / 2)) / 2, so
    ``squash(a, scale, shift)`` = scale * tanh(scale * a) + shift with scale and shift 1/2 on the
    columns of i, f, o and 1 and 0 on those of g makes all four gates at once, in place.
    """

    num_gates = 4
    state_is_pair = True

    class Cache(NamedTuple):
        h_prev: np.ndarray
        c_prev: np.ndarray
        gates: np.ndarray  # (B, 4H): i, f, g, o side by side, as in a
        tanh_c: np.ndarray

        # each gate by its name: a view of its block of `gates`
        i = property(lambda self: gate_blocks(self.gates, 4)[0])
        f = property(lambda self: gate_blocks(self.gates, 4)[1])
        g = property(lambda self: gate_blocks(self.gates, 4)[2])
        o = property(lambda self: gate_blocks(self.gates, 4)[3])

    def __init__(self, input_size, hidden_size, *, rng=None, dtype=np.float64):
        super().__init__(input_size, hidden_size, rng=rng, dtype=dtype)
        per_gate = lambda i, f, g, o: np.repeat(np.array([i, f, g, o], dtype=self.dtype), self.hidden_size)  # noqa: E731
        self.gate_scale = per_gate(0.5, 0.5, 1.0, 0.5)  # sigmoid(x) = 0.5 * tanh(0.5 * x) + 0.5
        self.gate_shift = per_gate(0.5, 0.5, 0.0, 0.5)  # tanh(x)    = 1.0 * tanh(1.0 * x) + 0.0

    def step(self, xp, state):
        h_prev, c_prev = state
        a = h_prev @ self._params["Wh"]
        a += xp  # (B, 4H) pre-activations of the gates i, f, g, o
        # i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o): one call, in place
        gates = squash(a, self.gate_scale, self.gate_shift)
        i, f, g, o = gate_blocks(gates, 4)  # (B, H) each: views of the blocks of gates
        c = f * c_prev
        c += i * g  # c = f * c_prev + i * g
        tanh_c = tanh(c)
        h = o * tanh_c
        return (h, c), self.Cache(h_prev, c_prev, gates, tanh_c)

    def step_backward(self, dstate, cache, out=None, Wh_T=None):
        dh, dc_next = dstate
        h_prev, c_prev, gates, tanh_c = cache
        i, f, g, o = gate_blocks(gates, 4)
        dc = tanh_grad(tanh_c)
        dc *= dh
        dc *= o
        dc += dc_next  # h = o * tanh(c): c reaches the loss through h, and through c at t+1
        dgates = np.empty_like(gates) if out is None else out  # (B, 4H): dL/di, dL/df, dL/dg, dL/do
        di, df, dg, do = gate_blocks(dgates, 4)  # views: writing them fills dgates
        np.multiply(dc, g, out=di)  # c = f * c_prev + i * g
        np.multiply(dc, c_prev, out=df)  # c = f * c_prev + ...
        np.multiply(dc, i, out=dg)  # c = ... + i * g
        np.multiply(dh, tanh_c, out=do)  # h = o * tanh(c)
        # i = sigmoid(a_i): dL/da_i = dL/di * i (1 - i), and so for f and o; g = tanh(a_g): * (1 - g^2)
        da = dgates  # the same array, now turned into the gradient of the pre-activations a, in place
        da *= squash_grad(gates, self.gate_scale, self.gate_shift)
        dh_prev = da @ _transposed(self._params["Wh"], Wh_T)  # a = ... + h_prev @ Wh
        dc_prev = dc * f  # c = f * c_prev + ...
        return da, None, (dh_prev, dc_prev)  # xp and h_prev @ Wh are added: one gradient for both


class GRUCell(Cell):
    """The GRU cell (Cho et al. 2014), by default in PyTorch's and cuDNN's form.

        ax = x @ Wx + bx,  ah = h_prev @ Wh + bh      (B, 3H) each, blocks r, z, n
        r = sigmoid(ax_r + ah_r)                       reset gate
        z = sigmoid(ax_z + ah_z)                       update gate
        n = tanh(ax_n + r * ah_n)                      candidate   (reset_after=True, the default)
        h = (1 - z) * n + z * h_prev

    With ``reset_after=False`` the candidate is the original paper's,

        n = tanh(ax_n + (r * h_prev) @ Wh_n + bh_n)    (reset applied before the matmul)

    The two differ: the paper resets h_prev before it meets Wh_n, so that matmul has to wait for
    r; PyTorch and cuDNN reset the product after it, so all three blocks of h_prev @ Wh are one
    matmul. Given the same weights they compute different functions (a lesson shows by how
    much); both train equally well. PyTorch has only the reset-after form, so `to_torch` and
    `from_torch` speak of it alone. The state is h (B, H).
    """

    num_gates = 3
    hidden_bias_in_input = False

    class Cache(NamedTuple):
        h_prev: np.ndarray
        r: np.ndarray
        z: np.ndarray
        n: np.ndarray
        ah_n: Optional[np.ndarray]  # h_prev @ Wh_n + bh_n (reset after); None otherwise
        rh: Optional[np.ndarray]  # r * h_prev (reset before); None otherwise

    def __init__(self, input_size, hidden_size, *, reset_after=True, rng=None, dtype=np.float64):
        super().__init__(input_size, hidden_size, rng=rng, dtype=dtype)
        self.reset_after = bool(reset_after)

    def __repr__(self):
        return super().__repr__()[:-1] + f", reset_after={self.reset_after})"

    def step(self, xp, h_prev):
        p, H = self._params, self.hidden_size
        ax = gate_blocks(xp, 3)  # (3, B, H): views of the blocks ax_r, ax_z, ax_n
        if self.reset_after:
            ah = h_prev @ p["Wh"]  # (B, 3H): all three blocks in one matmul
            ah += p["bh"]
            ah_blocks = gate_blocks(ah, 3)  # (3, B, H): views of ah_r, ah_z, ah_n
            ah_rz, ah_n = ah_blocks[:2], ah_blocks[2]  # (2, B, H) and (B, H)
        else:
            ah = h_prev @ p["Wh"][:, : 2 * H]  # (B, 2H): only the columns of blocks r and z
            ah += p["bh"][: 2 * H]
            ah_rz, ah_n = gate_blocks(ah, 2), None  # (2, B, H): views of ah_r, ah_z
        rz = np.add(ax[:2], ah_rz)  # (2, B, H): r's and z's pre-activations, stacked
        r, z = sigmoid(rz, out=rz)  # r = sigmoid(ax_r + ah_r), z = sigmoid(ax_z + ah_z)
        if self.reset_after:
            n = r * ah_n
            rh = None
        else:
            rh = r * h_prev
            n = rh @ p["Wh"][:, 2 * H :]  # the columns of block n
            n += p["bh"][2 * H :]
        n += ax[2]
        tanh(n, out=n)  # n = tanh(ax_n + r * ah_n), or tanh(ax_n + rh @ Wh_n + bh_n)
        h = h_prev - n
        h *= z
        h += n  # h = n + z * (h_prev - n) = (1 - z) * n + z * h_prev
        return h, self.Cache(h_prev, r, z, n, ah_n, rh)

    def step_backward(self, dh, cache, out=None, Wh_T=None):
        H = self.hidden_size
        h_prev, r, z, n, ah_n, rh = cache
        Wh_T = _transposed(self._params["Wh"], Wh_T)  # (3H, H): its rows are the blocks r, z, n
        dxp = np.empty((dh.shape[0], 3 * H), dtype=dh.dtype) if out is None else out
        dax_r, dax_z, dax_n = gate_blocks(dxp, 3)  # views: writing them fills dxp
        np.multiply(dh * (1.0 - z), tanh_grad(n), out=dax_n)  # h = (1 - z) * n + ...,  n = tanh(a_n)
        np.multiply(dh * (h_prev - n), sigmoid_grad(z), out=dax_z)  # h = ... + z * (h_prev - n)
        dh_prev = dh * z  # h = ... + z * h_prev
        if self.reset_after:
            np.multiply(dax_n * ah_n, sigmoid_grad(r), out=dax_r)  # a_n = ax_n + r * ah_n
            dah = dxp.copy()
            gate_blocks(dah, 3)[2] *= r  # a_n = ax_n + r * ah_n: ah_n is scaled by r
            dh_prev += dah @ Wh_T  # ah = h_prev @ Wh + bh
        else:
            drh = dax_n @ Wh_T[2 * H :]  # a_n = ax_n + rh @ Wh_n + bh_n
            np.multiply(drh * h_prev, sigmoid_grad(r), out=dax_r)  # rh = r * h_prev
            dh_prev += drh * r  # rh = r * h_prev
            dah = None  # the same pre-activations; Wh_n met rh, not h_prev (see accumulate_grads)
            dh_prev += dxp[:, : 2 * H] @ Wh_T[: 2 * H]  # a_rz = ... + h_prev @ Wh_rz
        return dxp, dah, dh_prev

    def accumulate_grads(self, x, caches, dxp, dah):
        if self.reset_after:
            return super().accumulate_grads(x, caches, dxp, dah)
        # Reset before the matmul: Wh's r and z columns met h_prev, its n columns met r * h_prev.
        g, H = self._grads, self.hidden_size
        h_prev = np.stack([c.h_prev for c in caches])
        rh = np.stack([c.rh for c in caches])
        g["Wx"] += matmul_weight_grad(x, dxp)  # ax = x @ Wx + bx
        g["bx"] += dxp.reshape(-1, 3 * H).sum(axis=0)
        g["Wh"][:, : 2 * H] += matmul_weight_grad(h_prev, dxp[..., : 2 * H])  # a_rz = ... + h_prev @ Wh_rz + bh_rz
        g["Wh"][:, 2 * H :] += matmul_weight_grad(rh, dxp[..., 2 * H :])  # a_n = ... + rh @ Wh_n + bh_n
        g["bh"] += dxp.reshape(-1, 3 * H).sum(axis=0)

    def to_torch(self, grads=False):
        if not self.reset_after:
            raise ValueError("PyTorch's GRU applies the reset after the matmul; this cell has reset_after=False")
        return super().to_torch(grads=grads)


CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


def make_cell(kind, input_size, hidden_size, *, rng=None, dtype=np.float64):
    """A cell by name: "rnn", "lstm" or "gru"."""
    if kind not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {kind!r}")
    return CELLS[kind](input_size, hidden_size, rng=rng, dtype=dtype)
