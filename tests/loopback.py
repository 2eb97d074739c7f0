"""Run third-party servers (nginx, the router) for real on 127.0.0.1, with the config the plan holds."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from components.workloads.entry_point import HEALTH_PORT, PROXY_PORT, REDIRECT_PORT
from components.workloads.router import KEYS_DIR, ROUTER_PORT

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert process.poll() is None, f"{process.args[0]} exited with {process.returncode}"
            assert time.monotonic() < deadline, f"{process.args[0]} did not listen on {port}"
            time.sleep(0.05)


def localize_nginx(
    conf: str, *, upstream: int, listen: int, health: int, scratch: Path, redirect: int | None = None
) -> str:
    """Point the plan's door config at loopback: only the addresses, the scratch dir and the keys file change."""
    replaced = conf
    for old, new in [
        (f"listen {PROXY_PORT};", f"listen 127.0.0.1:{listen};"),
        (f"listen {HEALTH_PORT};", f"listen 127.0.0.1:{health};"),
        (f"listen {REDIRECT_PORT};", f"listen 127.0.0.1:{redirect or free_port()};"),
        ("/tmp/", f"{scratch}/"),
        (f"include {KEYS_DIR}/keys.conf;", f"include {scratch}/keys.conf;"),
        (f"server 127.0.0.1:{ROUTER_PORT};", f"server 127.0.0.1:{upstream};"),
    ]:
        assert old in replaced, old
        replaced = replaced.replace(old, new)
    return replaced


def start_nginx(conf: str, scratch: Path, listen: int) -> subprocess.Popen:
    """nginx from the Debian package (the Makefile installs it), in the foreground."""
    assert os.path.exists(NGINX), "nginx is not installed: `make setup` installs it (Debian package nginx)"
    path = scratch / "nginx.conf"
    path.write_text(conf)
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    check = subprocess.run([NGINX, "-t", "-p", str(scratch), "-c", str(path), "-g", directives], capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
    process = subprocess.Popen([NGINX, "-p", str(scratch), "-c", str(path), "-g", directives], stderr=subprocess.PIPE)
    wait_for_port(listen, process)
    return process
