"""API tokens: stored hashed, several per user, expiring, revocable, optionally read-only."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from pcm.models import ApiToken
from tests.factories import CloudFactory, api_key

pytestmark = pytest.mark.django_db

CLOUDS = "/pcm_api/v2/clouds"
INSTANCE = "/pcm_api/v2/clouds/LAB-1/instances/3f2b6a4e-8c51-4d3e-9a0b-5a1f0e6d7c21"


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture(autouse=True)
def lab():
    CloudFactory(name="LAB-1")


def test_the_key_is_not_stored_only_its_digest(bob):
    key = api_key(bob)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM pcm_apitoken")
        stored = [str(value) for row in cursor.fetchall() for value in row]
    assert stored
    assert not any(key in value for value in stored)
    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha512(key.encode()).hexdigest()
    assert key.startswith(token.token_key)
    assert len(token.token_key) == 15 < len(key)


def test_a_new_token_expires_after_the_default_lifetime(bob, settings):
    settings.PCM_TOKEN_TTL_DAYS = 30

    api_key(bob)

    expiry = ApiToken.objects.get().expiry
    assert abs(expiry - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)


def test_a_user_may_have_several_tokens_each_revoked_alone(bob):
    first, second = api_key(bob), api_key(bob)

    assert first != second
    assert client_with(first).get(CLOUDS).status_code == 200
    assert client_with(second).get(CLOUDS).status_code == 200

    ApiToken.objects.get(token_key=first[:15]).delete()

    assert client_with(first).get(CLOUDS).status_code == 401
    assert client_with(second).get(CLOUDS).status_code == 200


def test_a_revoked_token_is_a_401(bob):
    key = api_key(bob)
    ApiToken.objects.all().delete()

    response = client_with(key).get(CLOUDS)

    assert response.status_code == 401
    assert response.json() == {"error": "401", "message": "Invalid token."}
    assert response["WWW-Authenticate"] == "Token"


def test_an_expired_token_is_a_401(bob):
    key = api_key(bob)
    ApiToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    response = client_with(key).get(CLOUDS)

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid token."


def test_a_token_made_to_never_expire_has_no_expiry(bob):
    key = api_key(bob, lifetime=None)

    assert ApiToken.objects.get().expiry is None
    assert client_with(key).get(CLOUDS).status_code == 200


def test_the_token_of_an_inactive_user_is_a_401(bob):
    key = api_key(bob)
    bob.is_active = False
    bob.save()

    assert client_with(key).get(CLOUDS).status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Token caf\xe9",  # not UTF-8 once it is bytes
        "Token abc\x00def",
        "Token " + "a" * 200,
        "Token ABCDEF0123456789",
        "Token",
        "Token a b",
    ],
)
def test_a_malformed_key_is_a_401_not_a_500(bob, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(CLOUDS)

    assert response.status_code == 401
    assert response.json()["error"] == "401"


def test_the_prefix_is_case_insensitive_as_with_drf(bob):
    key = api_key(bob)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"token {key}")

    assert client.get(CLOUDS).status_code == 200


def test_a_read_only_token_reads(bob):
    reader = client_with(api_key(bob, read_only=True))

    assert reader.get(CLOUDS).status_code == 200
    assert reader.get("/pcm_api/v2/clouds/LAB-1/instances").status_code == 200
    assert reader.options(CLOUDS).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/pcm_api/v2/clouds/LAB-1/instances"),
        ("put", INSTANCE),
        ("patch", INSTANCE),
        ("delete", INSTANCE),
    ],
)
def test_a_read_only_token_of_an_operator_may_not_write(bob, method, path):
    reader = client_with(api_key(bob, read_only=True))

    response = getattr(reader, method)(path, {"status": "reboot"}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "error": "403",
        "message": "This API token is read-only: it may only GET, HEAD and OPTIONS",
    }


def test_the_same_user_writes_with_a_read_write_token(bob):
    writer = client_with(api_key(bob))

    # Past the scope check: the instance does not exist.
    assert writer.delete(INSTANCE).status_code == 404
