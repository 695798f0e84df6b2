"""A bounded load generator: a fixed number of requests, a fixed concurrency, a time cap.

Each of `concurrency` threads owns one keep-alive `httpx.Client` and takes the next
request number until the scenario's count is reached or its time cap has passed (a
request under way when the cap passes is finished and counted). Latency is measured
around each call, body read included; the rate is completed calls over the wall time of
the whole scenario.
"""

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

# One call: (method, path, JSON body or None).
Call = tuple[str, str, Any]


@dataclass
class Result:
    scenario: str
    planned: int
    latencies: list[float] = field(default_factory=list)  # seconds, one per completed call
    statuses: Counter = field(default_factory=Counter)  # HTTP status, or "transport"
    wall_seconds: float = 0.0
    capped: bool = False

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.completed / self.wall_seconds if self.wall_seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000

    def count(self, *statuses: int | str) -> int:
        return sum(self.statuses[s] for s in statuses)


def run(
    *,
    scenario: str,
    base_url: str,
    make_call: Callable[[int], Call],
    count: int,
    concurrency: int,
    cap_seconds: float,
    headers: dict[str, str] | None = None,
    first: int = 0,
) -> Result:
    """Make calls `make_call(first)` … `make_call(first + count - 1)` and measure them."""
    result = Result(scenario=scenario, planned=count)
    lock = threading.Lock()
    next_index = iter(range(first, first + count))
    started = time.perf_counter()
    deadline = started + cap_seconds

    def take() -> int | None:
        with lock:
            if time.perf_counter() > deadline:
                result.capped = True
                return None
            return next(next_index, None)

    def worker() -> None:
        timeout = httpx.Timeout(max(5.0, cap_seconds))
        with httpx.Client(base_url=base_url, headers=headers, timeout=timeout) as client:
            while (index := take()) is not None:
                method, path, body = make_call(index)
                began = time.perf_counter()
                try:
                    response = client.request(method, path, json=body)
                    response.read()
                    status: int | str = response.status_code
                except httpx.HTTPError:
                    status = "transport"
                elapsed = time.perf_counter() - began
                with lock:
                    result.latencies.append(elapsed)
                    result.statuses[status] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.perf_counter() - started
    return result
