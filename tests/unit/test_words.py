"""Counts and their nouns in output: "1 repository", never "1 repositories"."""

from __future__ import annotations

import io

import pytest

from ecrcache.cost.prune import PruneResult
from ecrcache.render.cost import render_prune_result
from ecrcache.render.words import counted


@pytest.mark.parametrize(
    ("n", "noun", "plural", "text"),
    [
        (0, "repository", "repositories", "0 repositories"),
        (1, "repository", "repositories", "1 repository"),
        (2, "repository", "repositories", "2 repositories"),
        (0, "image", None, "0 images"),
        (1, "image", None, "1 image"),
        (2, "image", None, "2 images"),
        (1, "rule", None, "1 rule"),
        (2, "file", None, "2 files"),
    ],
)
def test_counted(n: int, noun: str, plural: str | None, text: str) -> None:
    assert counted(n, noun, plural) == text


@pytest.mark.parametrize(
    ("images", "repos", "line"),
    [
        (0, (), "Deleted 0 images and 0 repositories."),
        (1, ("docker-hub/library/nginx",), "Deleted 1 image and 1 repository."),
        (2, ("a", "b"), "Deleted 2 images and 2 repositories."),
    ],
)
def test_prune_result_line(images: int, repos: tuple[str, ...], line: str) -> None:
    out = io.StringIO()
    render_prune_result(PruneResult(images, repos, ()), out, no_color=True)
    assert out.getvalue().splitlines()[0] == line
