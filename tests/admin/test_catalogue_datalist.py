"""A mapping's provider id is picked from the cloud's synced catalogue (a datalist, which
browsers search as one types), and a typed id is still taken."""

from __future__ import annotations

import pytest
from django.utils import timezone

from clouds.models import CatalogueItem, SizeMapping
from tests.factories import AbstractSizeFactory, CloudFactory, SizeMappingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloud():
    cloud = CloudFactory()
    now = timezone.now()
    for kind, provider_id, name, vcpus, ram_mb in [
        ("size", "t3.small", "t3.small", 2, 2048),
        ("size", "c5.4xlarge", "c5.4xlarge", 16, 32768),
        ("image", "ami-0c1", "centos-stream-9", None, None),
    ]:
        CatalogueItem.objects.create(
            cloud=cloud,
            kind=kind,
            provider_id=provider_id,
            name=name,
            vcpus=vcpus,
            ram_mb=ram_mb,
            synced_at=now,
        )
    return cloud


def test_the_cloud_page_offers_each_catalogue_once_to_every_mapping_row(alice_browser, cloud):
    for name in ("small", "large"):
        SizeMappingFactory(cloud=cloud, size=AbstractSizeFactory(name=name))

    html = alice_browser.get(f"/admin/clouds/cloud/{cloud.pk}/change/").content.decode()

    assert html.count(f'<datalist id="catalogue-{cloud.pk}-size">') == 1
    assert html.count(f'list="catalogue-{cloud.pk}-size"') == 3  # two rows and the blank one
    assert '<option value="t3.small">t3.small (2 vCPUs, 2048 MB RAM)</option>' in html
    assert '<option value="c5.4xlarge">c5.4xlarge (16 vCPUs, 32768 MB RAM)</option>' in html
    assert '<option value="ami-0c1">centos-stream-9</option>' in html
    assert f"catalogue-{cloud.pk}-subnet" not in html  # nothing synced: a plain input


def test_a_mapping_page_offers_its_clouds_catalogue(alice_browser, cloud):
    mapping = SizeMappingFactory(cloud=cloud)
    datalist = f'<datalist id="catalogue-{cloud.pk}-size">'

    change = alice_browser.get(f"/admin/clouds/sizemapping/{mapping.pk}/change/")
    add = alice_browser.get(f"/admin/clouds/sizemapping/add/?cloud={cloud.pk}")
    blank = alice_browser.get("/admin/clouds/sizemapping/add/")

    assert datalist in change.content.decode()
    assert datalist in add.content.decode()
    assert "<datalist" not in blank.content.decode()


def test_an_id_typed_outside_the_catalogue_is_still_taken(alice_browser, cloud):
    response = alice_browser.post(
        f"/admin/clouds/sizemapping/add/?cloud={cloud.pk}",
        {"cloud": cloud.pk, "size": AbstractSizeFactory().pk, "provider_size_id": "m7i.large"},
    )

    assert response.status_code == 302
    # Checked at the provider all the same (EC2's sizes are libcloud's own table).
    mapping = SizeMapping.objects.get()
    assert (mapping.provider_size_id, mapping.found_at_provider) == ("m7i.large", True)
