"""The browsable API by hand: what a logged-in person's browser is offered (Accept:
text/html), and that posting it as DRF's ajax-form.js does works at moto."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, reverse

from clouds.models import CloudAccess
from instances.models import Instance
from instances.plan import CREATE_FIELDS
from pcm import urls as pcm_urls
from tests.factories import AbstractSubnetFactory, SubnetMappingFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "/pcm_api/v2/clouds/AWSLAB-1/instances"
HTML = {"HTTP_ACCEPT": "text/html"}
# What ajax-form.js sends with the raw form's content.
AJAX = {"content_type": "application/json", "HTTP_ACCEPT": "text/html; q=1.0, */*"}


def raw_form(page: bytes, form_id: str) -> str | None:
    """The content of the raw data form in the element with `form_id` (None: no form)."""
    text = page.decode()
    start = text.find(f'id="{form_id}"')
    if start < 0:
        return None
    found = re.search(r'<textarea name="_content"[^>]*>(.*?)</textarea>', text[start:], re.S)
    return html.unescape(found.group(1)) if found else None


def crumbs(page: bytes) -> list[str]:
    listed = re.search(r'<ul class="breadcrumb">(.*?)</ul>', page.decode(), re.S).group(1)
    return [html.unescape(name) for name in re.findall(r"<a [^>]*>(.*?)</a>", listed)]


@pytest.fixture
def browser(client, bob, django_capture_on_commit_callbacks):
    """bob, an operator, logged in to the browsable API."""
    client.force_login(bob)
    return client


@pytest.fixture
def instance(aws, client_api, worker) -> Instance:
    response = client_api.post(LIST, {"size": "small"})
    assert response.status_code == 202, response.json()
    worker.run()
    found = Instance.objects.get(pk=response.json()["id"])
    assert found.status == "running", found.last_error
    return found


def test_the_create_form_is_a_working_create_request_for_the_cloud(aws, browser):
    page = browser.get(LIST, **HTML)

    assert page.status_code == 200
    example = json.loads(raw_form(page.content, "post-generic-content-form"))
    assert list(example) == list(CREATE_FIELDS)
    # No cloud default size: the first one mapped within its limits; its default image
    # and environment; the first role (by name) that allows them ("db" does not).
    assert example == {
        "size": "small",
        "image": "centos-9",
        "subnet": None,
        "environment": "dev",
        "role": "web",
        "ssh_keys": [],
        "user_data": None,
        "tags": {},
        "lease": None,
        "extra": {"ec2": {}},
    }
    assert b"extra is keyed by provider type" in page.content
    assert b'name="html-tab"' not in page.content  # JSON only: no HTML form to mislead

    posted = browser.post(LIST, json.dumps(example), **AJAX)

    assert posted.status_code == 202, posted.content
    assert posted["Content-Type"].startswith("text/html")
    assert b"HTTP 202 Accepted" in posted.content
    created = Instance.objects.get()
    assert (created.size.name, created.role.name, created.created_by.username) == (
        "small",
        "web",
        "bob",
    )


def test_the_create_form_takes_the_cloud_default_size_and_a_role_that_allows_it(
    aws, catalogue, browser, client_api
):
    aws.default_size = catalogue["sizes"]["medium"]
    aws.save()

    example = json.loads(raw_form(browser.get(LIST, **HTML).content, "post-generic-content-form"))

    assert (example["size"], example["role"]) == ("medium", "db")
    assert client_api.post(LIST, example).status_code == 202


def test_the_create_form_offers_no_size_above_the_cloud_limits(aws, catalogue, browser):
    aws.default_size = catalogue["sizes"]["xlarge"]  # 16 vCPUs; the cloud allows 8
    aws.save()

    example = json.loads(raw_form(browser.get(LIST, **HTML).content, "post-generic-content-form"))

    assert example["size"] == "small"


def test_the_create_form_names_the_cloud_default_subnet(aws, browser):
    back = AbstractSubnetFactory(name="back")
    SubnetMappingFactory(cloud=aws, subnet=back, provider_subnet_id="subnet-1")
    aws.default_subnet = back
    aws.save()

    example = json.loads(raw_form(browser.get(LIST, **HTML).content, "post-generic-content-form"))

    assert example["subnet"] == "back"


def test_an_instance_page_offers_its_actions_and_links(instance, browser):
    url = f"{LIST}/{instance.pk}"
    page = browser.get(url, **HTML)

    assert page.status_code == 200
    assert json.loads(raw_form(page.content, "put-generic-content-form")) == {"status": "reboot"}
    for word in (b'"reboot"', b'"stopped"', b'"running"', b"DELETE deletes"):
        assert word in page.content
    assert b'data-method="PUT"' in page.content
    assert b'data-method="PATCH"' in page.content
    assert b'data-method="DELETE"' in page.content
    assert f'href="http://testserver{url}/events"'.encode() in page.content
    assert f'href="http://testserver{url}/console_log"'.encode() in page.content

    rebooted = browser.put(url, json.dumps({"status": "reboot"}), **AJAX)
    assert rebooted.status_code == 202, rebooted.content
    assert b"HTTP 202 Accepted" in rebooted.content


def test_a_stopped_instance_is_offered_a_start(instance, browser, client_api, worker):
    url = f"{LIST}/{instance.pk}"
    assert client_api.put(url, {"status": "stopped"}).status_code == 202
    worker.run()

    page = browser.get(url, **HTML)

    assert json.loads(raw_form(page.content, "put-generic-content-form")) == {"status": "running"}


def test_a_reader_is_offered_no_form_and_no_delete(instance, client):
    readers = Group.objects.create(name="readers")
    CloudAccess.objects.create(group=readers, cloud=instance.cloud, level="read")
    carol = UserFactory(username="carol")
    carol.groups.add(readers)
    client.force_login(carol)

    listed = client.get(LIST, **HTML)
    shown = client.get(f"{LIST}/{instance.pk}", **HTML)

    assert (listed.status_code, shown.status_code) == (200, 200)
    assert raw_form(listed.content, "post-generic-content-form") is None
    assert raw_form(shown.content, "put-generic-content-form") is None
    assert b'data-method="DELETE"' not in shown.content
    assert b"/events" in shown.content  # reading is still offered


def test_the_crumbs_name_the_cloud_and_the_instance(instance, browser):
    url = f"{LIST}/{instance.pk}"

    assert crumbs(browser.get(url, **HTML).content) == [
        "PCM API",
        "Clouds",
        "AWSLAB-1",
        "Instances",
        instance.name,
    ]
    assert crumbs(browser.get(f"{url}/events", **HTML).content)[-2:] == [instance.name, "Events"]
    by_name = browser.get(f"{LIST}/{instance.name}", **HTML)
    assert crumbs(by_name.content)[-1] == instance.name
    assert b"<h1>" + instance.name.encode() + b"</h1>" in by_name.content


def test_a_missing_instance_page_is_a_404_with_no_forms(aws, browser):
    page = browser.get(f"{LIST}/nope", **HTML)

    assert page.status_code == 404
    assert b"Instance nope does not exist" in page.content
    assert raw_form(page.content, "put-generic-content-form") is None


def top_level_routes() -> set[str]:
    return {
        reverse(p.name)
        for p in pcm_urls.api_v2
        if isinstance(p, URLPattern) and "<" not in str(p.pattern)
    }


def test_the_api_root_lists_every_top_level_endpoint(api):
    root = api.get("/pcm_api/v2").json()

    assert set(root) == {
        "clouds",
        "sizes",
        "images",
        "subnets",
        "roles",
        "environments",
        "instances",
        "webhooks",
        "schema",
        "docs",
    }
    listed = {url.removeprefix("http://testserver") for url in root.values()}
    assert listed == top_level_routes() | {reverse("schema"), reverse("docs")}


def api_routes(patterns=None, prefix="/pcm_api/v2/"):
    """(path template, url name) of every route under /pcm_api/v2/."""
    for pattern in pcm_urls.api_v2 if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from api_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.name


def test_every_route_of_the_browsable_api_renders(instance, browser):
    back = AbstractSubnetFactory(name="back")
    SubnetMappingFactory(cloud=instance.cloud, subnet=back, provider_subnet_id="subnet-1")
    values = {
        "<str:cloud>": "AWSLAB-1",
        "<str:instance>": str(instance.pk),
        "sizes/<str:name>": "sizes/small",
        "images/<str:name>": "images/centos-9",
        "subnets/<str:name>": "subnets/back",
        "roles/<str:name>": "roles/web",
        "environments/<str:name>": "environments/dev",
    }
    paths = ["/pcm_api/v2"]
    for template, _ in api_routes():
        if template.startswith("/pcm_api/v2/webhooks"):
            continue  # staff only: tests/webhooks/test_api.py renders them
        for placeholder, value in values.items():
            template = template.replace(placeholder, value)
        assert "<" not in template, f"no value for {template}"
        paths.append(template)

    answers = {path: browser.get(path, **HTML) for path in paths}

    assert {path: a.status_code for path, a in answers.items()} == dict.fromkeys(paths, 200)
    for path, answer in answers.items():
        expected = "text/plain" if path.endswith("console_log") else "text/html"
        assert answer["Content-Type"].startswith(expected), path
