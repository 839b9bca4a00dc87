"""Figures with matplotlib. Each function draws on the Axes it is given (or a new one), labels
both axes and any colour bar, and returns the Axes; none calls ``plt.show()``.

    ax = plot_hidden_states(hs, tokens=["i", "am", "a", "student"])
    ax.figure.savefig("hidden.png")

Text is drawn as written: a token or title holding "$" is not read as mathtext. `save_figure`
writes atomically and refuses to replace a file that is not an image (`check_image_path`); in a
Jupyter notebook it also shows the figure inline (a script only writes the file).

Colours are chosen to survive print and colour-blind readers: signed values (hidden states, the
candidate g) use the diverging ColorBrewer RdBu, which is safe for the common colour-vision
deficiencies, and small heatmaps also print each value in its cell, so the sign can be read in
grey; values in [0, 1] use viridis (its lightness rises steadily, so it reads in grey too), and
attention weights use greys. Lines take the Okabe-Ito colours, each with its own marker and dash.

Imports: files.
"""
import numpy as np

from .files import FileProblem, atomic_write, check_output_path

# The formats save_figure writes, by suffix, and how each file starts.
IMAGE_FORMATS = {".png": (b"\x89PNG",), ".pdf": (b"%PDF",), ".svg": (b"<?xml", b"<svg")}


def _literal(text):
    """A label drawn as written: matplotlib reads "$...$" as mathtext, so "$" is escaped."""
    return str(text).replace("$", r"\$")


def _labels(tokens):
    return [_literal(t) for t in tokens]


DIVERGING = "RdBu_r"  # signed values: blue below 0, red above (ColorBrewer, colour-blind safe)
SEQUENTIAL = "viridis"  # values in [0, 1]: lightness rises steadily, readable in grey
# Okabe & Ito (2008): eight colours told apart with every common colour-vision deficiency; each
# series also gets its own marker and dash, so a grey print can tell them apart too.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DASHES = ("-", "--", "-.", ":")
ANNOTATE_CELLS = 64  # heatmaps with at most this many cells print each value in its cell


