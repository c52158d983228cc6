"""`manage.py pcm_config export|import`: the configuration as YAML and back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from clouds.forms import CloudForm
from clouds.models import (
    AbstractImage,
    AbstractSize,
    AbstractSubnet,
    Cloud,
    CloudAccess,
    Environment,
    ImageMapping,
    InventoryBackend,
    Role,
    SizeMapping,
    SubnetMapping,
)
from clouds.services import cloud_check

pytestmark = pytest.mark.django_db

MODELS = (
    CloudAccess,
    Role,
    SizeMapping,
    ImageMapping,
    SubnetMapping,
    Cloud,
    InventoryBackend,
    AbstractSize,
    AbstractImage,
    AbstractSubnet,
    Environment,
    Group,
)
SECRETS = ("AKIA-REAL-KEY-1234", "real-secret-5678", "inventory-token-9012")


@pytest.fixture
def rich(demo):
    """The demo configuration, plus what it lacks: Inventory backends, a disabled cloud
    without limits, another role, placement, access for groups, real credentials."""
    corp = InventoryBackend(
        name="corp-inventory",
        plugin="http",
        description="The company's Inventory",
        options={"base_url": "https://inventory.example/api", "timeout": 5},
    )
    corp.credentials = {"token": SECRETS[2]}
    corp.save()
    InventoryBackend.objects.create(
        name="lab-names", plugin="builtin", options={"template": "{environment}-{role}-{seq:04}"}
    )
    aws = Cloud.objects.get(name="AWSLAB-1")
    aws.inventory = corp
    aws.placement_group = "pcm-spread"
    aws.credentials = {"access_key": SECRETS[0], "secret_key": SECRETS[1]}
    aws.save()
    offline = Cloud.objects.create(
        name="OFFLINE-2",
        description="Line one\nline two: über, ünïcode, 'quotes' and # not a comment",
        provider="ec2",
        options={"region": "eu-west-1", "timeout": 7},
        enabled=False,
        quota_instances=3,
        default_environment=Environment.objects.get(name="prod"),
    )
    small, medium = AbstractSize.objects.get(name="small"), AbstractSize.objects.get(name="medium")
    centos = AbstractImage.objects.get(name="centos-9")
    SizeMapping.objects.create(cloud=offline, size=small, provider_size_id="123")
    ImageMapping.objects.create(cloud=offline, image=centos, provider_image_id="ami-0abc")
    cache = Role.objects.create(
        name="cache", spread_over_hosts=True, default_size=medium, default_image=centos
    )
    cache.allowed_sizes.set([medium, small])
    backend = AbstractSubnet.objects.create(name="backend", description="Behind the balancers")
    SubnetMapping.objects.create(cloud=aws, subnet=backend, provider_subnet_id="subnet-0b1")
    cache.allowed_subnets.set([backend, AbstractSubnet.objects.get(name="private")])
    cache.default_subnet = backend
    cache.save()
    aws.default_subnet = backend
    aws.save()
    operators, _ = Group.objects.get_or_create(name="operators")
    auditors = Group.objects.create(name="auditors")
    CloudAccess.objects.create(group=operators, cloud=None, level="operate")
    CloudAccess.objects.create(group=auditors, cloud=aws, level="read")
    CloudAccess.objects.create(group=auditors, cloud=offline, level="read")


def export() -> str:
    out = io.StringIO()
    call_command("pcm_config", "export", stdout=out)
    return out.getvalue()


def load(tmp_path, text: str, *args: str) -> str:
    path = tmp_path / "pcm.yaml"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("pcm_config", "import", str(path), *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def empty_the_database() -> None:
    for model in MODELS:
        model.objects.all().delete()


def test_an_export_imported_into_an_empty_database_exports_the_same_bytes(rich, tmp_path):
    first = export()
    empty_the_database()

    output = load(tmp_path, first)

    assert "0 changed, 0 unchanged" in output
    assert export() == first
    # The file says what matters: names, not ids; mappings, defaults, access.
    assert "inventory: corp-inventory" in first
    assert "small: '123'" in first  # a provider id that looks like a number stays text
    assert "- group: operators\n  cloud: null\n  level: operate" in first


def test_export_writes_a_file_with_o(rich, tmp_path):
    path = tmp_path / "out.yaml"

    call_command("pcm_config", "export", "-o", str(path), stdout=io.StringIO())

    assert path.read_text(encoding="utf-8") == export()


def test_secrets_never_appear_in_the_export(rich):
    text = export()

    for secret in SECRETS:
        assert secret not in text
    for word in ("credentials", "last_check", "breaker", "created_at"):
        assert word not in text.split("\n", 2)[2]  # the header may say "no credentials"


def test_importing_twice_changes_nothing_the_second_time(rich, tmp_path):
    text = export()
    empty_the_database()
    load(tmp_path, text)
    updated = dict(Cloud.objects.values_list("name", "updated_at"))

    output = load(tmp_path, text)

    assert output.strip().splitlines() == ["0 created, 0 changed, 22 unchanged"]
    assert dict(Cloud.objects.values_list("name", "updated_at")) == updated


def test_an_update_keeps_credentials_and_runtime_fields(rich, tmp_path):
    Cloud.objects.filter(name="AWSLAB-1").update(breaker_failures=3, last_check_ok=True)
    text = export().replace("placement_group: pcm-spread", "placement_group: other")

    output = load(tmp_path, text)

    assert 'changed cloud \'AWSLAB-1\'\n  placement_group: "pcm-spread" -> "other"' in output
    aws = Cloud.objects.get(name="AWSLAB-1")
    assert aws.credentials == {"access_key": SECRETS[0], "secret_key": SECRETS[1]}
    assert (aws.breaker_failures, aws.last_check_ok) == (3, True)
    assert InventoryBackend.objects.get(name="corp-inventory").credentials == {"token": SECRETS[2]}


def test_a_cloud_created_by_an_import_has_no_credentials_and_the_admin_asks_for_them(
    rich, tmp_path
):
    text = export()
    empty_the_database()
    load(tmp_path, text)

    aws = Cloud.objects.get(name="AWSLAB-1")
    assert aws.credentials == {}
    aws.full_clean()
    data = {
        **{name: getattr(aws, name) for name in ("name", "description", "provider")},
        "option__region": "us-east-1",
        "enabled": True,
    }
    form = CloudForm(data=data, instance=aws)
    assert not form.is_valid()
    assert "required" in str(form.errors["credential__access_key"])


def test_dry_run_shows_the_differences_and_changes_nothing(rich, tmp_path):
    text = (
        export()
        .replace("max_vcpus: 8\n  max_ram_mb: 32768", "max_vcpus: 4\n  max_ram_mb: 32768")
        .replace("medium: t3.medium", "medium: t3.large")
        .replace("name: staging", "name: qa")
    )
    before = export()

    output = load(tmp_path, text, "--dry-run")

    assert export() == before
    assert "created environment 'qa'" in output
    assert "changed cloud 'AWSLAB-1'\n  max_vcpus: 8 -> 4\n" in output
    assert 'size_mappings.medium: "t3.medium" -> "t3.large"' in output
    assert "1 created, 1 changed, 20 unchanged" in output
    assert output.endswith("Dry run: nothing was changed.\n")


def test_keys_left_out_are_left_as_they_are(rich, tmp_path):
    output = load(tmp_path, "clouds:\n- name: AWSLAB-1\n  max_vcpus: 6\n")

    assert "changed cloud 'AWSLAB-1'\n  max_vcpus: 8 -> 6\n" in output
    aws = Cloud.objects.get(name="AWSLAB-1")
    assert aws.placement_group == "pcm-spread"
    assert aws.size_mappings.count() == 4


def import_error(tmp_path, text: str) -> str:
    before = counts()
    with pytest.raises(CommandError) as error:
        load(tmp_path, text)
    assert counts() == before
    return str(error.value)


def test_an_invalid_value_gives_its_line_and_changes_nothing(rich, tmp_path):
    text = export()
    # Earlier objects are valid and new: they must not be left behind either.
    text = text.replace("environments:\n", "environments:\n- name: qa\n  description: ''\n", 1)
    text = text.replace("max_vcpus: 8\n  max_ram_mb: 32768", "max_vcpus: -1\n  max_ram_mb: 32768")
    line = text.splitlines().index("  max_vcpus: -1") + 1

    message = import_error(tmp_path, text)

    assert message.startswith(
        f"line {line}: cloud 'AWSLAB-1': max_vcpus: Ensure this value is greater than or "
        "equal to 1."
    )
    assert "nothing was changed" in message
    assert not Environment.objects.filter(name="qa").exists()


def test_a_plugin_option_error_gives_the_line_of_options(db, tmp_path):
    text = "clouds:\n- name: X\n  provider: ec2\n  options:\n    regoin: us-east-1\n"

    message = import_error(tmp_path, text)

    assert "line 4: cloud 'X': options: regoin: unknown option; accepted:" in message
    assert "line 4: cloud 'X': options: region: required" in message


def test_a_yaml_syntax_error_gives_its_line(db, tmp_path):
    message = import_error(tmp_path, "sizes:\n- name: small\n  vcpus: [1\n  ram_mb: 2\n")

    # PyYAML finds the missing "]" where the next key starts.
    assert message.startswith("line 4: not valid YAML: expected ',' or ']', but got ':'")


def test_unknown_keys_are_refused_with_their_line_and_the_accepted_keys(rich, tmp_path):
    text = "sizes:\n- name: small\n  vcpus: 1\n  cpus: 2\nflavours: []\n"

    message = import_error(tmp_path, text)

    assert "line 4: size 'small': unknown key 'cpus'; accepted: name, description, vcpus," in (
        message
    )
    assert "line 5: unknown section 'flavours'; accepted: version, inventory_backends," in message


def test_a_mapping_to_an_unknown_size_is_refused_with_its_line(rich, tmp_path):
    text = "clouds:\n- name: AWSLAB-1\n  size_mappings:\n    small: t2.small\n    huge: x1\n"

    message = import_error(tmp_path, text)

    assert message.startswith("line 5: cloud 'AWSLAB-1': size_mappings: no abstract size 'huge'")


def test_a_role_gets_the_admin_forms_rules(rich, tmp_path):
    text = "roles:\n- name: web\n  allowed_sizes:\n  - small\n  default_size: large\n"

    message = import_error(tmp_path, text)

    assert message.startswith(
        "line 5: role 'web': default_size: Must be one of the role's allowed sizes"
    )


def test_a_role_naming_an_unknown_image_gives_the_items_line(rich, tmp_path):
    text = "roles:\n- name: web\n  allowed_images:\n  - centos-9\n  - windows\n"

    assert import_error(tmp_path, text).startswith(
        "line 5: role 'web': allowed_images: no abstract image 'windows'"
    )


def test_an_object_named_twice_is_refused(db, tmp_path):
    text = "environments:\n- name: dev\n- name: qa\n- name: dev\n"

    assert import_error(tmp_path, text).startswith(
        "line 4: environment 'dev' appears twice (first on line 2)"
    )


def test_access_creates_the_group_it_names(db, tmp_path):
    load(tmp_path, "access:\n- group: viewers\n  level: read\n")

    access = CloudAccess.objects.get()
    assert (access.group.name, access.cloud, access.level) == ("viewers", None, "read")


def test_import_reads_standard_input_with_a_dash(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("environments:\n- name: qa\n"))

    call_command("pcm_config", "import", "-", stdout=io.StringIO())

    assert Environment.objects.filter(name="qa").exists()


def test_checking_a_cloud_created_by_an_import_says_its_credentials_are_missing(db, tmp_path):
    options = "  options:\n    region: us-east-1\n    endpoint: http://127.0.0.1:9\n"
    load(tmp_path, "clouds:\n- name: NEW-1\n  provider: ec2\n" + options)

    result = cloud_check(cloud=Cloud.objects.get(name="NEW-1"))

    assert not result.ok
    assert "credentials" in result.error


def test_the_example_in_the_docs_imports_into_an_empty_database(db, tmp_path):
    docs = (Path(settings.BASE_DIR) / "docs" / "configuration.md").read_text(encoding="utf-8")
    example = docs.split("```yaml\n", 1)[1].split("```", 1)[0]

    output = load(tmp_path, example)

    assert "0 changed, 0 unchanged" in output
    assert Cloud.objects.get(name="AWSLAB-1").size_mappings.get().provider_size_id == "t3.small"


def test_a_mapping_given_another_provider_id_forgets_what_was_checked_of_the_old_one(
    rich, tmp_path
):
    mapping = SizeMapping.objects.get(cloud__name="OFFLINE-2", size__name="small")
    mapping.record_check(True)
    mapping.save()
    kept = ImageMapping.objects.get(cloud__name="OFFLINE-2")
    kept.record_check(True)
    kept.save()

    load(tmp_path, export().replace("small: '123'", "small: '456'"))

    mapping.refresh_from_db()
    kept.refresh_from_db()
    assert (mapping.provider_size_id, mapping.found_at_provider, mapping.checked_at) == (
        "456",
        None,
        None,
    )
    assert kept.found_at_provider is True  # unchanged mappings keep their check
