"""Policy documents' canonical form and structural diff.

``canonical`` gives IAM, registry and repository policy documents one form, so a document
compares equal to what AWS stores for it (account IDs as root ARNs, lists reordered, one-element
lists collapsed); ``docdiff`` says what changed between two JSON documents, for plans. Pure: it
imports nothing above the standard library. A later restructure moves iampolicy.py,
permissions.py and lifecycle.py here.
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
