# `python -m ecrcache`. Ctrl-C is recorded from the first line, before any import, and reported
# once the CLI's own handler is in place (see ecrcache.cli.entry): no traceback at start-up.
import signal

_early: list[int] = []
if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when started ignoring it
    signal.signal(signal.SIGINT, lambda signum, frame: _early.append(signum))

from ecrcache.cli.entry import main  # noqa: E402

if __name__ == "__main__":
    main(early=_early)
