"""Orchestration shared by bench/relay.py and bench/reconnect.py: servers in
subprocesses (stopped by pid), load processes, CPU/RSS sampling, formatting."""
from __future__ import annotations

import multiprocessing as mp
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
if str(REPO) not in sys.path:
    sys.path.insert(1, str(REPO))

import wsload  # noqa: E402


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open")


def stop_pid(proc: subprocess.Popen | None, kill: bool = False, timeout: float = 10) -> None:
    """Stop one process we started, by its pid: SIGTERM (or SIGKILL), then SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


class BaselineServer:
    def __init__(self, loop: str = "auto") -> None:
        self.port = wsload.free_port()
        self.loop = loop
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BaselineServer:
        self.proc = subprocess.Popen([sys.executable, str(HERE / "echo_server.py"), "--port", str(self.port),
                                      "--loop", self.loop], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(self.port, self.proc)
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop_pid(self.proc)


class FrontdeskServer:
    """`frontdesk serve --demo` on a fresh data dir (what tests/support.ServerProcess runs), or the
    same through bench/instrumented_serve.py when ``instrument`` is set."""

    def __init__(self, env: dict | None = None, data_dir: Path | None = None, instrument: bool = False,
                 profile: str | None = None) -> None:
        self.own_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="fd-bench-"))
        self.port = wsload.free_port()
        # the load comes from one address: no per-address caps of visitor sockets and new visitors
        self.env = {**os.environ, "FRONTDESK_BROKER_URL": "memory://", "FRONTDESK_LOG_LEVEL": "warning",
                    "FRONTDESK_VISITOR_SOCKETS_PER_ADDRESS": "0", "FRONTDESK_NEW_VISITORS_PER_ADDRESS": "0",
                    "FRONTDESK_NEW_CONVERSATIONS_PER_VISITOR": "0", "FRONTDESK_NEW_CONVERSATIONS_PER_ADDRESS": "0",
                    **(env or {})}
        self.instrument = instrument
        self.profile = profile  # bench/profiled_serve.py: cProfile of the loop thread between SIGUSR1 and SIGUSR2
        if profile:
            self.env["FD_BENCH_PROFILE"] = profile
        self.stats_path = self.data_dir / "bench-stats.json"
        if instrument:
            self.env["FD_BENCH_STATS"] = str(self.stats_path)
        self.log_path = self.data_dir / "server.log"
        self.proc: subprocess.Popen | None = None
        self.op = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def demo(self) -> dict:
        import json

        return json.loads((self.data_dir / "demo.json").read_text())

    def start(self) -> FrontdeskServer:
        import httpx

        if self.instrument:
            head = [sys.executable, str(HERE / "instrumented_serve.py")]
        elif self.profile:
            head = [sys.executable, str(HERE / "profiled_serve.py")]
        else:
            head = [sys.executable, "-m", "frontdesk.cli"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(head + ["serve", "--demo", "--data-dir", str(self.data_dir),
                                                 "--port", str(self.port)],
                                         env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("frontdesk exited: " + self.log_path.read_text(errors="replace")[-3000:])
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("frontdesk did not become healthy")
            time.sleep(0.02)

    def stats(self) -> dict:
        import json

        try:
            return json.loads(self.stats_path.read_text())
        except (OSError, ValueError):
            return {}

    def login(self) -> dict:
        """Demo admin over HTTP, status online; returns what a load worker needs."""
        from tests.support import OperatorClient

        d = self.demo
        if self.op is not None:
            self.op.close()
        self.op = OperatorClient(self, d["admin_email"], d["admin_password"])
        self.op.set_status("online")
        return {"kind": "frontdesk", "port": self.port, "site_key": d["site_key"],
                "cookie": self.op.cookie_header, "origin": self.url}

    def take_all(self, conversation_ids: list[int], concurrency: int = 4) -> float:
        """The admin takes every conversation over REST (as operators would, one click each);
        returns the seconds it took. Over the socket, 20 frames/s per tab would make this slow."""
        import asyncio

        import httpx

        async def go() -> None:
            sem = asyncio.Semaphore(concurrency)
            headers = {"x-csrf-token": self.op.csrf, "origin": self.url}
            async with httpx.AsyncClient(base_url=self.url, cookies=dict(self.op.http.cookies.items()),
                                         headers=headers, timeout=30) as client:
                async def take(cid: int) -> None:
                    async with sem:
                        r = await client.post(f"/api/v1/conversations/{cid}/take")
                        if r.status_code != 200:
                            raise RuntimeError(f"take {cid}: {r.status_code} {r.text[:200]}")

                await asyncio.gather(*(take(c) for c in conversation_ids))

        t0 = time.monotonic()
        asyncio.run(go())
        return time.monotonic() - t0

    def kill(self) -> None:
        stop_pid(self.proc, kill=True)

    def stop(self) -> None:
        if self.op is not None:
            self.op.close()
            self.op = None
        stop_pid(self.proc)

    def cleanup(self) -> None:
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


class Workers:
    """Load processes (spawned), driven over pipes."""

    def __init__(self, n: int, cfg: dict) -> None:
        ctx = mp.get_context("spawn")
        self.pipes, self.procs = [], []
        for wid in range(n):
            a, b = ctx.Pipe()
            p = ctx.Process(target=wsload.worker_main, args=(wid, cfg, b), daemon=True, name=f"bench-load-{wid}")
            p.start()
            self.pipes.append(a)
            self.procs.append(p)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def start(self, cmd: str, kws: list[dict] | dict | None = None) -> None:
        kws = kws if isinstance(kws, list) else [dict(kws or {}) for _ in self.pipes]
        for pipe, kw in zip(self.pipes, kws):
            pipe.send({"cmd": cmd, "kw": kw})

    def collect(self, timeout: float = 300) -> list:
        out = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise TimeoutError("a load process did not answer")
            r = pipe.recv()
            if not r["ok"]:
                raise RuntimeError("load process failed:\n" + r["error"])
            out.append(r.get("result"))
        return out

    def collect_one(self, i: int, timeout: float = 300):
        if not self.pipes[i].poll(timeout):
            raise TimeoutError("a load process did not answer")
        r = self.pipes[i].recv()
        if not r["ok"]:
            raise RuntimeError("load process failed:\n" + r["error"])
        return r.get("result")

    def call(self, cmd: str, kws: list[dict] | dict | None = None, timeout: float = 300) -> list:
        self.start(cmd, kws)
        return self.collect(timeout)

    def close(self) -> None:
        for pipe, p in zip(self.pipes, self.procs):
            if p.is_alive():
                try:
                    pipe.send({"cmd": "quit"})
                except (BrokenPipeError, OSError):
                    pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                os.kill(p.pid, signal.SIGKILL)
                p.join(5)


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores), for 'everything else' accounting."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)


class CpuWindow:
    """CPU of the server, of the load generator (+ this process) and of everything else on the machine."""

    def __init__(self, server_pid: int, load_pids: list[int]) -> None:
        self.server_pid, self.load_pids = server_pid, load_pids + [os.getpid()]

    def __enter__(self) -> CpuWindow:
        self.t0 = time.monotonic()
        self.s0, self.c0, self.b0 = cpu_seconds([self.server_pid]), cpu_seconds(self.load_pids), busy_seconds()
        return self

    def __exit__(self, *exc) -> None:
        dt = time.monotonic() - self.t0
        s, c, b = (cpu_seconds([self.server_pid]) - self.s0, cpu_seconds(self.load_pids) - self.c0,
                   busy_seconds() - self.b0)
        self.seconds = dt
        self.server_cpu = s
        self.server_pct, self.client_pct = 100 * s / dt, 100 * c / dt
        self.other_pct = max(0.0, 100 * (b - s - c) / dt)


def wait_quiet(max_wait: float, log=print, threshold: float = 15.0) -> float:
    """Wait (up to ``max_wait`` s) until the machine's busy CPU over 2 s is below ``threshold`` %
    of one core; returns the last reading (percent, 200 % = both cores busy)."""
    deadline = time.monotonic() + max_wait
    while True:
        b0, t0 = busy_seconds(), time.monotonic()
        time.sleep(2)
        pct = 100 * (busy_seconds() - b0) / (time.monotonic() - t0)
        if pct < threshold or time.monotonic() > deadline:
            if pct >= threshold:
                log(f"warning: other processes are using {pct:.0f} % CPU (of {100 * (os.cpu_count() or 1)} %); "
                    f"figures will be lower and noisier than on a quiet machine")
            return pct
        log(f"machine busy ({pct:.0f} % CPU used by others), waiting …")
        time.sleep(3)


def rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


def nofile(pid: int) -> tuple[int, int]:
    return psutil.Process(pid).rlimit(psutil.RLIMIT_NOFILE)


def machine() -> dict:
    import importlib.metadata as md

    def v(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "-"

    commit = "?"
    dirty = False
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=5).stdout.strip() or "?"
        dirty = bool(subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                                    capture_output=True, text=True, timeout=5).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "commit": commit + (" (src/ modified)" if dirty else ""),
            "cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "uvicorn": v("uvicorn"), "starlette": v("starlette"), "websockets": v("websockets"),
            "uvloop": v("uvloop"), "sqlalchemy": v("sqlalchemy"), "aiosqlite": v("aiosqlite")}


def percentile(sorted_values: list, q: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(round(q / 100 * (len(sorted_values) - 1)))))
    return sorted_values[i]


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def save_json(name: str, data: dict) -> Path:
    import json

    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path
