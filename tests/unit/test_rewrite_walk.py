"""Which files rewrite reads: kinds by name and by text, the gitignore-aware walk that keeps to
the tree, the size cap, binary and non-UTF-8 files, and writing back through links."""

from __future__ import annotations

import io
import os
from pathlib import Path, PurePath

import pytest

from ecrcache.errors import UsageError
from ecrcache.rewrite import sources
from ecrcache.rewrite.kinds import is_binary, kind_of_path, kind_of_text
from ecrcache.rewrite.sources import MAX_BYTES, read_file, read_stream, write_back
from ecrcache.rewrite.walk import find_targets


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Dockerfile", "dockerfile"),
        ("dockerfile", "dockerfile"),
        ("Containerfile", "dockerfile"),
        ("api.Dockerfile", "dockerfile"),
        ("web.containerfile", "dockerfile"),
        ("Dockerfile.dev", "dockerfile"),
        ("Dockerfile.prod.arm64", "dockerfile"),
        ("Containerfile.ubi9", "dockerfile"),
        ("dockerfile.py", None),  # src/ecrcache/rewrite/dockerfile.py: Python
        ("test_dockerfile.py", None),
        ("Dockerfile.dockerignore", None),  # BuildKit's per-Dockerfile ignore file
        ("Dockerfile.md", None),
        ("Dockerfile.dev.sh", None),
        ("Dockerfile.j2", None),
        ("Dockerfile.yaml", "yaml"),
        ("values.yaml", "yaml"),
        ("compose.YML", "yaml"),
        ("README.md", None),
        ("Makefile", None),
    ],
)
def test_kind_of_path(name: str, kind: str | None) -> None:
    assert kind_of_path(PurePath("some/dir") / name) == kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("FROM nginx\n", "dockerfile"),
        ("# syntax=docker/dockerfile:1\n\nARG V=1\nFROM alpine:${V}\n", "dockerfile"),
        ("from alpine\n", "dockerfile"),  # instructions are not case-sensitive
        ("apiVersion: v1\nkind: Pod\n", "yaml"),
        ("# values\nimage:\n  repository: nginx\n", "yaml"),
        ("---\n- image: nginx\n", "yaml"),
        ("- a\n", "yaml"),
        ('{"image": "nginx"}\n', "yaml"),
        ("nginx:1\n", None),  # a reference list, not a file
        ("hello world\n", None),
        ("", None),
        ("# only a comment\n", None),
    ],
)
def test_kind_of_text(text: str, kind: str | None) -> None:
    assert kind_of_text(text) == kind


def test_binary_is_a_nul_in_the_first_8000_bytes() -> None:
    assert is_binary(b"image: x\n\0")
    assert not is_binary(b"a" * 8000 + b"\0")
    assert not is_binary("image: caf\u00e9\n".encode())


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _names(root: Path, paths: list[str]) -> list[str]:
    return [t.path.relative_to(root).as_posix() for t in find_targets(paths).targets]


def test_walk_honours_gitignore_with_gits_precedence(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    _tree(
        tmp_path,
        {
            ".gitignore": "build/\n*.gen.yaml\n!keep.gen.yaml\n/top-only.yaml\n",
            "app/values.yaml": "",
            "app/x.gen.yaml": "",
            "app/keep.gen.yaml": "",
            "app/top-only.yaml": "",  # anchored pattern: only the top one is ignored
            "top-only.yaml": "",
            "build/Dockerfile": "",
            "build/.gitignore": "!Dockerfile\n",  # cannot re-include under an ignored dir
            "sub/.gitignore": "!*.gen.yaml\nlocal.yaml\n",  # deeper file overrides
            "sub/a.gen.yaml": "",
            "sub/local.yaml": "",
            "sub/deeper/local.yaml": "",
            ".git/config.yaml": "",
            ".github/workflows/ci.yml": "",  # hidden, but not ignored: read
        },
    )
    assert _names(tmp_path, [str(tmp_path)]) == [
        ".github/workflows/ci.yml",
        "app/keep.gen.yaml",
        "app/top-only.yaml",
        "app/values.yaml",
        "sub/a.gen.yaml",
    ]


def test_walk_below_the_top_reads_the_ancestors_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".git").write_text("gitdir: /elsewhere\n")  # a worktree's .git is a file
    _tree(
        tmp_path,
        {
            ".gitignore": "generated/\n",
            "k8s/.gitignore": "*.tmp.yaml\n",
            "k8s/app/deploy.yaml": "",
            "k8s/app/generated/big.yaml": "",
            "k8s/app/x.tmp.yaml": "",
        },
    )
    assert _names(tmp_path, [str(tmp_path / "k8s" / "app")]) == ["k8s/app/deploy.yaml"]


