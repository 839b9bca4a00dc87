"""Data: tokenizers and vocabularies, batching, corpora and tasks. Imports nothing from the model."""
from .batching import Batch, make_batches, pad_batch
from .corpus import Corpus, read_tsv, split_by_source
from .tasks import TASK_NAMES, CorpusOptions, Task, load_task
from .tokenize import BPETokenizer, CharTokenizer, Tokenizer, WordTokenizer, make_tokenizer, tokenizer_from_dict
from .vocab import EOS, PAD, SOS, SPECIALS, UNK, Vocab

__all__ = ["Batch", "make_batches", "pad_batch", "Corpus", "read_tsv", "split_by_source", "TASK_NAMES",
           "CorpusOptions", "Task", "load_task", "Tokenizer", "WordTokenizer", "CharTokenizer", "BPETokenizer",
           "make_tokenizer", "tokenizer_from_dict", "Vocab", "PAD", "SOS", "EOS", "UNK", "SPECIALS"]
