"""The Idempotency-Key header on POST."""

from __future__ import annotations

import pytest

from instances.models import IdempotencyRecord, Instance

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def post(client_api, body, key):
    return client_api.post(URL, body, HTTP_IDEMPOTENCY_KEY=key)


def test_the_same_key_and_body_returns_the_same_instance_and_answer(client_api, aws):
    first = post(client_api, {"size": "small"}, "key-1")
    second = post(client_api, {"size": "small"}, "key-1")

    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert first["Location"] == second["Location"]
    assert Instance.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422(client_api, aws):
    post(client_api, {"size": "small"}, "key-1")

    response = post(client_api, {"size": "medium"}, "key-1")

    assert response.status_code == 422
    assert "used with a different request body" in response.json()["message"]
    assert Instance.objects.count() == 1


def test_a_key_still_being_handled_is_a_409(client_api, aws, bob):
    from instances.services import body_hash

    IdempotencyRecord.objects.create(user=bob, key="key-1", body_hash=body_hash({"size": "small"}))

    response = post(client_api, {"size": "small"}, "key-1")

    assert response.status_code == 409
    assert "still being handled" in response.json()["message"]
    assert not Instance.objects.exists()


def test_a_refused_request_frees_its_key(client_api, aws):
    refused = post(client_api, {"size": "xlarge"}, "key-1")
    aws.max_vcpus = None
    aws.save()

    accepted = post(client_api, {"size": "xlarge"}, "key-1")

    assert refused.status_code == 507
    assert accepted.status_code == 202


def test_keys_belong_to_their_user(client_api, aws, alice):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    post(client_api, {"size": "small"}, "shared")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")

    response = other.post(URL, {"size": "small"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert response.status_code == 202
    assert Instance.objects.count() == 2


def test_an_expired_key_creates_again(client_api, aws):
    from datetime import timedelta

    from django.utils import timezone

    post(client_api, {"size": "small"}, "key-1")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    post(client_api, {"size": "small"}, "key-1")

    assert Instance.objects.count() == 2
