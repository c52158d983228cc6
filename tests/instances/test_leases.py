"""Leases through the API: `lease` on create, `expires_at` on reads, PATCH within the
maximum, and ?expires_before= (docs/api.md, Leases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from clouds.models import Cloud, CloudAccess, Environment, Role
from instances.models import Instance
from tests.factories import UserFactory, api_key

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def expires_in(body: dict) -> timedelta:
    return parse_datetime(body["expires_at"]) - timezone.now()


def near(actual: timedelta, expected: timedelta) -> bool:
    return abs(actual - expected) < timedelta(seconds=30)


@pytest.fixture
def dev_policy(catalogue):
    """dev: default 8 h, maximum 7 days; prod: none."""
    Environment.objects.filter(name="dev").update(
        default_lease=timedelta(hours=8), max_lease=timedelta(days=7)
    )


@pytest.fixture
def instance(client_api, aws, dev_policy) -> dict:
    return client_api.post(URL, {"size": "small", "lease": "PT8H"}).json()


@pytest.mark.parametrize(
    ("lease", "expected"),
    [
        ("PT8H", timedelta(hours=8)),
        ("P3D", timedelta(days=3)),
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("pt90m", timedelta(minutes=90)),
        (3600, timedelta(hours=1)),
        ("7200", timedelta(hours=2)),
    ],
)
def test_a_lease_is_an_iso_8601_duration_or_seconds(client_api, aws, lease, expected):
    response = client_api.post(URL, {"size": "small", "environment": "prod", "lease": lease})

    assert response.status_code == 202, response.json()
    assert near(expires_in(response.json()), expected)
    read = client_api.get(f"{URL}/{response.json()['id']}").json()
    assert read["expires_at"] == response.json()["expires_at"]


@pytest.mark.parametrize(
    ("lease", "message"),
    [
        ("P1M", "months and years are not accepted"),
        ("P1Y", "months and years are not accepted"),
        ("8 hours", 'an ISO 8601 duration such as "PT8H" or "P3D", or a number of seconds'),
        ("P3X", "is not an ISO 8601 duration"),
        ("PT", "must be longer than zero"),
        (0, "must be longer than zero"),
        (-60, "must be longer than zero"),
        ("P3651D", "must be at most 10 years (P3650D)"),
        (10**30, "must be at most 10 years"),
        ("99999999999999999999", "must be at most 10 years"),
        (True, "a number of seconds"),
        ({"hours": 8}, "a number of seconds"),
    ],
)
def test_a_bad_lease_is_a_400_that_names_the_accepted_forms(client_api, aws, lease, message):
    response = client_api.post(URL, {"size": "small", "lease": lease})

    assert response.status_code == 400
    assert message in response.json()["message"]
    assert not Instance.objects.exists()


def test_without_a_lease_nor_a_policy_an_instance_never_expires(client_api, aws):
    body = client_api.post(URL, {"size": "small"}).json()

    assert body["expires_at"] is None


def test_the_environments_default_lease_applies(client_api, aws, dev_policy):
    body = client_api.post(URL, {"size": "small"}).json()

    assert near(expires_in(body), timedelta(hours=8))


def test_the_roles_default_comes_before_the_environments(client_api, aws, dev_policy):
    Role.objects.filter(name="web").update(default_lease=timedelta(hours=2))

    body = client_api.post(URL, {"size": "small", "role": "web"}).json()

    assert near(expires_in(body), timedelta(hours=2))


def test_a_lease_above_the_maximum_is_a_400_that_names_it(client_api, aws, dev_policy):
    response = client_api.post(URL, {"size": "small", "lease": "P8D"})

    assert response.status_code == 400
    assert response.json()["message"] == (
        "A lease of 8 days is above the maximum of environment dev: 7 days (max_lease 604800 s)"
    )


def test_the_stricter_maximum_wins_and_cuts_the_default(client_api, aws, dev_policy):
    Role.objects.filter(name="web").update(max_lease=timedelta(hours=4))

    refused = client_api.post(URL, {"size": "small", "role": "web", "lease": "PT5H"})
    defaulted = client_api.post(URL, {"size": "small", "role": "web"}).json()

    assert refused.status_code == 400
    assert "maximum of role web: 4:00:00" in refused.json()["message"]
    assert near(expires_in(defaulted), timedelta(hours=4))  # dev's 8 h, cut to web's 4 h


def test_a_maximum_without_a_default_gives_the_maximum(client_api, aws, catalogue):
    Environment.objects.filter(name="prod").update(max_lease=timedelta(days=2))

    body = client_api.post(URL, {"size": "small", "environment": "prod"}).json()

    assert near(expires_in(body), timedelta(days=2))


# -- PATCH ---------------------------------------------------------------------------------


def test_patch_expires_at_extends_within_the_maximum(client_api, instance):
    wanted = (timezone.now() + timedelta(days=6)).replace(microsecond=0)

    response = client_api.patch(f"{URL}/{instance['id']}", {"expires_at": wanted.isoformat()})

    assert response.status_code == 200, response.json()
    assert parse_datetime(response.json()["expires_at"]) == wanted
    events = client_api.get(f"{URL}/{instance['id']}/events").json()["results"]
    assert (events[-1]["action"], events[-1]["actor"], events[-1]["outcome"]) == (
        "lease",
        "bob",
        "succeeded",
    )
    assert events[-1]["detail"] == f"expires at {wanted.isoformat()}"


def test_patch_lease_counts_from_now_and_may_shorten(client_api, instance):
    response = client_api.patch(f"{URL}/{instance['id']}", {"lease": "PT1H"})

    assert response.status_code == 200
    assert near(expires_in(response.json()), timedelta(hours=1))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"expires_at": "P8D"}, "expires_at must be an ISO 8601 time"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at must be in the future"),
        ({"lease": "P8D"}, "above the maximum of environment dev: 7 days"),
        ({"expires_at": None}, "keep an expiry: environment dev has a maximum lease of 7 days"),
        ({"lease": "PT1H", "expires_at": None}, "Give one of status, tags, expires_at or lease"),
        ({"lease": "PT1H", "tags": {}}, "Give one of status, tags, expires_at or lease"),
        ({"lease": "PT1H", "size": "x"}, "Unknown field(s) size"),
    ],
)
def test_bad_expiry_patches_are_400s(client_api, instance, payload, message):
    response = client_api.patch(f"{URL}/{instance['id']}", payload)

    assert response.status_code == 400
    assert message in response.json()["message"]
    assert Instance.objects.get(pk=instance["id"]).events.filter(action="lease").count() == 0


def test_patch_an_expiry_beyond_the_maximum_is_a_400(client_api, instance):
    too_late = timezone.now() + timedelta(days=7, hours=1)

    response = client_api.patch(f"{URL}/{instance['id']}", {"expires_at": too_late.isoformat()})

    assert response.status_code == 400
    assert "above the maximum of environment dev" in response.json()["message"]


def test_null_removes_the_expiry_where_no_maximum_applies(client_api, aws):
    created = client_api.post(URL, {"size": "small", "environment": "prod", "lease": 600}).json()

    response = client_api.patch(f"{URL}/{created['id']}", {"expires_at": None})

    assert response.status_code == 200
    assert response.json()["expires_at"] is None
    assert Instance.objects.get(pk=created["id"]).expires_at is None


def test_a_deleted_instance_keeps_its_expiry(client_api, instance, worker):
    client_api.delete(f"{URL}/{instance['id']}")

    response = client_api.patch(f"{URL}/{instance['id']}", {"lease": "PT2H"})

    assert response.status_code == 409
    assert "its lease is over" in response.json()["message"]


def test_a_reader_may_not_move_an_expiry(instance):
    reader = UserFactory(username="reader")
    group = Group.objects.create(name="readers")
    reader.groups.add(group)
    CloudAccess.objects.create(group=group, cloud=Cloud.objects.get(name="AWSLAB-1"), level="read")
    client = APIClient()
    client.force_authenticate(reader)

    response = client.patch(f"{URL}/{instance['id']}", {"lease": "P1D"}, format="json")

    assert response.status_code == 403
    assert Instance.objects.get(pk=instance["id"]).events.filter(action="lease").count() == 0


def test_a_read_only_token_may_not_move_an_expiry(instance, bob):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(bob, read_only=True)}")

    response = client.patch(f"{URL}/{instance['id']}", {"lease": "P1D"}, format="json")

    assert response.status_code == 403


# -- ?expires_before= ----------------------------------------------------------------------


def test_lists_filter_on_expires_before(client_api, aws):
    soon = client_api.post(URL, {"size": "small", "lease": "PT1H"}).json()
    client_api.post(URL, {"size": "small", "lease": "P2D"})
    client_api.post(URL, {"size": "small"})  # no expiry: never listed
    cutoff = (timezone.now() + timedelta(hours=2)).isoformat().replace("+00:00", "Z")

    listed = client_api.get(URL, {"expires_before": cutoff}).json()["results"]
    everywhere = client_api.get("/pcm_api/v2/instances", {"expires_before": cutoff}).json()

    assert [item["id"] for item in listed] == [soon["id"]]
    assert [item["id"] for item in everywhere["results"]] == [soon["id"]]


def test_a_bad_expires_before_is_a_400(client_api, aws):
    response = client_api.get(URL, {"expires_before": "tomorrow"})

    assert response.status_code == 400
    assert "expires_before" in str(response.json())


def test_an_empty_expires_before_is_a_400_not_no_filter(client_api, aws):
    response = client_api.get(URL, {"expires_before": ""})

    assert response.status_code == 400
    assert "expires_before: give an ISO 8601 time" in response.json()["message"]


def test_times_with_offsets_postgresql_refuses_are_taken_in_utc(client_api, aws):
    # Python takes a "-17:59" offset, PostgreSQL does not: PCM moves such times to UTC.
    listed = client_api.get(URL, {"expires_before": "4725-07-02T08:22:59.4-17:59"})
    created = client_api.post(URL, {"size": "small", "lease": "PT1H"}).json()
    later = (timezone.now() + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S") + "-17:59"
    patched = client_api.patch(f"{URL}/{created['id']}", {"expires_at": later})
    edge = client_api.get(URL, {"expires_before": "0001-01-01T00:00:00+01:00"})
    naive = (timezone.now() + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S")  # UTC
    without_offset = client_api.patch(f"{URL}/{created['id']}", {"expires_at": naive})

    assert listed.status_code == 200
    assert patched.status_code in (200, 400), patched.content  # 400: beyond the maximum
    assert edge.status_code == 400
    assert without_offset.status_code == 200, without_offset.content
