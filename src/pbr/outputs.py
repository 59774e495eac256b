"""Every file pbr writes appears whole or not at all: a full disk or a crash leaves no half-written output."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


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
