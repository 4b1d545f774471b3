"""What a Ctrl-C tells the user: what the command had done when it stopped, always.

The run's ledger (``interrupts.applied``) lists each change as it is made: apply's changes,
prune's deletions, the images warm cached, test-pull's pulls. A command that only reads says
that nothing was changed, so nobody has to wonder.
"""

from __future__ import annotations

from collections.abc import Sequence

from ecrcache import interrupts

# Commands that never change the account or the cache (their output aside)
READ_ONLY = frozenset(
    {"plan", "status", "cost-report", "doctor", "validate", "outputs", "export", "node-config"}
)
# Commands that change something, and how to finish after an interrupt
AGAIN = {
    "apply": "Run apply again: it picks up where this stopped",
    "prune": "Run prune again to finish: what is deleted stays deleted",
    "warm": "Run warm again: what is cached now is not pulled again",
    "test-pull": "Run test-pull again for the whole check",
}


def interrupt_hint(command: str, done: Sequence[str]) -> str | None:
    if command == "apply":  # apply has always listed its changes, even none
        return interrupts.applied_hint(done)
    if done:
        again = AGAIN.get(command)
        summary = interrupts.applied_summary(done)
        return f"done before it stopped: {summary}" + (f". {again}" if again else "")
    if command in READ_ONLY:
        return f"nothing was changed: {command} only reads"
    if command == "import":
        return "nothing was written: import writes its file only when it has read everything"
    if command in AGAIN:
        return "nothing was changed before it stopped"
    return None
