"""A "chaos cloud": an HTTP proxy in front of a real peer (moto for EC2, mimic for
OpenStack) that injects what real clouds do under load and the peers never do: throttling,
bursts of 5xx, eventual consistency after a create, create answers that come too late,
connections reset after the call ran, small pages, and EC2's client-token idempotency
(moto ignores ClientToken). It also records each call and each create that reached the peer,
so a test can count duplicates, not only nodes.

    faults = Faults()
    with proxy(moto.url, faults) as url:
        faults.consistency_delay = 2.0
        ...

Parts: faults.py (the settings and records a test holds), server.py (the proxy and the
order in which faults apply), dialect.py (a request and an answer, dialect-free), ec2.py and
nova.py (how EC2's query API and OpenStack's Keystone + Nova word each fault).
"""

from tests.fault_proxy.ec2 import EC2_THROTTLED
from tests.fault_proxy.faults import RANDOM_KINDS, Faults
from tests.fault_proxy.server import proxy

__all__ = ["EC2_THROTTLED", "RANDOM_KINDS", "Faults", "proxy"]
