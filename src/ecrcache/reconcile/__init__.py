"""Desired state, live state, the plan between them, and the apply that carries it out.

``desired`` turns a config into frozen resources; ``live`` reads the same resource types from
the account; ``plan`` diffs them (pure, Terraform's vocabulary); ``apply`` runs a plan with one
idempotent handler per kind and action (``handlers``, a module per resource kind);
``planning`` ties them together for the commands;
``credentials`` reads secret values from their sources; ``importer`` writes a config from an
account; ``outputs`` derives registry URLs and prefixes. May import ``config``, ``policy``,
``rewrite``, ``aws`` and the bottom modules; ``desired``, ``plan`` and ``resources`` stay pure.
"""
