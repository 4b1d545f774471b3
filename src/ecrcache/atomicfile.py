"""Replace a file in one step: readers see the old file or the new one, never half of either.

And replace only what is safe to replace: a regular file (never a device, FIFO, socket or
directory: as root, ``/dev/null`` would otherwise become a regular file), written through a
symlink to its target (the link stays a link), with its mode and, where the process may, its
owner kept. A file with several hard links is refused: a rename would split them silently.
Every failure is an EcrcacheError of one line, never a bare OSError.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from ecrcache.errors import EcrcacheError, UsageError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


class FileWriteError(EcrcacheError):
    """A file could not be written (permissions, a full disk...)."""

    code = "file-write"


def write_atomic(
    path: Path,
    data: bytes,
    *,
    mode: int | None = None,
    replace: bool = True,
    private: bool = False,
) -> None:
    """Write ``data`` to ``path`` through a temporary file beside its target (same file
    system, so the final rename or link is atomic).

    A symlink is followed: its target is replaced, the link kept. An existing file keeps its
    permission bits and owner (``mode`` applies to a new file, 0o644 when None); ``private``
    (a file holding credentials) also drops the group and other bits. The temporary file is
    created 0600, so a secret is never readable in between. ``replace=False`` links instead of
    renaming, which raises FileExistsError if the target exists (even if another writer made it
    a moment ago). Refuses (UsageError) anything but a regular file, and a file with several
    hard links; FileWriteError when the directory or the disk says no.
    """
    target = Path(os.path.realpath(path))
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _cannot(path, exc) from None
    if st is not None:
        _refuse_unless_replaceable(path, st)
        if not replace:
            raise FileExistsError(str(path))
    new_mode = (st.st_mode & 0o7777) if st is not None else (0o644 if mode is None else mode)
    if private:
        new_mode &= ~0o077
    directory = target.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise _cannot(path, exc, directory=directory) from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if st is not None:
            _keep_owner(tmp, st)
        os.chmod(tmp, new_mode)  # after chown, which may clear set-id bits
        if replace:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError as exc:
        raise _cannot(path, exc) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    _sync_directory(directory)


def check_replaceable(path: Path) -> None:
    """Refuse (UsageError) now what ``write_atomic`` would refuse later, for a caller that
    reads the file first: reading a FIFO would block, a device would give nonsense."""
    try:
        st = os.stat(os.path.realpath(path))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _cannot(path, exc) from None
    _refuse_unless_replaceable(path, st)


def _refuse_unless_replaceable(path: Path, st: os.stat_result) -> None:
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise UsageError(
                f"refusing to replace {path}: it is {kind}, not a regular file",
                hint="give the path of a regular file (or of one to create)",
            )
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"refusing to replace {path}: it is not a regular file")
    if st.st_nlink > 1:
        raise UsageError(
            f"refusing to replace {path}: it has {st.st_nlink} hard links, which replacing it "
            "would split",
            hint="write to a path of its own (copy the file first), or remove the other links",
        )


def _keep_owner(tmp: str, st: os.stat_result) -> None:
    """Give the new file the old one's owner and group, as far as this process may (root may;
    another user may still keep a group it belongs to)."""
    with contextlib.suppress(OSError):
        os.chown(tmp, st.st_uid, st.st_gid)
        return
    with contextlib.suppress(OSError):
        os.chown(tmp, -1, st.st_gid)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _cannot(path: Path, exc: OSError, *, directory: Path | None = None) -> FileWriteError:
    why = (exc.strerror or str(exc)).lower()
    where = f" (cannot create a file in {directory})" if directory is not None else ""
    if exc.errno == errno.ENOENT:
        hint = f"check that the directory {path.parent} exists (ecrcache does not create it)"
    else:
        hint = "check the permissions of the file and its directory, and the free space"
    return FileWriteError(f"cannot write {path}: {why}{where}", hint=hint)
