"""Prometheus metrics (``GET /metrics``): this instance's own, and the store's, read at each scrape and the same on
every instance (docs/operations.md, "Health and metrics", says how to add them up).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from platform import python_version
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics_core import Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import installed_version
from bot.config import Settings
from bot.store.queues import InboundJob
from bot.store.schema import AUTO_DELETE_RULE, LIVE_STATES, AuditRecord, Meeting, MeetingState, Reminder

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

INBOUND_REQUESTS = Counter(
    "distansmote_inbound_requests", "Webhook and activity requests received, by platform and outcome.",
    ["platform", "outcome"], registry=REGISTRY)
_LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
CMS_SECONDS = Histogram(
    "distansmote_cms_request_seconds", "Cisco Meeting Server API calls (each attempt), by method and outcome.",
    ["method", "outcome"], buckets=_LATENCY_BUCKETS, registry=REGISTRY)
REMINDERS_SENT = Counter("distansmote_reminders_sent", "Reminders sent by this instance, by kind.", ["kind"],
                         registry=REGISTRY)
REMINDERS_LATE = Counter("distansmote_reminders_late", "Reminders this instance sent more than "
                         "DISTANSMOTE_LATE_REMINDER_MINUTES after they were planned, by kind.", ["kind"],
                         registry=REGISTRY)
REMINDERS_FAILED = Counter("distansmote_reminders_failed", "Reminders this instance gave up on (after its "
                           "attempts, or the person is gone), by kind.", ["kind"], registry=REGISTRY)
REMINDER_LATENESS = Histogram(
    "distansmote_reminder_lateness_seconds", "From a reminder's planned time to its sending, on this instance.",
    buckets=(1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0), registry=REGISTRY)
PLATFORM_SECONDS = Histogram(
    "distansmote_platform_request_seconds", "Chat platform API calls (each attempt), by platform, operation "
    "and outcome.", ["platform", "operation", "outcome"], buckets=_LATENCY_BUCKETS, registry=REGISTRY)


BUILD_INFO = Info("distansmote_build", "The running version of the bot and of Python (always 1).",
                  registry=REGISTRY)
BUILD_INFO.info({"version": installed_version(), "python": python_version()})
CIRCUIT_STATES = ("closed", "open", "half_open")


def circuit_family(state: str) -> Metric:
    """This instance's circuit breaker in front of CMS: 1 for its state, 0 for the others."""
    family = GaugeMetricFamily("distansmote_cms_circuit", "State of this instance's circuit breaker in front "
                               "of CMS: closed (requests go through), open (refused at once while CMS does not "
                               "answer), half_open (the next request tries).", labels=["state"])
    for each in CIRCUIT_STATES:
        family.add_metric([each], 1.0 if each == state else 0.0)
    return family


class Outcome:
    """What a timed call came to; set ``value`` before the block ends (an exception names itself)."""

    def __init__(self) -> None:
        self.value = "ok"


M = TypeVar("M", Counter, Histogram)
_CHILDREN: dict[tuple[Any, ...], Any] = {}


def child(metric: M, **labels: str) -> M:
    """``metric.labels(**labels)``, looked up once: ``labels`` checks, locks and builds a key at each call,
    a cost on every webhook and platform call."""
    key = (id(metric), *labels.items())
    found = _CHILDREN.get(key)
    if found is None:
        found = _CHILDREN[key] = metric.labels(**labels)
    return found


@contextmanager
def timed(histogram: Histogram, **labels: str) -> Iterator[Outcome]:
    outcome = Outcome()
    started = time.perf_counter()
    try:
        yield outcome
    except BaseException as exc:
        if outcome.value == "ok":
            outcome.value = type(exc).__name__
        raise
    finally:
        child(histogram, **labels, outcome=outcome.value).observe(time.perf_counter() - started)


def status_class(status: int) -> str:
    return f"{status // 100}xx"


# -- the store's figures, read at each scrape ---------------------------------------------------------

REMINDER_STATES = ("pending", "running", "sent", "skipped", "cancelled", "failed")
DELETED_BY = ("creator", "admin", "rule", "sweep", "system")