def _style(i):
    """Colour, marker and line style of the i-th series of a line plot."""
    return dict(color=OKABE_ITO[i % len(OKABE_ITO)], marker=MARKERS[i % len(MARKERS)],
                linestyle=DASHES[(i // 2) % len(DASHES)] if i else "-")


def _integer_ticks(axis):
    """Ticks only at whole numbers (timesteps, units), however the axis is scaled."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _tick_rotation(labels, count):
    """Rotate long rows of labels so that they do not overlap; single characters never need it."""
    longest = max((len(str(t)) for t in labels), default=0)
    return 0 if longest <= 1 or longest * count <= 60 else 60


def _annotate_cells(ax, image, values, fmt=None):
    """Print each value of a small heatmap (values (rows, columns) as drawn) in its cell, in
    black or white, whichever stands out from the cell's colour (two decimals; one when more
    than 8 columns make the cells narrow)."""
    rows, cols = values.shape
    if rows * cols > ANNOTATE_CELLS:
        return
    fmt = fmt or ("{:.2f}" if cols <= 8 else "{:.1f}")
    rgba = image.cmap(image.norm(values))
    light = 0.299 * rgba[..., 0] + 0.587 * rgba[..., 1] + 0.114 * rgba[..., 2]
    for r in range(rows):
        for c in range(cols):
            text = fmt.format(values[r, c])
            if float(text) == 0:
                text = text.lstrip("-")  # -0.04 is drawn "0.0", not "-0.0"
            ax.text(c, r, text.replace("-", "\u2212"), ha="center", va="center", fontsize=7,
                    color="black" if light[r, c] > 0.5 else "white")


def _display_name(token):
    """A token as a tick label: a space is drawn as the visible "␣"."""
    return "\u2423" if token == " " else token


def is_image(path):
    """True if the file at `path` starts as an image of the format its suffix names."""
    from pathlib import Path

    magics = IMAGE_FORMATS.get(Path(path).suffix.lower(), ())
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    return any(head.startswith(m) for m in magics)


def check_image_path(path):
    """Refuse a figure path whose suffix is not .png, .pdf or .svg, or that holds a file that is
    not an image (nprnn never replaces a file that is not its own); FileProblem says why."""
    from pathlib import Path

    if Path(path).suffix.lower() not in IMAGE_FORMATS:
        raise FileProblem(f"{path}: a figure file must end in {', '.join(IMAGE_FORMATS)}")
    return check_output_path(path, is_image, "figure")


def _axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_hidden_states(hs, tokens=None, ax=None, *, max_units=64, title="hidden state per timestep",
                       context=True):
    """Heatmap of hidden states hs (T, H): time on x (labelled with `tokens`), units on y.

    A tanh-bounded state lies in [-1, 1], so the colours are fixed to that range and centred on
    0. Only the first `max_units` units are drawn when H is larger. With context=True the last
    column, the encoder's context vector, is outlined.
    """
    hs = np.asarray(hs, dtype=np.float64)
    if hs.ndim != 2:
        raise ValueError(f"hs must have shape (T, H), got {hs.shape}")
    T, H = hs.shape
    if tokens is not None and len(tokens) != T:
        raise ValueError(f"tokens must have one label per timestep ({T}), got {len(tokens)}")
    shown = hs[:, :max_units]
    ax = _axes(ax, (max(4.0, 0.7 * T + 2.0), max(3.0, 0.09 * shown.shape[1] + 1.5)))
    image = ax.imshow(shown.T, aspect="auto", cmap=DIVERGING, vmin=-1.0, vmax=1.0, interpolation="nearest")
    labels = _labels(tokens) if tokens is not None else [str(t) for t in range(T)]
    ax.set_xticks(range(T))
    ax.set_xticklabels(labels, rotation=0 if T < 12 else 60)
    _integer_ticks(ax.yaxis)
    _annotate_cells(ax, image, shown.T)
    ax.set_xlabel("timestep (input token)" if tokens is not None else "timestep t")
    ax.set_ylabel(f"hidden unit (first {shown.shape[1]} of {H})" if H > shown.shape[1] else "hidden unit")
    colorbar = ax.figure.colorbar(image, ax=ax)
    colorbar.set_label("h_t[unit]")
    if context and T:
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((T - 1.5, -0.5), 1.0, shown.shape[1], fill=False, edgecolor="black", linewidth=2))
        ax.annotate("context", (T - 1, -0.5), xytext=(0, 4), textcoords="offset points", ha="center", va="bottom",
                    annotation_clip=False)
    ax.set_title(_literal(title), pad=16 if context else 6)
    return ax


def plot_loss(history, ax=None, *, title="training"):
    """Training and validation loss per epoch, and validation exact match on a second y axis.

    history: a list of dicts with "epoch", "loss" and optionally "valid_loss", "valid_exact"
    (what `nprnn.train.fit` returns and checkpoints keep).
    """
    if not history:
        raise ValueError("history is empty: nothing to plot")
    ax = _axes(ax, (6.0, 3.8))
    epochs = [r["epoch"] for r in history]
    ax.plot(epochs, [r["loss"] for r in history], label="training loss", **_style(0))
    if "valid_loss" in history[0]:
        ax.plot(epochs, [r["valid_loss"] for r in history], label="validation loss", **_style(1))
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    _integer_ticks(ax.xaxis)
    ax.set_ylabel("cross-entropy per token")
    handles, labels = ax.get_legend_handles_labels()
    if "valid_exact" in history[0]:
        acc = ax.twinx()
        acc.plot(epochs, [100 * r["valid_exact"] for r in history], label="validation exact match",
                 **{**_style(2), "linestyle": "--"})
        acc.set_ylabel("validation exact match (%)")
        acc.set_ylim(0, 100)
        h2, l2 = acc.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    # below the plot, where it can cover no point of any curve
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(labels), frameon=False)
    ax.set_title(_literal(title))
    return ax


def plot_scores(history, ax=None, *, kept=None, title="validation scores per epoch"):
    """Validation BLEU, chrF and exact match (%) per epoch, the kept epoch marked.

    history: the records of `nprnn.train.fit` (a checkpoint keeps them in meta["history"]):
    dicts with "epoch" and "valid_bleu", "valid_chrf", "valid_exact". kept: the epoch training
    kept (a checkpoint's meta["epoch"]); None: the highest exact match, then chrF, then the
    lowest validation loss (what training keeps by default).
    """
    keys = [("valid_bleu", "BLEU", 1.0), ("valid_chrf", "chrF", 1.0), ("valid_exact", "exact match (%)", 100.0)]
    if not history or not all(k in history[0] for k, _, _ in keys):
        raise ValueError("history must hold an epoch's valid_bleu, valid_chrf and valid_exact: nothing to plot")
    ax = _axes(ax, (6.0, 3.8))
    epochs = [r["epoch"] for r in history]
    for i, (key, label, scale) in enumerate(keys):
        ax.plot(epochs, [scale * r[key] for r in history], label=label, **_style(i))
    if kept is None:
        best = max(history, key=lambda r: (r["valid_exact"], r["valid_chrf"], -r.get("valid_loss", 0.0)))
    else:
        best = next((r for r in history if r["epoch"] == kept), None)
        if best is None:
            raise ValueError(f"kept must be one of the history's epochs, got {kept!r}")
    ax.axvline(best["epoch"], color="0.6", linewidth=1, zorder=0)
    ax.annotate(f"kept: epoch {best['epoch']}\nBLEU {best['valid_bleu']:.1f}, chrF {best['valid_chrf']:.1f}",
                (best["epoch"], best["valid_chrf"]), xytext=(-8, 8), textcoords="offset points", ha="right",
                fontsize=8, color="0.3")
    ax.set_xlabel("epoch")
    _integer_ticks(ax.xaxis)
    ax.set_ylabel("score on the validation sentences")
    ax.set_ylim(0, 100)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(keys), frameon=False)
    ax.set_title(_literal(title))
    return ax


def plot_gates(gates, tokens=None, axes=None, *, max_units=32, title="LSTM gates per timestep"):
    """An LSTM's gates per timestep: four heatmaps side by side, each (units x time).

    gates: a mapping with keys "i", "f", "g", "o", each (T, H) (one sequence), for example
    ``lstm_gates(caches)`` of a run of `LSTMCell.forward`. i, f and o are sigmoids, shown on
    [0, 1]; the candidate g is a tanh, shown on [-1, 1]. `axes`: four Axes to draw on, or None
    for a new figure. Returns the four Axes.
    """
    names = {"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o"}
    missing = [k for k in names if k not in gates]
    if missing:
        raise ValueError(f"gates must have the keys i, f, g, o; missing {missing}")
    arrays = {k: np.asarray(gates[k], dtype=np.float64) for k in names}
    T = arrays["i"].shape[0]
    for k, a in arrays.items():
        if a.ndim != 2 or a.shape != arrays["i"].shape:
            raise ValueError(f"gates[{k!r}] must have shape (T, H) like gates['i'] {arrays['i'].shape}, got {a.shape}")
    if tokens is not None and len(tokens) != T:
        raise ValueError(f"tokens must have one label per timestep ({T}), got {len(tokens)}")
    if axes is None:
        import matplotlib.pyplot as plt

        H = min(arrays["i"].shape[1], max_units)
        fig, axes = plt.subplots(1, 4, figsize=(3.0 + 1.6 * max(T, 3), max(3.2, 1.5 + 0.09 * H)), layout="constrained", sharey=True)
        fig.suptitle(title)
    if len(axes) != 4:
        raise ValueError(f"axes must be four Axes, got {len(axes)}")
    labels = tokens if tokens is not None else [str(t) for t in range(T)]
    for ax, (k, name) in zip(axes, names.items()):
        shown = arrays[k][:, :max_units]
        lo, cmap = (-1.0, DIVERGING) if k == "g" else (0.0, SEQUENTIAL)
        image = ax.imshow(shown.T, aspect="auto", cmap=cmap, vmin=lo, vmax=1.0, interpolation="nearest")
        if k == "g":  # signed: its values in the cells, so the sign survives a grey print
            _annotate_cells(ax, image, shown.T, fmt="{:.1f}")
        ax.set_title(name)
        _integer_ticks(ax.yaxis)
        ax.set_xticks(range(T))
        ax.set_xticklabels(_labels(labels), rotation=0 if T < 8 else 60)
        ax.set_xlabel("timestep")
        colorbar = ax.figure.colorbar(image, ax=ax)
        colorbar.set_label(f"{k}_t[unit]")
    axes[0].set_ylabel("hidden unit")
    return axes


def lstm_gates(caches):
    """The gates of a run of LSTM steps: {"i", "f", "g", "o"} each (T, ...), from their caches
    (the step caches of `LSTMCell.step`, or the `CellCache`s of `LSTMCell.forward`)."""
    steps = [c.step if hasattr(c, "step") else c for c in caches]
    return {k: np.stack([getattr(s, k) for s in steps]) for k in ("i", "f", "g", "o")}


def plot_gradient_norms(norms, tokens=None, ax=None, *, title="gradient norm reaching each timestep"):
    """The size of a gradient at every timestep, one line per series, on a log scale.

    norms: a mapping of series name -> (T,) norms (say ||dL/dh_t|| for each cell), or one
    (T,) array. Time runs left to right, so a gradient that vanishes going back in time falls
    towards the left.
    """
    series = norms if isinstance(norms, dict) else {"||dL/dh_t||": norms}
    ax = _axes(ax, (8.2, 3.8))  # wide enough for the legend beside the plot
    T = None
    for i, (name, values) in enumerate(series.items()):
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"norms[{name!r}] must have shape (T,), got {values.shape}")
        T = len(values)
        style = _style(i)
        ax.plot(np.arange(T), np.maximum(values, 1e-300), label=_literal(name), markersize=4 if T > 20 else 6,
                markevery=max(1, T // 12), **style)
    ax.set_yscale("log")
    ax.set_xlabel("timestep t")
    _integer_ticks(ax.xaxis)
    ax.set_ylabel("gradient norm ||dL/dh_t||")
    if tokens is not None:
        if len(tokens) != T:
            raise ValueError(f"tokens must have one label per timestep ({T}), got {len(tokens)}")
        ax.set_xticks(range(T))
        ax.set_xticklabels(_labels(tokens), rotation=60)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # beside the plot, over no line
    ax.set_title(_literal(title))
    return ax


def figure_dir(name):
    """The folder a lesson or script writes its figures into: $NPRNN_FIGURES/name (default
    figures/name), created if need be."""
    import os
    from pathlib import Path

    folder = Path(os.environ.get("NPRNN_FIGURES", "figures")) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def in_notebook():
    """True inside a Jupyter kernel (a notebook, JupyterLab, VS Code's interactive window), where
    a figure can be shown inline; False in a script, a terminal IPython, or a test."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _display(fig, path):
    """Show a saved figure in the notebook's output, once: the PNG or SVG file just written
    (whatever matplotlib backend the kernel runs), or the figure itself for a PDF. Closing the
    figure afterwards keeps the inline backend from drawing it a second time."""
    from pathlib import Path

    from IPython.display import SVG, Image, display

    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        display(Image(data=Path(path).read_bytes(), format="png"))
    elif suffix == ".svg":
        display(SVG(data=Path(path).read_bytes()))
    else:
        display(fig)


def save_figure(ax_or_fig, path, dpi=110, quiet=False, show=None):
    """Save the figure of an Axes (or a Figure, or a sequence of Axes) as PNG (or the format of
    the suffix: .pdf, .svg), atomically, close it, print where it went (unless quiet), and
    return the path. A path holding a file that is not an image is refused (FileProblem).

    show: also display the figure in the notebook's output before closing it; None (the
    default) does so exactly when running in a Jupyter kernel (`in_notebook`), so a lesson shows
    its figures inline in Jupyter and only writes them when run as a script. Never `plt.show()`."""
    import sys
    from pathlib import Path

    import matplotlib.pyplot as plt

    from .files import one_line, printable

    fig = ax_or_fig
    if isinstance(fig, (list, tuple, np.ndarray)):
        fig = fig[0]
    fig = getattr(fig, "figure", fig)
    check_image_path(path)
    try:
        atomic_write(path, lambda f: fig.savefig(f, dpi=dpi, format=Path(path).suffix.lower()[1:]))
        if in_notebook() if show is None else show:
            _display(fig, path)
    finally:
        plt.close(fig)
    if not quiet and sys.stdout is not None:  # None: no stdout at all (pythonw), nowhere to print
        # one line, as stdout can encode it: a path's line break as \n, a byte that is not UTF-8 as \udce9
        print(printable(one_line(f"saved figure: {path}"), sys.stdout))
    return path


def plot_attention(weights, src_tokens=None, tgt_tokens=None, ax=None, *, title="attention"):
    """Heatmap of attention weights (T_out, S): one row per output token, one column per source
    token; row t is where the decoder looked while writing token t (each row sums to 1).

    `Seq2Seq.attention_weights(src, hyps)` gives these maps, one per sentence.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2:
        raise ValueError(f"weights must have shape (T_out, S), got {weights.shape}")
    T, S = weights.shape
    if src_tokens is not None and len(src_tokens) != S:
        raise ValueError(f"src_tokens must label the {S} source positions, got {len(src_tokens)}")
    if tgt_tokens is not None and len(tgt_tokens) != T:
        raise ValueError(f"tgt_tokens must label the {T} output steps, got {len(tgt_tokens)}")
    ax = _axes(ax, (max(3.5, 0.45 * S + 2.2), max(3.0, 0.4 * T + 1.5)))
    image = ax.imshow(weights, aspect="auto", cmap="Greys", vmin=0.0, vmax=1.0, interpolation="nearest")
    xlabels = _labels(map(_display_name, src_tokens)) if src_tokens is not None else [str(s) for s in range(S)]
    ax.set_xticks(range(S))
    ax.set_xticklabels(xlabels, rotation=_tick_rotation(xlabels, S))
    ax.set_yticks(range(T))
    ax.set_yticklabels(_labels(map(_display_name, tgt_tokens)) if tgt_tokens is not None else range(T))
    ax.set_xlabel("source token")
    ax.set_ylabel("output token")
    colorbar = ax.figure.colorbar(image, ax=ax)
    colorbar.set_label("attention weight")
    ax.set_title(_literal(title))
    return ax
