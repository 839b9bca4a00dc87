"""Train a translator on a tab-separated parallel corpus with the Python API, then translate.

    python examples/train_tsv.py                     # the bundled English->French training file
    python examples/train_tsv.py fra.txt --epochs 10 # a Tatoeba / manythings.org file

A TSV corpus has one ``source<TAB>target[<TAB>attribution]`` pair per line. The script splits
it 80/10/10, builds word vocabularies, trains an LSTM encoder-decoder with Adam, keeps the best
checkpoint by validation accuracy, and translates the sentences given with --say.
"""
import argparse

from nprnn.data import load_task
from nprnn.data.toy_en_fr import SPLIT_FILES
from nprnn.translate import Translator, evaluate, train_task


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=str(SPLIT_FILES["train"]), help="a TSV file")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--out", default="runs/example.npz")
    parser.add_argument("--say", nargs="*", default=["i am a student", "they do not have a red car"])
    args = parser.parse_args()

    task = load_task(f"tsv:{args.corpus}")  # reads, skips and counts bad lines, splits 80/10/10
    print(f"{len(task.train)} training pairs; skipped {task.skipped[0]} blank and {task.skipped[1]} malformed lines")

    translator, history, test = train_task(task, hidden_size=args.hidden, epochs=args.epochs, out=args.out, seed=0)
    print(f"test: exact match {100 * test['exact']:.1f}%, BLEU {test['bleu']:.1f}")

    # The checkpoint holds everything needed to translate: load it as a user later would.
    translator, meta = Translator.load(args.out)
    for text, translation in zip(args.say, translator.translate(args.say)):
        print(f"{text!r} -> {translation!r}")
    print(f"validation exact match after reloading: {100 * evaluate(translator, task.valid)['exact']:.1f}%")


if __name__ == "__main__":
    main()
