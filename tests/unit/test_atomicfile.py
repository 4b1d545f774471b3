"""The atomic writer replaces only what is safe to replace, and keeps what it does not own: a
symlink stays a link, a file keeps its mode and owner, hard links are never split; a device,
FIFO or directory is refused; a directory that takes no new file is one line, not a traceback."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ecrcache.atomicfile import FileWriteError, write_atomic
from ecrcache.errors import UsageError
from file_support import NOBODY, ROOT, read_only_directory, special_files


def test_refuses_to_replace_anything_but_a_regular_file(tmp_path: Path) -> None:
    for path, kind in special_files(tmp_path):
        before = os.lstat(path)
        with pytest.raises(UsageError, match=f"it is {kind}, not a regular file"):
            write_atomic(path, b"data\n")
        after = os.lstat(path)
        assert (after.st_mode, after.st_ino, after.st_rdev) == (
            before.st_mode,
            before.st_ino,
            before.st_rdev,
        )
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_writes_through_a_symlink_and_keeps_it(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "values.yaml"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "values.yaml"
    link.symlink_to(Path("dotfiles") / "values.yaml")  # relative, as dotfile managers make them
    write_atomic(link, b"new\n")
    assert link.is_symlink() and os.readlink(link) == str(Path("dotfiles") / "values.yaml")
    assert real.read_text() == "new\n"
    # A dangling link: the file is created where it points.
    dangling = tmp_path / "later.yaml"
    dangling.symlink_to(tmp_path / "dotfiles" / "later.yaml")
    write_atomic(dangling, b"x\n")
    assert dangling.is_symlink() and (tmp_path / "dotfiles" / "later.yaml").read_text() == "x\n"


def test_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("old\n")
    path.chmod(0o640)
    write_atomic(path, b"new\n", mode=0o644)  # the mode is for a new file only
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh.toml"
    write_atomic(fresh, b"new\n", mode=0o644)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644


def test_private_drops_group_and_other_bits(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{}")
    path.chmod(0o664)
    write_atomic(path, b"{}", private=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(not ROOT, reason="only root may give a file to another user")
def test_keeps_the_owner_where_the_process_may(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("old\n")
    os.chown(path, NOBODY, NOBODY)
    write_atomic(path, b"new\n")
    st = path.stat()
    assert (st.st_uid, st.st_gid) == (NOBODY, NOBODY) and path.read_text() == "new\n"


def test_refuses_to_split_hard_links(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("old\n")
    other = tmp_path / "b.yaml"
    os.link(path, other)
    with pytest.raises(UsageError, match="has 2 hard links"):
        write_atomic(path, b"new\n")
    assert path.read_text() == other.read_text() == "old\n"
    assert os.stat(path).st_ino == os.stat(other).st_ino


def test_a_read_only_directory_is_one_line(tmp_path: Path) -> None:
    with read_only_directory(tmp_path / "ro") as ro:
        with pytest.raises(FileWriteError) as info:
            write_atomic(ro / "values.yaml", b"new\n")
        assert (ro / "values.yaml").read_text() == "old\n"
    message = info.value.message
    assert message.startswith(f"cannot write {ro / 'values.yaml'}: ") and "\n" not in message
    assert info.value.hint


def test_no_create_without_replace(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("old\n")
    with pytest.raises(FileExistsError):
        write_atomic(path, b"new\n", replace=False)
    assert path.read_text() == "old\n"
