"""The `nprnn` command (also `python -m nprnn`).

    nprnn demo                      train the bundled English->French translator and show it
    nprnn train --task T --out P    train on a task, keep the best checkpoint at P
    nprnn translate --checkpoint P "i am a student"
    nprnn evaluate --checkpoint P [--task T]
    nprnn plot hidden --checkpoint P "a sentence"    the encoder's hidden states, as a PNG
    nprnn gradcheck                 check every hand-written backward pass
    nprnn exercise list|start|check write the backward passes yourself, and have them graded

Exit status: 0 done; 1 training diverged (or a gradient check failed); 2 a user's mistake (a
missing file, a bad flag, an unknown task, a bad checkpoint, an --out nprnn may not replace),
reported in one line on stderr, never a traceback; 130 interrupted (Ctrl-C), after saying what
the checkpoint holds.

What it prints cannot fail or break a line: `translate` prints one line per input line, a line
break inside a token ("\\n", "\\r") written as the two characters \\n or \\r; a character the
output's encoding cannot hold (a lone surrogate, a file name's byte that is not UTF-8) is
written as its Python escape (\\udce9), in a path as in a token (files.one_line, printable).
"""
import argparse
import math
import os
import sys
import time
from pathlib import Path

from .files import one_line, printable

GRADCHECK_BAR = 1e-7
DEMO_SENTENCES = ["i am a student", "she is not tired", "we have a green car", "the girl does not like the black cat"]


