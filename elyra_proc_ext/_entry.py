"""The `elyra-proc` console script: every way a command can end becomes one line on stderr and an exit status.

The script imports only this module; `cli` and everything behind it load inside the guard, so a Ctrl-C while
Python is still importing (seconds on a busy machine) ends as cleanly as one during a run. Broken pipes
(`elyra-proc runs | head -1`) end quietly, as in other Unix tools.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from . import lean  # noqa: F401  # first: no slow optional imports in the CLI
from .errors import ElyraProcError, UsageError
from .redaction import redact_credentials

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 1, 2, 130, 128 + signal.SIGPIPE


def _interrupted_outside_guard(signum: int, frame: object) -> None:
    """Ctrl-C outside `main`'s guard: in the console script's own lines before it, or in Python's exit after."""
    _report("Interrupted.")
    os._exit(EXIT_INTERRUPTED)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # from here on, Ctrl-C raises into the guard
        from .cli import run_command

        status = run_command(argv)
        sys.stdout.flush()  # a reader gone shows here, inside the guard, not at interpreter exit
        return status
    except KeyboardInterrupt as interrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the report of the first
        _report(f"Interrupted: {interrupt}." if str(interrupt) else "Interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except UsageError as error:
        _report(str(error))
        return EXIT_USAGE
    except ElyraProcError as error:
        _report(str(error))
        return EXIT_FAILED
    except OSError as error:  # disk full, permission denied, a file vanishing: the cause and the file, not a trace
        _report(f"{error.filename}: {error.strerror}" if error.filename and error.strerror else str(error))
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGINT, _interrupted_outside_guard)


def _report(message: str) -> None:
    """One line on stderr, whatever the message holds (a library's multi-line text, a URL with credentials)."""
    text = " ".join(redact_credentials(message).split())
    with contextlib.suppress(OSError):  # stderr itself is closed: nothing left to tell
        print(f"elyra-proc: {text}", file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so Python's own flush at exit does not hit the closed pipe again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


signal.signal(signal.SIGINT, _interrupted_outside_guard)


if __name__ == "__main__":
    sys.exit(main())
