"""The circuit breaker, the rate limiter and the retry policy, on a hand-driven clock."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from modeld.hub.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, CircuitOpen
from modeld.hub.ratelimit import RateLimited, RateLimiter, ServerQuota
from modeld.hub.retry import RetryPolicy, parse_retry_after, server_quota
from tests.hub.conftest import ManualClock


def test_breaker_opens_after_consecutive_failures_then_allows_one_trial():
    clock = ManualClock()
    changes = []
    breaker = CircuitBreaker(
        "e", threshold=3, cooldown=10, clock=clock, on_change=lambda e, s: changes.append(s)
    )
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state == CLOSED
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == OPEN and changes == [OPEN]
    with pytest.raises(CircuitOpen) as refused:
        breaker.before_call()
    assert refused.value.retry_in == pytest.approx(10)

    clock.advance(10)
    breaker.before_call()  # the one trial
    assert breaker.state == HALF_OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # a second caller waits for the trial's verdict
    breaker.record_success()
    assert breaker.state == CLOSED and changes == [OPEN, CLOSED]
    breaker.before_call()


def test_a_success_resets_the_failure_count():
    breaker = CircuitBreaker("e", threshold=2, clock=ManualClock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == CLOSED


def test_failed_trials_double_the_cooldown_up_to_the_cap():
    clock = ManualClock()
    breaker = CircuitBreaker("e", threshold=1, cooldown=10, max_cooldown=25, clock=clock)
    breaker.record_failure()
    waits = []
    for _ in range(3):
        waits.append(breaker.retry_in())
        clock.advance(waits[-1])
        breaker.before_call()
        breaker.record_failure()
    assert waits == [10, 20, 25]
    clock.advance(25)
    breaker.before_call()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.retry_in() == 10  # back to the base cool-down after a success


def test_released_trial_lets_the_next_caller_try():
    clock = ManualClock()
    breaker = CircuitBreaker("e", threshold=1, cooldown=5, clock=clock)
    breaker.record_failure()
    clock.advance(5)
    breaker.before_call()
    breaker.release_trial()
    breaker.before_call()  # not refused


def test_rate_limiter_never_exceeds_n_calls_in_any_window():
    clock = ManualClock()
    limiter = RateLimiter(calls=5, period=60.0, clock=clock)
    sent = []
    for _ in range(23):
        limiter.acquire(max_wait=120)
        sent.append(clock.now())
        clock.advance(1.0)
    for index, start in enumerate(sent):
        in_window = [t for t in sent[index:] if t < start + 60.0]
        assert len(in_window) <= 5
    assert len(clock.sleeps) > 0  # it had to wait


def test_rate_limiter_refuses_to_wait_beyond_max_wait():
    clock = ManualClock()
    limiter = RateLimiter(calls=1, period=60.0, clock=clock)
    limiter.acquire(max_wait=0)
    with pytest.raises(RateLimited) as refused:
        limiter.acquire(max_wait=30)
    assert refused.value.retry_in == pytest.approx(60)
    assert clock.sleeps == []


def test_server_pause_and_low_quota_spacing():
    clock = ManualClock()
    limiter = RateLimiter(calls=1000, clock=clock)
    limiter.pause_for(7)
    assert limiter.delay() == pytest.approx(7)
    limiter.acquire(max_wait=10)
    assert clock.sleeps == [pytest.approx(7)]

    # 4 of 500 left for the next 40 s: spread them, one every 10 s
    limiter.observe(ServerQuota(remaining=4, reset_in=40, quota=500))
    limiter.acquire(max_wait=60)
    assert limiter.delay() == pytest.approx(10)
    # plenty left again: no spacing
    limiter.observe(ServerQuota(remaining=400, reset_in=40, quota=500))
    assert limiter.delay() == 0
    # none left: wait for the reset
    limiter.observe(ServerQuota(remaining=0, reset_in=33, quota=500))
    assert limiter.delay() == pytest.approx(33)


def test_backoff_grows_exponentially_with_bounded_jitter():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (9, 8.0)]:
        delays = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len({round(d, 6) for d in delays}) > 100  # jittered, not fixed


def test_parse_retry_after():
    assert parse_retry_after("3", now_epoch=0) == 3.0
    assert parse_retry_after(" 1.5 ", now_epoch=0) == 1.5
    assert parse_retry_after("-4", now_epoch=0) == 0.0
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now_epoch=now) == pytest.approx(30)
    assert parse_retry_after("soon", now_epoch=0) is None
    assert parse_retry_after(None, now_epoch=0) is None
    assert parse_retry_after("nan", now_epoch=0) is None


def test_server_quota_from_ratelimit_headers():
    quota = server_quota(
        {"RateLimit": '"api";r=12;t=40', "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}
    )
    assert quota == ServerQuota(remaining=12, reset_in=40.0, quota=500)
    assert server_quota({"Content-Type": "application/json"}) is None
