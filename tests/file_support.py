"""Paths a file writer must not replace, and a directory that takes no new file, for the
tests of the atomic writer and of the commands that write files."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = os.geteuid() == 0
NOBODY = 65534


def special_files(tmp_path: Path) -> list[tuple[Path, str]]:
    """A FIFO, a directory and (as root) a character device like /dev/null, in tmp_path."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    directory = tmp_path / "dir"
    directory.mkdir()
    out = [(fifo, "a FIFO"), (directory, "a directory")]
    if ROOT:
        null = tmp_path / "null"
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the numbers of /dev/null
        out.append((null, "a character device"))
    return out


@contextlib.contextmanager
def read_only_directory(path: Path, text: str = "old\n") -> Iterator[Path]:
    """A directory holding values.yaml (``text``) that takes no new file, even for root
    (chattr +i where root can)."""
    path.mkdir()
    (path / "values.yaml").write_text(text)
    if ROOT:
        if shutil.which("chattr") is None:
            pytest.skip("root ignores permissions, and chattr is not installed")
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("this file system has no immutable flag")
        try:
            yield path
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
