"""Atomic writes: a file or folder is written beside its destination and moved onto it when complete.

Models, exports, model cards, checkpoints, backups and the training history go through
`writing` (or `write_text`): a reader sees the old
file or the new one, never half of one; the new file's permissions follow the umask
like any new file's; a failed write leaves the destination as it was and removes its
temporary, and the temporaries of a killed process are removed by the next write to the
same place (`zoo.io.partials`).

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_text(folder / "notes.txt", "hello")
    >>> with writing(folder / "notes.txt") as temporary:
    ...     _ = temporary.write_text("hello again")
    >>> (folder / "notes.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('hello again', ['notes.txt'])
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path
from typing import Iterator

from zoo.io.partials import partial_path, remove_abandoned_partials, umask


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def replace(temporary: Path, path: Path) -> None:
    """Moves a finished file or folder onto `path`, replacing what was there.

    A file is swapped in with one `os.replace`. A folder cannot replace a folder in one
    step: the old one is first renamed aside, then removed once the new one is in place.
    """
    if not path.exists() and not path.is_symlink():
        os.replace(temporary, path)
        return
    if not temporary.is_dir() and not path.is_dir():
        os.replace(temporary, path)
        return
    aside = partial_path(path, ".old")
    os.replace(path, aside)
    try:
        os.replace(temporary, path)
    except OSError:
        os.replace(aside, path)
        raise
    _remove(aside)


def _follow_umask(path: Path) -> None:
    if path.is_dir():
        os.chmod(path, 0o777 & ~umask())
    else:
        os.chmod(path, stat.S_IMODE(0o666 & ~umask()))


@contextlib.contextmanager
def writing(path, suffix: str | None = None) -> Iterator[Path]:
    """Yields a temporary path beside `path`; moves what the block wrote there onto `path` when it succeeds.

    Args:
        path: The destination file or folder (its folder is created).
        suffix: The temporary's ending (default: `path`'s, which some writers need, e.g. ".keras").

    Yields:
        The temporary path (not created: write a file or make a folder there).

    Raises:
        PermissionError: The destination's folder is not writable; the message names `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise PermissionError(f"Cannot write {str(path)!r}: its folder {str(path.parent)!r} is not writable.")
    remove_abandoned_partials(path)
    temporary = partial_path(path, "")
    if suffix is not None:
        temporary = temporary.with_name(temporary.name[: -len(path.suffix) or None] + suffix)
    try:
        yield temporary
        _follow_umask(temporary)
        replace(temporary, path)
    finally:
        if temporary.exists() or temporary.is_symlink():
            _remove(temporary)


def write_text(path, text: str | bytes) -> None:
    """Writes `text` (str or bytes) to `path` atomically.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "card.json"
        >>> write_text(path, b"{}")
        >>> path.read_text(), oct(path.stat().st_mode & 0o777) == oct(0o666 & ~umask())
        ('{}', True)
    """
    with writing(path) as temporary:
        if isinstance(text, bytes):
            temporary.write_bytes(text)
        else:
            temporary.write_text(text)
