"""``ecrcache warm``: pull images through the cache ahead of need.

``sources`` turns arguments and files into jobs (through ``pulltarget.resolve`` and rewrite's
own reference finding: no second parser); ``inspect`` says whether the cache already holds an
image (DescribeImages for ECR); ``run`` pulls what is missing with test-pull's registry client,
every platform of an index or the ones asked for, on a bounded pool; ``model`` holds the frozen,
JSON-ready results. No rich, no typer.
"""

from ecrcache.registry.warm.inspect import CacheInspector, EcrInspector, Lookup, NoInspector
from ecrcache.registry.warm.model import ImageResult, PlatformResult, WarmJob, WarmReport
from ecrcache.registry.warm.run import warm_images
from ecrcache.registry.warm.simulate import simulate_images
from ecrcache.registry.warm.sources import jobs_from_files, jobs_from_references

__all__ = [
    "CacheInspector",
    "EcrInspector",
    "ImageResult",
    "Lookup",
    "NoInspector",
    "PlatformResult",
    "WarmJob",
    "WarmReport",
    "jobs_from_files",
    "jobs_from_references",
    "simulate_images",
    "warm_images",
]
