"""Figures with matplotlib. Each function draws on the Axes it is given (or a new one), labels
both axes and any colour bar, and returns the Axes; none calls ``plt.show()``.

    ax = plot_hidden_states(hs, tokens=["i", "am", "a", "student"])
    ax.figure.savefig("hidden.png")
"""
import numpy as np


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
    image = ax.imshow(shown.T, aspect="auto", cmap="RdBu_r", vmin=-1.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks(range(T))
    ax.set_xticklabels(tokens if tokens is not None else [str(t) for t in range(T)], rotation=0 if T < 12 else 60)
    ax.set_xlabel("timestep (input token)" if tokens is not None else "timestep t")
    ax.set_ylabel(f"hidden unit (first {shown.shape[1]} of {H})" if H > shown.shape[1] else "hidden unit")
    colorbar = ax.figure.colorbar(image, ax=ax)
    colorbar.set_label("h_t[unit]")
    if context and T:
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((T - 1.5, -0.5), 1.0, shown.shape[1], fill=False, edgecolor="black", linewidth=2))
        ax.annotate("context", (T - 1, -0.5), xytext=(0, 4), textcoords="offset points", ha="center", va="bottom",
                    annotation_clip=False)
    ax.set_title(title, pad=16 if context else 6)
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
    ax.plot(epochs, [r["loss"] for r in history], "o-", label="training loss")
    if "valid_loss" in history[0]:
        ax.plot(epochs, [r["valid_loss"] for r in history], "s-", label="validation loss")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy per token")
    handles, labels = ax.get_legend_handles_labels()
    if "valid_exact" in history[0]:
        acc = ax.twinx()
        acc.plot(epochs, [100 * r["valid_exact"] for r in history], "^--", color="tab:green", label="validation exact match")
        acc.set_ylabel("validation exact match (%)")
        acc.set_ylim(0, 100)
        h2, l2 = acc.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="center right")
    ax.set_title(title)
    return ax