class UserError(Exception):
    """A mistake in what the user asked for: reported in one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + error
        _print(f"{self.prog}: error: {message}", file=sys.stderr)
        self.exit(2)


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _print(*args, file=None):
    """print(), flushed; what the stream's encoding cannot hold (a lone surrogate in a token, a
    file name that is not UTF-8) is written as its Python escape, never a UnicodeEncodeError."""
    stream = sys.stdout if file is None else file
    if stream is None:  # no stdout or stderr at all (pythonw, a closed descriptor): nowhere to write
        return
    print(printable(" ".join(map(str, args)), stream), file=stream, flush=True)


def _corpus_options(args, saved=None):
    """The CorpusOptions of the flags given, over those a checkpoint saved (or the defaults)."""
    from dataclasses import fields

    from .data.tasks import CorpusOptions

    given = {f.name: getattr(args, f.name) for f in fields(CorpusOptions) if getattr(args, f.name, None) is not None}
    try:
        return CorpusOptions(**{**(saved or {}), **given})
    except (TypeError, ValueError) as e:
        raise UserError(str(e)) from None


def _load_task(spec, corpus=None):
    from .data import load_task
    from .data.tasks import CorpusOptions

    try:
        return load_task(spec, corpus or CorpusOptions())
    except ValueError as e:
        raise UserError(str(e)) from None


def _load_translator(path):
    from .checkpoint import CheckpointError
    from .translate import Translator

    try:
        return Translator.load(path)
    except CheckpointError as e:
        raise UserError(str(e)) from None


def _report(name, result):
    _print(f"{name}: exact match {100 * result['exact']:.1f}%  token accuracy {100 * result['token_accuracy']:.1f}%  "
           f"BLEU {result['bleu']:.1f}  chrF {result['chrf']:.1f}  ({len(result['refs'])} sentences)")


def _save_figure(ax, path):
    from .plots import save_figure

    return save_figure(ax, path, dpi=120, quiet=True)


# ---- commands -------------------------------------------------------------------------------


def cmd_gradcheck(args):
    from .gradcheck import format_report, standard_checks

    rows = []
    for what, report in standard_checks(seed=args.seed):
        rows += [(what, name, err) for name, err in report.items()]
    _print(format_report(rows, args.bar))
    worst = max(rows, key=lambda r: r[2])
    failed = [r for r in rows if r[2] > args.bar]
    _print(f"\n{len(rows)} gradients checked in float64 against centred differences; "
           f"worst {worst[2]:.2e} ({worst[0]} {worst[1]}); bar {args.bar:.0e}: {'FAIL' if failed else 'all ok'}")
    return 1 if failed else 0


class Interrupted(Exception):
    """Ctrl-C: reported in one line saying what was saved, exit status 130."""


class Diverged(Exception):
    """Training diverged: reported in one line, exit status 1."""


def _check_output(check, path):
    """Fail before any work, not after it, if `path` cannot or may not be written."""
    from .files import FileProblem

    try:
        return check(path)
    except (FileProblem, ValueError) as e:
        raise UserError(str(e)) from None


def _holds(out, record):
    """What the checkpoint `out` holds after a run that stopped early, in words."""
    if record is None:
        return f"nothing was saved ({out} is as it was)"
    return (f"{out} holds the weights of epoch {record['epoch']} (validation exact match "
            f"{100 * record['valid_exact']:.1f}%, BLEU {record['valid_bleu']:.1f}, chrF {record['valid_chrf']:.1f})")


def _train(args, task):
    from .checkpoint import CheckpointError, check_checkpoint_path
    from .train import Progress, TrainingDiverged, TrainingInterrupted, train_task

    _check_output(check_checkpoint_path, args.out)
    settings = {f.name: getattr(args, f.name, None) for f in _setting_fields()}
    try:
        return train_task(task, out=args.out, seed=args.seed, log=_print, progress=Progress(), **settings)
    except (CheckpointError, ValueError) as e:
        raise UserError(str(e)) from None
    except TrainingDiverged as e:
        raise Diverged(f"{e}; {_holds(args.out, e.saved)}") from None
    except TrainingInterrupted as e:
        raise Interrupted(_holds(args.out, e.saved)) from None


def cmd_train(args):
    task = _load_task(args.task, _corpus_options(args))
    if any(task.skipped.values()):
        _print(f"read {args.task[4:]}: skipped " + ", ".join(f"{n} {what}" for what, n in task.skipped.items() if n))
    _, history, test = _train(args, task)
    _report("test", test)
    _print(one_line(f"best checkpoint: {args.out}"))
    return 0


def cmd_demo(args):
    from .plots import plot_hidden_states, plot_loss

    out_dir = Path(args.out_dir)
    args.out = out_dir / "model.npz"
    args.cell = "lstm"
    from .plots import check_image_path

    figures = [_check_output(check_image_path, out_dir / name) for name in ("encoder_hidden_states.png", "training.png")]
    start = time.perf_counter()
    _print("nprnn demo: an LSTM encoder-decoder learns English -> French from the bundled corpus.")
    _print("The test sentences pair nouns and adjectives that never appear together in training.\n")
    translator, history, test = _train(args, _load_task("toy-en-fr"))
    seconds = time.perf_counter() - start
    _print("")
    _report("held-out test", test)
    _print(f"trained in {seconds:.0f} s\n")
    from .data import load_task

    unseen = [s for s, _ in load_task("toy-en-fr").test[:3]]
    for text, translation in zip(DEMO_SENTENCES + unseen, translator.translate(DEMO_SENTENCES + unseen)):
        _print(f"  {text:<40} -> {one_line(translation)}")
    tokens, hs = translator.encoder_states(DEMO_SENTENCES[0])
    title = f'encoder hidden states for "{DEMO_SENTENCES[0]}"'
    figure = _save_figure(plot_hidden_states(hs, tokens, max_units=48, title=title), figures[0])
    curve = _save_figure(plot_loss(history, title="demo training"), figures[1])
    _print(f"\ncheckpoint: {args.out}\nfigures:    {figure}\n            {curve}")
    _print(f'try:        nprnn translate --checkpoint {args.out} "they are not singers"')
    return 0


def _read_lines(path):
    from .files import FileProblem, read_lines

    try:
        return read_lines(path)
    except FileProblem as e:
        raise UserError(str(e)) from None


# A longer sentence is refused (one 1 MB line would take gigabytes to encode); characters are
# counted first, so a huge line is never tokenized (as many a token as a corpus's length cap allows)
MAX_SOURCE_TOKENS = 1_000


def _check_text_argument(text, where):
    """A sentence given on the command line, as valid UTF-8 (the shell passes bytes; Python keeps
    the ones that are not UTF-8 as lone surrogates, which would be translated as nonsense)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"{where} is not valid UTF-8 text") from None
    return text


def cmd_translate(args):
    from .data.tasks import CHARS_PER_TOKEN

    translator, _ = _load_translator(args.checkpoint)
    given = [_check_text_argument(text, f"TEXT argument {i}") for i, text in enumerate(args.text, 1)]
    read = _read_lines(args.input) if args.input else []
    lines = given + read
    if not lines:
        raise UserError("nothing to translate: give TEXT arguments or --input FILE (- for standard input)")
    most_chars = CHARS_PER_TOKEN * MAX_SOURCE_TOKENS
    for i, line in enumerate(lines):
        where = f"TEXT argument {i + 1}" if i < len(given) else f"--input {args.input} line {i - len(given) + 1}"
        if len(line) > most_chars:
            raise UserError(f"{where} holds {len(line):,} characters; nprnn translates sentences of at most "
                            f"{most_chars:,} characters and {MAX_SOURCE_TOKENS:,} tokens")
        if len(line) >= MAX_SOURCE_TOKENS:  # shorter lines cannot hold too many: tokens <= characters + 1
            tokens = len(translator.source_tokens(line))
            if tokens > MAX_SOURCE_TOKENS:
                raise UserError(f"{where} holds {tokens:,} tokens; nprnn translates sentences of at most "
                                f"{MAX_SOURCE_TOKENS:,} tokens")
    translator.max_len = min(translator.max_len, args.max_len)  # its own cap, whatever the checkpoint says
    translator.beam_size = args.beam
    keep = [i for i, line in enumerate(lines) if line.strip()]
    translated = dict(zip(keep, translator.translate([lines[i] for i in keep])))
    for i in range(len(lines)):
        _print(one_line(translated.get(i, "")))  # one output line per input line, blank for blank
    return 0


