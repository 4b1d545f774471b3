"""What a new sandbox account starts with: the IAM roles config.example.toml names.

ECR refuses a registry policy naming a principal IAM does not know (``principal_validation``),
so the quick start (``ecrcache --sandbox apply -c config.example.toml --yes``) needs the
example's puller role to exist, as it would in a real account. It gets what a node role
usually has for ECR (the actions of AmazonEC2ContainerRegistryPullOnly, and
BatchCheckLayerAvailability, which docker calls), as an inline policy since moto loads
AWS-managed policies only on request. The first-pull actions come from the registry policy
apply writes.
"""

from __future__ import annotations

import json
from typing import Any

EXAMPLE_NODE_ROLE = "eks-node"
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
NODE_ECR_PULL = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability",
            ],
            "Resource": "*",
        }
    ],
}


def seed(iam: Any) -> None:
    """Create the example's roles with an IAM client of the new sandbox account."""
    iam.create_role(
        RoleName=EXAMPLE_NODE_ROLE,
        AssumeRolePolicyDocument=json.dumps(TRUST_EC2),
        Description="sandbox: the node role config.example.toml names as a puller",
    )
    iam.put_role_policy(
        RoleName=EXAMPLE_NODE_ROLE,
        PolicyName="ecr-pull",
        PolicyDocument=json.dumps(NODE_ECR_PULL),
    )


def seed_backend(account_id: str) -> None:
    """The same roles, written straight into moto's IAM backend: for ``sandbox serve``, which
    has no client of its own before it listens."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["global"]
    iam.create_role(
        role_name=EXAMPLE_NODE_ROLE,
        assume_role_policy_document=json.dumps(TRUST_EC2),
        path="/",
        permissions_boundary=None,
        description="sandbox: the node role config.example.toml names as a puller",
        tags=[],
        max_session_duration=None,
    )
    iam.put_role_policy(EXAMPLE_NODE_ROLE, "ecr-pull", json.dumps(NODE_ECR_PULL))
