"""The CLI of the contract: exit codes, one-line errors, site_key on the last line."""
import subprocess
import sys
from pathlib import Path


def run(tmp_path, *args, stdin: str = ""):
    return subprocess.run([sys.executable, "-m", "frontdesk.cli", *args, "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, input=stdin, timeout=60)


def test_migrate_create_site_and_operator(tmp_path):
    r = run(tmp_path, "migrate")
    assert r.returncode == 0, r.stderr
    r = run(tmp_path, "create-site", "--name", "Магазин", "--origin", "https://shop.example",
            "--notify", "team@shop.example")
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    assert len(key) >= 22 and " " not in key
    assert f'data-site="{key}"' in r.stdout
    r = run(tmp_path, "create-operator", "--email", "Anna@Shop.example", "--name", "Анна", "--admin",
            stdin="long enough password\n")
    assert r.returncode == 0, r.stderr
    assert "anna@shop.example" in r.stdout.lower()


def test_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path):
    cases = [
        ("create-site", "--name", "X", "--origin", "not a url"),
        ("create-site", "--name", ""),
        ("create-site", "--name", "X", "--notify", "nobody"),
        ("create-operator", "--email", "bad", "--name", "N", "--password", "long enough password"),
        ("create-operator", "--email", "a@b.example", "--name", "N", "--password", "short"),
        ("no-such-command",),
        ("create-site",),
    ]
    for args in cases:
        r = run(tmp_path, *args) if args[0] != "no-such-command" else subprocess.run(
            [sys.executable, "-m", "frontdesk.cli", *args], capture_output=True, text=True)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        assert "Traceback" not in r.stderr


def test_duplicate_operator_is_refused(tmp_path):
    args = ("create-operator", "--email", "a@b.example", "--name", "N", "--password", "long enough password")
    assert run(tmp_path, *args).returncode == 0
    r = run(tmp_path, *args)
    assert r.returncode == 2 and "exists" in r.stderr


def test_serve_reports_a_busy_port(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "frontdesk.cli", "serve", "--data-dir", str(tmp_path),
                            "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "could not start" in r.stderr


def _serve_until_running(cwd, *args: str) -> str:
    """Start `serve` in ``cwd``, read its console until it runs, stop it; returns what it printed."""
    import os
    import select
    import time

    from tests.support import free_port

    proc = subprocess.Popen([sys.executable, "-m", "frontdesk.cli", "serve", "--port", str(free_port()), *args],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "FRONTDESK_LOG_LEVEL": "warning",
                                 # another cwd: a relative PYTHONPATH (src) must still find this checkout
                                 "PYTHONPATH": os.pathsep.join(str(Path(p).resolve()) for p in
                                                               os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)})
    out = ""
    deadline = time.monotonic() + 60
    try:
        while "frontdesk is running" not in out:
            assert proc.poll() is None, out
            assert time.monotonic() < deadline, f"serve did not start: {out}"
            if select.select([proc.stdout], [], [], 1)[0]:
                out += proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(15)
    return out


def test_serve_prints_the_absolute_data_directory_and_says_when_it_is_a_new_installation(tmp_path):
    shop = tmp_path / "shop"
    shop.mkdir()
    out = _serve_until_running(shop, "--data-dir", "chat-data")          # relative: follows the current directory
    data = (shop / "chat-data").resolve()
    assert f"frontdesk data directory: {data}\n" in out
    assert f"database: SQLite {data / 'frontdesk.db'}" in out
    assert "a new installation was created there" in out
    assert f"--data-dir {data}" in out                                  # how to find it again

    again = _serve_until_running(shop, "--data-dir", str(data))
    assert f"frontdesk data directory: {data}\n" in again
    assert "new installation" not in again

    elsewhere = tmp_path / "elsewhere"                                  # the classic mistake, now visible
    elsewhere.mkdir()
    other = _serve_until_running(elsewhere)
    assert f"frontdesk data directory: {(elsewhere / 'frontdesk-data').resolve()}\n" in other
    assert "a new installation was created there" in other


def test_serve_does_not_print_the_database_password(tmp_path):
    from frontdesk.cli import _database_label
    from frontdesk.settings import Settings

    label = _database_label(Settings(data_dir=tmp_path, database_url="postgresql+asyncpg://fd:s3cret@db.example/fd"))
    assert "s3cret" not in label and "db.example/fd" in label
