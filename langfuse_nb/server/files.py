"""Owner-only data files: traces, prompts and the server log are nobody else's business."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

DIR_MODE = 0o700
FILE_MODE = 0o600
# SQLite creates its -wal and -shm files with the database file's mode, so securing that one suffices
# for new files; existing ones (from older versions) are tightened too
_SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def secure_data_files(db_path: Path, media_dir: Path | None = None) -> None:
    """Create the data directory (0700) and database file (0600); tighten ones we own that are looser."""
    if str(db_path) == ":memory:" or str(db_path).startswith("file:"):
        return
    make_private_dir(db_path.parent)
    if media_dir is not None:
        make_private_dir(media_dir)
    if not db_path.exists():
        # an empty file is a valid empty SQLite database; creating it here fixes its mode before any data
        with contextlib.suppress(FileExistsError):
            os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    for suffix in _SQLITE_SUFFIXES:
        tighten(db_path.with_name(db_path.name + suffix), FILE_MODE)


def make_private_dir(path: Path) -> None:
    """``mkdir -p`` whose new directories are 0700; our own data directory is tightened if it exists.

    A directory the user chose (``--db ~/work/x.db``) keeps its permissions: it may hold other things.
    """
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIR_MODE)
    if path.expanduser().absolute() == Path.home() / ".langfuse_nb":
        tighten(path, DIR_MODE)


def tighten(path: Path, mode: int) -> None:
    """Drop group/other permissions from a file or directory this user owns (not from anyone else's)."""
    try:
        info = path.stat()
    except OSError:
        return
    if not hasattr(os, "getuid"):  # Windows: no POSIX modes to tighten
        return
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        with contextlib.suppress(OSError):
            path.chmod(stat.S_IMODE(info.st_mode) & mode)


def open_private_log(path: Path) -> BinaryIO:
    """Open a log for appending, created 0600 (and tightened if it already existed looser)."""
    make_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    tighten(path, FILE_MODE)
    scrub_old_secrets(path)
    return os.fdopen(fd, "ab")


# earlier versions printed the secret key in full into the detached server's log; the published
# default key and masked forms (``sk-lf-...1a2b``) are left alone
_OLD_SECRET = re.compile(rb"(LANGFUSE_SECRET_KEY=)(?!sk-lf-local\b)(?!\S*\.\.\.)\S+")
_SCRUB_LIMIT = 64 * 1024 * 1024


def scrub_old_secrets(path: Path) -> None:
    """Blank out secret keys that older versions wrote into a log (rewritten in place, only if found)."""
    with contextlib.suppress(OSError):
        if path.stat().st_size > _SCRUB_LIMIT:
            return
        text = path.read_bytes()
        cleaned = _OLD_SECRET.sub(rb"\1***", text)
        if cleaned != text:
            with path.open("r+b") as handle:  # same file: a running server keeps appending to it
                handle.write(cleaned)
                handle.truncate()
