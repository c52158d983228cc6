"""The soak test: hundreds of instance lifecycles through the API, two qcluster processes
killed at random, both clouds behind the chaos proxy; at the end the record must match what
the clouds list (test_soak.py). Helpers: clusters.py (qcluster processes that can be
SIGKILLed and restarted), clients.py (API clients that live instances' lives),
observe.py (the peers' own listings, samples, reconciliation, settling), invariants.py
(the checks at the end), report.py (the summary)."""
