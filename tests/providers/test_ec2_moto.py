"""The EC2 plugin against moto, an EC2-compatible endpoint (PEERS.md)."""

from __future__ import annotations

import subprocess
import time

import pytest
from libcloud.compute.drivers.ec2 import EC2NodeDriver

from providers.base import CreateOptions, ExtraError, NotFoundAtProvider, ProviderError
from providers.ec2 import EC2Provider
from providers.status import Status
from tests import peers

KEYS = {"access_key": "AKIDPCMTESTING", "secret_key": "pcm-moto-secret-value"}
AMI = "ami-03cf127a"  # one of the AMIs moto ships


def provider(url: str, credentials=KEYS, **options) -> EC2Provider:
    settings = {"region": "us-east-1", "endpoint": url, "timeout": 10, **options}
    return EC2Provider(EC2Provider.validate_options(settings), credentials)


@pytest.fixture
def ec2(moto) -> EC2Provider:
    return provider(moto.url)


def test_it_lists_sizes_images_and_locations(ec2):
    sizes = {size.id: size for size in ec2.list_sizes()}
    images = {image.id: image for image in ec2.list_images()}
    locations = [location.name for location in ec2.list_locations()]

    assert sizes["t3.small"].vcpus == 2 and sizes["t3.small"].ram_mb == 2048
    assert AMI in images and images[AMI].name
    assert "us-east-1a" in locations


def test_stock_libcloud_sees_nothing_at_moto_and_the_compatible_driver_does(moto, ec2):
    node = ec2.create("web-1", "t3.small", AMI, CreateOptions(pcm_id="p-1"))
    stock = EC2NodeDriver(
        KEYS["access_key"],
        KEYS["secret_key"],
        region="us-east-1",
        secure=False,
        host="127.0.0.1",
        port=int(moto.url.rsplit(":", 1)[1]),
        signature_version="4",
    )

    assert stock.list_nodes() == []  # the namespace quirk: libcloud's XPath finds nothing
    assert [n.provider_id for n in ec2.list()] == [node.provider_id]


def test_create_tags_the_node_and_get_list_and_find_see_it(ec2):
    node = ec2.create("web-1", "t3.small", AMI, CreateOptions(pcm_id="pcm-0001"))

    assert node.provider_id.startswith("i-")
    assert node.name == "web-1"
    assert (node.status, node.raw_status) == (Status.BUILDING, "pending")
    assert node.pcm_id == "pcm-0001"
    fetched = ec2.get(node.provider_id)
    assert (fetched.status, fetched.raw_status) == (Status.RUNNING, "running")
    assert [n.provider_id for n in ec2.list()] == [node.provider_id]
    assert ec2.find("pcm-0001").provider_id == node.provider_id
    assert ec2.find("pcm-9999") is None


def test_get_many_asks_for_several_nodes_at_once_and_survives_an_unknown_id(ec2):
    ids = [
        ec2.create(f"web-{n}", "t3.small", AMI, CreateOptions(pcm_id=f"p{n}")).provider_id
        for n in range(3)
    ]
    unknown = "i-0123456789abcdef0"

    nodes = ec2.get_many(ids)
    with_unknown = ec2.get_many([ids[0], unknown])

    assert {provider_id: node.status for provider_id, node in nodes.items()} == dict.fromkeys(
        ids, Status.RUNNING
    )
    assert ec2.gets_many_in_one_call
    assert with_unknown[ids[0]].provider_id == ids[0]
    assert with_unknown[unknown] is None


def test_power_operations_and_the_console(ec2):
    node_id = ec2.create("web-1", "t3.small", AMI, CreateOptions(pcm_id="p")).provider_id

    ec2.reboot(node_id)
    assert ec2.get(node_id).status == Status.RUNNING
    ec2.stop(node_id)
    assert (ec2.get(node_id).status, ec2.get(node_id).raw_status) == (Status.STOPPED, "stopped")
    ec2.start(node_id)
    assert ec2.get(node_id).status == Status.RUNNING
    assert "Linux version" in ec2.console_log(node_id)


def test_destroy_leaves_a_terminated_node(ec2):
    node_id = ec2.create("web-1", "t3.small", AMI, CreateOptions(pcm_id="p")).provider_id

    ec2.destroy(node_id)

    node = ec2.get(node_id)
    assert (node.status, node.raw_status) == (Status.DELETED, "terminated")


def test_unknown_ids_are_answers_not_errors(ec2):
    assert ec2.get("i-0123456789abcdef0") is None
    assert ec2.get_image("ami-00000000") is None
    assert ec2.get_image(AMI).id == AMI
    with pytest.raises(NotFoundAtProvider):
        ec2.destroy("i-0123456789abcdef0")


def test_a_wrong_mapping_is_a_permanent_error_that_names_it(ec2):
    with pytest.raises(ProviderError) as error:
        ec2.create("web-1", "t3.nonexistent", AMI, CreateOptions(pcm_id="p"))

    assert error.value.transient is False
    assert "t3.nonexistent" in error.value.message