def cmd_plot(args):
    from .plots import check_image_path, plot_hidden_states

    translator, meta = _load_translator(args.checkpoint)
    if args.what == "scores":
        return _plot_scores(args, meta)
    _check_text_argument(args.sentence, "SENTENCE")
    try:
        tokens, hs = translator.encoder_states(args.sentence)
    except ValueError as e:
        raise UserError(str(e)) from None
    out = _check_output(check_image_path, Path(args.out or "hidden_states.png"))
    title = f'encoder hidden states for "{args.sentence}"'
    _save_figure(plot_hidden_states(hs, tokens, max_units=args.max_units, title=title), out)
    _print(f"saved {out}: {len(tokens)} timesteps x {hs.shape[1]} units (first {min(args.max_units, hs.shape[1])} drawn)")
    return 0


def _plot_scores(args, meta):
    """nprnn plot scores: the validation scores per epoch that the checkpoint's training recorded."""
    from .plots import check_image_path, plot_scores

    history = meta.get("history")
    if not isinstance(history, list) or not history or not all(isinstance(r, dict) and "valid_bleu" in r for r in history):
        raise UserError(f"checkpoint: {args.checkpoint} holds no per-epoch validation scores (it was not written by nprnn train)")
    out = _check_output(check_image_path, Path(args.out or "scores.png"))
    task = str(meta.get("task", "unknown task"))
    if task.startswith("tsv:"):
        task = "tsv:" + Path(task[4:]).name  # the corpus's name, not its whole path
    title = f"validation scores per epoch ({task})"
    try:
        ax = plot_scores(history, kept=meta.get("epoch"), title=title)
    except (ValueError, TypeError, KeyError) as e:
        raise UserError(f"checkpoint: {args.checkpoint} has a history that cannot be plotted ({e})") from None
    _save_figure(ax, out)
    _print(f"saved {out}: {len(history)} epochs, epoch {meta['epoch']} kept" if "epoch" in meta
           else f"saved {out}: {len(history)} epochs")
    return 0


def cmd_export(args):
    from .export import TorchNotInstalledError, export_checkpoint

    try:
        _print(export_checkpoint(args.checkpoint, args.out))
    except (ValueError, TorchNotInstalledError) as e:
        raise UserError(str(e)) from None
    return 0


def cmd_import(args):
    from .export import TorchNotInstalledError, import_state_dict

    try:
        _print(import_state_dict(args.state_dict, args.like, args.out))
    except (ValueError, TorchNotInstalledError) as e:
        raise UserError(str(e)) from None
    return 0


def cmd_evaluate(args):
    from .translate import evaluate

    translator, meta = _load_translator(args.checkpoint)
    trained_on = meta.get("task")
    spec = args.task or trained_on
    if not spec:
        raise UserError("the checkpoint names no task; give --task")
    if trained_on and spec != trained_on and not (spec.startswith("tsv:") and trained_on.startswith("tsv:")):
        raise UserError(f"{args.checkpoint} was trained on task {trained_on}; it cannot be scored on {spec}: "
                        f"its vocabularies and tokenizers are that task's (give --task {trained_on}, or none)")
    saved = meta.get("corpus") or {}
    swapped = saved.get("swap_columns", False)
    if spec.startswith("tsv:") and saved and args.swap_columns is not None and args.swap_columns != swapped:
        which = "column 2 into column 1" if swapped else "column 1 into column 2"
        raise UserError(f"--swap-columns: {args.checkpoint} translates {which} of its corpus; scoring it the "
                        f"other way round would measure nothing (leave --swap-columns out)")
    # the same corpus: its very split; another tsv: corpus: its own split, read in the model's direction
    if spec == trained_on:
        options = saved
    else:
        options = {"swap_columns": swapped} if saved else None
    task = _load_task(spec, _corpus_options(args, options))
    _report(f"{task.name} test", evaluate(translator, task.test, beam_size=args.beam))
    return 0


