"""Data: tokenisers and vocabularies, batching, corpora and tasks."""
from .batching import Batch, make_batches, pad_batch
from .corpus import Corpus, read_tsv
from .tasks import TASK_NAMES, Task, load_task
from .vocab import TOKENIZERS, Vocab, detokenize_words, tokenize_chars, tokenize_words

__all__ = ["Batch", "make_batches", "pad_batch", "Corpus", "read_tsv", "TASK_NAMES", "Task", "load_task",
           "TOKENIZERS", "Vocab", "detokenize_words", "tokenize_chars", "tokenize_words"]
