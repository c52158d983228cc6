"""MariaDB and RabbitMQ, which the test cloud needs running: databases and a vhost of its
own, named after the run, made at start and given back at stop."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys

import pymysql

DATABASES = ("keystone", "placement", "glance", "neutron", "nova_api", "nova_cell0", "nova_cell1")


def rabbitmqctl(*args: str, check: bool = True) -> None:
    command = shutil.which("rabbitmqctl")
    if command is None:
        raise RuntimeError("rabbitmqctl is not on PATH (it makes the cloud's vhost)")
    subprocess.run([command, "-q", *args], check=check, capture_output=True)


def _mysql(lab):
    return pymysql.connect(host=lab.mysql_host, port=lab.mysql_port, user="root", autocommit=True)


def make_databases(lab) -> None:
    with _mysql(lab) as db, db.cursor() as cursor:
        for name in DATABASES:
            cursor.execute(f"CREATE DATABASE `{lab.db_prefix}{name}` CHARACTER SET utf8")
            lab.databases_made.append(f"{lab.db_prefix}{name}")
            lab.save()


def make_vhost(lab) -> None:
    rabbitmqctl("add_vhost", lab.vhost)
    lab.vhost_made = True
    lab.save()
    rabbitmqctl("set_permissions", "-p", lab.vhost, "guest", ".*", ".*", ".*")


def check_backing_services(lab) -> None:
    problems = []
    try:
        _mysql(lab).close()
    except pymysql.MySQLError as exc:
        problems.append(f"MariaDB at {lab.mysql_host}:{lab.mysql_port}: {exc}")
    try:
        socket.create_connection((lab.rabbit_host, lab.rabbit_port), timeout=3).close()
    except OSError as exc:
        problems.append(f"RabbitMQ at {lab.rabbit_host}:{lab.rabbit_port}: {exc}")
    if not shutil.which("rabbitmqctl"):
        problems.append("rabbitmqctl is not on PATH (it makes the cloud's vhost)")
    if problems:
        raise RuntimeError("The test cloud needs " + "; ".join(problems))


def give_back(lab) -> None:
    """Drop the databases and the vhost that `make_databases` and `make_vhost` made."""
    if lab.databases_made:
        try:
            with _mysql(lab) as db, db.cursor() as cursor:
                for name in lab.databases_made:
                    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            lab.databases_made = []
        except pymysql.MySQLError as exc:
            print(f"could not drop the cloud's databases: {exc}", file=sys.stderr)
    if lab.vhost_made:
        rabbitmqctl("delete_vhost", lab.vhost, check=False)
        lab.vhost_made = False
