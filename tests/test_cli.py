"""The CLI of the contract: exit codes, one-line errors, site_key on the last line."""
import subprocess
import sys


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
