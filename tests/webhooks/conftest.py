from __future__ import annotations

import pytest

from tests.webhooks.receiver import Receiver
from webhooks.models import Subscription

SECRET = "s3cret-for-signing-webhooks"


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(SECRET, **kwargs))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def subscribe(db):
    def make(url: str, **fields) -> Subscription:
        subscription = Subscription(name=fields.pop("name", "ci"), url=url, **fields)
        subscription.secret = SECRET
        subscription.save()
        return subscription

    return make
