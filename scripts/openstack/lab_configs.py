"""The configuration files of the test cloud's services, one function per service.

Each setting that is not OpenStack's default is here for a reason written beside it
(README.md has the longer story). `lab` is the running cloud's `Lab` (ports, directory,
database prefix, RabbitMQ vhost, the service user's password).
"""

from __future__ import annotations

from textwrap import dedent

COMPUTE_HOSTS = ("compute-1", "compute-2")
PHYSNET = "physnet1"
# Nova's scheduler filters: DifferentHostFilter honours the different_host hint (it is not
# among Nova's default filters); SameHostFilter its opposite.
FILTERS = (
    "ComputeFilter",
    "ComputeCapabilitiesFilter",
    "ImagePropertiesFilter",
    "DifferentHostFilter",
    "SameHostFilter",
)


def database(lab, name: str) -> str:
    return (
        f"mysql+pymysql://root@{lab.mysql_host}:{lab.mysql_port}/{lab.db_prefix}{name}?charset=utf8"
    )


def transport(lab) -> str:
    return f"rabbit://guest:guest@{lab.rabbit_host}:{lab.rabbit_port}/{lab.vhost}"


def _service_user(lab) -> str:
    """The service user's login: how a service proves itself to Keystone."""
    return dedent(
        f"""
        auth_type = password
        auth_url = {lab.url("keystone")}/v3
        username = {lab.service_user}
        password = {lab.service_password}
        project_name = service
        user_domain_name = Default
        project_domain_name = Default
        """
    )


def _authtoken(lab) -> str:
    """keystonemiddleware: how each API checks the tokens it is sent, as the service user."""
    return (
        f"\n[keystone_authtoken]\nwww_authenticate_uri = {lab.url('keystone')}/v3"
        + _service_user(lab)
    )


def _service_client(lab, section: str) -> str:
    """A section with which one service calls another (nova to placement and neutron)."""
    return f"\n[{section}]" + _service_user(lab) + "region_name = RegionOne\n"


def keystone(lab) -> str:
    return dedent(
        f"""
        [database]
        connection = {database(lab, "keystone")}
        [token]
        provider = fernet
        [fernet_tokens]
        key_repository = {lab.dir}/keystone/fernet-keys
        [credential]
        key_repository = {lab.dir}/keystone/credential-keys
        [identity]
        # bcrypt's fewest rounds: every login of every test would otherwise cost ~0.2 s
        password_hash_rounds = 4
        """
    )


def placement(lab) -> str:
    return dedent(
        f"""
            [placement_database]
            connection = {database(lab, "placement")}
            [api]
            auth_strategy = keystone
            """
    ) + _authtoken(lab)


def glance(lab) -> str:
    return dedent(
        f"""
            [DEFAULT]
            enabled_backends = fs:file
            # Image listings page after this many, as Nova's do (lab.page_size).
            limit_param_default = {lab.page_size}
            [database]
            connection = {database(lab, "glance")}
            [paste_deploy]
            flavor = keystone
            [glance_store]
            default_backend = fs
            [fs]
            filesystem_store_datadir = {lab.dir}/glance/images
            [os_glance_staging_store]
            filesystem_store_datadir = {lab.dir}/glance/staging
            [os_glance_tasks_store]
            filesystem_store_datadir = {lab.dir}/glance/tasks
            [oslo_concurrency]
            lock_path = {lab.dir}/glance/locks
            """
    ) + _authtoken(lab)


def neutron(lab) -> str:
    return dedent(
        f"""
            [DEFAULT]
            core_plugin = ml2
            # No routers, no metering: one shared flat network is all the tests need.
            service_plugins =
            auth_strategy = keystone
            transport_url = {transport(lab)}
            # The API process does all the work: there are no agents to talk to.
            rpc_workers = 0
            rpc_state_report_workers = 0
            dhcp_agent_notification = false
            notify_nova_on_port_status_changes = false
            notify_nova_on_port_data_changes = false
            [database]
            connection = {database(lab, "neutron")}
            [ml2]
            type_drivers = flat,local
            tenant_network_types = local
            # Binds every port without an agent (bind_driver/, an installed package).
            mechanism_drivers = pcm_bind
            extension_drivers = port_security
            [ml2_type_flat]
            flat_networks = {PHYSNET}
            [oslo_concurrency]
            lock_path = {lab.dir}/neutron/locks
            """
    ) + _authtoken(lab)


def nova(lab) -> str:
    """nova.conf, shared by the API, conductor, scheduler and both computes (each compute
    adds its own host name and state directory: `nova_compute`)."""
    return (
        dedent(
            f"""
            [DEFAULT]
            transport_url = {transport(lab)}
            state_path = {lab.dir}/nova/state
            my_ip = 127.0.0.1
            # No hypervisor: the fake driver keeps servers in memory. This one keeps a
            # stable node id across restarts (FakeDriver makes up a new one and refuses to
            # start again).
            compute_driver = fake.FakeDriverWithoutFakeNodes
            # No agent will say a port is plugged: do not wait for it.
            vif_plugging_is_fatal = false
            vif_plugging_timeout = 0
            periodic_fuzzy_delay = 0
            [api]
            auth_strategy = keystone
            # Listings page after this many servers (Nova's default is 1000), so that PCM's
            # paging is proven on every list, find and reconciliation.
            max_limit = {lab.page_size}
            [wsgi]
            api_paste_config = {lab.dir}/nova/api-paste.ini
            [api_database]
            connection = {database(lab, "nova_api")}
            [database]
            connection = {database(lab, "nova_cell1")}
            [scheduler]
            workers = 1
            # A new compute host is mapped within seconds, not after about 45 s.
            discover_hosts_in_cells_interval = 5
            [filter_scheduler]
            # The scheduler reads each host's servers from the database at every request:
            # DifferentHostFilter and SameHostFilter then see a server placed a moment ago
            # (with Nova's default, the computes' reports to the scheduler, they did not).
            track_instance_changes = false
            enabled_filters = {",".join(FILTERS)}
            # Stack servers on the fullest host: without a hint two servers share a host,
            # so a spread the tests see is the hint's doing, not the weighers'.
            ram_weight_multiplier = -1.0
            cpu_weight_multiplier = -1.0
            disk_weight_multiplier = -1.0
            [conductor]
            workers = 1
            [quota]
            # PCM keeps its own quotas; Nova's defaults (20 cores, 10 servers a project)
            # would refuse a flavour before the scheduler could say no host takes it.
            instances = -1
            cores = -1
            ram = -1
            [oslo_messaging_notifications]
            driver = noop
            [vnc]
            enabled = false
            [oslo_concurrency]
            lock_path = {lab.dir}/nova/locks
            [os_vif_ovs]
            # nothing is plugged by the fake driver
            [cinder]
            os_region_name = RegionOne
            """
        )
        + _authtoken(lab)
        + _service_client(lab, "placement")
        + _service_client(lab, "neutron")
    )


def nova_compute(lab, host: str) -> str:
    """What one compute service adds to nova.conf: its own name and node identity."""
    return dedent(
        f"""
        [DEFAULT]
        host = {host}
        state_path = {lab.dir}/nova/{host}
        """
    )
