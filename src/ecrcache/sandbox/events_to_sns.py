"""EventBridge delivers to SNS topic targets, as AWS does.

moto 5.2's ``Rule.send_to_targets`` delivers to CloudWatch Logs groups, SQS queues, archives,
event buses and API destinations, and raises ``NotImplementedError`` for any other target, so a
PutEvents matching a rule with an SNS target fails. AWS publishes the event, as JSON, to the
topic ("Amazon SNS" in the EventBridge user guide's list of targets; the message is the event
itself unless an input transformer is set). ``install()`` publishes to SNS targets through
moto's SNS backend, which delivers to the topic's subscriptions (an SQS queue among them), and
hands the other targets to moto as before. Input transformers are not applied to SNS targets
(ecrcache sets none).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from typing import Any

_ORIGINAL_ATTR = "_ecrcache_original_send_to_targets"
_lock = threading.Lock()


def _publish(rule: Any, arn: str, event: dict[str, Any]) -> None:
    from moto.sns.models import sns_backends

    account, region = arn.split(":")[4], arn.split(":")[3]
    topic = sns_backends[account][region].topics.get(arn)
    if topic is None:  # AWS drops the delivery (a failed invocation metric); so do we
        return
    topic.publish(json.dumps(event, default=str))


def install() -> None:
    """Make moto's EventBridge rules publish to SNS targets. Idempotent."""
    from moto.events.models import Rule

    with _lock:
        if not hasattr(Rule, _ORIGINAL_ATTR):
            setattr(Rule, _ORIGINAL_ATTR, Rule.send_to_targets)
        original: Callable[..., None] = getattr(Rule, _ORIGINAL_ATTR)

        def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
            sns = [t for t in self.targets if t["Arn"].split(":")[2] == "sns"]
            if sns and self.event_pattern.matches_event(original_event):
                for target in sns:
                    _publish(self, target["Arn"], dict(original_event))
            others = copy.copy(self)  # the rule itself keeps all its targets
            others.targets = [t for t in self.targets if t not in sns]
            original(others, original_event, transform_input)

        setattr(Rule, "send_to_targets", send_to_targets)  # noqa: B010
