"""The test cloud's processes: one-off `*-manage` commands, and services started in a
session of their own so that `kill` stops each with everything it forked, by process id."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
BIN = Path(sys.prefix) / "bin"
# Each API's WSGI module and the variable that tells it where its configuration is.
APIS = {
    "keystone": ("keystone.wsgi.api", "OS_KEYSTONE_CONFIG_DIR"),
    "placement": ("placement.wsgi.api", "OS_PLACEMENT_CONFIG_DIR"),
    "glance": ("glance.wsgi.api", "OS_GLANCE_CONFIG_DIR"),
    "neutron": ("neutron.wsgi.api", "OS_NEUTRON_CONFIG_DIR"),
    "nova": ("nova.wsgi.osapi_compute", "OS_NOVA_CONFIG_DIR"),
}


def _log(lab, name: str):
    return (Path(lab.dir) / "logs" / f"{name}.log").open("ab")


def manage(lab, name: str, *command: str) -> None:
    """Run one `*-manage` command to its end; its output goes to the log."""
    with _log(lab, f"manage-{name}") as log:
        done = subprocess.run([str(BIN / command[0]), *command[1:]], stdout=log, stderr=log)
    if done.returncode:
        tail = (Path(lab.dir) / "logs" / f"manage-{name}.log").read_text()[-1500:]
        raise RuntimeError(f"{' '.join(command[:3])} failed ({done.returncode}):\n{tail}")


def spawn(lab, name: str, command: list[str], env: dict | None = None) -> None:
    """Start a long-running service in a session of its own (stop kills the group)."""
    with _log(lab, name) as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=log,
            env={**os.environ, **(env or {})},
            cwd=HERE,
            start_new_session=True,
        )
    lab.pids[name] = process.pid
    lab.save()


def serve_api(lab, name: str) -> None:
    module, config_variable = APIS[name]
    command = [
        str(BIN / "gunicorn"),
        "--workers=1",
        "--threads=4",
        f"--bind=127.0.0.1:{lab.ports[name]}",
        # several gunicorns otherwise share one control socket in ~/.gunicorn
        "--no-control-socket",
        "--timeout=120",
        "lab_wsgi:application",
    ]
    env = {"PCM_LAB_WSGI": module, config_variable: str(Path(lab.dir) / name)}
    spawn(lab, name, command, env)


def wait_until_answering(lab, name: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(lab.url(name), timeout=2)
            return
        except requests.RequestException:
            pass
        pid = lab.pids[name]
        if _exited(pid) or time.monotonic() > deadline:
            tail = (Path(lab.dir) / "logs" / f"{name}.log").read_text()[-2000:]
            raise RuntimeError(f"{name} did not start:\n{tail}")
        time.sleep(0.2)


def check_running(lab, name: str) -> None:
    if _exited(lab.pids[name]):
        tail = (Path(lab.dir) / "logs" / f"{name}.log").read_text()[-2000:]
        raise RuntimeError(f"{name} exited:\n{tail}")


def _exited(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return not _alive(pid)
    return finished == pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kill(pid: int, grace: float = 5) -> None:
    """TERM the process group, then KILL what is left after `grace` seconds (nova-compute
    ignores TERM for a long time)."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if _exited(pid) or not _alive(pid):
            break
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    _exited(pid)
