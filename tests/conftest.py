import os

os.environ.setdefault("MPLBACKEND", "Agg")  # figures go to files, never to a window

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from nprnn import GRUCell, LSTMCell, RNNCell  # noqa: E402

settings.register_profile("nprnn", deadline=None, print_blob=True)
settings.load_profile("nprnn")

# Every cell, with the GRU in both placements of its reset gate.
CELL_FACTORIES = {
    "rnn": lambda D, H, **kw: RNNCell(D, H, **kw),
    "lstm": lambda D, H, **kw: LSTMCell(D, H, **kw),
    "gru": lambda D, H, **kw: GRUCell(D, H, **kw),
    "gru-reset-before": lambda D, H, **kw: GRUCell(D, H, reset_after=False, **kw),
}


@pytest.fixture(params=sorted(CELL_FACTORIES))
def make_cell(request):
    """A factory for each kind of cell in turn: make_cell(D, H, rng=..., dtype=...)."""
    return CELL_FACTORIES[request.param]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
