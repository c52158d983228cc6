"""What a lease does, for other apps to hear (webhooks: instance.expiring, instance.expired)
without instances importing them. Sent inside the transaction that records the event, once
per occurrence, with `instance` (the row as it is then)."""

from django.dispatch import Signal

lease_expiring = Signal()  # the lease ends within PCM_LEASE_WARNING
lease_expired = Signal()  # the lease ended: the instance is being deleted
