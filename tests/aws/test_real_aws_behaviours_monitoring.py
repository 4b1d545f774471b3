"""How the services [monitoring] uses behave on AWS, and the sandbox with them (moto 5.2 plus
ecrcache's modules: event_pattern_test, events_to_sns, events_rule_tagging, budgets_api,
statefile). Each test names its source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

REGION = "af-south-1"
ACCOUNT = "123456789012"
EVENTS = json.loads((Path(__file__).parents[1] / "data/ecr_ptc_events.json").read_text())
FAILED_ONLY = {
    "source": ["aws.ecr"],
    "detail-type": ["ECR Pull Through Cache Action"],
    "detail": {"sync-status": ["FAILED"]},
}


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_test_event_pattern_answers_and_requires_the_envelope(aws: Any) -> None:
    # Source: EventBridge API reference, TestEventPattern: the event "must follow the format
    # specified in AWS Events, and the following fields are mandatory: id, account, source,
    # time, region, resources, detail-type"; InvalidEventPatternException for a bad pattern.
    events = aws.client("events")
    good = events.test_event_pattern(
        EventPattern=json.dumps(FAILED_ONLY), Event=json.dumps(EVENTS["failed"])
    )
    assert good["Result"] is True
    no_id = {k: v for k, v in EVENTS["failed"].items() if k != "id"}
    with pytest.raises(ClientError) as exc:
        events.test_event_pattern(EventPattern=json.dumps(FAILED_ONLY), Event=json.dumps(no_id))
    assert _code(exc) == "InvalidEventPatternException"
    with pytest.raises(ClientError) as exc:
        events.test_event_pattern(EventPattern='{"source": []}', Event=json.dumps(EVENTS["failed"]))
    assert _code(exc) == "InvalidEventPatternException"


def test_eventbridge_publishes_the_event_to_an_sns_target(aws: Any) -> None:
    # Source: EventBridge user guide, targets: Amazon SNS topics; the message is the event as
    # JSON when no input transformer is set. moto 5.2 raises NotImplementedError for SNS.
    sns, sqs, events = aws.client("sns"), aws.client("sqs"), aws.client("events")
    topic = sns.create_topic(Name="t")["TopicArn"]
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"}
    )
    events.put_rule(Name="r", EventPattern=json.dumps(FAILED_ONLY))
    events.put_targets(Rule="r", Targets=[{"Id": "sns", "Arn": topic}])
    e = EVENTS["failed"]
    events.put_events(
        Entries=[
            {
                "Source": e["source"],
                "DetailType": e["detail-type"],
                "Detail": json.dumps(e["detail"]),
            }
        ]
    )
    body = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert body["detail"]["failure-code"] == e["detail"]["failure-code"]


def test_get_resources_lists_tagged_eventbridge_rules(aws: Any) -> None:
    # Source: Resource Groups Tagging API reference, supported services: Amazon EventBridge
    # (events:rule); GetResources "does not return untagged resources" (botocore model).
    events = aws.client("events")
    events.put_rule(Name="ours", EventPattern="{}", Tags=[{"Key": "managed-by", "Value": "x"}])
    events.put_rule(Name="untagged", EventPattern="{}")
    listed = aws.client("resourcegroupstaggingapi").get_resources(
        ResourceTypeFilters=["events:rule"]
    )["ResourceTagMappingList"]
    assert [m["ResourceARN"].rsplit("/", 1)[-1] for m in listed] == ["ours"]


def _budget(name: str = "b", amount: str = "10") -> dict[str, Any]:
    return {
        "BudgetName": name,
        "BudgetLimit": {"Amount": amount, "Unit": "USD"},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
    }


NOTE = {
    "NotificationType": "ACTUAL",
    "ComparisonOperator": "GREATER_THAN",
    "Threshold": 80.0,
    "ThresholdType": "PERCENTAGE",
}


def test_budgets_tags_update_and_subscribers(aws: Any) -> None:
    # Source: botocore budgets model 2016-10-20 (CreateBudget ResourceTags, UpdateBudget,
    # DescribeSubscribersForNotification, TagResource, ListTagsForResource); the budget ARN
    # arn:aws:budgets::ACCOUNT:budget/NAME (Service Authorization Reference, AWS Budgets).
    b = aws.client("budgets")
    b.create_budget(
        AccountId=ACCOUNT,
        Budget=_budget(),
        NotificationsWithSubscribers=[
            {
                "Notification": NOTE,
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "a@b.co"}],
            }
        ],
        ResourceTags=[{"Key": "managed-by", "Value": "ecrcache"}],
    )
    arn = f"arn:aws:budgets::{ACCOUNT}:budget/b"
    assert b.list_tags_for_resource(ResourceARN=arn)["ResourceTags"] == [
        {"Key": "managed-by", "Value": "ecrcache"}
    ]
    subs = b.describe_subscribers_for_notification(
        AccountId=ACCOUNT, BudgetName="b", Notification=NOTE
    )["Subscribers"]
    assert subs == [{"SubscriptionType": "EMAIL", "Address": "a@b.co"}]
    with pytest.raises(ClientError) as exc:
        b.describe_subscribers_for_notification(
            AccountId=ACCOUNT, BudgetName="b", Notification={**NOTE, "Threshold": 99.0}
        )
    assert _code(exc) == "NotFoundException"
    b.update_budget(AccountId=ACCOUNT, NewBudget=_budget(amount="25"))
    got = b.describe_budget(AccountId=ACCOUNT, BudgetName="b")["Budget"]
    assert got["BudgetLimit"]["Amount"] == "25"
    assert (
        len(b.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="b")["Notifications"])
        == 1
    )
    with pytest.raises(ClientError) as exc:
        b.update_budget(AccountId=ACCOUNT, NewBudget=_budget(name="nope"))
    assert _code(exc) == "NotFoundException"


def test_monitoring_state_survives_the_state_file(aws: Any, tmp_path: Path) -> None:
    # The sandbox keeps state between invocations by pickling moto's backends (statefile.py):
    # the services [monitoring] uses are saved too, the budget's tags with it.
    from ecrcache.sandbox import statefile

    aws.client("budgets").create_budget(
        AccountId=ACCOUNT, Budget=_budget(), ResourceTags=[{"Key": "k", "Value": "v"}]
    )
    aws.client("events").put_rule(Name="r", EventPattern=json.dumps(FAILED_ONLY))
    aws.client("logs").create_log_group(logGroupName="/aws/events/x")
    path = tmp_path / "state"
    statefile.write(path, statefile.snapshot())
    saved = statefile.read(path)
    assert saved is not None and {"events", "logs", "budgets"} <= set(saved)
    aws.client("events").delete_rule(Name="r")
    statefile.restore(saved)
    assert aws.client("events").describe_rule(Name="r")["Name"] == "r"
    tags = aws.client("budgets").list_tags_for_resource(
        ResourceARN=f"arn:aws:budgets::{ACCOUNT}:budget/b"
    )["ResourceTags"]
    assert tags == [{"Key": "k", "Value": "v"}]


def test_server_mode_delivers_and_tests_patterns(aws: Any) -> None:
    # ThreadedMotoServer (what `sandbox serve` uses): the patches are class-level.
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        events = boto3.client("events", region_name=REGION, endpoint_url=url)
        result = events.test_event_pattern(
            EventPattern=json.dumps(FAILED_ONLY), Event=json.dumps(EVENTS["succeeded"])
        )
        assert result["Result"] is False
        budgets = boto3.client("budgets", region_name=REGION, endpoint_url=url)
        budgets.create_budget(AccountId=ACCOUNT, Budget=_budget("served"))
        budgets.tag_resource(
            ResourceARN=f"arn:aws:budgets::{ACCOUNT}:budget/served",
            ResourceTags=[{"Key": "a", "Value": "b"}],
        )
        listed = budgets.list_tags_for_resource(
            ResourceARN=f"arn:aws:budgets::{ACCOUNT}:budget/served"
        )
        assert listed["ResourceTags"] == [{"Key": "a", "Value": "b"}]
    finally:
        server.stop()
