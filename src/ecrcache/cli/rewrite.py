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
from ecrcache.cli.helptext import command_help
from ecrcache.cli.options import GlobalOptions
from ecrcache.errors import UsageError
from ecrcache.render.words import counted

if TYPE_CHECKING:
    from ecrcache.rewrite.files import FileRewrite
    from ecrcache.rewrite.mapping import Mapping


@app.command("rewrite", **command_help("rewrite"))
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
    kind: str | None = typer.Option(
        None,
        "--kind",
        metavar="dockerfile|yaml|compose",
        help="What a file named without a known name, or stdin (-), holds.",
    ),
    interpolation_defaults: bool = typer.Option(
        False,
        "--interpolation-defaults",
        help="Rewrite the default of an image named ${VAR:-default} (Compose), not only warn.",
    ),
) -> None:
    """Point image references in text or files at the cache (nginx:1.27 becomes
    <account>.dkr.ecr.<region>.amazonaws.com/docker-hub/library/nginx:1.27)."""
    opts = options(ctx)
    if not file and (in_place or check or diff or kind):
        raise UsageError("--in-place, --check, --diff and --kind work on files", hint="add --file")
    if check and in_place:
        raise UsageError("--check changes nothing; drop --in-place or --check")
    _check_arguments(args or [], file=file, kind=kind, in_place=in_place)
    from ecrcache.rewrite.config_routes import read_routes

    # Only the routing keys, without the config's pydantic models (start-up time); a file
    # that is not plainly right is loaded and validated in full, for its messages.
    mapping = cache_mapping(opts, account_id, config=read_routes(opts.config_path))
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
            kind,
            interpolation_defaults=interpolation_defaults,
        )
        if code:
            raise typer.Exit(code)
    else:
        _strings(opts, mapping, args, reverse, strict)


def _check_arguments(args: list[str], *, file: bool, kind: str | None, in_place: bool) -> None:
    """Usage errors found before the config is read."""
    from ecrcache.rewrite.kinds import KINDS
    from ecrcache.rewrite.sources import STDIN

    if kind is not None and kind not in KINDS:
        raise UsageError(f"--kind {kind!r}: not one of {', '.join(KINDS)}")
    if any(not a.strip() for a in args):
        what = "path" if file else "reference"
        raise UsageError(f"an empty {what}", hint=f"name a {what}, or - for stdin")
    if STDIN in args and len(args) > 1:
        raise UsageError("- (stdin) cannot be mixed with other arguments")
    if in_place and STDIN in args:
        raise UsageError("stdin cannot be rewritten in place", hint="drop --in-place")


def _strings(
    opts: GlobalOptions, mapping: Mapping, args: list[str] | None, reverse: bool, strict: bool
) -> None:
    from ecrcache.rewrite.mapping import UnmappedReferenceError
    from ecrcache.rewrite.sources import STDIN
    from ecrcache.rewrite.strings import reference_lines, rewrite_strings

    if args and args != [STDIN]:
        lines = args
    elif not args and sys.stdin.isatty():
        raise UsageError("no references", hint="pass them as arguments, or one per line on stdin")
    else:
        lines = reference_lines(_stdin_text())
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
    kind: str | None,
    *,
    interpolation_defaults: bool = False,
) -> int:
    from ecrcache.rewrite.files import rewrite_file_text
    from ecrcache.rewrite.mapping import UnmappedReferenceError
    from ecrcache.rewrite.output import unified_diff
    from ecrcache.rewrite.sources import STDIN, read_file, write_back
    from ecrcache.rewrite.walk import find_targets

    if not paths:
        raise UsageError("--file needs at least one file or directory", hint="or - for stdin")
    if paths == [STDIN]:
        texts = [_stdin_file(kind)]
        warnings: list[str] = []
    else:
        found = find_targets(paths, kind=kind)
        if not (in_place or check or diff or opts.json) and len(found.targets) != 1:
            raise UsageError(
                f"{len(found.targets)} files: say what to do with them",
                hint="use --in-place, --diff or --check (a single file is printed rewritten)",
            )
        warnings = list(found.skipped)
        texts = []
        for target in found.targets:
            read = read_file(target.path)
            if read.text is None:
                warnings.append(str(read.skipped))
            else:
                texts.append((target.path, target.kind, read.text))
    results: list[FileRewrite] = []
    for path, file_kind, text in texts:
        result = rewrite_file_text(
            path,
            text,
            mapping,
            reverse=reverse,
            kind=file_kind,
            interpolation_defaults=interpolation_defaults,
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
            write_back(r.path, r.after)
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


def _stdin_text() -> str:
    from ecrcache.rewrite.sources import decode, read_stream

    read = decode("stdin", read_stream(getattr(sys.stdin, "buffer", sys.stdin)))
    if read.text is None:
        raise UsageError(str(read.skipped).removesuffix("; skipped"))
    return read.text


def _stdin_file(kind: str | None) -> tuple[Path, str | None, str]:
    """``--file -``: a file's text on stdin, its kind from --kind or from the text."""
    from ecrcache.rewrite.kinds import kind_of_text

    if sys.stdin.isatty():
        raise UsageError("--file -: nothing on stdin", hint="pipe a file's text in")
    text = _stdin_text()
    kind = kind or kind_of_text(text)
    if kind is None:
        raise UsageError(
            "cannot tell whether stdin is a Dockerfile or YAML", hint="pass --kind dockerfile|yaml"
        )
    return Path("-"), kind, text


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
            note(f"{verb} {r.path} ({counted(len(r.edits), 'edit')})")
        edits = sum(len(r.edits) for r in changed)
        note(
            f"{verb} {counted(edits, 'reference')} in {counted(len(changed), 'file')}"
            if changed
            else "nothing to do"
        )


def _warn(warnings: list[str]) -> None:
    if warnings:
        from ecrcache.render.console import warn

        for w in warnings:
            warn(w)
