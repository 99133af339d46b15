"""Rate limits shared through SQLite: two limiters on one flagging dir stand for two workers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from flagpipe.config.server_model import RateLimit
from flagpipe.server.errors import ApiError
from flagpipe.server.limits import RateLimiter

if TYPE_CHECKING:
    from pathlib import Path


def test_two_limiters_on_one_dir_share_each_bucket(tmp_path: Path) -> None:
    limit = RateLimit(per_second=0.001, burst=3)
    first, second = RateLimiter(tmp_path), RateLimiter(tmp_path)
    try:
        first.take("key:a", limit)
        second.take("key:a", limit)
        first.take("key:a", limit)
        with pytest.raises(ApiError) as refused:
            second.take("key:a", limit)
        assert refused.value.status == 429 and int(refused.value.headers["Retry-After"]) >= 1
        second.take("key:b", limit)  # another name has its own bucket
    finally:
        first.close()
        second.close()


def test_a_bucket_refills_with_time(tmp_path: Path) -> None:
    limiter = RateLimiter(tmp_path)
    try:
        fast = RateLimit(per_second=1000, burst=1)
        limiter.take("client:x", fast)
        for _ in range(200):  # bounded: a millisecond per token at this rate
            try:
                limiter.take("client:x", fast)
                break
            except ApiError:
                continue
        else:
            pytest.fail("the bucket never refilled")
    finally:
        limiter.close()


def test_take_up_to_takes_what_every_bucket_holds_and_says_when_to_retry(tmp_path: Path) -> None:
    limiter = RateLimiter(tmp_path)
    try:
        slow, roomy = RateLimit(per_second=0.001, burst=3), RateLimit(per_second=0.001, burst=10)
        both = [("client:a", slow), ("key:k", roomy)]
        assert limiter.take_up_to(both, 2) == (2, 0)
        taken, wait = limiter.take_up_to(both, 5)  # the client's bucket holds one more
        assert taken == 1 and wait >= 1
        assert limiter.take_up_to(both, 1)[0] == 0
        assert limiter.take_up_to([("key:k", roomy)], 10)[0] == 7  # each bucket paid the same: 3 of 10
        with pytest.raises(ApiError):
            limiter.take("client:a", slow)
    finally:
        limiter.close()


def test_give_back_returns_tokens_up_to_the_burst(tmp_path: Path) -> None:
    limiter = RateLimiter(tmp_path)
    try:
        limit = RateLimit(per_second=0.001, burst=4)
        bucket = [("key:k", limit)]
        assert limiter.take_up_to(bucket, 4) == (4, 0)
        limiter.give_back(bucket, 3)
        assert limiter.take_up_to(bucket, 10)[0] == 3
        limiter.give_back(bucket, 100)  # never more than the burst
        assert limiter.take_up_to(bucket, 10)[0] == 4
    finally:
        limiter.close()
