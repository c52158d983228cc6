"""Tasks the bench enqueues itself."""


def noop() -> None:
    """No work: what the broker and a cluster cost per task alone (sections/broker.py)."""
    return None
