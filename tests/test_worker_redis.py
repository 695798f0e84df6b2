"""The worker with the Redis-backed task queue (REDIS_URL set, several web nodes).

Runs against the Redis at 127.0.0.1:6379 (REDIS_TEST_URL to change it). CI starts
Redis and fails if it is absent; elsewhere the test is skipped with the reason.
"""

import os
import uuid

import pytest
import redis
from django.core.management import call_command

from tests.factories import booking_mail, delivered, local, make_consultation

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_tasks(settings):
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}; CI starts one (see .ci/run)")
    prefix = f"madoguchi-test-{uuid.uuid4().hex}"
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_redis.RedisTaskBackend",
            "QUEUES": [],
            "OPTIONS": {"REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": prefix},
        }
    }
    yield client, prefix
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_mail_goes_through_the_redis_queue(world, frozen_now, redis_tasks):
    from django_tasks_db.models import DBTaskResult

    client, prefix = redis_tasks
    make_consultation(world.seeker, local(2026, 12, 2, 10, 0), actor=world.coordinator)
    assert any(client.scan_iter(f"{prefix}*"))  # the task waits in Redis
    assert not DBTaskResult.objects.exists()  # not in the database queue
    call_command("worker", "--once")
    assert booking_mail().get().status == "sent"
    assert len(delivered()) == 1


def test_work_lost_from_redis_is_found_again_by_the_clock(world, frozen_now, redis_tasks):
    import datetime as dt

    client, prefix = redis_tasks
    make_consultation(world.seeker, local(2026, 12, 2, 10, 0), actor=world.coordinator)
    client.delete(*client.scan_iter(f"{prefix}*"))  # Redis restarted empty
    call_command("worker", "--once")
    assert booking_mail().get().status == "queued"  # not yet due again
    frozen_now.shift(dt.timedelta(minutes=3))
    call_command("worker", "--once")
    assert booking_mail().get().status == "sent"
    assert len(delivered()) == 1
