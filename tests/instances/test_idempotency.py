"""The Idempotency-Key header on POST."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from instances import idempotency
from instances.idempotency import body_hash
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
    IdempotencyRecord.objects.create(
        user=bob, key="key-1", cloud=aws, body_hash=body_hash({"size": "small"})
    )

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
    from rest_framework.test import APIClient

    from tests.factories import api_key

    post(client_api, {"size": "small"}, "shared")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {api_key(alice)}")

    response = other.post(URL, {"size": "small"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert response.status_code == 202
    assert Instance.objects.count() == 2


def test_an_expired_key_creates_again(client_api, aws):
    post(client_api, {"size": "small"}, "key-1")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    post(client_api, {"size": "small"}, "key-1")

    assert Instance.objects.count() == 2


def test_the_same_key_on_another_cloud_is_a_422_not_the_first_clouds_instance(
    client_api, aws, catalogue
):
    from tests.factories import CloudFactory, ImageMappingFactory, SizeMappingFactory

    other = CloudFactory(name="AWSLAB-2", default_environment=catalogue["dev"])
    SizeMappingFactory(cloud=other, size=catalogue["sizes"]["small"], provider_size_id="t3.small")
    ImageMappingFactory(cloud=other, image=catalogue["images"]["centos-9"], provider_image_id="a")
    post(client_api, {"size": "small", "image": "centos-9"}, "key-1")

    response = client_api.post(
        "/pcm_api/v2/clouds/AWSLAB-2/instances",
        {"size": "small", "image": "centos-9"},
        HTTP_IDEMPOTENCY_KEY="key-1",
    )

    assert response.status_code == 422
    assert "was used for cloud AWSLAB-1" in response.json()["message"]
    assert "Location" not in response
    assert Instance.objects.count() == 1


def test_a_key_over_255_characters_is_a_400(client_api, aws):
    response = post(client_api, {"size": "small"}, "k" * 256)

    assert response.status_code == 400
    assert "at most 255" in response.json()["message"]
    assert post(client_api, {"size": "small"}, "k" * 255).status_code == 202


def test_the_window_is_counted_from_the_first_request_even_after_a_takeover(client_api, aws, bob):
    first = timezone.now() - timedelta(hours=23)
    IdempotencyRecord.objects.create(
        user=bob,
        key="key-1",
        cloud=aws,
        body_hash=body_hash({"size": "small"}),
        created_at=first,
        claimed_at=first,  # its request died without an answer
    )

    taken_over = post(client_api, {"size": "small"}, "key-1")

    record = IdempotencyRecord.objects.get()
    assert taken_over.status_code == 202
    assert record.created_at == first  # not the takeover's time
    assert record.response_body["id"] == taken_over.json()["id"]


def test_of_two_takeovers_of_a_stale_key_only_one_wins(aws, bob):
    """The takeover is compare-and-set on the claim both requests read."""
    stale = timezone.now() - timedelta(minutes=10)
    IdempotencyRecord.objects.create(
        user=bob, key="key-1", cloud=aws, body_hash="x", created_at=stale, claimed_at=stale
    )
    first, second = (IdempotencyRecord.objects.get() for _ in range(2))  # both read it stale

    assert idempotency.take_over(first, timezone.now())
    assert not idempotency.take_over(second, timezone.now())


def test_a_takeover_answers_409_when_another_request_took_the_key_first(client_api, aws, bob):
    stale = timezone.now() - timedelta(minutes=10)
    record = IdempotencyRecord.objects.create(
        user=bob,
        key="key-1",
        cloud=aws,
        body_hash=body_hash({"size": "small"}),
        created_at=stale,
        claimed_at=stale,
    )
    idempotency.take_over(record, timezone.now())  # another request, a moment ago

    response = post(client_api, {"size": "small"}, "key-1")

    assert response.status_code == 409
    assert not Instance.objects.exists()


def test_expired_records_are_pruned_by_the_schedule(client_api, aws):
    from django_q.models import Schedule

    from instances.tasks import prune

    post(client_api, {"size": "small"}, "old")
    post(client_api, {"size": "small"}, "new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    assert prune()["idempotency records"] == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert Schedule.objects.filter(func="instances.tasks.prune", schedule_type="H").exists()
