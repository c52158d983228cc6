"""A real OpenStack control plane on loopback, for PCM's tests and for a person trying PCM.

    cloud.py start --dir DIR   configure and start everything, print the cloud as JSON
    cloud.py stop --dir DIR    stop what `start` started (by process id), drop its databases
    cloud.py run [--dir DIR]   start, say how to point PCM at it, stop on Ctrl-C
    cloud.py info --dir DIR    print a started cloud as JSON again

Keystone v3, Placement, Glance (file store, one small image), Neutron (ML2, one shared flat
network, ports bound by bind_driver/), Nova API, conductor, scheduler and two nova-compute
services with the fake virt driver, each API under gunicorn on a free port of 127.0.0.1.
MariaDB and RabbitMQ must be running: the cloud takes databases and a vhost of its own,
named after the run, and gives them back at stop. Run it with .venv-openstack's Python
(`make openstack-venv`). README.md beside this file says what each setting is for.
"""

from __future__ import annotations

import argparse
import grp
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lab_backing
import lab_configs
import lab_setup
from lab_processes import (
    APIS,
    BIN,
    HERE,
    check_running,
    kill,
    manage,
    serve_api,
    spawn,
    wait_until_answering,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    """One running test cloud: what a test needs to reach it, and what `stop` must undo."""

    dir: str
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    ports: dict = field(default_factory=dict)
    pids: dict = field(default_factory=dict)
    page_size: int = 3
    mysql_host: str = "127.0.0.1"
    mysql_port: int = 3306
    rabbit_host: str = "127.0.0.1"
    rabbit_port: int = 5672
    admin_password: str = field(default_factory=lambda: secrets.token_hex(12))
    service_user: str = "pcm-lab-service"
    service_password: str = field(default_factory=lambda: secrets.token_hex(12))
    # PCM's user and project: a member, not an administrator, as a real tenant would be.
    project: str = "pcm"
    user: str = "pcm"
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    resources: dict = field(default_factory=dict)
    databases_made: list = field(default_factory=list)
    vhost_made: bool = False

    @property
    def db_prefix(self) -> str:
        return f"pcmlab_{self.run_id}_"

    @property
    def vhost(self) -> str:
        return f"pcmlab_{self.run_id}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def state_file(self) -> Path:
        return Path(self.dir) / "lab.json"

    def save(self) -> None:
        self.state_file.write_text(json.dumps(asdict(self), indent=2))
        self.state_file.chmod(0o600)

    @classmethod
    def load(cls, directory: str) -> Lab:
        return cls(**json.loads((Path(directory) / "lab.json").read_text()))

    def public(self) -> dict:
        """What a client of the cloud needs (and the admin's password, for tests that read
        a server's host as an administrator would)."""
        return {
            "auth_url": self.url("keystone"),
            "compute_url": f"{self.url('nova')}/v2.1",
            "network_url": self.url("neutron"),
            "region": "RegionOne",
            "project": self.project,
            "user": self.user,
            "password": self.password,
            "domain": "Default",
            "admin_user": "admin",
            "admin_password": self.admin_password,
            "admin_project": "admin",
            "page_size": self.page_size,
            "hosts": list(lab_configs.COMPUTE_HOSTS),
            "dir": self.dir,
            **self.resources,
        }


# -- start and stop ----------------------------------------------------------------------


def write_configs(lab: Lab) -> None:
    root = Path(lab.dir)
    texts = {
        "keystone/keystone.conf": lab_configs.keystone(lab),
        "placement/placement.conf": lab_configs.placement(lab),
        "glance/glance-api.conf": lab_configs.glance(lab),
        "neutron/neutron.conf": lab_configs.neutron(lab),
        # the file neutron.wsgi.api reads beside neutron.conf; ML2's settings are in neutron.conf
        "neutron/plugins/ml2/ml2_conf.ini": "",
        "nova/nova.conf": lab_configs.nova(lab),
        "nova/cell0.conf": f"[database]\nconnection = {lab_configs.database(lab, 'nova_cell0')}\n",
    }
    for host in lab_configs.COMPUTE_HOSTS:
        texts[f"nova/{host}.conf"] = lab_configs.nova_compute(lab, host)
    for path, text in texts.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    etc = Path(sys.prefix) / "etc"
    shutil.copy(etc / "glance" / "glance-api-paste.ini", root / "glance")
    shutil.copy(etc / "nova" / "api-paste.ini", root / "nova")
    shutil.copy(etc / "neutron" / "api-paste.ini", root / "neutron")
    computes = [f"nova/{host}" for host in lab_configs.COMPUTE_HOSTS]
    for path in (
        "keystone/fernet-keys",
        "keystone/credential-keys",
        "nova/state",
        "logs",
        *computes,
    ):
        (root / path).mkdir(parents=True, exist_ok=True)
    for name in ("images", "staging", "tasks", "locks"):
        (root / "glance" / name).mkdir(parents=True, exist_ok=True)


def sync_schemas(lab: Lab) -> None:
    """Every schema, in parallel chains (most of the time is each command's Python start)."""
    d = Path(lab.dir)
    keystone = ["--config-file", str(d / "keystone/keystone.conf")]
    nova = ["--config-file", str(d / "nova/nova.conf")]
    # The key repositories belong to whoever runs the cloud (keystone's default: a
    # `keystone` user, which this machine has not).
    owner = [
        "--keystone-user",
        pwd.getpwuid(os.geteuid()).pw_name,
        "--keystone-group",
        grp.getgrgid(os.getegid()).gr_name,
    ]
    keystone_url = f"{lab.url('keystone')}/v3/"

    def keystone_chain():
        manage(lab, "keystone", "keystone-manage", *keystone, "db_sync")
        manage(lab, "keystone", "keystone-manage", *keystone, "fernet_setup", *owner)
        manage(lab, "keystone", "keystone-manage", *keystone, "credential_setup", *owner)
        manage(
            lab,
            "keystone",
            "keystone-manage",
            *keystone,
            "bootstrap",
            "--bootstrap-password",
            lab.admin_password,
            "--bootstrap-public-url",
            keystone_url,
            "--bootstrap-internal-url",
            keystone_url,
            "--bootstrap-region-id",
            "RegionOne",
        )

    def nova_api_chain():
        manage(lab, "nova-api", "nova-manage", *nova, "api_db", "sync")
        cell0 = lab_configs.database(lab, "nova_cell0")
        manage(
            lab,
            "nova-api",
            "nova-manage",
            *nova,
            "cell_v2",
            "map_cell0",
            "--database_connection",
            cell0,
        )
        manage(lab, "nova-api", "nova-manage", *nova, "cell_v2", "create_cell", "--name", "cell1")

    chains = [
        keystone_chain,
        nova_api_chain,
        lambda: manage(lab, "nova-cell1", "nova-manage", *nova, "db", "sync", "--local_cell"),
        lambda: manage(
            lab,
            "nova-cell0",
            "nova-manage",
            "--config-file",
            str(d / "nova/nova.conf"),
            "--config-file",
            str(d / "nova/cell0.conf"),
            "db",
            "sync",
            "--local_cell",
        ),
        lambda: manage(
            lab,
            "placement",
            "placement-manage",
            "--config-file",
            str(d / "placement/placement.conf"),
            "db",
            "sync",
        ),
        lambda: manage(
            lab,
            "glance",
            "glance-manage",
            "--config-file",
            str(d / "glance/glance-api.conf"),
            "db_sync",
        ),
        lambda: manage(
            lab,
            "neutron",
            "neutron-db-manage",
            "--config-file",
            str(d / "neutron/neutron.conf"),
            "upgrade",
            "heads",
        ),
    ]
    with ThreadPoolExecutor(max_workers=len(chains)) as pool:
        for future in [pool.submit(chain) for chain in chains]:
            future.result()


def start(directory: str, page_size: int = 3) -> Lab:
    """Everything, up and ready for a create; on any failure, what was started is stopped."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    lab = Lab(dir=str(Path(directory).resolve()), page_size=page_size)
    lab.ports = {name: free_port() for name in APIS}
    lab.save()
    try:
        lab_backing.check_backing_services(lab)
        write_configs(lab)
        lab_backing.make_databases(lab)
        lab_backing.make_vhost(lab)
        sync_schemas(lab)
        serve_api(lab, "keystone")
        wait_until_answering(lab, "keystone")
        lab_setup.identity(lab)
        for name in ("placement", "glance", "neutron", "nova"):
            serve_api(lab, name)
        nova = ["--config-file", str(Path(lab.dir) / "nova/nova.conf")]
        spawn(lab, "nova-conductor", [str(BIN / "nova-conductor"), *nova])
        spawn(lab, "nova-scheduler", [str(BIN / "nova-scheduler"), *nova])
        for host in lab_configs.COMPUTE_HOSTS:
            own = ["--config-file", str(Path(lab.dir) / f"nova/{host}.conf")]
            spawn(lab, host, [str(BIN / "nova-compute"), *nova, *own])
        for name in ("placement", "glance", "neutron", "nova"):
            wait_until_answering(lab, name)
        lab.resources = lab_setup.resources(lab)
        lab_setup.wait_for_hosts(
            lab, lab_configs.COMPUTE_HOSTS, lambda name: check_running(lab, name)
        )
        # Map the hosts to the cell now rather than at the scheduler's next look.
        manage(lab, "discover", "nova-manage", *nova, "cell_v2", "discover_hosts")
        lab.save()
    except BaseException:
        stop(lab)
        raise
    return lab


def stop(lab: Lab) -> None:
    """Stop every process `start` started (by its id), and give back databases and vhost."""
    for pid in reversed(list(lab.pids.values())):
        kill(pid)
    lab.pids = {}
    lab.save()
    lab_backing.give_back(lab)
    lab.save()


def explain(lab: Lab) -> str:
    info = lab.public()
    return (
        f"OpenStack is up (logs in {lab.dir}/logs). In PCM's admin, add a cloud with\n"
        f"  plugin: openstack\n"
        f'  options: {{"auth_url": "{info["auth_url"]}", "tenant_name": "{lab.project}",'
        f' "region": "RegionOne"}}\n'
        f'  credentials: {{"username": "{lab.user}", "password": "{lab.password}"}}\n'
        f"  sizes: {', '.join(name for name, *_ in lab_setup.FLAVORS)}; "
        f"image: {info['image']} ({lab_setup.IMAGE_NAME})\n"
        "Ctrl-C stops it."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("start", "stop", "run", "info"))
    parser.add_argument("--dir", default=str(HERE.parent.parent / "var" / "openstack"))
    parser.add_argument("--page-size", type=int, default=3, help="Nova's [api] max_limit")
    args = parser.parse_args(argv)
    if args.command == "stop":
        stop(Lab.load(args.dir))
        return 0
    if args.command == "info":
        print(json.dumps(Lab.load(args.dir).public()))
        return 0
    lab = start(args.dir, args.page_size)
    if args.command == "start":
        print(json.dumps(lab.public()))
        return 0
    print(explain(lab), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stop(lab)
    return 0


if __name__ == "__main__":
    sys.exit(main())
