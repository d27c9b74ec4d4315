"""The image files that paths name: files as given, folders walked at any depth.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "a").mkdir()
    >>> _ = (folder / "a" / "1.jpg").write_bytes(b"")
    >>> _ = (folder / "notes.txt").write_text("")
    >>> [pathlib.Path(f).name for f in image_files([folder])]
    ['1.jpg']
"""

from __future__ import annotations

import os
from pathlib import Path

from zoo.data.sources import IMAGE_EXTENSIONS


def walk_folder(folder) -> tuple[list[Path], list[Path]]:
    """Every file under `folder`, at any depth, following links to folders once.

    The walk keeps its own stack (no recursion limit) and knows each folder by
    device and inode, so a link back to a folder above it is not followed again.

    Args:
        folder: The folder to walk.

    Returns:
        (files, broken): the files, and the entries that lead nowhere: links to a
        missing target, links in a loop, and links back to a folder above them.

    Example:
        >>> walk_folder("/no/such/folder")
        Traceback (most recent call last):
        ...
        FileNotFoundError: [Errno 2] No such file or directory: '/no/such/folder'
    """
    root = Path(folder)
    info = root.stat()
    parents = {(info.st_dev, info.st_ino): None}  # folder -> the folder it was found in
    files, broken = [], []
    stack = [(root, (info.st_dev, info.st_ino))]
    while stack:
        directory, key = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:  # unreadable folder: skipped, as Path.rglob does
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
                target = entry.stat() if is_dir else None
            except OSError:
                is_dir = is_file = False
            if is_file:
                files.append(Path(entry.path))
            elif not is_dir:
                if entry.is_symlink():  # a missing target, or a loop of links
                    broken.append(Path(entry.path))
            elif (target.st_dev, target.st_ino) not in parents:
                parents[(target.st_dev, target.st_ino)] = key
                stack.append((Path(entry.path), (target.st_dev, target.st_ino)))
            elif _is_above((target.st_dev, target.st_ino), key, parents):
                broken.append(Path(entry.path))
    return files, broken


def _is_above(candidate, key, parents) -> bool:
    while key is not None:
        if key == candidate:
            return True
        key = parents[key]
    return False


def image_files(inputs) -> list[str]:
    """Expands files and folders (at any depth, image extensions only) to a sorted file list.

    Links that lead nowhere (a missing target, a loop) are listed too, when
    their name has an image extension or none, so that the file check names
    them (and `on_error="skip"` counts them as skipped).
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    files = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found, broken = walk_folder(path)
            images = [p for p in found if p.suffix.lower() in IMAGE_EXTENSIONS]
            broken = [p for p in broken if p.suffix.lower() in IMAGE_EXTENSIONS or not p.suffix]
            if not images and not broken:
                raise FileNotFoundError(f"Folder {path} holds no image files ({', '.join(IMAGE_EXTENSIONS)}).")
            files.extend(str(p) for p in sorted(images + broken))
        else:
            files.append(str(path))
    return files
