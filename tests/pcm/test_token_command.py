"""`manage.py pcm_token create|list|revoke`."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from pcm.models import ApiToken
from tests.factories import api_key

pytestmark = pytest.mark.django_db


def pcm_token(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("pcm_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def status_with(key: str, method: str = "get") -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return getattr(client, method)("/pcm_api/v2/clouds", {}, format="json").status_code


def test_create_prints_a_working_key_once_on_stdout(bob):
    out, err = pcm_token("create", "bob", "--name", "ci pipeline")

    key = out.strip()
    assert status_with(key) == 200
    token = ApiToken.objects.get()
    assert token.name == "ci pipeline" and not token.read_only
    assert key not in err
    assert f"Token {token.id} of bob (read-write, expires " in err


def test_create_read_only_with_a_lifetime(bob):
    out, _ = pcm_token("create", "bob", "--read-only", "--expires", "12h")

    token = ApiToken.objects.get()
    assert token.read_only
    assert (token.expiry - token.created).total_seconds() == pytest.approx(12 * 3600, abs=60)
    assert status_with(out.strip()) == 200
    assert status_with(out.strip(), "post") == 403


def test_create_never_expiring(bob):
    _, err = pcm_token("create", "bob", "--expires", "never")

    assert ApiToken.objects.get().expiry is None
    assert "never expires" in err


@pytest.mark.parametrize("lifetime", ["30", "0d", "1w", "-1d", "forever"])
def test_create_refuses_a_lifetime_it_does_not_understand(bob, lifetime):
    with pytest.raises(CommandError, match="use days \\(30d\\), hours \\(12h\\) or never"):
        pcm_token("create", "bob", f"--expires={lifetime}")
    assert not ApiToken.objects.exists()


def test_create_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user 'nobody'"):
        pcm_token("create", "nobody")


def test_list_shows_prefixes_and_scopes_never_keys(bob, alice):
    bobs, alices = api_key(bob, read_only=True, name="dashboard"), api_key(alice)

    everyone, _ = pcm_token("list")
    only_bob, _ = pcm_token("list", "bob")

    assert bobs[:15] in everyone and alices[:15] in everyone
    assert bobs not in everyone and alices not in everyone
    assert "read-only" in only_bob and "dashboard" in only_bob
    assert alices[:15] not in only_bob


def test_revoke_by_prefix_stops_the_key_at_once(bob):
    key, other = api_key(bob), api_key(bob)

    out, _ = pcm_token("revoke", key[:10])

    assert "Revoked token" in out
    assert status_with(key) == 401
    assert status_with(other) == 200


def test_revoke_by_id(bob):
    key = api_key(bob)

    pcm_token("revoke", str(ApiToken.objects.get().id))

    assert status_with(key) == 401


def test_revoke_refuses_a_short_or_unknown_reference(bob):
    api_key(bob)

    with pytest.raises(CommandError, match="at least 8 characters"):
        pcm_token("revoke", "abc")
    with pytest.raises(CommandError, match="No token"):
        pcm_token("revoke", "99999")
    assert ApiToken.objects.count() == 1


def test_revoke_takes_eight_digits_as_a_prefix_not_an_id(bob):
    key = api_key(bob)
    ApiToken.objects.update(token_key="123456789012345")

    pcm_token("revoke", "12345678")

    assert not ApiToken.objects.exists()
    assert status_with(key) == 401