# ---- the parser -----------------------------------------------------------------------------


def _setting_fields():
    """The model's and the training's settings a user may choose, from nprnn/config.py."""
    from .config import Seq2SeqConfig, TrainConfig, options

    return options(Seq2SeqConfig) + options(TrainConfig)


def _setting_type(f):
    """An argparse type for a config field: the text read, then checked by `check_setting`."""
    from .config import check_setting, describe_interval

    def parse(text):
        try:
            value = int(text) if f.metadata["kind"] == "int" else float(text)
            return check_setting(f, value)
        except ValueError:
            interval = f.metadata["interval"]
            if f.metadata["kind"] == "int":
                expected = "a positive integer" + (f" up to {interval[1]}" if interval else "")
            else:
                expected = ("a positive number" if interval == (0, math.inf, True, True)
                            else f"a number in {describe_interval(interval)}")
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None

    return parse


def _beam_flag(p):
    p.add_argument("--beam", type=positive_int, default=1, metavar="K",
                   help="beam search with K hypotheses (default 1: greedy)")


def _setting_flags(p, skip=()):
    """One flag per setting of Seq2SeqConfig and TrainConfig: --embedding-dim, --lr, ...
    Left out, a setting takes the task's default."""
    for f in _setting_fields():
        if f.name in skip:
            continue
        flag, kind = "--" + f.name.replace("_", "-"), f.metadata["kind"]
        help = f.metadata["help"] + " (default: the task's)"
        if kind == "bool":
            p.add_argument(flag, action=argparse.BooleanOptionalAction, help=help)
        elif kind == "choice":
            none = ["none"] if f.default is None else []  # "none": off, where the task's default is on
            p.add_argument(flag, choices=list(f.metadata["choices"]) + none, help=help)
        else:
            p.add_argument(flag, type=_setting_type(f), help=help)
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of everything random (default 0)")


def _corpus_flags(p):
    """How a tsv:PATH task reads and splits its file (nprnn.data.tasks.CorpusOptions)."""
    p.add_argument("--max-length", type=positive_int, metavar="N",
                   help="tsv: skip pairs with a side longer than N word tokens or 10N characters (default 100)")
    p.add_argument("--max-pairs", type=positive_int, metavar="N", help="tsv: read only the first N pairs of the corpus (held-out files are read whole)")
    p.add_argument("--swap-columns", action="store_true", default=None, help="tsv: translate column 2 into column 1")
    p.add_argument("--valid-fraction", type=_fraction, metavar="F", help="tsv: sources held out to validate (default 0.1)")
    p.add_argument("--test-fraction", type=_fraction, metavar="F", help="tsv: sources held out to test (default 0.1)")
    p.add_argument("--valid", dest="valid_file", metavar="FILE", help="tsv: a validation file instead of a split")
    p.add_argument("--test", dest="test_file", metavar="FILE", help="tsv: a test file instead of a split")


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 0.5), got {text!r}")
    return value


def _plot_commands(sub):
    """nprnn plot hidden --checkpoint M SENTENCE | plot scores --checkpoint M: figures from a checkpoint."""
    p = sub.add_parser("plot", help="figures from a checkpoint: plot hidden (the encoder's states per token), "
                                    "plot scores (validation scores per epoch)")
    kinds = p.add_subparsers(dest="what", metavar="WHAT", parser_class=Parser, required=True)
    h = kinds.add_parser("hidden", help="the encoder's hidden state at every timestep of a sentence")
    h.add_argument("--checkpoint", required=True, metavar="PATH")
    h.add_argument("sentence", metavar="SENTENCE", help="the source sentence to encode")
    h.add_argument("--out", metavar="FILE", help="image to write: .png, .pdf or .svg (default hidden_states.png)")
    h.add_argument("--max-units", type=positive_int, default=64, help="draw at most this many units (default 64)")
    sc = kinds.add_parser("scores", help="validation BLEU, chrF and exact match per epoch, the kept epoch marked")
    sc.add_argument("--checkpoint", required=True, metavar="PATH")
    sc.add_argument("--out", metavar="FILE", help="image to write: .png, .pdf or .svg (default scores.png)")
    for parser in (h, sc):
        parser.set_defaults(func=cmd_plot)


