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
