"""Files ecrcache writes for the user (login's Docker config, import --out, rewrite in place):
a device or FIFO given as the path is refused and left as it was, a symlink stays a link, a
directory that takes no new file is one line. The writer itself: tests/unit/test_atomicfile.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_support import cli

from file_support import read_only_directory, special_files

DATA = Path(__file__).resolve().parents[1] / "data" / "rewrite"
REWRITE = ["-c", str(DATA / "ecrcache.toml"), "rewrite", "--account-id", "123456789012"]
COMMANDS = {
    "login": ["--sandbox", "login", "--region", "af-south-1", "--write-config", "--docker-config"],
    "import": ["--sandbox", "import", "--region", "af-south-1", "--force", "--out"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_special_file_given_as_the_output_is_refused(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path, kind in special_files(tmp_path):
        before = os.lstat(path)
        code, _, err = cli(capsys, *COMMANDS[command], str(path))
        assert code == 2, err
        assert f"Error: refusing to replace {path}: it is {kind}, not a regular file" in err
        assert "internal error" not in err and "Traceback" not in err
        after = os.lstat(path)
        assert (after.st_mode, after.st_ino, after.st_rdev) == (
            before.st_mode,
            before.st_ino,
            before.st_rdev,
        )


def test_rewrite_in_place_writes_through_a_symlink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "chart" / "values.yaml"
    real.parent.mkdir()
    real.write_text("image: nginx:1\n")
    link = tmp_path / "values.yaml"
    link.symlink_to(real)
    code, _, err = cli(capsys, *REWRITE, "--file", "--in-place", str(link))
    assert code == 0, err
    assert link.is_symlink()
    assert "123456789012.dkr.ecr." in real.read_text()


@pytest.mark.parametrize("command", ["rewrite", "import"])
def test_a_read_only_directory_is_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with read_only_directory(tmp_path / "ro", "image: nginx:1\n") as ro:
        target = ro / ("values.yaml" if command == "rewrite" else "new.toml")
        if command == "rewrite":
            args = [*REWRITE, "--file", "--in-place", str(target)]
        else:
            args = [*COMMANDS["import"], str(target)]
        code, _, err = cli(capsys, *args)
    assert code == 1, err
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith(f"Error: cannot write {target}: "), err
    assert "internal error" not in err and "Traceback" not in err
