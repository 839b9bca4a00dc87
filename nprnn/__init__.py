"""nprnn: sequence-to-sequence learning in NumPy, every backward pass written by hand."""
from .attention import Attention
from .cells import GRUCell, LSTMCell, RNNCell, make_cell
from .config import Seq2SeqConfig, TrainConfig
from .decoder import Decoder
from .encoder import Encoder
from .layers import Dropout, Embedding, Linear, cross_entropy
from .module import Module
from .recurrent import Recurrent
from .seq2seq import Seq2Seq

__version__ = "0.1.0"
__all__ = ["RNNCell", "LSTMCell", "GRUCell", "make_cell", "Recurrent", "Embedding", "Linear", "Dropout",
           "cross_entropy", "Module", "Attention", "Encoder", "Decoder", "Seq2Seq", "Seq2SeqConfig", "TrainConfig"]
