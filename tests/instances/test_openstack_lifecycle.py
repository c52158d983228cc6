"""An instance's whole life on a real OpenStack (tests/openstack_lab.py), through the HTTP API
and a real qcluster: create, running, reboot, stop, start, console, events, delete; what
PCM does when Nova refuses an action for the server's state (409), including when someone
else acted on the server behind PCM's back; and a role that spreads over hosts, proven on
Nova's real scheduler with two compute hosts."""

from __future__ import annotations

import re
import uuid

import pytest

from instances.models import Instance
from tests.instances.test_qcluster import running_qcluster, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.openstack,
    pytest.mark.usefixtures("cluster"),
]

URL = "/pcm_api/v2/clouds/SNV-LAB-1/instances"


@pytest.fixture
def cluster(tmp_path):
    """A real qcluster (two workers) on the test database, looking again every second."""
    with running_qcluster(tmp_path / "qcluster.log") as process:
        yield process
        assert process.poll() is None  # it did not crash meanwhile


def status_of(instance_id: str) -> str:
    return Instance.objects.get(pk=instance_id).status


def wait_for_status(instance_id: str, status: str, seconds: float = 90) -> Instance:
    assert wait_for(lambda: status_of(instance_id) == status, seconds), (
        f"still {status_of(instance_id)}, not {status}"
    )
    return Instance.objects.get(pk=instance_id)


def events(client_api, instance_id: str) -> list[tuple[str, str, str]]:
    listed = client_api.get(f"{URL}/{instance_id}/events").json()["results"]
    return [(event["action"], event["outcome"], event["detail"]) for event in listed]


def running_instance(client_api, **body) -> dict:
    created = client_api.post(URL, {"size": "small", **body})
    assert created.status_code == 202, created.json()
    wait_for_status(created.json()["id"], "running")
    return client_api.get(f"{URL}/{created.json()['id']}").json()


def nova_action(openstack, tenant, server_id: str, action: dict) -> None:
    """What an operator does in the cloud's own console, behind PCM's back."""
    tenant.api().call("POST", f"{openstack.compute}/servers/{server_id}/action", json=action)


def test_an_instance_lives_its_whole_life_at_real_openstack(client_api, snv_openstack, openstack):
    created = client_api.post(URL, {"size": "small", "role": "web"})
    assert created.status_code == 202
    body = created.json()
    assert body["status"] == "pending" and body["name"] == "dev-web-001"

    instance = wait_for_status(body["id"], "running")
    shown = client_api.get(f"{URL}/{body['id']}").json()
    assert (shown["provider_status"], shown["provider_id"]) == ("ACTIVE", instance.provider_id)
    assert shown["private_ips"][0].startswith("10.20.")  # an address on Neutron's network
    server = openstack.server(instance.provider_id)
    assert server["metadata"]["pcm_id"] == body["id"]
    assert (server["name"], server["flavor"]["id"]) == ("dev-web-001", "m1.small")

    for status, then in (("reboot", "running"), ("stopped", "stopped"), ("running", "running")):
        assert client_api.put(f"{URL}/{body['id']}", {"status": status}).status_code == 202
        wait_for_status(body["id"], then)
    assert openstack.server(instance.provider_id)["status"] == "ACTIVE"

    console = client_api.get(f"{URL}/{body['id']}/console_log")
    assert console.status_code == 200 and console["Content-Type"].startswith("text/plain")
    assert console.content.decode() == "FAKE CONSOLE OUTPUT\nANOTHER\nLAST LINE"

    assert client_api.delete(f"{URL}/{body['id']}").status_code == 202
    wait_for_status(body["id"], "deleted")
    assert wait_for(lambda: _forgotten(openstack, instance.provider_id), 30)
    assert [(action, outcome) for action, outcome, _ in events(client_api, body["id"])] == [
        ("create", "succeeded"),
        ("reboot", "succeeded"),
        ("stop", "succeeded"),
        ("start", "succeeded"),
        ("delete", "succeeded"),
    ]


def test_a_reboot_while_the_instance_builds_is_a_409_that_says_why(client_api, snv_openstack):
    body = client_api.post(URL, {"size": "small"}).json()

    refused = client_api.put(f"{URL}/{body['id']}", {"status": "reboot"})

    assert refused.status_code == 409
    assert refused.json()["message"] in (
        f"Instance {body['name']} is pending: only a running instance can be rebooted",
        f"Instance {body['name']} is building: only a running instance can be rebooted",
    )
    wait_for_status(body["id"], "running")  # the create went on: nothing failed


def test_a_reboot_nova_refuses_while_a_task_runs_waits_for_it_and_then_reboots(
    client_api, snv_openstack, openstack, openstack_tenant
):
    shown = running_instance(client_api)
    server_id = shown["provider_id"]

    # Someone hard-reboots the server in the cloud's console; PCM's reboot comes meanwhile.
    nova_action(openstack, openstack_tenant, server_id, {"reboot": {"type": "HARD"}})
    assert client_api.put(f"{URL}/{shown['id']}", {"status": "reboot"}).status_code == 202

    assert wait_for(lambda: events(client_api, shown["id"])[-1][1] != "running", 90)
    action, outcome, detail = events(client_api, shown["id"])[-1]
    assert (action, outcome) == ("reboot", "succeeded")
    assert detail.startswith("Waited for the cloud: The cloud refused the reboot")
    # Nova's 409 said why: rebooting_hard, reboot_pending_hard or reboot_started_hard
    assert re.search(r"task_state \w+_hard", detail), detail
    wait_for_status(shown["id"], "running")
    actions = openstack_tenant.api().call(
        "GET", f"{openstack.compute}/servers/{server_id}/os-instance-actions"
    )["instanceActions"]
    assert [a["action"] for a in actions].count("reboot") == 2  # the console's, then PCM's


