"""Pull-through cache rules and repository creation templates for moto 5.2's ECR.

``install()`` binds the backend operations (``models``, ``templates``) onto moto's
``ECRBackend`` and the request handlers (``responses``) onto ``ECRResponse``. Class-level, so it
covers the in-process mock (``mock_aws``) and ``ThreadedMotoServer`` alike; a separate
``moto_server`` process needs ``install()`` run in that process.

Enforced as the service does (botocore's client checks only minimum lengths): lengths, patterns
and enums of the botocore model, ROOT prefixes, the 50-rules quota, secret-authenticated
upstreams needing a credentialArn, the secret existing in the same account and region, update
semantics, pagination. See ``constraints`` for the sources.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ecrcache.sandbox import (
    assume_role_duration,
    assume_role_trust,
    auth_token,
    budgets_api,
    describe_paging,
    event_pattern_test,
    events_rule_tagging,
    events_to_sns,
    iam_policy_deletion,
    image_sizes,
    image_status,
    kms_default_key,
    lifecycle_form,
    lifecycle_validation,
    models,
    policy_storage,
    principal_validation,
    pull_metrics,
    registry_policy_validation,
    repository_pages,
    repository_validation,
    responses,
    secret_deletion,
    secrets_consistency,
    tagging_api,
    templates,
)

_BACKEND_METHODS: dict[str, Callable[..., Any]] = {
    "create_pull_through_cache_rule": models.create_pull_through_cache_rule,
    "describe_pull_through_cache_rules": models.describe_pull_through_cache_rules,
    "update_pull_through_cache_rule": models.update_pull_through_cache_rule,
    "delete_pull_through_cache_rule": models.delete_pull_through_cache_rule,
    "validate_pull_through_cache_rule": models.validate_pull_through_cache_rule,
    "create_repository_creation_template": templates.create_repository_creation_template,
    "describe_repository_creation_templates": templates.describe_repository_creation_templates,
    "update_repository_creation_template": templates.update_repository_creation_template,
    "delete_repository_creation_template": templates.delete_repository_creation_template,
}
_RESPONSE_METHODS: dict[str, Callable[..., Any]] = {
    name: getattr(responses, name) for name in _BACKEND_METHODS
}
_lock = threading.Lock()


def install() -> None:
    """Add the nine operations to moto's ECR backend and responses. Idempotent."""
    from moto.ecr.models import ECRBackend
    from moto.ecr.responses import ECRResponse

    with _lock:
        for name, fn in _BACKEND_METHODS.items():
            setattr(ECRBackend, name, fn)
        for name, fn in _RESPONSE_METHODS.items():
            setattr(ECRResponse, name, fn)
    # DescribeImages sizes as ECR defines them (layers; an index's largest child): image_sizes.
    image_sizes.install()
    # PutLifecyclePolicy accepts what ECR accepts now (archive rules): lifecycle_validation.
    lifecycle_validation.install()
    # ...and returns it re-serialised as ECR does (compact, its key order, rules by priority).
    lifecycle_form.install()
    registry_policy_validation.install()
    # ListImages/DescribeImages show only ACTIVE images unless asked; UpdateImageStorageClass.
    image_status.install()
    # ...and pages them, 100 by default, as ECR does: describe_paging.
    describe_paging.install()
    # A KMS repository with no key named gets the AWS-managed aws/ecr key: kms_default_key.
    kms_default_key.install()
    # CreateRepository/PutImageTagMutability checked server side as ECR does: repository_validation.
    repository_validation.install()
    # Registry, repository and template policies stored as ECR stores them: policy_storage.
    policy_storage.install()
    # ListSecrets lags behind changes, as Secrets Manager documents: secrets_consistency.
    secrets_consistency.install()
    # Registry and repository policies name only principals IAM knows: principal_validation.
    principal_validation.install()
    # Repeats of a call whose response was lost meet what AWS answers then.
    secret_deletion.install()
    iam_policy_deletion.install()
    # GetAuthorizationToken: 12 hours from now, the partition's registry host: auth_token.
    auth_token.install()
    # DescribeRepositories pages (100, maxResults up to 1000); GetResources lists repositories.
    repository_pages.install()
    tagging_api.install()
    # [monitoring]: EventBridge delivers to SNS targets; the Budgets calls moto lacks.
    events_to_sns.install()
    event_pattern_test.install()
    events_rule_tagging.install()
    budgets_api.install()
    # AssumeRole checks the role exists and its trust policy allows the caller: assume_role_trust.
    assume_role_trust.install()
    # ...and no longer a session than the role (or role chaining) allows: assume_role_duration.
    assume_role_duration.install()
    # GetMetricData takes at most 500 queries (ECR's pull counts are read in batches): pull_metrics.
    pull_metrics.install()


def inject_secret_not_found(count: int) -> None:
    """Make the next ``count`` Create/UpdatePullThroughCacheRule calls that name a secret fail
    with SecretNotFoundException although it exists: Secrets Manager to ECR propagation lag, for
    testing a caller's retry. ``0`` clears it. Process-wide (works in ThreadedMotoServer too)."""
    models.set_injected_secret_not_found(count)
