import subprocess
import sys

from nprnn.cli import main


def test_gradcheck_command_passes_and_prints_a_table(capsys):
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    for what in ("RNNCell", "LSTMCell", "GRUCell(reset_after=False)", "Recurrent(GRUCell)", "Embedding", "Linear"):
        assert what in out
    assert "all ok" in out and "FAIL" not in out


def test_gradcheck_command_fails_when_the_bar_is_missed(capsys):
    assert main(["gradcheck", "--bar", "1e-20"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_python_dash_m_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "nprnn", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "gradcheck" in done.stdout
