"""Desired state, live state, the plan between them, and the apply that carries it out.

``desired`` turns a config into frozen resources; ``live`` reads the same resource types from
the account, through ``live_secrets`` (secrets, rules), ``live_repositories`` (templates,
repositories, backfill settings) and ``live_policies`` (scanning, registry and IAM policies);
``changes`` holds the plan's types (Action, Change, Plan, Safety) and ``plan`` the diff that
makes one (pure, Terraform's vocabulary); ``apply`` runs a plan with one idempotent handler per
kind and action (``handlers``, a module per resource kind); ``planning`` ties them together
for the commands; ``credentials`` reads secret values from their sources; ``importer`` builds
a config from an account and ``import_toml`` writes it as TOML; ``outputs`` derives registry
URLs and prefixes. May import ``config``, ``policy``, ``rewrite``, ``aws`` and the bottom
modules; ``desired``, ``changes``, ``plan``, ``import_toml`` and ``resources`` stay pure.
"""