def _torch_commands(sub):
    """nprnn export and nprnn import: to PyTorch and back."""
    p = sub.add_parser("export", help="write a checkpoint as a PyTorch state dict (.pt; needs nprnn[torch])")
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="the nprnn checkpoint (.npz)")
    p.add_argument("--out", required=True, metavar="FILE", help="the PyTorch file to write (.pt or .pth)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="read a PyTorch state dict back into an nprnn checkpoint (needs nprnn[torch])")
    p.add_argument("--state-dict", required=True, metavar="FILE", help="a .pt from nprnn export (or a bare state dict)")
    p.add_argument("--like", metavar="PATH", help="the nprnn checkpoint the weights belong to "
                                                  "(needed when the file holds no configuration)")
    p.add_argument("--out", required=True, metavar="PATH", help="the checkpoint to write (.npz)")
    p.set_defaults(func=cmd_import)


def build_parser():
    from .data.tasks import TASK_NAMES

    parser = Parser(prog="nprnn", description="Sequence-to-sequence learning in NumPy, every gradient by hand.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("demo", help="train the bundled English->French translator (under a minute) and show it")
    p.add_argument("--out-dir", default="runs/demo", help="where the checkpoint and figures go (default runs/demo)")
    _setting_flags(p, skip=("cell", "num_layers", "bidirectional", "attention", "peeky", "reverse_source", "dropout",
                            "teacher_forcing"))
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train a model on a task and keep the best checkpoint")
    p.add_argument("--task", required=True, metavar="TASK", help=f"one of: {', '.join(TASK_NAMES)}")
    p.add_argument("--out", required=True, metavar="PATH",
                   help="checkpoint file to write (.npz): a new file, or an nprnn checkpoint to replace")
    _setting_flags(p)
    _corpus_flags(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("translate", help="translate text with a checkpoint, one output line per input line")
    p.add_argument("--checkpoint", required=True, metavar="PATH")
    p.add_argument("text", nargs="*", metavar="TEXT", help="sentences to translate")
    p.add_argument("--input", metavar="FILE", help="a file of sentences, one per line (- for standard input)")
    p.add_argument("--max-len", type=positive_int, default=200,
                   help="longest output in tokens: the smaller of N (default 200) and the checkpoint's max_len")
    _beam_flag(p)
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser("evaluate", help="exact match, token accuracy, BLEU and chrF of a checkpoint on a task's test split")
    p.add_argument("--checkpoint", required=True, metavar="PATH")
    p.add_argument("--task", metavar="TASK", help="default: the task the checkpoint was trained on")
    _beam_flag(p)
    _corpus_flags(p)
    p.set_defaults(func=cmd_evaluate)

    _plot_commands(sub)  # nprnn plot hidden | scores

    _torch_commands(sub)
    from .exercises.cli import register as register_exercises

    register_exercises(sub)  # nprnn exercise list | start NAME | check FILE

    p = sub.add_parser("gradcheck", help="check every hand-written backward pass against finite differences")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the random weights and inputs (default 0)")
    p.add_argument("--bar", type=positive_float, default=GRADCHECK_BAR, help="largest relative error allowed (default 1e-7)")
    p.set_defaults(func=cmd_gradcheck)
    return parser


def main(argv=None):
    os.environ.setdefault("MPLBACKEND", "Agg")  # the command only writes figures to files
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UserError as e:
        _print(one_line(f"nprnn {args.command}: error: {e}"), file=sys.stderr)  # one line, whatever a path holds
        return 2
    except Diverged as e:
        _print(one_line(f"nprnn {args.command}: error: {e}"), file=sys.stderr)
        return 1
    except Interrupted as e:
        _print(one_line(f"nprnn {args.command}: interrupted: {e}"), file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        _print(f"nprnn {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (nprnn translate ... | head -1): quit quietly
        _silence_stdout()
        return 0
    except MemoryError:  # the estimate before allocating passed, but a batch's arrays did not fit
        _print(f"nprnn {args.command}: error: out of memory: choose smaller sizes (--hidden-size, --embedding-dim, "
               f"--num-layers, --batch-size, --max-length)", file=sys.stderr)
        return 1
    except OSError as e:  # the system refused a write or a read nprnn had checked: a full disk, /dev/full
        _silence_stdout()
        _print(one_line(f"nprnn {args.command}: error: {_os_error(e)}"), file=sys.stderr)
        return 1


def _silence_stdout():
    """Point standard output at /dev/null, so that Python's final flush of what could not be
    written does not end in a traceback."""
    try:
        sys.stdout.flush()
    except OSError:
        pass
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _os_error(e):
    """An OSError in words: what failed and on which file, without the errno's brackets."""
    where = f" ({printable(str(e.filename))})" if getattr(e, "filename", None) else ""
    return f"{e.strerror or e}{where}"
