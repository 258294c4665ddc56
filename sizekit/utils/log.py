"""One path for what sizekit tells the user while it works: the "sizekit" logger, on stderr.

Library code (stages, elf, results) calls say() instead of print(): the line reads
`sizekit: MESSAGE` as before, and a program that embeds sizekit can take the logger over
(`logging.getLogger("sizekit")`: another handler, a level, or propagate=True).
"""
import logging
import sys

LOGGER = logging.getLogger("sizekit")


class _Stderr(logging.Handler):
    """`sizekit: message` on whatever sys.stderr is at the time (tests and drivers swap it)."""

    def emit(self, record):
        try:
            sys.stderr.write(f"sizekit: {record.getMessage()}\n")
            sys.stderr.flush()
        except (OSError, ValueError):   # a closed stream must not fail the work
            pass


if not LOGGER.handlers:
    LOGGER.addHandler(_Stderr())
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False


def say(message):
    """Tell the user something while working: one line on stderr, `sizekit: message`."""
    LOGGER.info(message)
