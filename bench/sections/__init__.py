"""The bench's sections, one module per kind of measure; each function returns what the
results JSON records under its section's name (bench/run.py lists them).

- reads.py: `reads` (one instance) and `lists` (pages of 20 and 100), against bare DRF.
- provisioning.py: `accept`, `accept_slow` (time to the 202, closed loop), `throughput`,
  `throughput_slow` (POST to running, against direct libcloud creates).
- open_loop.py: `open_loop`, the time to the 202 at fixed arrival rates.
- lifecycle.py: `lifecycle`, CPU seconds per instance created and deleted.
- scaleout.py: `scaleout`, one web server and cluster against two of each.
- broker.py: `broker`, no-op tasks/s through the ORM broker.
- reconcile.py: `reconcile`, one reconciliation cycle against libcloud's listing.
"""
