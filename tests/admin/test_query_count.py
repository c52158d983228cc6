"""The admin's instance and orphan lists cost the same queries for 5 rows as for 60."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from instances.models import Instance, Orphan

pytestmark = pytest.mark.django_db


def add(aws, catalogue, bob, count: int) -> None:
    start = Instance.objects.count()
    Instance.objects.bulk_create(
        Instance(
            id=uuid.uuid4(),
            cloud=aws,
            name=f"node-{start + n:03}",
            environment=catalogue["dev"],
            size=catalogue["sizes"]["small"],
            image=catalogue["images"]["centos-9"],
            role=catalogue["web"],
            provider_size_id="t3.small",
            provider_image_id="ami-1",
            status="running",
            created_by=bob,
        )
        for n in range(count)
    )
    Orphan.objects.bulk_create(
        Orphan(cloud=aws, provider_id=f"i-{start + n}", pcm_id=str(uuid.uuid4()))
        for n in range(count)
    )


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/admin/instances/instance/", "/admin/instances/orphan/"])
def test_an_admin_list_costs_the_same_queries_whatever_its_length(
    alice_browser, aws, catalogue, bob, url
):
    add(aws, catalogue, bob, 5)
    few = queries(alice_browser, url)
    add(aws, catalogue, bob, 55)

    assert queries(alice_browser, url) == few
