"""The test-pull report and its progress bars (rich: this module and render.py only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from ecrcache.render.console import _escape, console, err_console
from ecrcache.render.words import counted

if TYPE_CHECKING:
    from ecrcache.registry.pullers import ProgressCallback
    from ecrcache.registry.pullresult import Attempt, Phase, PullTestResult, Verification


def size_text(n: float) -> str:
    """Decimal units, as docker prints them: 1.6 kB, 71.2 MB."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _phase(name: str, phase: Phase) -> str:
    return (
        f"{name} {phase.seconds:.2f} s, {size_text(phase.bytes)}, {size_text(phase.throughput)}/s"
    )


def _attempt(a: Attempt) -> str:
    parts = [f"{a.label:<4}  {a.seconds:.2f} s"]
    if a.manifest is not None:
        parts.append(_phase("manifest", a.manifest))
    if a.blobs is not None:
        parts.append(_phase(counted(a.blob_count, "blob"), a.blobs))
    if a.digest:
        parts.append(f"digest {a.digest} (verified)" if a.blobs else f"digest {a.digest}")
    return "  " + " | ".join(parts)


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def _verification(v: Verification) -> list[str]:
    if v.error:
        return [f"ECR: could not verify {v.repository}: {v.error}"]
    if not v.exists:
        return [f"ECR: no repository {v.repository}"]
    how = {True: "created by this pull", False: "existed before this pull", None: ""}[v.created]
    lines = [
        f"ECR: repository {v.repository}" + (f" ({how})" if how else ""),
        f"  lifecycle policy: {_yes_no(v.lifecycle_policy)}; tag mutability: "
        f"{v.tag_mutability or 'unknown'}; encryption: {v.encryption or 'unknown'}",
    ]
    if v.image_listed:
        size = f", {size_text(v.image_size)}" if v.image_size is not None else ""
        match = {True: ", matches the pull", False: ", differs from the pull", None: ""}
        lines.append(f"  image listed: {v.image_digest}{size}{match[v.digest_matches]}")
    else:
        lines.append("  image listed: no")
    return lines


def render_test_pull(result: PullTestResult, out: TextIO, *, no_color: bool = False) -> None:
    """The report: what was pulled from where, one line per attempt, then the ECR side."""
    c = console(out, no_color=no_color)
    c.print(
        f"[bold]{_escape(result.reference)}[/] → {_escape(result.cache_reference)} "
        f"({_escape(result.platform)}, {result.method})"
    )
    if result.note:
        c.print(f"  [yellow]{_escape(result.note)}[/]")
    for attempt in result.attempts:
        c.print(_escape(_attempt(attempt)))
    if result.verification is not None:
        for line in _verification(result.verification):
            c.print(_escape(line))


@contextmanager
def pull_progress(*, enabled: bool = True) -> Iterator[ProgressCallback]:
    """Byte progress bars on stderr, one per attempt; yields the callback the puller reports to."""
    if not enabled:
        yield lambda label, done, total: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskID,
        TextColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err_console(),
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def on_progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(f"{label} pull", total=total)
            progress.update(tasks[label], completed=done, total=total)

        yield on_progress
