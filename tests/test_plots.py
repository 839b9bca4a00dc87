import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nprnn.plots import plot_hidden_states, plot_loss  # noqa: E402


def test_plot_hidden_states_labels_and_shape(tmp_path):
    hs = np.tanh(np.random.default_rng(0).standard_normal((4, 100)))
    ax = plot_hidden_states(hs, ["i", "am", "a", "student"], max_units=48)
    image = ax.images[0]
    assert image.get_array().shape == (48, 4)  # units down, time across
    assert [t.get_text() for t in ax.get_xticklabels()] == ["i", "am", "a", "student"]
    assert "timestep" in ax.get_xlabel() and "first 48 of 100" in ax.get_ylabel()
    assert image.get_clim() == (-1.0, 1.0)
    colorbar_axes = [a for a in ax.figure.axes if a is not ax]
    assert colorbar_axes and colorbar_axes[0].get_ylabel() == "h_t[unit]"
    ax.figure.savefig(tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 1000
    plt.close(ax.figure)


def test_plot_hidden_states_draws_on_a_given_axes():
    fig, (a, b) = plt.subplots(1, 2)
    assert plot_hidden_states(np.zeros((3, 5)), ax=b, context=False) is b
    assert not a.images and b.get_ylabel() == "hidden unit"
    plt.close(fig)
    with pytest.raises(ValueError, match=r"hs must have shape \(T, H\)"):
        plot_hidden_states(np.zeros(3))
    with pytest.raises(ValueError, match="one label per timestep"):
        plot_hidden_states(np.zeros((3, 2)), ["a"])


def test_plot_loss():
    history = [dict(epoch=e, loss=1 / e, valid_loss=1.5 / e, valid_exact=e / 5) for e in range(1, 6)]
    ax = plot_loss(history)
    assert ax.get_xlabel() == "epoch" and "cross-entropy" in ax.get_ylabel()
    assert len(ax.lines) == 2
    twin = [a for a in ax.figure.axes if a is not ax][0]
    np.testing.assert_allclose(twin.lines[0].get_ydata(), [20, 40, 60, 80, 100])
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="empty"):
        plot_loss([])


def test_plot_scores_draws_each_score_and_marks_the_kept_epoch():
    from nprnn.plots import plot_scores

    history = [dict(epoch=e, loss=1 / e, valid_loss=1.5 / e, valid_bleu=10.0 * e, valid_chrf=20.0 + 5 * e,
                    valid_exact=[0.1, 0.3, 0.2, 0.3, 0.25][e - 1]) for e in range(1, 6)]
    ax = plot_scores(history)
    bleu, chrf, exact, kept = ax.lines
    np.testing.assert_allclose(bleu.get_ydata(), [10, 20, 30, 40, 50])
    np.testing.assert_allclose(exact.get_ydata(), [10, 30, 20, 30, 25])
    # epochs 2 and 4 tie on exact match; epoch 4 has the higher chrF, so it is the one kept
    assert list(kept.get_xdata()) == [4, 4] and "epoch 4" in ax.texts[0].get_text()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["BLEU", "chrF", "exact match (%)"]
    plt.close(ax.figure)
    # a run that kept its best by chrF (keep_best="chrf") names its epoch: the checkpoint's meta["epoch"]
    ax = plot_scores(history, kept=5)
    assert list(ax.lines[-1].get_xdata()) == [5, 5] and "epoch 5" in ax.texts[0].get_text()
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="kept"):
        plot_scores(history, kept=6)
    with pytest.raises(ValueError, match="valid_bleu"):
        plot_scores([dict(epoch=1, loss=1.0)])


def test_plot_gates_four_labelled_panels():
    from nprnn import LSTMCell
    from nprnn.plots import lstm_gates, plot_gates

    cell = LSTMCell(3, 6, rng=0)
    state, caches = cell.initial_state(1), []
    for t in range(5):
        state, cache = cell.forward(np.full((1, 3), 0.1 * t), state)
        caches.append(cache)
    gates = {k: v[:, 0] for k, v in lstm_gates(caches).items()}
    assert gates["i"].shape == (5, 6)
    np.testing.assert_array_equal(gates["o"][2], caches[2].step.o[0])
    axes = plot_gates(gates, tokens=list("abcde"))
    assert [a.get_title() for a in axes] == ["input gate i", "forget gate f", "candidate g", "output gate o"]
    assert axes[2].images[0].get_clim() == (-1.0, 1.0) and axes[1].images[0].get_clim() == (0.0, 1.0)
    assert all(a.get_xlabel() == "timestep" for a in axes) and axes[0].get_ylabel() == "hidden unit"
    assert [t.get_text() for t in axes[3].get_xticklabels()] == list("abcde")
    plt.close(axes[0].figure)
    with pytest.raises(ValueError, match="missing"):
        plot_gates({"i": gates["i"]})


def test_plot_gradient_norms():
    from nprnn.plots import plot_gradient_norms

    ax = plot_gradient_norms({"rnn": 10.0 ** -np.arange(6)[::-1], "lstm": np.ones(6)})
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "timestep t" and "||dL/dh_t||" in ax.get_ylabel()
    assert [line.get_label() for line in ax.lines] == ["rnn", "lstm"]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match=r"shape \(T,\)"):
        plot_gradient_norms(np.zeros((2, 2)))


