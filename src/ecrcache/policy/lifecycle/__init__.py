"""ECR lifecycle policies: compile friendly settings, check, normalise, and evaluate locally (pure).

``compile`` holds the constants of ECR's rules, :func:`compile_rules` (friendly settings to a
policy document) and :func:`normalise` (canonical compact JSON); ``check`` holds
:func:`check_policy`, every problem ECR would reject or silently mishandle; ``evaluation`` holds
:func:`evaluate`, which images each rule expires or transitions (:class:`Image`,
:class:`RuleOutcome`, :class:`Evaluation`). Each module cites the ECR docs it follows.
"""

from ecrcache.policy.lifecycle.check import check_policy
from ecrcache.policy.lifecycle.compile import compile_rules, normalise
from ecrcache.policy.lifecycle.evaluation import Image, evaluate

__all__ = ["Image", "check_policy", "compile_rules", "evaluate", "normalise"]
