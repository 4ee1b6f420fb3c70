"""Where a report is written: the output path checked up front, the bytes written atomically."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def writable_target(path: str | os.PathLike, suffix: str) -> Path:
    """`path` as a Path, after checking it names a file in an existing folder (`suffix` for hints)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"the first argument is the output path (str or Path), not {type(path).__name__}")
    target = Path(path).expanduser()
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a directory; give a file name such as {target / ('report' + suffix)}")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"the folder {target.parent} does not exist; create it first")
    return target


def write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside `target`, then rename: a failure never leaves half a file."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
