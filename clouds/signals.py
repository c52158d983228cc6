"""What clouds/ tells the apps above it (it imports none of them)."""

from django.dispatch import Signal

# Sent by cloud_check when a check's outcome differs from the one before (a first check
# that fails counts; a first one that succeeds does not): sender=Cloud, cloud, reachable.
reachability_changed = Signal()
