"""Temporary files of a save in progress: named after their destination, removed when abandoned.

A save writes `.<name><PARTIAL_MARKER><pid>-<host>-<random>.<suffix>` beside the
destination and renames it into place when complete; a process killed mid-save
leaves its temporary behind, which the next save to the same place removes.

Example:
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> partial_path(Path(folder) / "model.keras", "a1").name.startswith(".model.keras" + PARTIAL_MARKER)
    True
    >>> remove_abandoned_partials(Path(folder) / "model.keras")
    []
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
from pathlib import Path



PARTIAL_MARKER = ".zoo-partial-"


def host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname()) or "host"


def partial_path(path: Path, tag: str) -> Path:
    """A fresh temporary name beside `path`, with the suffix Keras needs."""
    token = secrets.token_hex(4)
    return path.with_name(f".{path.name}{PARTIAL_MARKER}{os.getpid()}-{host()}-{token}{tag}{path.suffix}")


def process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # it exists, under another user
    return False


def remove_abandoned_partials(path) -> list[Path]:
    """Removes temporaries that killed saves of `path` left beside it.

    Only temporaries of this destination, written on this host by a process
    that no longer runs, are removed: a save still running is left alone.

    Args:
        path: The destination of `save_model`.

    Returns:
        The removed paths.

    Example:
        >>> remove_abandoned_partials("/tmp/nothing-saved-here.keras")
        []
    """
    path = Path(path)
    prefix = f".{path.name}{PARTIAL_MARKER}"
    removed = []
    if not path.parent.is_dir():
        return removed
    for candidate in path.parent.iterdir():
        if not candidate.name.startswith(prefix):
            continue
        pid, _, rest = candidate.name[len(prefix):].partition("-")
        if not pid.isdigit() or not rest.startswith(host() + "-") or not process_is_gone(int(pid)):
            continue
        try:
            if candidate.is_dir() and not candidate.is_symlink():
                shutil.rmtree(candidate)
            else:
                candidate.unlink(missing_ok=True)
        except OSError:  # not ours to remove, or gone: the save goes on
            continue
        removed.append(candidate)
    return removed


def umask() -> int:
    """The process umask, read without changing it where Linux tells it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
