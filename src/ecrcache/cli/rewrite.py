"""``ecrcache rewrite``: image references to and from the pull-through cache, offline.

With account and region known (config, options or environment) nothing here imports boto3;
only an unknown account asks STS.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import cache_mapping, emit_json, options
from ecrcache.cli.options import GlobalOptions
from ecrcache.errors import UsageError

if TYPE_CHECKING:
    from ecrcache.rewrite.files import FileRewrite
    from ecrcache.rewrite.mapping import Mapping


@app.command("rewrite")
def rewrite_command(
    ctx: typer.Context,
    args: list[str] | None = typer.Argument(
        None, metavar="REF... | PATH...", help="References (default: stdin), or files with --file."
    ),
    file: bool = typer.Option(
        False, "--file", "-f", help="The arguments are files or directories (recursively)."
    ),
    reverse: bool = typer.Option(
        False, "--reverse", help="Map cache references back to their upstream."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Fail (exit 1) on any reference left unchanged with a warning."
    ),
    in_place: bool = typer.Option(False, "--in-place", "-i", help="Write files back (atomically)."),
    check: bool = typer.Option(
        False, "--check", help="Change nothing; exit 1 if a file would change (CI, pre-commit)."
    ),
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff of each file."),
    account_id: str | None = typer.Option(
        None, "--account-id", help="The cache's AWS account (else config, AWS_ACCOUNT_ID, STS)."
    ),
    interpolation_defaults: bool = typer.Option(
        False,
        "--interpolation-defaults",
        help="Rewrite the default of an image named ${VAR:-default} (Compose), not only warn.",
    ),
) -> None:
    """nginx:latest -> <account>.dkr.ecr.<region>.amazonaws.com/docker-hub/library/nginx:latest."""
    opts = options(ctx)
    if not file and (in_place or check or diff):
        raise UsageError("--in-place, --check and --diff work on files", hint="add --file")
    if check and in_place:
        raise UsageError("--check changes nothing; drop --in-place or --check")
    mapping = cache_mapping(opts, account_id)
    if file:
        code = _files(
            opts,
            mapping,
            args or [],
            reverse,
            strict,
            in_place,
            check,
            diff,
            interpolation_defaults=interpolation_defaults,
        )
        if code:
            raise typer.Exit(code)
    else:
        _strings(opts, mapping, args, reverse, strict)


def _strings(
    opts: GlobalOptions, mapping: Mapping, args: list[str] | None, reverse: bool, strict: bool
) -> None:
    from ecrcache.rewrite.mapping import UnmappedReferenceError
    from ecrcache.rewrite.strings import rewrite_strings

    if args:
        lines = args
    elif sys.stdin.isatty():
        raise UsageError("no references", hint="pass them as arguments, or one per line on stdin")
    else:
        lines = sys.stdin.read().splitlines()
    results = rewrite_strings(lines, mapping, reverse=reverse)
    warnings = [r.warning for r in results if r.warning]
    if strict and warnings:
        raise UnmappedReferenceError(warnings[0], hint="add a rule for it, or drop --strict")
    warnings += [r.note for r in results if r.note]  # caveats: shown, not --strict failures
    if opts.json:
        refs = [{"input": r.before, "output": r.after, "changed": r.changed} for r in results]
        emit_json("rewrite", {"references": refs}, warnings=warnings)
        return
    _warn(warnings)
    sys.stdout.write("".join(f"{r.after}\n" for r in results))


def _files(
    opts: GlobalOptions,
    mapping: Mapping,
    paths: list[str],
    reverse: bool,
    strict: bool,
    in_place: bool,
    check: bool,
    diff: bool,
    *,
    interpolation_defaults: bool = False,
) -> int:
    from ecrcache.atomicfile import write_atomic
    from ecrcache.rewrite.files import discover, rewrite_file_text
    from ecrcache.rewrite.mapping import UnmappedReferenceError
    from ecrcache.rewrite.output import unified_diff

    if not paths:
        raise UsageError("--file needs at least one file or directory")
    files = discover(Path(p) for p in paths)
    if not (in_place or check or diff or opts.json) and len(files) != 1:
        raise UsageError(
            f"{len(files)} files: say what to do with them",
            hint="use --in-place, --diff or --check (a single file is printed rewritten)",
        )
    results: list[FileRewrite] = []
    warnings: list[str] = []
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            warnings.append(f"{path}: cannot read as UTF-8 text ({exc}); skipped")
            continue
        result = rewrite_file_text(
            path, text, mapping, reverse=reverse, interpolation_defaults=interpolation_defaults
        )
        results.append(result)
        warnings += [f"{path}:{line}: {message}" for line, message in result.warnings]
    if strict and warnings:
        raise UnmappedReferenceError(warnings[0], hint="fix or add a rule for it, or drop --strict")
    # Caveats on rewritten references (digests): shown, but not --strict failures.
    warnings += [f"{r.path}:{line}: {message}" for r in results for line, message in r.notes]

    changed = [r for r in results if r.changed]
    if in_place:
        for r in changed:
            write_atomic(r.path, r.after.encode("utf-8"))
    diffs = {r.path: unified_diff(str(r.path), r.before, r.after) for r in changed} if diff else {}
    if opts.json:
        emit_json("rewrite", _json(results, diffs, written=in_place), warnings=warnings)
    else:
        _warn(warnings)
        if diff:
            sys.stdout.write("".join(diffs.values()))
        elif not (in_place or check):
            sys.stdout.write(results[0].after if results else "")
        _summary(changed, in_place=in_place, check=check)
    return 1 if check and changed else 0


def _json(results: list[FileRewrite], diffs: dict[Path, str], *, written: bool) -> dict[str, Any]:
    return {
        "written": written,
        "changed": any(r.changed for r in results),
        "files": [
            {"file": str(r.path), "kind": r.kind, "changed": r.changed, "edits": len(r.edits)}
            | ({"diff": diffs[r.path]} if r.path in diffs else {})
            for r in results
        ],
        "edits": [
            {"file": str(r.path), "line": e.line, "before": e.before, "after": e.after}
            for r in results
            for e in r.edits
        ],
    }


def _summary(changed: list[FileRewrite], *, in_place: bool, check: bool) -> None:
    from ecrcache.render.console import note

    verb = "rewrote" if in_place else "would rewrite"
    if check or in_place:
        for r in changed:
            note(f"{verb} {r.path} ({len(r.edits)} edits)")
        edits = sum(len(r.edits) for r in changed)
        note(f"{verb} {edits} references in {len(changed)} files" if changed else "nothing to do")


def _warn(warnings: list[str]) -> None:
    if warnings:
        from ecrcache.render.console import warn

        for w in warnings:
            warn(w)
