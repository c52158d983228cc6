"""A create's subnet, SSH keys, user data and tags, through the HTTP API to moto: what the
API takes and refuses, what it shows, and what the EC2 instance ends up with."""

from __future__ import annotations

import base64
import email
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from libcloud.compute.drivers.ec2 import NAMESPACE
from libcloud.utils.xml import findtext

from clouds.services import provider_for
from instances.models import Instance
from tests.factories import AbstractSubnetFactory, CloudFactory, SubnetMappingFactory

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def openssh_key(private, comment: str) -> str:
    public = private.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    return f"{public.decode()} {comment}"


# Real OpenSSH public keys, made by the cryptography library.
ED25519 = openssh_key(ed25519.Ed25519PrivateKey.generate(), "alice@laptop")
RSA = openssh_key(rsa.generate_private_key(public_exponent=65537, key_size=2048), "bob@ci")
SCRIPT = "#!/bin/sh\necho hello from the client > /tmp/hello\n"


@pytest.fixture
def subnets(aws):
    """moto's default subnets mapped: `front` (the cloud's default) and `back`."""
    found = sorted(provider_for(aws).list_subnets(), key=lambda subnet: subnet.id)
    front = AbstractSubnetFactory(name="front", description="The balancers' side")
    back = AbstractSubnetFactory(name="back")
    SubnetMappingFactory(cloud=aws, subnet=front, provider_subnet_id=found[0].id)
    SubnetMappingFactory(cloud=aws, subnet=back, provider_subnet_id=found[1].id)
    aws.default_subnet = front
    aws.save()
    return {"front": found[0].id, "back": found[1].id}


def ec2_node(aws, provider_id: str):
    (node,) = provider_for(aws).driver.list_nodes(ex_node_ids=[provider_id])
    return node


def user_data_at_ec2(aws, provider_id: str) -> str:
    """DescribeInstanceAttribute userData, decoded: what the instance boots with."""
    driver = provider_for(aws).driver
    params = {
        "Action": "DescribeInstanceAttribute",
        "InstanceId": provider_id,
        "Attribute": "userData",
    }
    answer = driver.connection.request(driver.path, params=params).object
    value = findtext(answer, "userData/value", NAMESPACE)
    return base64.b64decode(value or "").decode()


def test_subnet_keys_user_data_and_tags_reach_the_ec2_instance(client_api, aws, subnets, worker):
    response = client_api.post(
        URL,
        {
            "size": "small",
            "subnet": "back",
            "ssh_keys": [ED25519, RSA],
            "user_data": SCRIPT,
            "tags": {"team": "web", "cost centre": "4711"},
        },
    )

    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["subnet"] == "back"
    assert body["ssh_keys"] == [ED25519, RSA]
    assert body["tags"] == {"cost centre": "4711", "team": "web"}
    assert body["user_data_sha256"] == hashlib.sha256(SCRIPT.encode()).hexdigest()
    assert body["user_data_size"] == len(SCRIPT)
    assert "user_data" not in body

    worker.run()

    instance = client_api.get(f"{URL}/{body['id']}").json()
    assert instance["status"] == "running"
    node = ec2_node(aws, instance["provider_id"])
    assert node.extra["subnet_id"] == subnets["back"]
    assert node.extra["tags"] == {
        "Name": instance["name"],  # libcloud's, from the create
        "pcm_id": body["id"],
        "team": "web",
        "cost centre": "4711",
    }
    # One multipart message: the client's script and PCM's cloud-config with the keys.
    message = email.message_from_string(user_data_at_ec2(aws, instance["provider_id"]))
    assert message.is_multipart()
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.get_payload()
    }
    assert parts["text/x-shellscript"] == SCRIPT
    config = parts["text/cloud-config"]
    assert config.startswith("#cloud-config\nssh_authorized_keys:\n")
    assert f'  - "{ED25519}"' in config and f'  - "{RSA}"' in config
    # Erased once the node exists: no create needs it again.
    assert Instance.objects.get(pk=body["id"]).secrets_encrypted == ""


