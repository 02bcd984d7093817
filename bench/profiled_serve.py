"""`frontdesk serve` with an on-demand cProfile of the event-loop thread (bench/relay.py --profile).

SIGUSR1 starts profiling (CPU time of the thread) the main thread (the event loop: sockets, hub, actions), SIGUSR2 stops
it and writes the stats to ``$FD_BENCH_PROFILE`` (pstats format). The writer thread of SQLite is
not profiled (its time shows as the loop's wait for the batch). cProfile roughly doubles the cost
of Python calls: read the profile for *where* the time goes, not for the figures.

Run: FD_BENCH_PROFILE=/tmp/p.prof python bench/profiled_serve.py serve --demo --data-dir D --port P
"""
from __future__ import annotations

import cProfile
import os
import signal
import sys
import time

_profile: cProfile.Profile | None = None


def _start(_sig: int, _frame: object) -> None:
    global _profile
    # CPU time of this thread, not wall time: on a shared machine wall time charges whatever
    # function was running when the process lost its core with the time it waited for it
    _profile = cProfile.Profile(time.thread_time)
    _profile.enable()


def _stop(_sig: int, _frame: object) -> None:
    global _profile
    if _profile is None:
        return
    _profile.disable()
    _profile.dump_stats(os.environ.get("FD_BENCH_PROFILE", "frontdesk.prof"))
    _profile = None


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    from frontdesk.cli import main

    sys.exit(main(sys.argv[1:]))
