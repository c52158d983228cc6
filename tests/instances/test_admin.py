"""Instances, their events and orphans in the admin: shown, not editable by hand; reboot
and delete go through the API's services, for those who may operate the cloud."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from django_q.models import OrmQ, Task

from clouds.models import CloudAccess
from clouds.services import provider_for
from instances.models import Instance, Orphan
from instances.worker import reconcile_cloud
from providers.base import CreateOptions
from tests.factories import CloudFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"
LIST = "/admin/instances/instance/"


def change_url(instance: Instance) -> str:
    return f"{LIST}{instance.pk}/change/"


@pytest.fixture
def make_running(client_api, aws, worker):
    """Instances created through the API and built at moto, as rows."""

    def make(**body) -> Instance:
        created = client_api.post(URL, {"size": "small", "role": "web", **body}).json()
        worker.run()
        return Instance.objects.get(pk=created["id"])

    return make


@pytest.fixture
def running(make_running) -> Instance:
    return make_running()


@pytest.fixture
def operate(django_capture_on_commit_callbacks):
    """Run an admin action on instances, enqueuing on commit as a server does."""

    def run(browser, action: str, *instances: Instance):
        with django_capture_on_commit_callbacks(execute=True):
            return browser.post(
                LIST,
                {"action": action, "_selected_action": [i.pk for i in instances]},
                follow=True,
            )

    return run


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def queued_names() -> list[str]:
    return [queued.name() for queued in OrmQ.objects.all()]


def shown(response) -> list[str]:
    return [instance.name for instance in response.context["cl"].result_list]


def test_an_instance_and_its_events_are_shown_read_only(alice_browser, running):
    listing = alice_browser.get(f"{LIST}?status__exact=running&q=dev-web")
    page = alice_browser.get(change_url(running))
    post = alice_browser.post(change_url(running), {"status": "x"})

    assert listing.status_code == 200 and b"dev-web-001" in listing.content
    assert page.status_code == 200
    assert b"create" in page.content and b"succeeded" in page.content
    assert post.status_code == 403
    assert Instance.objects.get().status == "running"
    assert alice_browser.get(f"{LIST}add/").status_code == 403


def test_the_list_shows_a_coloured_status_and_who_made_it_how_long_ago(alice_browser, running):
    Instance.objects.filter(pk=running.pk).update(created_at=timezone.now() - timedelta(hours=3))

    html = alice_browser.get(LIST).content.decode()

    assert 'style="background:#2e7d32;' in html  # green: running
    assert ">running</span>" in html
    assert "3\xa0hours" in html
    for column in ("AWSLAB-1", "web", "dev", "bob"):
        assert f">{column}<" in html


def test_the_list_is_searchable_and_filterable(alice_browser, make_running, catalogue):
    web = make_running()
    db = make_running(role="db", size="medium", environment="prod")
    Instance.objects.filter(pk=db.pk).update(status="stopped")
    other_cloud = CloudFactory(name="OTHER-1")

    assert shown(alice_browser.get(f"{LIST}?q={web.provider_id}")) == [web.name]
    assert shown(alice_browser.get(f"{LIST}?q={db.pk}")) == [db.name]
    assert shown(alice_browser.get(f"{LIST}?q={db.name}")) == [db.name]
    assert shown(alice_browser.get(f"{LIST}?status__exact=stopped")) == [db.name]
    assert shown(alice_browser.get(f"{LIST}?role__id__exact={catalogue['web'].pk}")) == [web.name]
    prod = db.environment.pk
    assert shown(alice_browser.get(f"{LIST}?environment__id__exact={prod}")) == [db.name]
    assert shown(alice_browser.get(f"{LIST}?cloud__id__exact={other_cloud.pk}")) == []
    assert len(shown(alice_browser.get(f"{LIST}?cloud__id__exact={web.cloud.pk}"))) == 2


def test_reboot_from_the_list_enqueues_the_task_and_records_the_admin(
    alice_browser, running, operate, worker
):
    response = operate(alice_browser, "reboot_instances", running)

    assert f"{running.name}: reboot requested (rebooting)" in messages_of(response)
    running.refresh_from_db()
    assert running.status == "rebooting"
    assert queued_names() == [f"act {running.pk}"]
    event = running.events.order_by("-started_at").first()
    assert (event.action, event.actor, event.outcome) == ("reboot", "alice", "running")
    assert worker.run() == ["act"]
    running.refresh_from_db()
    assert running.status == "running"
    assert running.events.get(action="reboot").outcome == "succeeded"


def test_delete_from_the_list_deletes_at_the_provider(alice_browser, aws, running, operate, worker):
    response = operate(alice_browser, "delete_instances", running)

    assert f"{running.name}: delete requested (deleting)" in messages_of(response)
    assert queued_names() == [f"delete {running.pk}"]
    worker.run()
    running.refresh_from_db()
    assert running.status == "deleted"
    assert running.events.get(action="delete").actor == "alice"
    assert provider_for(aws).get(running.provider_id).raw_status == "terminated"


def test_an_action_that_makes_no_sense_says_why_and_the_others_still_run(
    alice_browser, make_running, operate, worker
):
    gone, alive = make_running(), make_running()
    operate(alice_browser, "delete_instances", gone)
    worker.run()
    events_before = gone.events.count()

    response = operate(alice_browser, "reboot_instances", gone, alive)

    assert (
        f"{gone.name}: Instance {gone.name} is deleted: only a running instance can be rebooted"
        in messages_of(response)
    )
    assert [m.level_tag for m in response.context["messages"]].count("error") == 1
    gone.refresh_from_db()
    assert gone.status == "deleted"
    assert gone.events.count() == events_before
    assert queued_names() == [f"act {alive.pk}"]


@pytest.fixture
def carol(running):
    """Staff who may view instances, read AWSLAB-1 and operate another cloud only."""
    user = UserFactory(username="carol", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_instance"))
    readers = Group.objects.create(name="aws readers")
    CloudAccess.objects.create(group=readers, cloud=running.cloud, level="read")
    CloudAccess.objects.create(group=readers, cloud=CloudFactory(), level="operate")
    user.groups.add(readers)
    return user


def test_a_user_who_may_only_read_the_cloud_cannot_act_on_its_instances(
    client, carol, running, operate
):
    client.force_login(carol)
    events_before = running.events.count()

    listed = operate(client, "reboot_instances", running)
    page = client.get(change_url(running))
    with_button = client.post(f"{LIST}{running.pk}/operate/delete/", follow=True)

    assert f"{running.name}: you may only read cloud AWSLAB-1" in messages_of(listed)
    assert f"{running.name}: you may only read cloud AWSLAB-1" in messages_of(with_button)
    assert page.status_code == 200 and b"/operate/reboot/" not in page.content
    running.refresh_from_db()
    assert running.status == "running"
    assert running.events.count() == events_before
    assert OrmQ.objects.count() == 0


def test_instances_of_a_cloud_the_user_may_not_see_are_not_listed(client, carol, running):
    CloudAccess.objects.filter(cloud=running.cloud).delete()
    client.force_login(carol)

    assert shown(client.get(LIST)) == []
    assert client.get(change_url(running), follow=True).redirect_chain[-1][0] == "/admin/"


def test_the_change_page_reboots_with_a_button(
    alice_browser, running, django_capture_on_commit_callbacks, worker
):
    page = alice_browser.get(change_url(running)).content.decode()
    button = f"{LIST}{running.pk}/operate/reboot/"
    assert f'action="{button}"' in page
    assert alice_browser.get(button).status_code == 405

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_browser.post(button, follow=True)

    assert response.redirect_chain[-1][0] == change_url(running)
    assert queued_names() == [f"act {running.pk}"]
    worker.run()
    after = alice_browser.get(change_url(running))
    events = after.context["inline_admin_formsets"][0].formset.queryset
    assert [(e.action, e.actor) for e in events] == [("reboot", "alice"), ("create", "bob")]
    assert b"Events (newest first)" in after.content


def _task(name: str) -> Task:
    now = timezone.now()
    return Task.objects.create(
        id=uuid.uuid4().hex, name=name, func="f", started=now, stopped=now, success=True
    )


def test_the_instance_page_links_to_its_django_q2_tasks(alice_browser, running):
    _task(f"provision {running.pk}")
    _task(f"provision {uuid.uuid4()}")

    page = alice_browser.get(change_url(running)).content.decode()
    success = f"/admin/django_q/success/?q={running.pk}"
    tasks = alice_browser.get(success)

    assert f'href="{success}"' in page
    assert f'href="/admin/django_q/failure/?q={running.pk}"' in page
    assert 'href="/admin/django_q/ormq/"' in page
    assert [t.name for t in tasks.context["cl"].result_list] == [f"provision {running.pk}"]


def test_orphans_are_listed(alice_browser, aws):
    provider_for(aws).create(
        "stray",
        "t3.small",
        "ami-760aaa0f",
        CreateOptions(pcm_id="6c0a3a4e-0000-4000-8000-0000000000aa"),
    )
    reconcile_cloud(aws)

    page = alice_browser.get("/admin/instances/orphan/")

    assert Orphan.objects.count() == 1
    assert b"stray" in page.content
