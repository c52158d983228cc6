"""OpenStack Nova through Keystone v2 or v3."""

from __future__ import annotations

from providers.base import Option, Provider


class OpenStackProvider(Provider):
    """An OpenStack cloud; Keystone v2 (tenant) or v3 (project and domain)."""

    key = "openstack"
    label = "OpenStack"
    options = (
        Option(
            "auth_url",
            "Keystone URL, e.g. https://keystone.example:5000",
            required=True,
            kind="url",
        ),
        Option(
            "auth_version",
            "Keystone API and method",
            kind="str",
            choices=("2.0_password", "3.x_password"),
            default="3.x_password",
        ),
        Option("tenant_name", "Tenant (v2) or project (v3) name"),
        Option("domain_name", "Keystone v3 domain (default: Default)"),
        Option("region", "Service region, e.g. RegionOne"),
        Option("service_name", "Compute service name in the catalogue, e.g. nova"),
        Option("timeout", "Seconds before a provider call is abandoned (default 30)", kind="int"),
        Option("username", "User name", required=True, secret=True),
        Option("password", "Password", required=True, secret=True),
    )
