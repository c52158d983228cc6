"""Migration 0004: an old DRF token keeps working, hashed, and DRF's plain keys are gone."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from rest_framework.test import APIClient

from pcm.models import ApiToken

migration = importlib.import_module("pcm.migrations.0004_hash_drf_tokens")

OLD_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's format: 40 hex characters


def drf_table_with(user) -> None:
    """authtoken_token as DRF left it in a database, with one key in plain text."""
    with connection.cursor() as cursor:
        cursor.execute(
            'CREATE TABLE authtoken_token ("key" varchar(40) NOT NULL PRIMARY KEY, '
            '"created" timestamp NOT NULL, "user_id" integer NOT NULL)'
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)", [OLD_KEY, timezone.now(), user.pk]
        )
    MigrationRecorder(connection).record_applied("authtoken", "0001_initial")


def run_migration() -> None:
    with connection.schema_editor() as schema_editor:
        migration.hash_drf_tokens(apps, schema_editor)


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses an open transaction
def test_an_old_drf_key_goes_on_working_hashed_until_its_expiry(bob, settings):
    drf_table_with(bob)

    run_migration()

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {OLD_KEY}")
    assert client.get("/pcm_api/v2/clouds").status_code == 200
    token = ApiToken.objects.get()
    assert token.user == bob
    assert token.digest != OLD_KEY and OLD_KEY not in token.token_key + token.name
    expected = timezone.now() + timedelta(days=settings.PCM_TOKEN_TTL_DAYS)
    assert abs(token.expiry - expected) < timedelta(minutes=1)
    assert not token.read_only


@pytest.mark.django_db(transaction=True)
def test_the_plain_keys_are_dropped_with_drfs_table(bob):
    drf_table_with(bob)

    run_migration()

    assert "authtoken_token" not in connection.introspection.table_names()
    assert not MigrationRecorder(connection).migration_qs.filter(app="authtoken").exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_that_never_had_drf_tokens_is_left_alone(bob):
    run_migration()

    assert not ApiToken.objects.exists()
