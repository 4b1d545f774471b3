"""What the cache stores and costs: the inventory (bounded concurrent reads), pricing, the
report and its document, Cost Explorer, status and prune.

``report`` and ``pricing`` are the pure arithmetic; ``inventory``, ``explorer``, ``status``
and ``prune`` read (or delete) through a Clients bundle. May import ``reconcile`` (live reads
and resource types), ``config``, ``policy``, ``aws`` and the bottom modules; never rich or typer.
"""
