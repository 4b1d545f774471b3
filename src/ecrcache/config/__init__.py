"""The config file: TOML read into frozen pydantic models, checked against ECR's own rules.

Owns the schema (``schema``: the root model and the checks across tables; ``rules``:
pull-through cache rules, their credentials, safety thresholds and ECR's naming rules;
``registry``: templates, repositories, scanning, pullers, CI policy; ``cost``: the cost report's
settings), the upstream catalogue (``upstreams``: hosts, URLs, credential rules, partitions) and
the one-line messages that name file, key and fix (``loading``: reading the file, translating
pydantic's errors). Pure: imports only ``errors`` and ``policy`` (lifecycle and
permission documents the schema compiles), never boto3, rich or typer.
"""