def test_without_a_subnet_the_cloud_default_applies_and_keys_alone_are_a_cloud_config(
    client_api, aws, subnets, worker
):
    body = client_api.post(URL, {"size": "small", "ssh_keys": [ED25519]}).json()
    assert body["subnet"] == "front"
    assert body["user_data_sha256"] is None and body["user_data_size"] is None

    worker.run()

    provider_id = client_api.get(f"{URL}/{body['id']}").json()["provider_id"]
    assert ec2_node(aws, provider_id).extra["subnet_id"] == subnets["front"]
    assert user_data_at_ec2(aws, provider_id).startswith(
        f'#cloud-config\nssh_authorized_keys:\n  - "{ED25519}"\n'
    )


def test_a_cloud_without_subnets_configured_creates_as_before(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small"}).json()

    assert body["subnet"] is None and body["tags"] == {} and body["ssh_keys"] == []
    worker.run()
    assert client_api.get(f"{URL}/{body['id']}").json()["status"] == "running"


def test_the_user_data_is_encrypted_at_rest(client_api, aws):
    secret = "#cloud-config\npassword: hunter2-very-secret\n"
    body = client_api.post(URL, {"size": "small", "user_data": secret}).json()

    row = Instance.objects.get(pk=body["id"])
    assert row.user_data == secret
    assert "hunter2" not in row.secrets_encrypted
    assert "hunter2" not in str(Instance.objects.filter(pk=body["id"]).values().get())
    events = client_api.get(f"{URL}/{body['id']}/events").json()
    assert "hunter2" not in str(events)


def test_the_role_default_and_allow_list_decide_the_subnet(client_api, aws, subnets, catalogue):
    web = catalogue["web"]
    web.allowed_subnets.set([AbstractSubnetFactory(name="back")])
    web.default_subnet = web.allowed_subnets.get()
    web.save()

    assert client_api.post(URL, {"role": "web"}).json()["subnet"] == "back"
    refused = client_api.post(URL, {"role": "web", "subnet": "front"})
    assert refused.status_code == 400
    assert refused.json()["message"] == "Role web does not allow subnet front; allowed: back"


def test_subnets_are_listed_like_sizes_and_images(api, aws, subnets):
    top = api.get("/pcm_api/v2/subnets").json()["results"]
    per_cloud = api.get("/pcm_api/v2/clouds/AWSLAB-1/subnets").json()["results"]
    one = api.get("/pcm_api/v2/subnets/front")

    assert top == [
        {"name": "back", "description": "", "clouds": ["AWSLAB-1"]},
        {"name": "front", "description": "The balancers' side", "clouds": ["AWSLAB-1"]},
    ]
    assert per_cloud == [
        {"name": "back", "provider_subnet_id": subnets["back"], "description": ""},
        {
            "name": "front",
            "provider_subnet_id": subnets["front"],
            "description": "The balancers' side",
        },
    ]
    assert one.json()["name"] == "front"
    assert api.get("/pcm_api/v2/subnets/nowhere").json() == {
        "error": "404",
        "message": "Subnet nowhere does not exist",
    }
    assert api.get("/pcm_api/v2/clouds/AWSLAB-1").json()["defaults"]["subnet"] == "front"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"subnet": "nowhere"}, "Subnet nowhere does not exist; accepted: back, front"),
        (
            {"subnet": "lonely"},
            "Subnet lonely is not offered by cloud AWSLAB-1; accepted: back, front",
        ),
        ({"subnet": 7}, "subnet must be a string (a name), or left out"),
        ({"ssh_keys": ED25519}, "ssh_keys must be a list of OpenSSH public keys"),
        ({"ssh_keys": [ED25519] * 17}, "ssh_keys: at most 16 keys, 17 given"),
        ({"ssh_keys": ["not a key"]}, "ssh_keys[0]: unknown key type 'not'"),
        ({"ssh_keys": ["ssh-rsa"]}, "ssh_keys[0] is not an OpenSSH public key"),
        ({"ssh_keys": ["ssh-dss AAAAB3NzaC1kc3MAAACBAP1"]}, "ssh_keys[0]: unknown key type"),
        (
            {"ssh_keys": [ED25519.replace("ssh-ed25519", "ssh-rsa")]},
            "ssh_keys[0]: the base64 body is not a ssh-rsa key",
        ),
        ({"ssh_keys": ["ssh-ed25519 AAAA%%%%"]}, "ssh_keys[0] is not an OpenSSH public key"),
        ({"ssh_keys": [ED25519 + "\nssh-rsa AAAA"]}, "is not an OpenSSH public key"),
        ({"user_data": {"packages": []}}, "user_data must be a string"),
        ({"user_data": "x" * (16 * 1024 + 1)}, "the limit is 16384 bytes (16 KiB, EC2's)"),
        (
            {"user_data": "x" * (16 * 1024 - 10), "ssh_keys": [ED25519]},
            "user_data with the ssh_keys comes to",
        ),
        ({"tags": ["team"]}, "tags must be an object of strings"),
        ({"tags": {"team": 1}}, "tags.team: the value must be a string"),
        ({"tags": {"pcm_id": "x"}}, "tags: the key 'pcm_id' is PCM's own"),
        ({"tags": {"pcm:owner": "x"}}, "tags: the key 'pcm:owner' is PCM's own"),
        ({"tags": {"k" * 129: "x"}}, "tags: the key"),
        ({"tags": {"a\nb": "x"}}, "is not accepted: 1 to 128 letters"),
        ({"tags": {"team": "v" * 257}}, "the value must be at most 256 characters"),
        ({"tags": {"team": "a\x01b"}}, "without control characters"),
        (
            {"tags": {"team": "a\x00b"}},
            "NUL characters (\\u0000) are not accepted: field tags.team",
        ),
        ({"tags": {f"k{n}": "v" for n in range(51)}}, "tags: at most 50 tags, 51 given"),
        (
            {"user_data": SCRIPT, "extra": {"ec2": {"userdata": "x"}}},
            "Give ssh_keys and user_data or extra.ec2.userdata, not both",
        ),
        (
            {"subnet": "front", "extra": {"ec2": {"subnet": "subnet-1"}}},
            "Give subnet or extra.ec2.subnet, not both",
        ),
    ],
)
def test_bad_input_for_the_new_fields_is_a_400_that_says_why(
    client_api, aws, subnets, payload, message
):
    SubnetMappingFactory(
        cloud=CloudFactory(name="ELSEWHERE"), subnet=AbstractSubnetFactory(name="lonely")
    )

    response = client_api.post(URL, {"size": "small", **payload})

    assert response.status_code == 400, response.json()
    assert message in response.json()["message"]
    assert not Instance.objects.exists()


