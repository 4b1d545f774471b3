"""refs against distribution/reference's own test tables, transcribed in
tests/data/rewrite/reference_tables.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecrcache.errors import InvalidReferenceError
from ecrcache.rewrite import refs

TABLES: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "rewrite" / "reference_tables.json").read_text()
)

# The library's error variables, and the words our message uses for each.
GO_ERRORS = {
    "ErrNameEmpty": "must have at least one component",
    "ErrReferenceInvalidFormat": "invalid reference format",
    "ErrDigestInvalidLength": "invalid checksum digest length",
    "ErrDigestUnsupported": "unsupported digest algorithm",
    "ErrNameContainsUppercase": "must be lowercase",
    "ErrNameTooLong": "must not be more than 255 characters",
}


def table(name: str) -> list[Any]:
    return TABLES[name]  # type: ignore[no-any-return]


def ids(cases: list[dict[str, Any]], key: str = "input") -> list[str]:
    return [str(c[key])[:60] or "<empty>" for c in cases]


@pytest.mark.parametrize(
    "case",
    table("reference_test.go:TestReferenceParse"),
    ids=ids(table("reference_test.go:TestReferenceParse")),
)
def test_reference_parse(case: dict[str, Any]) -> None:
    if case["err"]:
        with pytest.raises(InvalidReferenceError) as exc:
            refs.parse(case["input"])
        assert GO_ERRORS[case["err"]] in exc.value.message
        assert repr(case["input"]) in exc.value.message
        return
    ref = refs.parse(case["input"])
    assert str(ref) == case["input"]
    assert ref.name == case["repository"]
    assert ref.domain == case["domain"]
    assert (ref.tag or "") == case["tag"]
    assert (ref.digest or "") == case["digest"]


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        (n, v)
        for t in (
            "normalize_test.go:TestValidateReferenceName",
            "normalize_test.go:TestValidateRemoteName",
        )
        for v in (True, False)
        for n in TABLES[t]["valid" if v else "invalid"]
    ],
)
def test_validate_names(name: str, valid: bool) -> None:
    if valid:
        assert refs.parse_normalized(name).domain
    else:
        with pytest.raises(InvalidReferenceError):
            refs.parse_normalized(name)


REPO_INFO = [
    (case, spelling)
    for case in table("normalize_test.go:TestParseRepositoryInfo")
    for spelling in (case["FamiliarName"], case["FullName"], case["AmbiguousName"])
    if spelling
]


@pytest.mark.parametrize(("case", "spelling"), REPO_INFO, ids=[s for _, s in REPO_INFO])
def test_parse_repository_info(case: dict[str, str], spelling: str) -> None:
    ref = refs.parse_normalized(spelling)
    assert refs.familiar_name(ref) == case["FamiliarName"]
    assert str(ref) == case["FullName"]
    assert ref.domain == case["Domain"]
    assert ref.path == case["RemoteName"]


def test_tag_and_digest_are_both_kept() -> None:
    (case,) = table("normalize_test.go:TestParseReferenceWithTagAndDigest")
    ref = refs.parse_normalized(case["input"])
    assert str(ref) == case["full"]
    assert ref.tag and ref.digest
    assert refs.familiar_string(ref) == case["input"]


@pytest.mark.parametrize(
    "case",
    table("normalize_test.go:TestParseAnyReference"),
    ids=ids(table("normalize_test.go:TestParseAnyReference"), "Reference"),
)
def test_parse_any_reference(case: dict[str, Any]) -> None:
    # A digest or image ID on its own names no image: rewrite must refuse it.
    if case["digest_only"]:
        with pytest.raises(InvalidReferenceError):
            refs.parse_image(case["Reference"])
        return
    assert str(refs.parse_image(case["Reference"])) == case["Equivalent"]


@pytest.mark.parametrize(
    "case",
    table("normalize_test.go:TestNormalizedSplitHostname"),
    ids=ids(table("normalize_test.go:TestNormalizedSplitHostname")),
)
def test_normalized_split_hostname(case: dict[str, str]) -> None:
    ref = refs.parse_normalized(case["input"])
    assert (ref.domain, ref.path) == (case["domain"], case["path"])


@pytest.mark.parametrize(
    "case",
    table("normalize_test.go:TestParseDockerRef"),
    ids=ids(table("normalize_test.go:TestParseDockerRef")),
)
def test_parse_docker_ref_domain_and_path(case: dict[str, str]) -> None:
    # ParseDockerRef adds :latest and drops a tag beside a digest; rewrite must do neither,
    # so only the name it normalises to is compared.
    expected = refs.parse(case["expected"])
    ref = refs.parse_normalized(case["input"])
    assert ref.name == expected.name
    assert str(ref).endswith(case["input"].rsplit("/", 1)[-1].split(":", 1)[-1].split("@")[-1])


@pytest.mark.parametrize(
    "case",
    table("regexp_test.go:TestDomainRegexp"),
    ids=ids(table("regexp_test.go:TestDomainRegexp")),
)
def test_domain_regexp(case: dict[str, Any]) -> None:
    assert bool(refs.DOMAIN_RE.match(case["input"])) is case["match"]


@pytest.mark.parametrize(
    ("regex", "case"),
    [(refs.ANCHORED_NAME_RE, c) for c in table("regexp_test.go:TestFullNameRegexp")]
    + [(refs.REFERENCE_RE, c) for c in table("regexp_test.go:TestReferenceRegexp")],
)
def test_name_and_reference_regexps(regex: Any, case: dict[str, Any]) -> None:
    m = regex.match(case["input"])
    assert bool(m) is case["match"]
    if m and case["subs"]:
        assert [g or "" for g in m.groups()] == case["subs"]


@pytest.mark.parametrize(
    "case",
    table("regexp_test.go:TestIdentifierRegexp"),
    ids=ids(table("regexp_test.go:TestIdentifierRegexp")),
)
def test_identifier_regexp(case: dict[str, Any]) -> None:
    assert bool(refs.IDENTIFIER_RE.match(case["input"])) is case["match"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("nginx@sha384:" + "a" * 96, "unsupported digest algorithm 'sha384'"),
        ("nginx@sha256:" + "A" * 64, "hex digits must be lowercase"),
        ("nginx@sha512:" + "a" * 64, "sha512 needs 128 hex digits, got 64"),
        ("Nginx:1", "must be lowercase"),
        ("nginx:-bad", "invalid reference format"),
        ("nginx\n", "invalid reference format"),
    ],
)
def test_messages_name_the_problem(text: str, words: str) -> None:
    with pytest.raises(InvalidReferenceError) as exc:
        refs.parse_normalized(text)
    assert words in exc.value.message


def test_written_name_is_the_text_before_tag_and_digest() -> None:
    text = "localhost:5000/app:1.0@sha256:" + "0" * 64
    assert refs.written_name(text, refs.parse_normalized(text)) == "localhost:5000/app"
