"""Settings come from the environment; production mode passes `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "PCM_PRODUCTION": "true",
    "SECRET_KEY": "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "pcm.example.com",
    "PCM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("PCM_", "DATABASE_URL", "DEBUG"))
    }
    environment.update(env, DJANGO_SETTINGS_MODULE="pcm.settings")
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def setting(expression: str, **env: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    result = run("-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_sqlite_is_the_default(tmp_path):
    engine = setting("settings.DATABASES['default']['ENGINE']", PCM_DATA_DIR=str(tmp_path))
    name = setting("settings.DATABASES['default']['NAME']", PCM_DATA_DIR=str(tmp_path))

    assert engine == "django.db.backends.sqlite3"
    assert name == str(tmp_path / "db.sqlite3")


def test_database_url_switches_to_postgresql_through_psycopg():
    url = "postgres://pcm:pw@db.example:5433/pcm"

    engine = setting("settings.DATABASES['default']['ENGINE']", DATABASE_URL=url)
    host = setting("settings.DATABASES['default']['HOST']", DATABASE_URL=url)
    driver = setting("__import__('psycopg').__version__ > '3'", DATABASE_URL=url)

    assert engine == "django.db.backends.postgresql"
    assert host == "db.example"
    assert driver == "True"


def test_django_q_uses_the_orm_broker_with_timeout_below_retry():
    assert setting("settings.Q_CLUSTER['orm']") == "default"
    assert setting("settings.Q_CLUSTER['timeout'] < settings.Q_CLUSTER['retry']") == "True"


def test_production_mode_passes_the_deployment_check():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "PCM_ENCRYPTION_KEYS", "ALLOWED_HOSTS"])
def test_production_mode_refuses_to_start_without_its_secrets(missing):
    env = {name: value for name, value in PRODUCTION.items() if name != missing}

    result = run("manage.py", "check", **env)

    assert result.returncode != 0
    assert f"{missing} must be set when PCM_PRODUCTION is on" in result.stderr


def test_a_malformed_boolean_fails_loudly():
    result = run("manage.py", "check", DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


@pytest.mark.parametrize("value", ["1", "true", ""])
def test_pcm_refuses_to_start_with_libclouds_own_retry_in_the_environment(value):
    # libcloud would re-send a create after a read timeout: a second node.
    result = run("manage.py", "check", LIBCLOUD_RETRY_FAILED_HTTP_REQUESTS=value)

    assert result.returncode != 0
    assert "Unset LIBCLOUD_RETRY_FAILED_HTTP_REQUESTS" in result.stderr
