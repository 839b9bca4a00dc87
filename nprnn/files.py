"""Files, safely: what nprnn may overwrite, atomic writes, and text read as the user wrote it.

- `check_output_path(path, is_ours, what)`: before any work, refuse an output path that is a
  directory, a device, a FIFO or an existing file that is not nprnn's own kind (a checkpoint,
  an image), and make sure its folder can be written. nprnn never overwrites a file that is not
  its own.
- `atomic_write(path, write)`: write to a temporary file with a unique name in the target's
  folder, flush it to disk, then rename it over the target: a reader sees the old file or the
  new one, whole, never a mix; an error or an interrupt removes the temporary file.
- `read_lines(path)`: lines split at "\\n" only ("\\r\\n" accepted), so a U+2028 or a form feed
  inside a sentence stays inside it, and invalid UTF-8 is refused with the line number.
- `one_line(text)` and `printable(text, stream)`: what nprnn prints, safely: one output line
  stays one line (a "\\n" or "\\r" inside it is written as the two characters \\n or \\r), and
  a character the stream's encoding cannot hold (a lone surrogate in a token, the undecodable
  byte of a file name) is written as its Python escape (\\ud800, \\udce9), never a
  UnicodeEncodeError.

Imports the standard library only; every layer may use it.
"""
import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path


class FileProblem(ValueError):
    """A path that cannot be read or written as asked; the message names it and says why."""


def _kind(mode):
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_output_path(path, is_ours, what):
    """Raise FileProblem unless nprnn may write `what` (e.g. "checkpoint") at `path`.

    Allowed: a path where nothing is yet (its folder is created if need be), or an existing
    regular file for which ``is_ours(path)`` is true. Returns the path.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise FileProblem(f"cannot use {path} for the {what}: {e.strerror}") from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise FileProblem(f"{path} is {_kind(st.st_mode)}, not a file nprnn may write its {what} to")
        if not is_ours(path):
            raise FileProblem(f"{path} exists and is not an nprnn {what}; nprnn only replaces its own files "
                              f"(choose a new name or remove it)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise FileProblem(f"cannot write the {what} {path}: {e.strerror or e}") from None
    return path


def atomic_write(path, write):
    """Call ``write(binary_file)`` on a new temporary file beside `path`, then rename it to `path`.

    The temporary name is unique (two runs writing one path never share it), and it is removed
    on any failure, Ctrl-C included; the rename is atomic, so `path` is always one whole file.
    If `path` is a symbolic link, the file it points to is replaced and the link stays.
    """
    path = Path(path)
    if path.is_symlink():  # a link to the file: the file is replaced, the link kept
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def split_lines(data, name):
    """Bytes -> text lines, split at b"\\n" only (a trailing "\\r" dropped), each decoded as
    UTF-8 (a byte-order mark at the start is skipped); FileProblem names the line if one is not UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    out = []
    for number, line in enumerate(lines, start=1):
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise FileProblem(f"{name} line {number} is not UTF-8 text (byte {e.start + 1} of the line)") from None
    return out


def read_bytes(path):
    """The bytes of `path`, or `-` for standard input; FileProblem with a one-line reason otherwise."""
    if str(path) == "-":
        stdin = sys.stdin
        if stdin is None or stdin.closed:
            raise FileProblem("standard input is closed; give a file instead of -")
        try:
            return stdin.buffer.read()
        except (OSError, ValueError) as e:
            raise FileProblem(f"cannot read standard input: {getattr(e, 'strerror', None) or e}") from None
    path = Path(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise FileProblem(f"{path} is {_kind(st.st_mode)}, not a file to read")
        return path.read_bytes()
    except FileNotFoundError:
        raise FileProblem(f"no such file: {path}") from None
    except PermissionError:
        raise FileProblem(f"cannot read {path}: permission denied") from None
    except OSError as e:
        raise FileProblem(f"cannot read {path}: {e.strerror or e}") from None


def read_lines(path):
    """The text lines of a UTF-8 file (or `-`, standard input), split at newlines only."""
    return split_lines(read_bytes(path), "standard input" if str(path) == "-" else str(path))


def one_line(text):
    """`text` as one line of output: a line break in it ("\\n" or "\\r", which a token of a
    checkpoint may hold) written as the two characters \\n or \\r; nothing else changes."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def printable(text, stream):
    """`text` as `stream` can write it: each character its encoding cannot hold (a lone
    surrogate; a file name's byte that is not UTF-8, which Python holds as one) written as
    its Python escape, \\udce9 say, instead of raising UnicodeEncodeError."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return text.encode(encoding, "backslashreplace").decode(encoding)
