"""nprnn: sequence-to-sequence learning in NumPy, every backward pass written by hand."""
from .cells import GRUCell, LSTMCell, RNNCell, make_cell
from .layers import Embedding, Linear, cross_entropy
from .module import Module
from .recurrent import Recurrent

__version__ = "0.1.0"
__all__ = ["RNNCell", "LSTMCell", "GRUCell", "make_cell", "Recurrent", "Embedding", "Linear", "cross_entropy", "Module"]
