"""nprnn: sequence-to-sequence learning in NumPy, every backward pass written by hand."""
from .attention import Attention
from .cells import GRUCell, LSTMCell, RNNCell, make_cell
from .layers import Embedding, Linear, cross_entropy
from .module import Module
from .recurrent import Recurrent
from .seq2seq import Decoder, Encoder, Seq2Seq

__version__ = "0.1.0"
__all__ = ["RNNCell", "LSTMCell", "GRUCell", "make_cell", "Recurrent", "Embedding", "Linear", "cross_entropy",
           "Module", "Attention", "Encoder", "Decoder", "Seq2Seq"]