def test_a_cloud_that_takes_no_user_data_refuses_keys_rather_than_dropping_them(api, catalogue):
    CloudFactory(
        name="AZ-1",
        provider="azure_arm",
        options={
            "tenant_id": "t",
            "subscription_id": "s",
            "resource_group": "pcm",
            "location": "westeurope",
        },
        credentials={"client_id": "c", "client_secret": "s"},
        default_environment=catalogue["dev"],
    )

    response = api.post("/pcm_api/v2/clouds/AZ-1/instances", {"ssh_keys": [ED25519]}, format="json")

    assert response.status_code == 400
    assert "takes no user data" in response.json()["message"]


# -- extra: declared types, privileged and sensitive keys ---------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"keyname": 5}, "extra.ec2: keyname must be a string"),
        ({"security_group_ids": "sg-1"}, "extra.ec2: security_group_ids must be a list of strings"),
        ({"assign_public_ip": "yes"}, "extra.ec2: assign_public_ip must be true or false"),
        ({"metadata": {"a": 1}}, "extra.ec2: metadata must be an object of strings"),
        ({"iamprofile": "admin"}, "extra.ec2: iamprofile is a privileged option"),
        ({"clienttoken": "x"}, "extra.ec2: Unknown extra option(s) clienttoken"),
    ],
)
def test_extra_values_of_the_wrong_type_or_privileged_are_400s(client_api, aws, extra, message):
    response = client_api.post(URL, {"size": "small", "extra": {"ec2": extra}})

    assert response.status_code == 400
    assert message in response.json()["message"]


