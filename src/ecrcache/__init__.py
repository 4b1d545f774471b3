"""ecrcache: an Amazon ECR pull-through cache, declared in one TOML file and kept right."""

__version__ = "0.1.0"
