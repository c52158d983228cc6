"""The real OpenStack of scripts/openstack/ (Keystone v3, Nova with the fake driver, Neutron,
Glance, Placement), started once per test session and stopped at its end.

It needs its own venv (`make openstack-venv`), MariaDB and RabbitMQ. Where one is missing
its tests skip and say which, unless PCM_REQUIRE_OPENSTACK is set (CI sets it): there they
fail. Each test takes a project and user of its own (`tenant()`), as a tenant of a real
cloud would, so that no test sees another's servers.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scripts.openstack.lab_api import Api, project_and_user

ROOT = Path(__file__).resolve().parent.parent
LAB_PYTHON = ROOT / ".venv-openstack" / "bin" / "python"
CLOUD = ROOT / "scripts" / "openstack" / "cloud.py"
BACKING = {"MariaDB": 3306, "RabbitMQ": 5672}


def required() -> bool:
    return bool(os.environ.get("PCM_REQUIRE_OPENSTACK"))


def missing() -> str:
    """Why the OpenStack tests cannot run here ("" when they can)."""
    if not LAB_PYTHON.exists():
        return "the OpenStack venv is missing: run `make openstack-venv` (about 2 minutes)"
    for name, port in BACKING.items():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            return f"the OpenStack tests need {name} on 127.0.0.1:{port}, which does not answer"
    if shutil.which("rabbitmqctl") is None:
        return "the OpenStack tests need rabbitmqctl on PATH (it makes the cloud's vhost)"
    return ""


@dataclass
class Tenant:
    """A project and its user at the cloud; `options()` is a PCM cloud's configuration."""

    cloud: OpenStack
    project: str
    user: str
    password: str

    def options(self, **more) -> dict:
        return {
            "auth_url": self.cloud.info["auth_url"],
            "tenant_name": self.project,
            "domain_name": "Default",
            "region": "RegionOne",
            "timeout": 30,
            **more,
        }

    def credentials(self) -> dict:
        return {"username": self.user, "password": self.password}

    def api(self) -> Api:
        return Api(self.cloud.info["auth_url"], self.user, self.password, self.project)


@dataclass
class OpenStack:
    info: dict
    log_dir: Path
    tenants: list[Tenant] = field(default_factory=list)

    @property
    def compute(self) -> str:
        return self.info["compute_url"]

    def admin(self) -> Api:
        info = self.info
        return Api(info["auth_url"], info["admin_user"], info["admin_password"], "admin")

    def tenant(self) -> Tenant:
        name = f"t-{uuid.uuid4().hex[:10]}"
        tenant = Tenant(self, project=name, user=name, password=uuid.uuid4().hex)
        project_and_user(
            self.admin(), self.info["auth_url"], name, name, tenant.password, ("member",)
        )
        self.tenants.append(tenant)
        return tenant

    def server(self, server_id: str) -> dict:
        """A server as an administrator sees it (its compute host included)."""
        return self.admin().call("GET", f"{self.compute}/servers/{server_id}")["server"]

    def host_of(self, server_id: str) -> str:
        return self.server(server_id)["OS-EXT-SRV-ATTR:host"]

    def wait_for(self, server_id: str, predicate, seconds: float = 60) -> dict:
        """The server as an administrator sees it, once `predicate(server)` holds."""
        deadline = time.monotonic() + seconds
        while True:
            server = self.server(server_id)
            if predicate(server):
                return server
            if time.monotonic() > deadline:
                raise AssertionError(f"server {server_id} is still {server['status']}")
            time.sleep(0.3)

    def remove_servers(self, tenant: Tenant) -> None:
        """Delete what a test left in its project (without waiting for it to go)."""
        api, url, params = tenant.api(), f"{self.compute}/servers", {}
        ids: list[str] = []
        while True:  # Nova's pages are small here (page_size)
            page = api.call("GET", url, params=params)
            ids += [server["id"] for server in page["servers"]]
            if not any(link["rel"] == "next" for link in page.get("servers_links", [])):
                break
            params = {"marker": ids[-1]}
        for server_id in ids:
            with contextlib.suppress(RuntimeError):
                api.call("DELETE", f"{url}/{server_id}")


def _lab(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LAB_PYTHON), str(CLOUD), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextlib.contextmanager
def openstack_cloud(directory: Path) -> Iterator[OpenStack]:
    """Start the cloud (about a minute) and stop it afterwards, by process id. With
    PCM_OPENSTACK_DIR set, the tests use a cloud already started there (`cloud.py start
    --dir`), and leave it running: quicker while working on the tests."""
    started_elsewhere = os.environ.get("PCM_OPENSTACK_DIR")
    if started_elsewhere:
        info = _lab("info", "--dir", started_elsewhere, timeout=60)
        if info.returncode:
            raise RuntimeError(f"no cloud in PCM_OPENSTACK_DIR: {info.stderr[-1000:]}")
        yield OpenStack(info=json.loads(info.stdout), log_dir=Path(started_elsewhere) / "logs")
        return
    started = _lab("start", "--dir", str(directory), timeout=600)
    if started.returncode:
        raise RuntimeError(f"the OpenStack cloud did not start:\n{started.stderr[-3000:]}")
    try:
        yield OpenStack(info=json.loads(started.stdout), log_dir=directory / "logs")
    finally:
        _lab("stop", "--dir", str(directory), timeout=300)