def test_a_cloud_that_allows_a_privileged_key_takes_it_and_only_what_it_lists(client_api, aws):
    aws.extra_allowed = ["iamprofile", "keyname"]
    aws.full_clean()
    aws.save()

    assert (
        client_api.post(URL, {"size": "small", "extra": {"ec2": {"iamprofile": "p"}}}).status_code
        == 202
    )
    refused = client_api.post(URL, {"size": "small", "extra": {"ec2": {"spot": True}}})
    assert refused.status_code == 400
    assert "spot is not among the cloud's options" in refused.json()["message"]
    assert "accepted: iamprofile, keyname" in refused.json()["message"]


def test_an_allow_list_with_an_unknown_key_is_refused_on_save(aws):
    from django.core.exceptions import ValidationError

    aws.extra_allowed = ["flavour"]
    with pytest.raises(ValidationError) as error:
        aws.full_clean()
    assert "ec2 takes no extra option(s) flavour" in str(error.value)


def test_an_extra_subnet_id_reaches_ec2_and_a_sensitive_member_is_never_shown(
    client_api, aws, subnets, worker
):
    script = "#!/bin/sh\necho the-secret-token-8812\n"
    body = client_api.post(
        URL,
        {"size": "small", "extra": {"ec2": {"subnet": subnets["back"], "userdata": script}}},
    ).json()

    assert body["extra"] == {"subnet": subnets["back"]}
    assert body["subnet"] is None  # the network is the extra's, not a default subnet
    row = Instance.objects.get(pk=body["id"])
    assert "userdata" not in row.extra and "the-secret" not in row.secrets_encrypted
    assert row.secret_extra == {"userdata": script}

    worker.run()

    instance = client_api.get(f"{URL}/{body['id']}").json()
    assert instance["status"] == "running", instance["last_error"]
    assert ec2_node(aws, instance["provider_id"]).extra["subnet_id"] == subnets["back"]
    assert user_data_at_ec2(aws, instance["provider_id"]) == script
    assert "the-secret" not in str(client_api.get(f"{URL}/{body['id']}/events").json())
    assert Instance.objects.get(pk=body["id"]).secrets_encrypted == ""


def test_openstack_networks_must_be_ids_and_security_groups_names(api, catalogue):
    """Nova refuses a network given by name ("Bad networks format"): a 400 here, not an
    error in the worker."""
    from tests.factories import ImageMappingFactory, SizeMappingFactory

    cloud = CloudFactory(
        name="OS-1",
        provider="openstack",
        options={"auth_url": "http://127.0.0.1:9", "timeout": 2},
        credentials={"username": "u", "password": "p"},
        default_environment=catalogue["dev"],
        default_image=catalogue["images"]["centos-9"],
    )
    SizeMappingFactory(cloud=cloud, size=catalogue["sizes"]["small"], provider_size_id="m1")
    ImageMappingFactory(cloud=cloud, image=catalogue["images"]["centos-9"], provider_image_id="i")
    url = "/pcm_api/v2/clouds/OS-1/instances"

    def post(extra):
        return api.post(url, {"size": "small", "extra": {"openstack": extra}}, format="json")

    by_name = post({"networks": ["private"]})
    assert by_name.status_code == 400
    assert "networks must be a list of ids (UUIDs" in by_name.json()["message"]
    assert post({"security_groups": [{"name": "default"}]}).status_code == 400
    assert (
        post({"admin_pass": "x"})
        .json()["message"]
        .startswith("extra.openstack: admin_pass is a privileged option")
    )
    accepted = post(
        {"networks": ["5e535e6f-d9ff-4ad8-b2e9-9206da62ecd3"], "security_groups": ["default"]}
    )
    assert accepted.status_code == 202, accepted.json()
