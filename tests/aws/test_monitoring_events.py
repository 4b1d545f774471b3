"""The rule's event pattern, checked by EventBridge's own TestEventPattern against ECR's sample
events, and events delivered through the sandbox (PutEvents) to the log group and, through
the SNS topic, to a subscribed SQS queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reconcile_support import ACCOUNT, REGION, apply, clients, config

from ecrcache.reconcile.desired_monitoring import event_pattern

EVENTS = json.loads((Path(__file__).parents[1] / "data/ecr_ptc_events.json").read_text())


@pytest.mark.parametrize(
    ("events", "sample", "matches"),
    [
        ("failed", "failed", True),
        ("failed", "succeeded", False),
        ("all", "failed", True),
        ("all", "succeeded", True),
    ],
)
def test_test_event_pattern_matches_exactly_as_configured(
    aws: Any, events: str, sample: str, matches: bool
) -> None:
    result = aws.client("events").test_event_pattern(
        EventPattern=json.dumps(event_pattern(events)), Event=json.dumps(EVENTS[sample])
    )
    assert result["Result"] is matches


def test_an_image_push_event_matches_neither_pattern(aws: Any) -> None:
    push = {
        **EVENTS["succeeded"],
        "detail-type": "ECR Image Action",
        "detail": {"result": "SUCCESS"},
    }
    for events in ("failed", "all"):
        result = aws.client("events").test_event_pattern(
            EventPattern=json.dumps(event_pattern(events)), Event=json.dumps(push)
        )
        assert result["Result"] is False


def _put(aws: Any, sample: str) -> None:
    e = EVENTS[sample]
    out = aws.client("events").put_events(
        Entries=[
            {
                "Source": e["source"],
                "DetailType": e["detail-type"],
                "Detail": json.dumps(e["detail"]),
                "Resources": e["resources"],
            }
        ]
    )
    assert out["FailedEntryCount"] == 0


def test_a_failed_sync_reaches_the_log_group_and_the_topic_subscribers(aws: Any) -> None:
    cfg = config({"quay": {"upstream": "quay"}}, monitoring={"log_retention_days": 7})
    apply(cfg, clients(aws))
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName="ops")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:ecrcache-pull-through-cache"
    aws.client("sns").subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    _put(aws, "succeeded")  # filtered out by the rule
    _put(aws, "failed")

    logs = aws.client("logs")
    found = logs.filter_log_events(logGroupName="/aws/events/ecrcache-pull-through-cache")
    details = [json.loads(e["message"])["detail"] for e in found["events"]]
    assert [d["sync-status"] for d in details] == ["FAILED"]
    assert details[0]["failure-code"] == "UPSTREAM_AUTHENTICATION_FAILED"

    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [b["detail"]["sync-status"] for b in bodies] == ["FAILED"]
    assert bodies[0]["detail-type"] == "ECR Pull Through Cache Action"
