"""Per-repository calls on a bounded thread pool, stopping at the first failure or Ctrl-C.

Plan reads each backfilled repository's lifecycle policy and each application repository's
settings; apply writes backfilled settings. At 5,000 repositories and 50 ms a call, one after
another is minutes; ``CONCURRENCY`` threads sharing one client (boto3 clients are thread-safe)
make it seconds. The client's adaptive retry mode (``aws.BOTO_CONFIG``) slows every thread down
together when AWS throttles, and its connection pool (``aws.POOL_CONNECTIONS``) holds one
connection per thread. Why 16: ECR publishes no rate for these APIs; its troubleshooting page
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/common-errors.html) gives as its example
20 requests/s sustained with bursts of 200, which 16 calls in flight stay inside of; adaptive
mode takes the rate down if ECR throttles anyway.

Errors: the first failure stops the rest. Calls not started are cancelled, the calls in flight
(at most ``CONCURRENCY - 1``) finish, and :class:`Stopped` says which items were done, so apply can
report them. A failure that would repeat (AccessDenied on the 1st of 5,000 writes) costs at most
``CONCURRENCY`` calls, not 5,000.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

from ecrcache.aws import POOL_CONNECTIONS

CONCURRENCY = POOL_CONNECTIONS

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[str, int, int], None]  # (what, done, total)


def no_progress(what: str, done: int, total: int) -> None:
    return None


class Stopped(Exception, Generic[T]):
    """The run stopped at ``item`` because of ``cause`` (an exception, or KeyboardInterrupt);
    ``done`` are the items that completed before the pool wound down, in input order."""

    def __init__(self, item: T | None, cause: BaseException, done: Sequence[T]) -> None:
        super().__init__(str(cause))
        self.item = item
        self.cause = cause
        self.done = tuple(done)


def run_bounded(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    what: str = "",
    concurrency: int = CONCURRENCY,
    progress: Progress = no_progress,
    each: Callable[[T], None] = lambda item: None,
) -> list[R]:
    """``[fn(item) for item in items]``, ``concurrency`` at a time, in input order. ``each`` is
    told of every item done, ``progress`` of the count, both from the calling thread. On the first
    exception (or KeyboardInterrupt) raises :class:`Stopped` with it as ``cause``."""
    if len(items) <= 1 or concurrency <= 1:
        return _in_turn(fn, items, what=what, progress=progress, each=each)
    results: dict[int, R] = {}
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ecrcache")
    pending: dict[Future[R], int] = {}
    failed: tuple[int | None, BaseException] | None = None
    nxt = 0
    try:
        # Submitted as slots free up (never more than 2 x concurrency queued), so a stop leaves
        # nothing queued to cancel and the order of calls follows the input.
        while nxt < len(items) or pending:
            while nxt < len(items) and len(pending) < 2 * concurrency and failed is None:
                pending[pool.submit(fn, items[nxt])] = nxt
                nxt += 1
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index = pending.pop(future)
                exc = future.exception()
                if exc is not None:
                    failed = failed or (index, exc)
                    continue
                results[index] = future.result()
                each(items[index])
                progress(what, len(results), len(items))
            if failed is not None:
                for future in list(pending):
                    if future.cancel():
                        del pending[future]
    except KeyboardInterrupt as exc:
        failed = (None, exc)
        for future in list(pending):
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        for future, index in pending.items():
            if not future.cancelled() and future.exception() is None:
                results[index] = future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if failed is not None:
        at, cause = failed
        raise Stopped(
            items[at] if at is not None else None,
            cause,
            [items[i] for i in sorted(results)],
        ) from cause
    return [results[i] for i in range(len(items))]


def _in_turn(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    what: str,
    progress: Progress,
    each: Callable[[T], None],
) -> list[R]:
    out: list[R] = []
    for item in items:
        try:
            out.append(fn(item))
        except BaseException as exc:
            if not isinstance(exc, Exception | KeyboardInterrupt):
                raise
            raise Stopped(item, exc, items[: len(out)]) from exc
        each(item)
        progress(what, len(out), len(items))
    return out


def read_bounded(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    what: str = "",
    progress: Progress = no_progress,
) -> list[R]:
    """:func:`run_bounded` for reads: a failure raises as itself (an AwsError, KeyboardInterrupt),
    since nothing was changed that needs reporting."""
    try:
        return run_bounded(fn, items, what=what, progress=progress)
    except Stopped as stopped:
        cause = stopped.cause
    raise cause  # outside the handler: its own chain (the boto error under it) stays as it was
