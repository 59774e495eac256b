"""Every file pbr writes appears whole or not at all: a full disk or a crash leaves no half-written output."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path


def partials_of(path: str | Path) -> list[Path]:
    """The temporary files `written_whole` leaves beside `path` when its process is killed mid-write."""
    path = Path(path)
    return sorted(path.parent.glob(f".{glob_escape(path.name)}.*.partial")) if path.parent.is_dir() else []


def remove_stale_partials(path: str | Path, older_than_seconds: float) -> int:
    """Remove what writes of `path` cut short left behind (none younger than `older_than_seconds`: a write still
    going on); returns how many."""
    removed = 0
    for partial in partials_of(path):
        try:
            if time.time() - partial.stat().st_mtime > older_than_seconds:
                partial.unlink()
                removed += 1
        except FileNotFoundError:  # finished or removed meanwhile
            pass
    return removed


@contextmanager
def written_whole(path: str | Path, private: bool = False) -> Iterator[Path]:
    """A temporary path beside `path` to write to; it replaces `path` only when the block succeeds.

    `private` makes the file readable by its owner only from its first byte (the returns holding names).
    """
    path = Path(path)
    if path.exists() and not path.is_file():  # a device or a pipe (/dev/stdout): there is nothing to replace
        yield path
        return
    path = path.resolve()  # through a symbolic link, so the link stays and its file is replaced
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    # created here, so the mode is set before any byte is written and the umask applies as to any new file
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666))
    try:
        yield partial
        if private:
            os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
