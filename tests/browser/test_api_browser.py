"""The browsable API in a real browser against a live PCM at moto: an administrator logs in
through the admin, posts the create form as it is offered and sees the 202, follows the
new instance's Location to its page, finds its actions and links there and deletes it.

Relies on DRF's page structure (the raw data forms' ids, the delete modal) and PCM's
additions (#related-links). Skips where chromium is missing, unless PCM_REQUIRE_BROWSER is
set (CI sets it): there it must run.
"""

from __future__ import annotations

import re

import pytest

from tests.browser import chromium

if not chromium.required() and chromium.missing():
    pytest.skip(chromium.missing(), allow_module_level=True)

from playwright.sync_api import expect

from tests.browser.test_admin_browser import PASSWORD, log_in


@pytest.fixture
def administrator(django_user_model):
    return django_user_model.objects.create_superuser("alice", "alice@example.com", PASSWORD)


def test_the_prefilled_create_form_creates_and_the_instance_page_deletes(
    open_page, live_server, aws, administrator, screenshot
):
    page = open_page()  # from here on HTTP only: no queries in this thread (conftest.py)
    log_in(page, administrator)
    page.goto(f"/pcm_api/v2/clouds/{aws.name}/instances")

    crumbs = page.locator(".breadcrumb")
    expect(crumbs).to_have_text(re.compile(r"PCM API\s+Clouds\s+AWSLAB-1\s+Instances"))
    create = page.locator("#post-generic-content-form")
    expect(create.locator("[name=_content]")).to_have_value(re.compile(r'"size": "small"'))
    screenshot(page, "06-api-create-form")
    create.locator("button", has_text="POST").click()  # the form as offered

    content = page.locator("#content")
    expect(content).to_contain_text("HTTP 202 Accepted")
    expect(content).to_contain_text('"status": "pending"')
    screenshot(page, "07-api-created")

    page.locator(".response-info a", has_text="/instances/").first.click()  # its Location
    expect(content).to_contain_text("HTTP 200 OK")
    expect(crumbs).to_have_text(re.compile(r"AWSLAB-1\s+Instances\s+dev-web-001"))
    expect(page.locator("#related-links a", has_text="Events")).to_be_visible()
    expect(page.locator("#related-links a", has_text="Console log")).to_be_visible()
    status_form = page.locator("#put-generic-content-form [name=_content]")
    expect(status_form).to_have_value(re.compile(r'"status": "(reboot|running)"'))
    screenshot(page, "08-api-instance")

    page.locator("button[data-target='#deleteModal']").click()
    page.locator("#deleteModal button", has_text="Delete").click()
    expect(content).to_contain_text("HTTP 202 Accepted")
    expect(content).to_contain_text('"status": "deleting"')
