"""Starts `frontdesk serve` processes by forking a process that has imported frontdesk already.

A server started with `python -m frontdesk.cli serve` spends most of its start (~1.4 s of CPU of
~2 s) importing FastAPI, pydantic, SQLAlchemy, alembic and building the app's routes' models; the
suite starts a server a few hundred times. This process imports all of that once; for each
request (one JSON line on stdin: argv, env, log file, umask, cwd) it forks a child that sets that
environment, points its stdout/stderr at the log and runs ``frontdesk.cli.main(argv)`` — the same
code `python -m frontdesk.cli` runs — and answers ``{"pid": …}``. The child is a real process: the
tests stop it with SIGTERM and crash it with SIGKILL as before (tests/support.py ``ServerProcess``).

Only this process forks, and it runs no thread and no event loop, so a child starts clean. When
stdin closes (the test run ended) it terminates the children still running and exits.
"""
from __future__ import annotations

import json
import os
import signal
import sys


def _reap(*_args: object) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)


def _child(request: dict) -> None:
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        os.umask(request["umask"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        sys.stdin = open(os.devnull)
        sys.argv = ["frontdesk", *request["argv"]]
        from frontdesk.cli import main

        code = main(request["argv"]) or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - into the server's log, like an uncaught error would
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


children: set[int] = set()


def serve() -> None:
    # everything a server imports, imported once here (frontdesk.app builds nothing at import)
    import uvicorn  # noqa: F401

    import frontdesk.app
    import frontdesk.cli
    import frontdesk.demo
    import frontdesk.migrate  # noqa: F401

    signal.signal(signal.SIGCHLD, _reap)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        children.add(pid)
        print(json.dumps({"pid": pid}), flush=True)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            children.discard(pid)
    for pid in list(children):  # reaped here, so that their CPU time is counted to this run
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


if __name__ == "__main__":
    serve()
