"""Concurrent requests, with real commits and one database connection per thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from instances.models import Instance
from providers.inventory.builtin import BuiltinInventory
from tests.factories import api_key

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def in_threads(count: int, job):
    def run(n):
        try:
            return job(n)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_fifty_concurrent_creates_at_the_edge_of_a_quota_never_exceed_it(aws, bob):
    aws.quota_instances = 10
    aws.save()
    token = api_key(bob)

    def create(n):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client.post(URL, {"size": "small"}, format="json").status_code

    statuses = in_threads(50, create)

    assert statuses.count(202) == 10
    assert statuses.count(507) == 40
    assert Instance.objects.count() == 10
    assert len(set(Instance.objects.values_list("name", flat=True))) == 10


def test_concurrent_reservations_never_share_a_name(db):
    inventory = BuiltinInventory({}, {})

    names = in_threads(
        30, lambda n: inventory.reserve(cloud="A", role="web", environment="dev", pcm_id=str(n))
    )

    assert len(set(names)) == 30
    assert sorted(names) == [f"dev-web-{n:03}" for n in range(1, 31)]
