"""The SQL queries of a list page do not grow with the page size (counted, not timed)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from instances.models import Instance
from tests.factories import CloudFactory, SizeMappingFactory

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.fixture
def many(aws, catalogue, bob):
    Instance.objects.bulk_create(
        Instance(
            id=uuid.uuid4(),
            cloud=aws,
            name=f"node-{n:03}",
            environment=catalogue["dev"],
            size=catalogue["sizes"]["small"],
            image=catalogue["images"]["centos-9"],
            role=catalogue["web"],
            provider_size_id="t3.small",
            provider_image_id="ami-1",
            status="running",
            created_by=bob,
        )
        for n in range(120)
    )
    for n in range(30):
        SizeMappingFactory(cloud=CloudFactory(name=f"C-{n}"), size=catalogue["sizes"]["small"])


@pytest.mark.parametrize(
    "path",
    [
        "/pcm_api/v2/clouds/AWSLAB-1/instances",
        "/pcm_api/v2/instances",
        "/pcm_api/v2/clouds",
        "/pcm_api/v2/sizes",
        "/pcm_api/v2/clouds/AWSLAB-1/sizes",
        "/pcm_api/v2/roles",
    ],
)
def test_a_list_page_costs_the_same_queries_whatever_its_size(api, many, path):
    small = queries(api, f"{path}?page_size=5")
    large = queries(api, f"{path}?page_size=100")

    assert small == large


def test_reading_one_instance_by_id_is_one_query_after_authentication(api, many):
    instance = Instance.objects.first()

    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/pcm_api/v2/clouds/AWSLAB-1/instances/{instance.pk}")

    assert response.status_code == 200
    # The token and its user, bob's grant to every cloud, then the instance (with its
    # cloud, access, role, environment, size, image and creator) in one query.
    assert len(captured) == 3, [q["sql"] for q in captured]


def test_a_create_asks_access_and_the_roles_limits_inside_the_queries_it_needs(api, aws, catalogue):
    body = {"role": "web", "environment": "dev", "size": "small", "image": "centos-9"}
    api.post("/pcm_api/v2/clouds/AWSLAB-1/instances", body, format="json")  # warms the token

    with CaptureQueriesContext(connection) as captured:
        response = api.post("/pcm_api/v2/clouds/AWSLAB-1/instances", body, format="json")

    assert response.status_code == 202, response.content
    sent = [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"]]
    # bob's grants are asked in the cloud's query, the role's limits in the role's: no
    # query of their own (three for access and three for the limits before).
    on_their_own = (
        'SELECT 1 AS "a" FROM "clouds_cloudaccess"',
        'SELECT 1 AS "a" FROM "clouds_role_',
    )
    assert not [sql for sql in sent if sql.startswith(on_their_own)]
    # The token; the cloud; role, environment, the size and image with their mappings and
    # whether the role allows the size; the name; in the transaction the cloud locked, its
    # quota, the queue entry, the row, the webhooks, the event.
    assert len(sent) == 16, sent
