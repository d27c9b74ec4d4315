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

NOT_AN_IMAGE = f"not an image file (its name ends in none of {', '.join(IMAGE_EXTENSIONS)})"


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


def is_image_name(path) -> bool:
    """Whether a file's name says it is an image (its extension, any case); dot files never are.

    `zoo train --folders` and `zoo predict` both read the files this accepts
    and count the others as skipped.

    Example:
        >>> is_image_name("a/1.JPG"), is_image_name("a/notes.txt"), is_image_name("a/.DS_Store")
        (True, False, False)
    """
    path = Path(path)
    return not path.name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS


def not_image_files(files) -> list[str]:
    """The files among `files` whose name is not an image's, dot files (".DS_Store") aside."""
    return [str(p) for p in files if not Path(p).name.startswith(".") and not is_image_name(p)]


def find_image_files(inputs) -> tuple[list[str], list[str]]:
    """(image files, other files) in files and folders (walked at any depth), each sorted.

    Links that lead nowhere (a missing target, a loop) are listed among the
    images too, when their name has an image extension or none, so that the
    file check names them (and `on_error="skip"` counts them as skipped).
    Files given by name are taken as images whatever their name; files found
    in folders with other names are returned apart, to be counted as skipped.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> for name in ("1.png", "notes.txt", ".DS_Store"):
        ...     _ = (folder / name).write_bytes(b"")
        >>> [[pathlib.Path(f).name for f in found] for found in find_image_files(folder)]
        [['1.png'], ['notes.txt']]
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    files, others = [], []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found, broken = walk_folder(path)
            images = [p for p in found if is_image_name(p)]
            broken = [p for p in broken if p.suffix.lower() in IMAGE_EXTENSIONS or not p.suffix]
            if not images and not broken:
                raise FileNotFoundError(f"Folder {path} holds no image files ({', '.join(IMAGE_EXTENSIONS)}).")
            files.extend(str(p) for p in sorted(images + broken))
            others.extend(sorted(not_image_files(found)))
        else:
            files.append(str(path))
    return files, others


def image_files(inputs) -> list[str]:
    """Expands files and folders (at any depth, image extensions only) to a sorted file list.

    See `find_image_files`, which also returns the other files it found.
    """
    return find_image_files(inputs)[0]
