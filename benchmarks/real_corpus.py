"""Real sentences: train on a Tatoeba file and score on English sentences never seen in training.

    python benchmarks/real_corpus.py                                 # the default recipe, EN -> FR
    python benchmarks/real_corpus.py --swap-columns                  # FR -> EN
    python benchmarks/real_corpus.py --recipe word-baseline          # a word-level model, for contrast
    python benchmarks/real_corpus.py --synthetic-hangul              # a non-Latin script: BPE against words

Each run goes through the library's own path (`load_task("tsv:...")` splits by source sentence;
`train_task` with the task's defaults plus the recipe's settings; `evaluate` on the test split,
every translation of a source as a reference, BLEU and chrF as sacreBLEU computes them) and
prints one row: recipe, direction, training seconds, tokens/s, test BLEU, chrF, exact match,
and a few translations, good and bad. The corpus is the first --lines lines of the file
(default: the first 18,000 of ../shared/corpora/fra-eng.tsv, sentences of up to about five
English words). Training stops at --time-limit seconds (default 900: fifteen minutes).

There is no Korean or Japanese corpus on this machine (it has no network), so
`--synthetic-hangul` makes one: English sentences and Korean-like translations written in
Hangul, with particles and verb endings glued to their words (agglutination, the thing a
word-level vocabulary cannot learn from little data), split so that the test sentences need
word forms (a noun with its object particle) that no training sentence holds, and trains the
default recipe (BPE) and a word-level one on it.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nprnn.data.tasks import CorpusOptions, load_task  # noqa: E402
from nprnn.train import train_task  # noqa: E402
from nprnn.translate import evaluate  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "fra-eng.tsv"

# Settings over the task's defaults (nprnn/data/tasks.py, "tsv"); "default" is those defaults.
RECIPES = {
    "default": {},
    "word-baseline": dict(tokenizer="word", attention="none", dropout=0.0, label_smoothing=0.0),
}


def subset(path, lines, folder):
    """The first `lines` lines of `path`, as a file of their own."""
    out = Path(folder) / f"{Path(path).stem}-{lines}.tsv"
    with open(path, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as g:
        for i, line in enumerate(f):
            if i >= lines:
                break
            g.write(line)
    return out


# ---- a synthetic English -> Hangul corpus ------------------------------------------------------

SUBJECTS = [("i", "나"), ("you", "너"), ("he", "그"), ("she", "그녀"), ("we", "우리"), ("they", "그들"),
            ("the teacher", "선생님"), ("my friend", "내 친구")]
NOUNS = [("apple", "사과"), ("book", "책"), ("water", "물"), ("bread", "빵"), ("letter", "편지"), ("music", "음악"),
         ("movie", "영화"), ("car", "자동차"), ("flower", "꽃"), ("house", "집"), ("newspaper", "신문"), ("tea", "차")]
VERBS = [("eat", "eats", "ate", "먹"), ("read", "reads", "read", "읽"), ("like", "likes", "liked", "좋아하"),
         ("buy", "buys", "bought", "사"), ("see", "sees", "saw", "보"), ("want", "wants", "wanted", "원하")]


def _final_consonant(syllable):
    """True if a Hangul syllable ends in a consonant (it picks 은/는, 을/를 and the endings)."""
    return (ord(syllable) - 0xAC00) % 28 != 0


def _korean(subject, noun, stem, tense, negative):
    topic = "은" if _final_consonant(subject[-1]) else "는"
    obj = "을" if _final_consonant(noun[-1]) else "를"
    if tense == "past":
        ending = "었다" if stem[-1] in "먹읽" else "았다" if stem[-1] in "사보" else "였다"
    else:
        ending = "는다" if _final_consonant(stem[-1]) else "ㄴ다"
        if ending == "ㄴ다":  # the ㄴ joins the last syllable: 사 + ㄴ다 -> 산다
            return f"{subject}{topic} {noun}{obj} {_join_n(stem)}다" if not negative else \
                f"{subject}{topic} {noun}{obj} {stem}지 않는다"
    if negative:
        return f"{subject}{topic} {noun}{obj} {stem}지 {'않았다' if tense == 'past' else '않는다'}"
    return f"{subject}{topic} {noun}{obj} {stem}{ending}"


def _join_n(stem):
    """Add the final consonant ㄴ to the last syllable of a stem (사 -> 산)."""
    return stem[:-1] + chr(ord(stem[-1]) + 4)


def _here(noun_en, noun_ko, negative):
    """'the apple is here' -> '사과가 여기 있다': the noun as a subject (이/가), never as an object."""
    particle = "이" if _final_consonant(noun_ko[-1]) else "가"
    return (f"the {noun_en} is {'not ' if negative else ''}here", f"{noun_ko}{particle} 여기 {'없다' if negative else '있다'}")


def hangul_splits():
    """(train, valid, test) pairs of the little grammar, split to test composition.

    The last four nouns appear in training only as subjects ("the flower is here" -> 꽃이 여기
    있다); validation and test use them as objects (꽃을), a word form no training sentence
    holds. A word-level vocabulary has no token for it; subwords can put 꽃 and 을 together.
    """
    seen, held_out = NOUNS[:8], NOUNS[8:]

    def sentences(nouns):
        out = []
        for (s_en, s_ko), (n_en, n_ko), (base, third_form, past, stem) in (
                (s, n, v) for s in SUBJECTS for n in nouns for v in VERBS):
            third = s_en in ("he", "she", "the teacher", "my friend")
            for tense in ("present", "past"):
                for negative in (False, True):
                    if tense == "past":
                        verb = f"did not {base}" if negative else past
                    else:
                        verb = (("does not " if third else "do not ") + base) if negative else (third_form if third else base)
                    out.append((f"{s_en} {verb} the {n_en}", _korean(s_ko, n_ko, stem, tense, negative)))
        return out

    train = sentences(seen) + [_here(en, ko, neg) for en, ko in NOUNS for neg in (False, True)]
    held = sentences(held_out)
    return train, held[0::2], held[1::2]


# ---- the runs ----------------------------------------------------------------------------------


def run(name, spec, settings, corpus_options, seed, log, out=None):
    task = load_task(spec, corpus_options)
    start = time.perf_counter()
    translator, history, _ = train_task(task, out=out, seed=seed, log=log, **settings)
    seconds = time.perf_counter() - start
    test = evaluate(translator, task.test)
    rate = sum(r["tokens"] for r in history) / sum(r["seconds"] for r in history)  # training steps only
    print(f"| {name} | {len(history)} | {seconds:.0f} | {rate:,.0f} | {test['bleu']:.1f} | {test['chrf']:.1f} | "
          f"{100 * test['exact']:.1f} | {len(test['sources'])} |", flush=True)
    return test


def show_samples(test, k=8):
    ranked = sorted(zip(test["sources"], test["hyps"], test["refs"]), key=lambda r: r[1] in r[2])
    for source, hyp, refs in ranked[:k // 2] + ranked[-k // 2:]:
        print(f"  {'ok' if hyp in refs else '  '}  {source:35s} -> {hyp:40s} ({refs[0]})")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=str(CORPUS))
    p.add_argument("--lines", type=int, default=18000)
    p.add_argument("--recipe", choices=sorted(RECIPES), action="append")
    p.add_argument("--swap-columns", action="store_true", help="French -> English")
    p.add_argument("--time-limit", type=float, default=900.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--synthetic-hangul", action="store_true")
    p.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="extra settings, e.g. hidden_size=384")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    p.add_argument("--out-dir", default="runs/real_corpus",
                   help="where each run's checkpoint goes, RECIPE-DIRECTION.npz (default runs/real_corpus); "
                        "`nprnn plot scores --checkpoint` draws its validation scores per epoch")
    args = p.parse_args()
    extra = {}
    for item in args.set:
        key, value = item.split("=", 1)
        extra[key] = None if value == "None" else type_of(value)
    log = (lambda *a: None) if args.quiet else print
    print("| recipe | epochs | seconds | tok/s | BLEU | chrF | exact % | test sources |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        options = CorpusOptions(swap_columns=args.swap_columns)
        if args.synthetic_hangul:
            files = []
            for name, pairs in zip(("train", "valid", "test"), hangul_splits()):
                files.append(Path(folder) / f"en-ko-{name}.tsv")
                files[-1].write_text("".join(f"{en}\t{ko}\n" for en, ko in pairs), encoding="utf-8")
            path = files[0]
            options = CorpusOptions(valid_file=str(files[1]), test_file=str(files[2]))
        else:
            path = subset(args.corpus, args.lines, folder)
        for name in args.recipe or (["default", "word-baseline"] if args.synthetic_hangul else ["default"]):
            settings = {**RECIPES[name], "time_limit": args.time_limit, **extra}
            direction = "en-ko" if args.synthetic_hangul else "fr-en" if args.swap_columns else "en-fr"
            out = Path(args.out_dir) / f"{name}-{direction}.npz"
            test = run(name, f"tsv:{path}", settings, options, args.seed, log, out=out)
            show_samples(test)


def type_of(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(text, text)


if __name__ == "__main__":
    main()