async def store_families(session: AsyncSession, settings: Settings, now: datetime,
                         platforms: Iterable[str] = ()) -> list[Metric]:
    """The store's metric families at ``now`` (backlog 0 for ``platforms`` with none waiting); raises
    when the database does not answer."""
    families: list[Metric] = []

    meetings = dict((await session.execute(select(Meeting.state, func.count()).group_by(Meeting.state))).all())
    by_state = GaugeMetricFamily("distansmote_meetings", "Meetings by state.", labels=["state"])
    for state in MeetingState:
        by_state.add_metric([state], meetings.get(state, 0))
    families.append(by_state)
    families.append(GaugeMetricFamily("distansmote_rooms_live", "Meeting rooms on the CMS that a live meeting "
                                      "claims.", value=sum(meetings.get(state, 0) for state in LIVE_STATES)))
    overdue = await session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.state.in_(LIVE_STATES), Meeting.ends_at < settings.overdue_from(now)))
    families.append(GaugeMetricFamily(
        "distansmote_rooms_overdue", "Live rooms past their automatic deletion deadline (should be 0).",
        value=overdue or 0))

    created = await session.scalar(select(func.count()).select_from(AuditRecord).where(
        AuditRecord.action == "created", AuditRecord.meeting_id.is_not(None)))
    families.append(CounterMetricFamily("distansmote_rooms_created", "Meeting rooms created (all instances).",
                                        value=created or 0))
    # Who from the meeting as the report has it: the retention purge replaces the people there,
    # never the audit trail's actors, and keeps the creator/someone else distinction.
    by = case((AuditRecord.actor == "sweep", "sweep"),
              (and_(AuditRecord.actor == "system", AuditRecord.detail == AUTO_DELETE_RULE), "rule"),
              (AuditRecord.actor == "system", "system"),
              (Meeting.deleted_by == Meeting.creator_id, "creator"), else_="admin")
    deleted: dict[str, int] = dict((await session.execute(
        select(by, func.count()).select_from(AuditRecord).outerjoin(Meeting, Meeting.id == AuditRecord.meeting_id)
        .where(AuditRecord.action == "deleted").group_by(by))).all())
    rooms_deleted = CounterMetricFamily(
        "distansmote_rooms_deleted", "Meeting rooms deleted (all instances), by who: the creator, an admin, "
        "the deadline rule, the sweep (orphans) or the system (a room never recorded).", labels=["by"])
    for who in DELETED_BY:
        rooms_deleted.add_metric([who], deleted.get(who, 0))
    families.append(rooms_deleted)

    rows = (await session.execute(
        select(Reminder.kind, Reminder.state, func.count(),
               func.count(case((and_(Reminder.state.in_(("pending", "running")), Reminder.due_at <= now), 1))))
        .group_by(Reminder.kind, Reminder.state))).all()
    reminders = GaugeMetricFamily("distansmote_reminders", "Reminders by state.", labels=["state"])
    totals = dict.fromkeys(REMINDER_STATES, 0)
    for _, reminder_state, count, _ in rows:
        totals[reminder_state] = totals.get(reminder_state, 0) + count
    for reminder_state, count in totals.items():
        reminders.add_metric([reminder_state], count)
    families.append(reminders)
    due = GaugeMetricFamily("distansmote_reminders_due", "Reminders due now and not yet handled (all "
                            "instances), by kind.", labels=["kind"])
    for kind in sorted({kind for kind, *_ in rows}):
        due.add_metric([kind], sum(row[3] for row in rows if row[0] == kind))
    families.append(due)

    waiting = or_(InboundJob.state == "pending",
                  and_(InboundJob.state == "running", InboundJob.lease_until < now))
    backlog = (await session.execute(
        select(InboundJob.platform, func.count(), func.min(InboundJob.received_at))
        .where(waiting).group_by(InboundJob.platform))).all()
    pending = GaugeMetricFamily("distansmote_inbound_backlog", "Accepted webhooks and activities waiting "
                                "to be processed, by platform.", labels=["platform"])
    oldest = GaugeMetricFamily("distansmote_inbound_oldest_pending_seconds", "Age of the oldest waiting "
                               "webhook or activity, by platform (0 when none waits).", labels=["platform"])
    waiting_by_platform = {platform: (count, first) for platform, count, first in backlog}
    for platform in sorted({*platforms, *waiting_by_platform}):
        count, first = waiting_by_platform.get(platform, (0, None))
        pending.add_metric([platform], count)
        oldest.add_metric([platform], max((now - _aware(first)).total_seconds(), 0.0) if first else 0.0)
    families += [pending, oldest]
    return families


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Snapshot:
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


def exposition(store: list[Metric]) -> bytes:
    """This instance's metrics and the store's, in Prometheus text format."""
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(_Snapshot(store))
    return generate_latest(REGISTRY) + generate_latest(snapshot)
