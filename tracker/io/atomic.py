"""Files written whole or not at all.

Every summary, results file, cache and checkpoint the package writes goes through here: the bytes go to
``<name>.part`` next to the target, which is renamed onto it (:func:`os.replace`, atomic on POSIX and
Windows) only once it is complete. A reader never sees half a file, and a run stopped or killed while
writing leaves the previous version (or nothing) in place, plus at most a stray ``.part``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["PART_SUFFIX", "atomic_write", "write_text_atomic"]

PART_SUFFIX = ".part"
"""Suffix of the temporary file, appended to the target's name."""


def _part(path: Path) -> Path:
    return path.with_name(path.name + PART_SUFFIX)


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open ``<path>.part`` for writing bytes and rename it onto ``path`` when the block ends without
    an exception. On an exception the partial file is removed and ``path`` is left as it was. Missing
    parent folders are created."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = _part(target)
    try:
        with part.open("wb") as fh:
            yield fh
        os.replace(part, target)  # (fails e.g. when the target is a folder: the .part is not left)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8, line ends as given) to ``path`` whole or not at all (see
    :func:`atomic_write`); returns the path."""
    target = Path(path)
    with atomic_write(target) as fh:
        fh.write(text.encode("utf-8"))
    return target