def test_plot_attention():
    from nprnn.plots import plot_attention

    w = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]])
    ax = plot_attention(w, ["a", "b", "c"], ["x", "<eos>"])
    assert ax.images[0].get_array().shape == (2, 3)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "<eos>"]
    assert ax.get_xlabel() == "source token" and ax.get_ylabel() == "output token"
    assert ax.figure.axes[-1].get_ylabel() == "attention weight"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="src_tokens"):
        plot_attention(w, ["a"])


def _ticks_are_whole(ticks):
    return len(ticks) > 0 and all(float(t).is_integer() for t in ticks)


def test_timesteps_and_units_get_whole_number_ticks():
    from nprnn.plots import plot_gates, plot_gradient_norms

    ax = plot_hidden_states(np.zeros((5, 7)), context=False)
    assert _ticks_are_whole(ax.get_xticks()) and _ticks_are_whole(ax.get_yticks())
    plt.close(ax.figure)
    axes = plot_gates({k: np.full((3, 5), 0.5) for k in "ifgo"})
    assert all(_ticks_are_whole(a.get_yticks()) for a in axes)
    plt.close(axes[0].figure)
    ax = plot_gradient_norms(np.ones(7))
    assert _ticks_are_whole(ax.get_xticks())
    plt.close(ax.figure)


def test_colour_maps_read_in_grey_and_for_colour_blind_readers():
    from nprnn.plots import plot_attention, plot_gates

    ax = plot_hidden_states(np.zeros((3, 4)), context=False)
    assert ax.images[0].get_cmap().name == "RdBu_r"  # signed: diverging, colour-blind safe
    assert len(ax.texts) == 12  # a small map prints its values, so the sign survives a grey print
    plt.close(ax.figure)
    axes = plot_gates({k: np.full((3, 2), 0.5) for k in "ifgo"})
    assert [a.images[0].get_cmap().name for a in axes] == ["viridis", "viridis", "RdBu_r", "viridis"]
    plt.close(axes[0].figure)
    ax = plot_attention(np.eye(2))
    assert ax.images[0].get_cmap().name == "Greys"
    plt.close(ax.figure)
    ax = plot_hidden_states(np.zeros((20, 64)))
    assert not ax.texts or all(t.get_text() == "context" for t in ax.texts)  # a large map stays a picture
    plt.close(ax.figure)


def test_legends_do_not_cover_the_data():
    from nprnn.plots import plot_gradient_norms

    history = [dict(epoch=e, loss=1 / e, valid_loss=1.5 / e, valid_exact=e / 5) for e in range(1, 6)]
    ax = plot_loss(history)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.y1 <= ax.get_window_extent(renderer).y0  # below the plot
    plt.close(ax.figure)
    ax = plot_gradient_norms({"a": np.ones(4), "b": np.ones(4) / 2})
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1  # beside it
    styles = [(line.get_color(), line.get_marker(), line.get_linestyle()) for line in ax.lines]
    assert len(set(styles)) == 2 and styles[0][1] != styles[1][1]  # told apart without colour too
    plt.close(ax.figure)


def test_attention_labels_single_characters_upright_and_spaces_visible():
    from nprnn.plots import plot_attention

    ax = plot_attention(np.full((2, 13), 1 / 13), list("Sep 27, 1994!"), ["1", "9"])
    labels = ax.get_xticklabels()
    assert [t.get_text() for t in labels][3] == "\u2423"  # a space is drawn as ␣
    assert all(t.get_rotation() == 0 for t in labels)
    plt.close(ax.figure)


def test_save_figure_shows_inline_only_in_a_notebook(tmp_path, monkeypatch):
    from nprnn import plots

    shown = []
    monkeypatch.setattr(plots, "_display", lambda fig, path: shown.append(path))
    ax = plot_hidden_states(np.zeros((2, 2)), context=False)
    plots.save_figure(ax, tmp_path / "a.png", quiet=True)  # a script, or pytest: written, not shown
    assert shown == [] and not plt.fignum_exists(ax.figure.number)
    monkeypatch.setattr(plots, "in_notebook", lambda: True)
    ax = plot_hidden_states(np.zeros((2, 2)), context=False)
    plots.save_figure(ax, tmp_path / "b.png", quiet=True)
    assert shown == [tmp_path / "b.png"] and plots.is_image(tmp_path / "b.png")
    assert not plt.fignum_exists(ax.figure.number)  # closed, so the kernel does not draw it twice
    ax = plot_hidden_states(np.zeros((2, 2)), context=False)
    plots.save_figure(ax, tmp_path / "c.png", quiet=True, show=False)
    assert shown == [tmp_path / "b.png"]


def test_displaying_a_saved_figure_shows_the_file(tmp_path, monkeypatch):
    pytest.importorskip("IPython")
    import IPython.display

    from nprnn import plots

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    ax = plot_hidden_states(np.zeros((2, 2)), context=False)
    plots.save_figure(ax, tmp_path / "a.png", quiet=True, show=True)
    assert len(shown) == 1 and shown[0].data == (tmp_path / "a.png").read_bytes()


def test_save_figure_prints_any_path_in_one_line_without_a_traceback(tmp_path, capsys):
    """A file name's byte that is not UTF-8 is printed as its escape (capsys's stdout, like a
    strict UTF-8 terminal's, cannot encode it), a line break in it as \\n."""
    import os

    from nprnn import plots

    for name, shown in ((os.fsdecode(b"caf\xe9.png"), "caf\\udce9.png"), ("two\nlines.png", "two\\nlines.png")):
        path = plots.save_figure(plot_hidden_states(np.zeros((2, 2)), context=False), tmp_path / name)
        assert plots.is_image(path) and path.name == name
        assert capsys.readouterr().out == f"saved figure: {tmp_path / shown}\n"
