"""Credentials at rest: encrypted with MultiFernet keyed by PCM_ENCRYPTION_KEYS."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from clouds import crypto
from clouds.models import Cloud
from tests.factories import CloudFactory

SECRET = "PLANTED-SECRET-77aa"


@pytest.mark.django_db
def test_the_database_holds_only_ciphertext(settings):
    settings.PCM_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    cloud = CloudFactory(credentials={"access_key": "AKIA", "secret_key": SECRET})

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM clouds_cloud WHERE id = %s", [cloud.pk])
        row = " ".join(str(value) for value in cursor.fetchone())

    assert SECRET not in row
    assert Cloud.objects.get(pk=cloud.pk).credentials["secret_key"] == SECRET


def test_a_new_key_in_front_still_reads_old_secrets_and_rotation_moves_them(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PCM_ENCRYPTION_KEYS = [old]
    token = crypto.encrypt({"secret_key": SECRET})

    settings.PCM_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(token) == {"secret_key": SECRET}
    rotated = crypto.rotate(token)

    settings.PCM_ENCRYPTION_KEYS = [new]
    assert crypto.decrypt(rotated) == {"secret_key": SECRET}
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_a_malformed_key_fails_loudly(settings):
    settings.PCM_ENCRYPTION_KEYS = ["not-a-fernet-key"]

    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        crypto.encrypt({"a": "b"})


def test_without_keys_the_development_key_is_used_with_a_warning(settings, caplog, monkeypatch):
    settings.PCM_ENCRYPTION_KEYS = []
    monkeypatch.setattr(crypto, "_warned", False)

    with caplog.at_level(logging.WARNING, logger="clouds.crypto"):
        token = crypto.encrypt({"a": "b"})

    assert Fernet(crypto.DEVELOPMENT_KEY).decrypt(token.encode()) == b'{"a": "b"}'
    assert "PCM_ENCRYPTION_KEYS is not set" in caplog.text
