"""One step of the webhook benchmark (a rate against one program), its figures, and rounds pooled."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SATURATED_SHARE = 0.9  # replies per second below this share of the rate: saturated
SATURATED_P50 = 1.0  # or the median reply later than this (seconds): a queue is building up


@dataclass
class Step:
    program: str
    rate: float
    sent: int
    accepted: int  # answered 200
    replies: int
    extra_replies: int
    seconds: float  # first send to last reply
    reply_latency: list[float]
    answer_latency: list[float]
    cpu: float
    db_cpu: float | None
    peak_kib: int
    peak_is_per_step: bool

    @property
    def replies_per_second(self) -> float:
        return self.replies / self.seconds if self.seconds > 0 else 0.0

    @property
    def lost(self) -> int:
        return self.sent - self.replies

    def saturated(self) -> bool:
        return (self.replies_per_second < SATURATED_SHARE * self.rate
                or percentile(self.reply_latency, 50) > SATURATED_P50 or self.lost > 0)


def pooled(steps: Sequence[Step]) -> Step:
    """Rounds of one program at one rate as one step: counts and CPU added, samples joined."""
    first = steps[0]
    db = [s.db_cpu for s in steps if s.db_cpu is not None]
    return Step(first.program, first.rate, sum(s.sent for s in steps), sum(s.accepted for s in steps),
                sum(s.replies for s in steps), sum(s.extra_replies for s in steps), sum(s.seconds for s in steps),
                [x for s in steps for x in s.reply_latency], [x for s in steps for x in s.answer_latency],
                sum(s.cpu for s in steps), sum(db) if db else None, max(s.peak_kib for s in steps),
                all(s.peak_is_per_step for s in steps))


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share / 100 * len(ordered)) - 1)]