def stopped_behind_pcms_back(client_api, openstack, tenant) -> dict:
    """A running instance whose server someone then stops in the cloud's console."""
    shown = running_instance(client_api)
    nova_action(openstack, tenant, shown["provider_id"], {"os-stop": None})
    openstack.wait_for(shown["provider_id"], lambda server: server["status"] == "SHUTOFF")
    return shown


def test_a_stop_of_a_server_stopped_behind_pcms_back_is_done(
    client_api, snv_openstack, openstack, openstack_tenant
):
    shown = stopped_behind_pcms_back(client_api, openstack, openstack_tenant)

    assert client_api.put(f"{URL}/{shown['id']}", {"status": "stopped"}).status_code == 202

    instance = wait_for_status(shown["id"], "stopped")
    assert instance.last_error == ""
    assert events(client_api, shown["id"])[-1] == ("stop", "succeeded", "the node was stopped")


def test_a_reboot_of_a_server_stopped_behind_pcms_back_fails_and_shows_it_stopped(
    client_api, snv_openstack, openstack, openstack_tenant
):
    shown = stopped_behind_pcms_back(client_api, openstack, openstack_tenant)

    assert client_api.put(f"{URL}/{shown['id']}", {"status": "reboot"}).status_code == 202

    instance = wait_for_status(shown["id"], "stopped")  # what the cloud says: not error
    assert instance.last_error.startswith("The cloud refused the reboot in the node's present")
    assert "vm_state stopped" in instance.last_error
    assert events(client_api, shown["id"])[-1][:2] == ("reboot", "failed")


def test_a_server_no_host_can_take_is_error_with_novas_reason(client_api, snv_openstack, catalogue):
    from tests.factories import AbstractSizeFactory, SizeMappingFactory

    huge = AbstractSizeFactory(name="huge", vcpus=64, ram_mb=1024, disk_gb=1)
    SizeMappingFactory(cloud=snv_openstack, size=huge, provider_size_id="m1.huge")

    body = client_api.post(URL, {"size": "huge"}).json()

    instance = wait_for_status(body["id"], "error")
    assert instance.last_error.startswith("No valid host was found")
    assert client_api.get(f"{URL}/{body['id']}").json()["last_error"] == instance.last_error


def test_a_role_that_spreads_puts_its_instances_on_different_hosts(
    client_api, snv_openstack, openstack
):
    # Four creates at once: two of role web (spreads over hosts), two of role db (does not).
    # The lab's scheduler stacks servers on the fullest host: without a hint they share one.
    ids = {
        role: [
            client_api.post(URL, {"role": role, "size": "medium"}).json()["id"] for _ in range(2)
        ]
        for role in ("web", "db")
    }

    for instance_id in ids["web"] + ids["db"]:
        wait_for_status(instance_id, "running", 120)
    hosts = {
        role: [openstack.host_of(Instance.objects.get(pk=i).provider_id) for i in role_ids]
        for role, role_ids in ids.items()
    }
    assert len(set(hosts["web"])) == 2, hosts  # different_host kept them apart
    assert len(set(hosts["db"])) == 1, hosts  # the control: no hint, one host


def test_reconciliation_reads_every_page_and_takes_two_listings_to_call_a_node_gone(
    client_api, snv_openstack, openstack, openstack_tenant, settings
):
    from instances.models import Orphan
    from instances.worker.reconcile import reconcile_cloud

    ids = [client_api.post(URL, {"size": "small"}).json()["id"] for _ in range(4)]
    stray = openstack_tenant.api().call(  # a node with PCM's tag that no row knows
        "POST",
        f"{openstack.compute}/servers",
        json={
            "server": {
                "name": "stray",
                "flavorRef": "m1.tiny",
                "imageRef": openstack.info["image"],
                "metadata": {"pcm_id": str(uuid.uuid4())},
            }
        },
    )["server"]["id"]
    for instance_id in ids:
        wait_for_status(instance_id, "running")
    openstack.wait_for(stray, lambda server: server["status"] == "ACTIVE")

    counts = reconcile_cloud(snv_openstack)  # five servers: two pages of Nova's three

    assert counts["absent"] == 0 and counts["deleted"] == 0
    assert Orphan.objects.filter(cloud=snv_openstack, provider_id=stray).exists()
    assert {status_of(i) for i in ids} == {"running"}

    # Someone deletes one instance's server in the cloud's console.
    settings.PCM_VISIBILITY_GRACE = 0
    settings.PCM_ABSENCE_GAP = 0
    gone = Instance.objects.get(pk=ids[0])
    openstack_tenant.api().call("DELETE", f"{openstack.compute}/servers/{gone.provider_id}")
    assert wait_for(lambda: _forgotten(openstack, gone.provider_id), 30)

    reconcile_cloud(snv_openstack)
    assert status_of(ids[0]) == "running"  # one listing without it proves nothing
    reconcile_cloud(snv_openstack)
    assert status_of(ids[0]) == "deleted"
    assert {status_of(i) for i in ids[1:]} == {"running"}


def _forgotten(openstack, server_id: str) -> bool:
    """Nova answers 404 for the server (it shows a deleted one DELETED for a moment first)."""
    try:
        openstack.server(server_id)
    except RuntimeError as exc:
        return ": 404 " in str(exc)
    return False
