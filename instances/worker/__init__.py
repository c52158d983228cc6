"""The worker side of an instance's life: provider calls made in django-q2 tasks.

Every step can run twice (a redelivered task, a worker killed mid-way) without doing the
provider call twice: a worker first claims the instance (a short lease in its row,
committed before any provider call), a create looks for a node tagged with the instance's
id before creating one, and the row's status says what is left to do. And the record stays
the truth about the cloud (docs/reliability.md): absence takes evidence, every tagged node
is accounted for, giving up never forgets a node, and every transition ends.

- rows.py: the lease, events, the grace window after a create or a start
- record.py: what the cloud said of a node (its id, status, end)
- create.py: provisioning, adoption by tag, giving up
- actions.py: reboot, stop, start, delete
- watch.py: looking again until a status is stable
- reconcile.py, nodes.py: one listing per cloud; rows, then tagged nodes
- inventory.py: telling the Inventory
- tags.py: the client's tags, on the node's own
"""

from instances.worker.actions import act, delete
from instances.worker.create import provision
from instances.worker.inventory import inventory_sync
from instances.worker.reconcile import reconcile_cloud
from instances.worker.record import apply_node
from instances.worker.tags import push_tags
from instances.worker.watch import watch

__all__ = [
    "act",
    "apply_node",
    "delete",
    "inventory_sync",
    "provision",
    "push_tags",
    "reconcile_cloud",
    "watch",
]
