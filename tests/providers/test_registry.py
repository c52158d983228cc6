"""The plugin registry: built-ins, entry points found on demand, and option validation."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from providers import docs, registry
from providers.base import ConfigError
from providers.ec2 import EC2Provider
from tests.factories import CloudFactory


@pytest.fixture
def plugin_dir(tmp_path):
    """A directory on sys.path where a test installs a plugin distribution, as pip would."""
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    registry.reload()


def install_plugin(where, *, dist: str, module: str, key: str, entry: str | None = None) -> None:
    (where / f"{module}.py").write_text(
        textwrap.dedent(
            f"""
            from providers.base import Option, Provider

            class ToyProvider(Provider):
                key = {key!r}
                label = "Toy cloud"
                options = (Option("zone", required=True),)
            """
        )
    )
    info = where / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[pcm.providers]\n{entry or key} = {module}:ToyProvider\n"
    )


def test_the_built_in_plugins_are_registered():
    assert registry.get("ec2") is EC2Provider
    assert {"ec2", "openstack"} <= set(registry.plugins())
    assert ("ec2", "Amazon EC2 / EC2-compatible") in registry.choices()


def test_an_unknown_key_names_the_known_ones():
    with pytest.raises(registry.UnknownProvider) as error:
        registry.get("vmware")

    assert "vmware" in str(error.value) and "ec2" in str(error.value)


@pytest.mark.django_db
def test_a_plugin_installed_later_is_found_without_a_restart(plugin_dir):
    assert "toy" not in registry.plugins()

    install_plugin(plugin_dir, dist="pcm_toy", module="pcm_toy_plugin", key="toy")

    assert registry.get("toy").label == "Toy cloud"
    cloud = CloudFactory.build(provider="toy", options={"zone": "z1"}, credentials={})
    cloud.full_clean()  # a new plugin needs no migration: the key is a plain string


def test_a_duplicate_key_fails_loudly(plugin_dir):
    install_plugin(plugin_dir, dist="pcm_dup", module="pcm_dup_plugin", key="ec2")

    with pytest.raises(registry.DuplicateProvider, match="ec2"):
        registry.reload()


def test_a_plugin_that_cannot_be_imported_is_skipped_and_logged(plugin_dir, caplog):
    info = plugin_dir / "pcm_broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pcm_broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pcm.providers]\nbroken = no_such_module:Nope\n")

    plugins = registry.reload()

    assert "broken" not in plugins and "ec2" in plugins
    assert "Cannot load provider plugin no_such_module:Nope" in caplog.text


@pytest.mark.django_db
def test_a_cloud_with_an_unregistered_plugin_does_not_validate():
    cloud = CloudFactory.build(provider="vmware")

    with pytest.raises(ValidationError) as error:
        cloud.full_clean()

    assert "Unknown provider plugin 'vmware'" in str(error.value.message_dict["provider"])


def test_options_are_cleaned_and_checked():
    assert EC2Provider.validate_options({"region": " us-east-1 ", "timeout": 10}) == {
        "region": "us-east-1",
        "timeout": 10,
    }
    with pytest.raises(ConfigError) as error:
        EC2Provider.validate_options({"region": "", "timeout": "10", "secret_key": "x"})

    assert error.value.errors == {
        "region": "required (AWS region, e.g. us-east-1)",
        "timeout": "must be a whole number",
        "secret_key": "unknown option; accepted: endpoint, image_owner, region, timeout",
    }


def test_credentials_are_the_secret_options():
    assert [o.name for o in EC2Provider.secret_options()] == ["access_key", "secret_key"]
    with pytest.raises(ConfigError) as error:
        EC2Provider.validate_credentials(["not", "an", "object"])

    assert error.value.errors == {"credentials": "must be a JSON object"}


def test_docs_providers_md_shows_what_the_plugins_declare():
    text = (Path(__file__).resolve().parents[2] / "docs" / "providers.md").read_text()
    block = text.split("<!-- plugins:start -->\n")[1].split("<!-- plugins:end -->")[0]

    assert block == docs.markdown(registry.plugins()), "run manage.py pcm_plugins --markdown"
    for key in ("ec2", "openstack", "libvirt", "gce", "azure_arm"):
        assert f"### `{key}`" in block
    assert block.count("not yet tested against a live cloud") == 2  # gce, azure_arm
