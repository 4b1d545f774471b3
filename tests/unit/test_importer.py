"""import's pure parts: lifecycle policies back to friendly keys (exactly, or not at all), and
the TOML writer (literal policies, comments, fallbacks), each checked by reading back."""

from __future__ import annotations

import itertools
import json
import tomllib
from typing import Any

import pytest

from ecrcache.config.loading import parse_config
from ecrcache.policy.lifecycle import compile_rules, normalise
from ecrcache.reconcile.import_toml import lifecycle_keys, to_toml
from ecrcache.reconcile.importer import ImportResult

SINGLES: dict[str, int] = {
    "keep_last": 30,
    "expire_untagged_after_days": 7,
    "archive_unpulled_after_days": 90,
    "expire_archived_after_days": 180,
}


def _combinations() -> list[dict[str, Any]]:
    out = []
    keys = [*SINGLES, "keep_tagged"]
    for n in range(1, len(keys) + 1):
        for combo in itertools.combinations(keys, n):
            if {"keep_last", "archive_unpulled_after_days"} <= set(combo):
                continue  # compile_rules refuses it: both are 'any' rules on standard images
            out.append(
                {k: {"v*": 3, "release-*": 10} if k == "keep_tagged" else SINGLES[k] for k in combo}
            )
    return out


@pytest.mark.parametrize("friendly", _combinations(), ids=lambda d: "+".join(d))
def test_every_friendly_combination_comes_back(friendly: dict[str, Any]) -> None:
    kwargs = {k: v for k, v in friendly.items() if k != "keep_tagged"}
    policy = compile_rules(**kwargs, keep_last_tag_patterns=friendly.get("keep_tagged"))
    # as AWS may return it: other whitespace, other key order
    text = json.dumps(policy, indent=3)
    assert lifecycle_keys(text) == friendly


def _raw(policy: dict[str, Any]) -> dict[str, Any]:
    return {"policy": json.dumps(policy, indent=2, sort_keys=True) + "\n"}


def test_a_changed_description_keeps_the_raw_policy() -> None:
    policy = compile_rules(keep_last=5)
    policy["rules"][0]["description"] = "mine"
    assert lifecycle_keys(json.dumps(policy)) == _raw(json.loads(normalise(policy)))


def test_rules_in_another_order_keep_the_raw_policy() -> None:
    policy = compile_rules(keep_last=5, expire_untagged_after_days=3)
    a, b = policy["rules"]
    a["rulePriority"], b["rulePriority"] = 2, 1  # keep_last first: not what compile writes
    result = lifecycle_keys(json.dumps(policy))
    assert set(result) == {"policy"}
    assert normalise(result["policy"]) == normalise(policy)


def test_a_rule_no_key_expresses_keeps_the_raw_policy() -> None:
    policy = compile_rules(keep_last=5)
    policy["rules"][0]["selection"]["tagStatus"] = "untagged"
    assert set(lifecycle_keys(json.dumps(policy))) == {"policy"}


def test_the_raw_policy_validates_and_compares_equal() -> None:
    policy = compile_rules(keep_last=5)
    policy["rules"][0]["description"] = "mine"
    keys = lifecycle_keys(json.dumps(policy))
    cfg = parse_config({"region": "af-south-1", "repositories": {"a/b": {"lifecycle": keys}}})
    lifecycle = cfg.repositories["a/b"].lifecycle
    assert lifecycle is not None and lifecycle.document() == normalise(policy)


def test_toml_literals_comments_and_quoted_keys_read_back() -> None:
    doc = {
        "version": 1,
        "region": "af-south-1",
        "repositories": {
            "acme/api": {"lifecycle": {"policy": '{\n  "rules": []\n}\n'}, "tags": {"a b": "c"}},
        },
        "templates": {"ROOT": {"description": 'quote " and \\ backslash'}},
    }
    result = ImportResult(
        document=doc,
        comments={("repositories", "acme/api"): ("a note " * 30,), ("nowhere",): ("top note",)},
    )
    text = to_toml(result, header=("header line",))
    assert tomllib.loads(text) == doc
    assert "policy = '''\n{\n" in text
    lines = text.splitlines()
    assert lines[0] == "# header line"
    assert "# top note" in lines[:4]  # a path with no table of its own: comment at the top
    i = lines.index('[repositories."acme/api".lifecycle]')  # no header of its own
    assert lines[i - 1].startswith("# a note") and all(len(x) <= 100 for x in lines)


@pytest.mark.parametrize(
    "value", ["has ''' inside\n", "a bell \x07\n", "a quote last\n'", "del \x7f\n"]
)
def test_strings_a_literal_cannot_hold_stay_basic_strings(value: str) -> None:
    result = ImportResult(document={"k": {"policy": value}})
    text = to_toml(result)
    assert text.startswith('[k]\npolicy = "')
    assert tomllib.loads(text) == {"k": {"policy": value}}