def test_walk_reads_the_repositorys_exclude_file_below_every_gitignore(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            ".git/info/exclude": "*.local.yaml\nscratch/\n",
            "app/.gitignore": "!keep.local.yaml\n",
            "app/a.local.yaml": "",
            "app/keep.local.yaml": "",  # a .gitignore overrides the exclude file
            "app/scratch/x.yaml": "",
            "app/values.yaml": "",
        },
    )
    expected = ["app/keep.local.yaml", "app/values.yaml"]
    assert _names(tmp_path, [str(tmp_path)]) == expected
    assert _names(tmp_path, [str(tmp_path / "app")]) == expected


def test_walk_outside_a_repository_has_no_ancestor_ignores(tmp_path: Path) -> None:
    _tree(tmp_path, {".gitignore": "*.yaml\n", "d/a.yaml": "", "d/Dockerfile": ""})
    # tmp_path is no repository, so its .gitignore is nobody's: only the walked tree's count.
    assert _names(tmp_path, [str(tmp_path / "d")]) == ["d/Dockerfile", "d/a.yaml"]
    assert _names(tmp_path, [str(tmp_path)]) == ["d/Dockerfile"]


def test_walk_keeps_to_the_tree_and_reads_each_file_once(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _tree(outside, {"secret.yaml": "image: x\n", "dir/inner.yaml": ""})
    tree = tmp_path / "tree"
    _tree(tree, {"real/values.yaml": "image: nginx\n"})
    (tree / "a-link.yaml").symlink_to(tree / "real" / "values.yaml")
    (tree / "z-out.yaml").symlink_to(outside / "secret.yaml")
    (tree / "linked-dir").symlink_to(outside / "dir", target_is_directory=True)
    (tree / "loop").symlink_to(tree, target_is_directory=True)
    (tree / "dangling.yaml").symlink_to(tree / "nothing.yaml")
    found = find_targets([str(tree)])
    assert [t.path.relative_to(tree).as_posix() for t in found.targets] == ["a-link.yaml"]
    assert found.skipped == (
        f"{tree / 'z-out.yaml'}: a link to {outside / 'secret.yaml'}, outside the tree; skipped",
    )


def test_named_files(tmp_path: Path) -> None:
    _tree(tmp_path, {"notes.txt": "FROM nginx\n", "Dockerfile": ""})
    with pytest.raises(UsageError, match="not a YAML file"):
        find_targets([str(tmp_path / "notes.txt")])
    found = find_targets([str(tmp_path / "notes.txt"), str(tmp_path)], kind="dockerfile")
    assert [(t.path.name, t.kind) for t in found.targets] == [
        ("notes.txt", "dockerfile"),
        ("Dockerfile", None),  # a walk decides by name, whatever --kind says
    ]
    for bad, message in (("", "an empty path"), (" ", "an empty path"), ("nope", "no such")):
        with pytest.raises(UsageError, match=message):
            find_targets([bad])
    os.mkfifo(tmp_path / "fifo.yaml")
    with pytest.raises(UsageError, match="not a regular file"):
        find_targets([str(tmp_path / "fifo.yaml")])


def test_size_cap_is_checked_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(MAX_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(UsageError, match=r"big.yaml: 64.0 MiB, more than rewrite reads \(64 MiB\)"):
        read_file(big)
    with big.open("r+b") as f:
        f.truncate(MAX_BYTES)
    assert read_file(big).skipped == f"{big}: a binary file; skipped"  # at the cap: read


def test_stream_cap() -> None:
    assert read_stream(io.BytesIO(b"image: x\n")) == b"image: x\n"
    assert read_stream(io.StringIO("caf\u00e9")) == "caf\u00e9".encode()
    with pytest.raises(UsageError, match="stdin: more than rewrite reads"):
        read_stream(io.BytesIO(b"x" * (sources.MAX_BYTES + 1)))


def test_unreadable_text_is_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(b"image: caf\xe9\n")
    assert read_file(tmp_path / "latin1.yaml").skipped == (
        f"{tmp_path / 'latin1.yaml'}: not UTF-8 text (invalid continuation byte at byte 10); "
        "skipped"
    )
    assert read_file(tmp_path / "ok.yaml").skipped is not None  # gone since the walk


def test_write_back_keeps_links_and_modes(tmp_path: Path) -> None:
    target = tmp_path / "real.yaml"
    target.write_text("image: nginx\n")
    target.chmod(0o750)
    link = tmp_path / "link.yaml"
    link.symlink_to("real.yaml")  # relative, as in a repository
    write_back(link, "image: mirror/nginx\n")
    assert link.is_symlink() and os.readlink(link) == "real.yaml"
    assert target.read_text() == "image: mirror/nginx\n"
    assert target.stat().st_mode & 0o7777 == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.yaml", "real.yaml"]
