"""Lifecycle policy text as ECR returns it: re-serialised, not the bytes the caller sent.

ECR parses a lifecycle policy and returns its own serialisation: compact (no whitespace), keys in
its schema's order whatever order the caller used (the AWS CLI's documented example,
awscli/examples/ecr/put-lifecycle-policy.rst: an indented file goes in, ``{"rules":[{"rulePriority"
:1,"description":...,"selection":{"tagStatus":...,"countType":...,"countUnit":...,"countNumber"
:14},"action":{"type":"expire"}}]}`` comes back), and rules reordered by ``rulePriority`` ("The
AWS ECR API seems to reorder rules based on rulePriority", the Terraform AWS provider's
aws_ecr_lifecycle_policy documentation, quoted in hashicorp/terraform-provider-aws#22639).
Whether ECR also reorders ``tagPrefixList``/``tagPatternList`` is not documented; they are kept
as sent.

moto 5.2 returns the text exactly as sent, so a caller that compared texts would pass against it
and fail against ECR. ``install()`` makes PutLifecyclePolicy store ECR's form; templates store it
through :func:`ecr_form` too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

_RULE_ORDER = ("rulePriority", "description", "selection", "action")
_SELECTION_ORDER = (
    "tagStatus",
    "tagPatternList",
    "tagPrefixList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
)
_ACTION_ORDER = ("type", "targetStorageClass")
_ORIGINAL_ATTR = "_ecrcache_original_put_lifecycle_policy"
_lock = threading.Lock()


def _ordered(obj: Any, order: Iterable[str]) -> Any:
    if not isinstance(obj, dict):
        return obj
    keys = [k for k in order if k in obj] + [k for k in obj if k not in order]
    return {k: obj[k] for k in keys}


def _rule(rule: Any) -> Any:
    if not isinstance(rule, dict):
        return rule
    out = _ordered(rule, _RULE_ORDER)
    if "selection" in out:
        out["selection"] = _ordered(out["selection"], _SELECTION_ORDER)
    if "action" in out:
        out["action"] = _ordered(out["action"], _ACTION_ORDER)
    return out


def _priority(rule: Any) -> tuple[int, int]:
    p = rule.get("rulePriority") if isinstance(rule, dict) else None
    return (0, p) if type(p) is int else (1, 0)


def ecr_form(text: str) -> str:
    """``text`` as ECR would return it; unchanged if it is not a JSON object with rules."""
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        return text
    rules = sorted((_rule(r) for r in doc["rules"]), key=_priority)
    out = {"rules": rules, **{k: v for k, v in doc.items() if k != "rules"}}
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


def install() -> None:
    """Wrap moto's ``ECRBackend.put_lifecycle_policy`` (validation sees the text as sent)."""
    from moto.ecr.models import ECRBackend

    with _lock:
        if not hasattr(ECRBackend, _ORIGINAL_ATTR):
            setattr(ECRBackend, _ORIGINAL_ATTR, ECRBackend.put_lifecycle_policy)
        original: Callable[..., Any] = getattr(ECRBackend, _ORIGINAL_ATTR)

        def put_lifecycle_policy(
            self: Any, registry_id: str, repository_name: str, lifecycle_policy_text: str
        ) -> Any:
            result = original(self, registry_id, repository_name, lifecycle_policy_text)
            repo = self._get_repository(repository_name, registry_id)
            repo.lifecycle_policy = ecr_form(lifecycle_policy_text)
            if isinstance(result, dict) and "lifecyclePolicyText" in result:
                result = {**result, "lifecyclePolicyText": repo.lifecycle_policy}
            return result

        ECRBackend.put_lifecycle_policy = put_lifecycle_policy  # type: ignore[method-assign]
