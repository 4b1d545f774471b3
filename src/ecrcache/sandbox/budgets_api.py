"""The Budgets calls moto 5.2 lacks, and the tags it drops.

moto's Budgets backend has CreateBudget, DescribeBudget(s), DeleteBudget, Create/Delete
Notification and DescribeNotificationsForBudget. It ignores CreateBudget's ``ResourceTags`` and
has no UpdateBudget, DescribeSubscribersForNotification, TagResource, UntagResource or
ListTagsForResource (botocore's budgets model, 2016-10-20, has them all). ``install()`` adds
them on moto's backend and response classes:

- UpdateBudget replaces the budget's definition (``NewBudget``) and keeps its notifications;
  NotFoundException for an unknown budget (Budgets API reference, UpdateBudget).
- DescribeSubscribersForNotification returns the subscribers of the notification equal to the
  one given; NotFoundException when the budget or the notification is not there.
- Tags are kept per budget ARN, ``arn:<partition>:budgets::<account>:budget/<name>`` (Service
  Authorization Reference for AWS Budgets, resource type ``budget``), on the budget object, so
  they pickle with the sandbox state and go when the budget goes.
"""

from __future__ import annotations

import json
import threading
from typing import Any

_lock = threading.Lock()


def _budget(backend: Any, account_id: str, name: str) -> Any:
    from moto.budgets.exceptions import NotFoundException

    found = backend.budgets[account_id].get(name)
    if found is None:
        raise NotFoundException(f"Unable to get budget: {name} - the budget doesn't exist.")
    return found


def _by_arn(backend: Any, arn: str) -> Any:
    # arn:aws:budgets::123456789012:budget/NAME
    account = arn.split(":")[4]
    name = arn.split(":budget/", 1)[-1]
    return _budget(backend, account, name)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("NotificationType", "ComparisonOperator", "ThresholdType")
    return all(a.get(k) == b.get(k) for k in keys) and float(a["Threshold"]) == float(
        b["Threshold"]
    )


def _tags(budget: Any) -> dict[str, str]:
    tags: dict[str, str] | None = getattr(budget, "ecrcache_tags", None)
    if tags is None:
        tags = {}
        budget.ecrcache_tags = tags
    return tags


def install() -> None:
    """Add the missing Budgets operations to moto. Idempotent."""
    from moto.budgets.exceptions import NotFoundException
    from moto.budgets.responses import BudgetsResponse

    with _lock:
        if getattr(BudgetsResponse, "_ecrcache_budgets_api", False):
            return
        original_create = BudgetsResponse.create_budget

        def create_budget(self: Any) -> str:
            out: str = original_create(self)
            tags = self._get_param("ResourceTags") or []
            budget = _budget(
                self.backend, self._get_param("AccountId"), self._get_param("Budget")["BudgetName"]
            )
            _tags(budget).update({t["Key"]: t["Value"] for t in tags})
            return out

        def update_budget(self: Any) -> str:
            new = self._get_param("NewBudget")
            budget = _budget(self.backend, self._get_param("AccountId"), new["BudgetName"])
            kept = {k: budget.budget[k] for k in ("TimePeriod",) if k in budget.budget}
            budget.budget = {**kept, **new}
            return json.dumps({})

        def describe_subscribers_for_notification(self: Any) -> str:
            budget = _budget(
                self.backend, self._get_param("AccountId"), self._get_param("BudgetName")
            )
            wanted = self._get_param("Notification")
            for n in budget.notifications:
                if _same(n.details, wanted):
                    return json.dumps({"Subscribers": n.subscribers})
            raise NotFoundException("Unable to get subscribers - the notification doesn't exist.")

        def tag_resource(self: Any) -> str:
            budget = _by_arn(self.backend, self._get_param("ResourceARN"))
            tags = self._get_param("ResourceTags") or []
            _tags(budget).update({t["Key"]: t["Value"] for t in tags})
            return json.dumps({})

        def untag_resource(self: Any) -> str:
            budget = _by_arn(self.backend, self._get_param("ResourceARN"))
            for key in self._get_param("ResourceTagKeys") or []:
                _tags(budget).pop(key, None)
            return json.dumps({})

        def list_tags_for_resource(self: Any) -> str:
            budget = _by_arn(self.backend, self._get_param("ResourceARN"))
            listed = [{"Key": k, "Value": v} for k, v in sorted(_tags(budget).items())]
            return json.dumps({"ResourceTags": listed})

        for fn in (
            create_budget,
            update_budget,
            describe_subscribers_for_notification,
            tag_resource,
            untag_resource,
            list_tags_for_resource,
        ):
            setattr(BudgetsResponse, fn.__name__, fn)
        BudgetsResponse._ecrcache_budgets_api = True  # type: ignore[attr-defined]
