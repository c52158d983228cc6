"""The admin in a real browser against a live PCM: an administrator logs in through the
login form, changes a size mapping that the API serves on its next request, and sees an
instance created through the API reach `running` with its history.

Only the standard admin is relied on (field names, #content, the message list); the
instance and cloud pages' columns and badges may change. Skips where chromium is missing,
unless PCM_REQUIRE_BROWSER is set (CI sets it): there it must run.
"""

from __future__ import annotations

import re

import pytest
import requests
from django.urls import reverse

from clouds.models import SizeMapping
from instances.models import Instance
from tests.browser import chromium
from tests.factories import api_key

if not chromium.required() and chromium.missing():
    pytest.skip(chromium.missing(), allow_module_level=True)

from playwright.sync_api import expect

PASSWORD = "a real password for a real login 7f3e"


def word(text: str) -> re.Pattern:
    """`text` as a whole word, in any case ("create" but not "Created at"). Match it with
    use_inner_text: the rendered text, where table cells do not run into each other."""
    return re.compile(rf"\b{re.escape(text)}\b", re.IGNORECASE)


@pytest.fixture
def administrator(django_user_model):
    return django_user_model.objects.create_superuser("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def token(bob) -> dict[str, str]:
    """The headers of bob's API calls: his token, as a script sends it.

    `Connection: close`: the live server serves a kept-alive connection from a thread
    that holds a database connection until the client hangs up, which a response still
    referenced may not do before the test ends; on PostgreSQL that session would keep
    the test database from being dropped.
    """
    return {"Authorization": f"Token {api_key(bob)}", "Connection": "close"}


def served_size(live_server, token, cloud: str, size: str) -> str:
    """The provider size id the API serves for `size` in `cloud`, in a request of its own."""
    url = f"{live_server.url}/pcm_api/v2/clouds/{cloud}/sizes"
    response = requests.get(url, headers=token, timeout=30)
    assert response.status_code == 200, response.text
    return {s["name"]: s["provider_size_id"] for s in response.json()["results"]}[size]


def log_in(page, user, screenshot=None) -> None:
    page.goto(reverse("admin:index"))
    page.wait_for_url(re.compile(r"/admin/login/"))
    page.locator("[name=username]").fill(user.username)
    page.locator("[name=password]").fill(PASSWORD)
    if screenshot:
        screenshot(page, "01-admin-login")
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    expect(page.locator("[name=password]")).to_have_count(0)
    expect(page.locator("#content")).to_be_visible()


def test_a_size_mapping_saved_in_the_browser_is_served_by_the_api_at_once(
    open_page, live_server, aws, administrator, token, screenshot
):
    mapping = SizeMapping.objects.get(cloud=aws, size__name="small")
    assert served_size(live_server, token, aws.name, "small") == "t3.small"

    page = open_page()  # from here on HTTP only: no queries in this thread (conftest.py)
    log_in(page, administrator, screenshot)
    page.goto(reverse("admin:clouds_sizemapping_change", args=[mapping.pk]))
    field = page.locator("[name=provider_size_id]")
    expect(field).to_have_value("t3.small")
    field.fill("t3.micro")  # an instance type moto knows: the form checks it there
    screenshot(page, "02-size-mapping-edit")
    page.locator("[name=_save]").click()

    expect(page.locator(".messagelist .success")).to_contain_text("changed successfully")
    expect(page.locator(".messagelist .warning")).to_have_count(0)  # checked at moto
    expect(page.locator("#content")).to_contain_text("t3.micro")
    screenshot(page, "03-size-mapping-saved")
    assert served_size(live_server, token, aws.name, "small") == "t3.micro"


def test_an_instance_created_through_the_api_shows_running_with_its_events(
    open_page, live_server, aws, worker, administrator, token, screenshot
):
    url = f"{live_server.url}/pcm_api/v2/clouds/{aws.name}/instances"
    response = requests.post(url, json={"size": "small", "role": "web"}, headers=token, timeout=30)
    assert response.status_code == 202, response.text
    created = response.json()

    # The live server committed the row and its task (the test database is transactional
    # here): the worker takes the task from the broker as a qcluster would.
    assert "provision" in worker.run()
    instance = Instance.objects.get(pk=created["id"])
    assert instance.status == "running", instance.last_error
    detail = requests.get(f"{url}/{instance.pk}", headers=token, timeout=30).json()
    assert detail["status"] == "running"

    page = open_page()  # from here on HTTP only: no queries in this thread (conftest.py)
    log_in(page, administrator)
    page.goto(reverse("admin:instances_instance_changelist"))
    row = page.locator("#result_list tr").filter(has_text=instance.name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(word("running"), use_inner_text=True)
    screenshot(page, "04-instance-list")

    page.goto(reverse("admin:instances_instance_change", args=[instance.pk]))
    content = page.locator("#content")
    expect(content).to_contain_text(instance.name)
    expect(content).to_contain_text(instance.provider_id)
    expect(content).to_contain_text(word("running"), use_inner_text=True)
    # The create event: its action, its actor and its outcome.
    expect(content).to_contain_text(word("create"), use_inner_text=True)
    expect(content).to_contain_text(word("bob"), use_inner_text=True)
    expect(content).to_contain_text(word("succeeded"), use_inner_text=True)
    screenshot(page, "05-instance-events")


def test_changing_the_provider_shows_that_plugins_own_fields(open_page, administrator, screenshot):
    page = open_page()  # from here on HTTP only: no queries in this thread (conftest.py)
    log_in(page, administrator)
    page.goto(reverse("admin:clouds_cloud_add"))
    expect(page.locator("#content")).to_contain_text("Choose a plugin above")
    page.locator("[name=name]").fill("NEW-LAB-1")

    page.locator("[name=provider]").select_option("ec2")
    expect(page.locator("[name=option__image_owner]")).to_be_visible()
    expect(page.locator("[name=credential__secret_key]")).to_have_attribute("type", "password")
    expect(page.locator("[name=name]")).to_have_value("NEW-LAB-1")  # carried over the reload
    page.locator("[name=option__region]").fill("RegionOne")

    page.locator("[name=provider]").select_option("openstack")
    expect(page.locator("[name=option__auth_url]")).to_be_visible()
    expect(page.locator("[name=option__image_owner]")).to_have_count(0)
    expect(page.locator("[name=option__region]")).to_have_value("RegionOne")
    page.locator("[name=option__auth_url]").fill("http://keystone.example:5000")
    page.locator("[name=credential__username]").fill("demo")
    page.locator("[name=credential__password]").fill("a password")
    screenshot(page, "06-cloud-form-openstack")
    page.locator("[name=_save]").click()

    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
