"""`pcm_config` exports and imports the lease defaults and maxima of roles and environments."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from clouds.models import Environment, Role

pytestmark = pytest.mark.django_db


def export() -> str:
    out = io.StringIO()
    call_command("pcm_config", "export", stdout=out)
    return out.getvalue()


def load(tmp_path, text: str) -> str:
    path = tmp_path / "pcm.yaml"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("pcm_config", "import", str(path), stdout=out)
    return out.getvalue()


def test_lease_policies_round_trip_as_iso_8601(demo, tmp_path):
    Environment.objects.filter(name="dev").update(
        default_lease=timedelta(hours=8), max_lease=timedelta(days=7)
    )
    Role.objects.filter(name="web").update(max_lease=timedelta(days=1, minutes=30))
    first = export()
    Environment.objects.update(default_lease=None, max_lease=None)
    Role.objects.update(max_lease=None)

    output = load(tmp_path, first)

    assert "default_lease: P0DT08H00M00S" in first
    assert "max_lease: P7DT00H00M00S" in first
    assert "changed" in output
    dev = Environment.objects.get(name="dev")
    assert (dev.default_lease, dev.max_lease) == (timedelta(hours=8), timedelta(days=7))
    assert Role.objects.get(name="web").max_lease == timedelta(days=1, minutes=30)
    assert export() == first


def dev_leases(text: str, default: str, maximum: str) -> str:
    """The exported file with dev's lease policy set to these YAML values."""
    block = r"(- name: dev\n(?:  .*\n)*?)  default_lease: null\n  max_lease: null\n"
    new = rf"\1  default_lease: {default}\n  max_lease: {maximum}\n"
    changed, count = re.subn(block, new, text, count=1)
    assert count == 1
    return changed


def test_an_import_takes_short_forms_and_seconds(demo, tmp_path):
    text = dev_leases(export(), "PT8H", "86400")

    load(tmp_path, text)

    dev = Environment.objects.get(name="dev")
    assert (dev.default_lease, dev.max_lease) == (timedelta(hours=8), timedelta(days=1))


def test_an_import_refuses_a_bad_lease_with_its_line(demo, tmp_path):
    text = dev_leases(export(), "null", "one week")

    with pytest.raises(CommandError) as error:
        load(tmp_path, text)

    assert "max_lease: must be an ISO 8601 duration (PT8H, P7D) or seconds" in str(error.value)
    assert Environment.objects.get(name="dev").max_lease is None