def test_extra_becomes_ex_arguments_and_reaches_moto(ec2):
    ec2.driver.create_key_pair("deploy")

    node = ec2.create(
        "web-1",
        "t3.small",
        AMI,
        CreateOptions(pcm_id="p-7", extra={"keyname": "deploy", "metadata": {"team": "blue"}}),
    )

    tags = ec2.driver.list_nodes(ex_node_ids=[node.provider_id])[0].extra["tags"]
    assert tags == {"team": "blue", "pcm_id": "p-7", "Name": "web-1"}
    assert ec2.driver.list_nodes()[0].extra["key_name"] == "deploy"


def test_an_unknown_extra_key_lists_the_accepted_ones():
    with pytest.raises(ExtraError) as error:
        EC2Provider.extra_kwargs({"keyname": "k", "flavour": "x"})

    assert error.value.unknown == ["flavour"]
    assert "keyname" in error.value.accepted and "clienttoken" not in error.value.accepted
    assert "maxcount" not in error.value.accepted  # one request, one instance


def test_a_cloud_that_is_down_is_a_transient_error(tmp_path):
    ec2 = provider(peers.closed_port_url(), timeout=2)
    started = time.monotonic()

    with pytest.raises(ProviderError) as error:
        ec2.list()

    assert error.value.transient is True
    assert "Cannot reach the cloud" in error.value.message
    assert time.monotonic() - started < 2


def test_a_cloud_that_never_answers_is_cut_at_the_timeout():
    with peers.black_hole() as url:
        ec2 = provider(url, timeout=1)
        started = time.monotonic()
        with pytest.raises(ProviderError) as error:
            ec2.list()
        elapsed = time.monotonic() - started

    assert error.value.transient is True
    assert "did not answer the list within 1 s" in error.value.message
    assert elapsed < 3  # one timeout, not libcloud's 60 s, and reads are not retried on it


def test_a_create_is_not_resent_after_a_timeout():
    with peers.black_hole() as url:
        ec2 = provider(url, timeout=1)
        started = time.monotonic()
        with pytest.raises(ProviderError):
            ec2.create("web-1", "t3.small", AMI, CreateOptions(pcm_id="p"))

    assert time.monotonic() - started < 2


@pytest.fixture(scope="module")
def moto_with_auth(peers_dir):
    """moto checking credentials: the first three calls (which create our IAM user) are free."""
    with peers.moto_server(peers_dir, INITIAL_NO_AUTH_ACTION_COUNT="3") as moto:
        script = f"""
import boto3, json
iam = boto3.client("iam", endpoint_url="{moto.url}", region_name="us-east-1",
                   aws_access_key_id="x", aws_secret_access_key="x")
iam.create_user(UserName="pcm")
allow_all = {{"Effect": "Allow", "Action": "*", "Resource": "*"}}
iam.put_user_policy(UserName="pcm", PolicyName="all", PolicyDocument=json.dumps(
    {{"Version": "2012-10-17", "Statement": [allow_all]}}))
key = iam.create_access_key(UserName="pcm")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
"""
        result = subprocess.run(
            [str(peers.PEERS_BIN / "python"), "-c", script],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        access_key, secret_key = result.stdout.split()
        moto.credentials = {"access_key": access_key, "secret_key": secret_key}
        yield moto


def test_valid_credentials_work_with_authentication_on(moto_with_auth):
    ec2 = provider(moto_with_auth.url, credentials=moto_with_auth.credentials)

    node = ec2.create("web-1", "t3.small", AMI, CreateOptions(pcm_id="auth-1"))

    assert ec2.get(node.provider_id).pcm_id == "auth-1"


def test_wrong_credentials_are_a_permanent_error_that_shows_no_secret(moto_with_auth):
    wrong = {"access_key": "AKIDWRONGWRONG", "secret_key": "pcm-wrong-secret-4711"}
    ec2 = provider(moto_with_auth.url, credentials=wrong)

    with pytest.raises(ProviderError) as error:
        ec2.list()

    assert error.value.transient is False
    assert "refused the credentials" in error.value.message
    assert "pcm-wrong-secret-4711" not in error.value.message + error.value.provider_detail


def test_an_elastic_ip_is_read_from_the_instances_answer_without_a_second_call(moto):
    from tests import fault_proxy

    recorded = fault_proxy.Faults()  # no fault: it forwards and records the EC2 actions
    with fault_proxy.proxy(moto.url, recorded) as url:
        ec2 = provider(url)
        node = ec2.create("web-1", "t3.small", AMI, CreateOptions(pcm_id="p-eip"))
        driver = ec2.driver
        address = driver.ex_allocate_address()
        driver.ex_associate_address_with_node(driver.list_nodes([node.provider_id])[0], address)
        before = len(recorded.seen)

        fetched = ec2.get(node.provider_id)
        listed = {n.provider_id: n for n in ec2.list()}

        actions = [action for action, _ in recorded.seen[before:]]
    assert address.ip in fetched.public_ips
    assert address.ip in listed[node.provider_id].public_ips
    assert len(fetched.public_ips) == len(set(fetched.public_ips))  # not twice
    assert actions == ["DescribeInstances", "DescribeInstances"]  # no DescribeAddresses
