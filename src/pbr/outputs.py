"""Every file pbr writes appears whole or not at all: a full disk or a crash leaves no half-written output.

A file is written beside its name, as `.NAME.PID-RANDOM.partial`, and renamed into place. A process killed
mid-write leaves its partial file: the next write of the same name removes those whose process has gone.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path

PARTIAL = re.compile(r"^\..+\.(?:(\d+)-)?[0-9a-f]{8}\.partial$")


def is_partial(path: Path) -> bool:
    return PARTIAL.match(path.name) is not None


def partials_of(path: str | Path) -> list[Path]:
    """The temporary files `written_whole` leaves beside `path` when its process is killed mid-write."""
    path = Path(path)
    return sorted(path.parent.glob(f".{glob_escape(path.name)}.*.partial")) if path.parent.is_dir() else []


def _process_gone(partial: Path) -> bool:
    """Whether the process that was writing a partial file has ended (its id is in the name; older names have
    none, and are judged by age instead)."""
    found = PARTIAL.match(partial.name)
    if found is None or found[1] is None:
        return False
    try:
        os.kill(int(found[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process
        return False
    return False


def remove_stale_partials(path: str | Path, older_than_seconds: float | None = None) -> int:
    """Remove what writes of `path` cut short left behind: partial files whose process has gone, or with
    `older_than_seconds`, any older than that (no write takes so long). Returns how many went."""
    removed = 0
    for partial in partials_of(path):
        try:
            old = older_than_seconds is not None and time.time() - partial.stat().st_mtime > older_than_seconds
            if old or _process_gone(partial):
                partial.unlink()
                removed += 1
        except FileNotFoundError:  # finished or removed meanwhile
            pass
    return removed


@contextmanager
def written_whole(path: str | Path, private: bool = False) -> Iterator[Path]:
    """A temporary path beside `path` to write to; it replaces `path` only when the block succeeds.

    `private` makes the file readable by its owner only from its first byte (the returns holding names). A path
    that is itself a partial file (a writer inside another's block) is written as it is: names never nest.
    """
    path = Path(path)
    if path.exists() and not path.is_file():  # a device or a pipe (/dev/stdout): there is nothing to replace
        yield path
        return
    if is_partial(path):
        yield path
        return
    path = path.resolve()  # through a symbolic link, so the link stays and its file is replaced
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
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
