"""Policy documents: their canonical form and structural diff, IAM evaluation, the permissions
table and the policies made from it, and ECR lifecycle policies.

``canonical`` gives IAM, registry and repository policy documents one form, so a document
compares equal to what AWS stores for it (account IDs as root ARNs, lists reordered, one-element
lists collapsed); ``docdiff`` says what changed between two JSON documents, for plans; ``iam``
evaluates policies as IAM does (for doctor and the CI policy's tests); ``permissions`` is the
table of what each operation needs; ``policies`` builds the CI and puller policies from it;
``lifecycle`` (a package: ``compile``, ``check``, ``evaluation``) compiles, checks, normalises
and evaluates lifecycle policies. The bottom of the tree beside ``errors``: pure, it imports
nothing else of ecrcache and neither boto3, rich nor typer, so config validation, plan and
doctor can all use it.
"""

from ecrcache.policy.canonical import (
    canonical_document,
    canonical_statement,
    canonical_statement_text,
    canonical_text,
    equivalent,
)
from ecrcache.policy.docdiff import Diff, diff

__all__ = [
    "Diff",
    "canonical_document",
    "canonical_statement",
    "canonical_statement_text",
    "canonical_text",
    "diff",
    "equivalent",
]
