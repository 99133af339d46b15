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
