"""Token-bucket rate limits, kept in the gateway process's memory."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    """``per_minute`` events per key per minute, with bursts up to ``burst``.

    ``check`` returns 0 when the event is allowed, else the seconds to wait.
    Old keys are forgotten beyond ``max_keys`` so memory stays bounded.
    """

    def __init__(
        self,
        per_minute: int,
        burst: int | None = None,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else per_minute)
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def check(self, key: str) -> int:
        now = self._clock()
        tokens, stamp = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            retry_after = 0
        else:
            self._buckets[key] = (tokens, now)
            retry_after = max(1, math.ceil((1 - tokens) / self.rate)) if self.rate > 0 else 3600
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return retry_after
