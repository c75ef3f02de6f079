"""Real bot processes: ``kill -9`` between claiming and sending, and two processes on one PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.services.reminder_plan import START, new_reminder
from bot.services.reminders import BATCH, CLAIM_LOOPS
from bot.store.engine import create_engine, sessionmaker
from bot.store.migrations import upgrade
from bot.store.schema import Meeting, Reminder, ReminderAttempt

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "tests" / "processes" / "reminder_worker.py"
NOW = datetime(2026, 11, 25, 11, 55, tzinfo=UTC)


async def _seed(url: str, count: int) -> None:
    """``count`` meetings starting in five minutes, each with its start reminder due now."""
    engine = create_engine(url)
    await upgrade(engine)
    async with sessionmaker(engine)() as session, session.begin():
        for n in range(count):
            meeting_id = str(uuid.uuid4())
            session.add(Meeting(
                id=meeting_id, request_key=meeting_id, platform="memory", creator_id="memory:nurse-1",
                creator_name="Nina", unit="HC Test", room_name=f"HC Test {n}", uri=f"hc.test.{n}",
                call_id=str(100000000 + n), space_id=meeting_id, starts_at=NOW + timedelta(minutes=5),
                ends_at=NOW + timedelta(minutes=65), state="invited", created_at=NOW - timedelta(days=1)))
            session.add(new_reminder(meeting_id, START, NOW))
    await engine.dispose()


async def _counts(url: str) -> tuple[int, int, int]:
    """(reminders sent, sum of recorded attempts, attempts logged)."""
    engine = create_engine(url)
    async with sessionmaker(engine)() as session:
        sent = await session.scalar(select(func.count()).select_from(Reminder).where(Reminder.state == "sent"))
        attempts = await session.scalar(select(func.sum(Reminder.attempts)))
        logged = await session.scalar(select(func.count()).select_from(ReminderAttempt))
    await engine.dispose()
    return sent, attempts, logged


def _in_flight(url: str) -> int:
    """The most reminders one process has claimed and not yet committed: its claim loops' batches."""
    return (CLAIM_LOOPS if url.startswith("postgresql") else 1) * BATCH


class Worker:
    def __init__(self, url: str, mode: str, out: Path, latency: float = 0.0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), url, NOW.isoformat(), mode, str(out), str(latency)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )

    def expect(self, word: str) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith(word):
            self.process.kill()
            raise AssertionError(f"expected {word!r}, got {line!r}; stderr: {self.process.communicate()[1]}")
        return line

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def finish(self) -> tuple[int, str]:
        count = int(self.expect("done").split()[1])
        _, stderr = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, stderr
        return count, stderr

    def kill_9(self) -> None:
        self.process.kill()  # SIGKILL
        self.process.communicate(timeout=30)


def _run(url: str, mode: str, out: Path) -> Worker:
    worker = Worker(url, mode, out)
    worker.expect("ready")
    worker.go()
    return worker


async def test_kill_9_between_claiming_and_sending_loses_nothing(database_url, tmp_path):
    await _seed(database_url, 20)
    out = tmp_path / "sent.txt"
    out.touch()
    first = _run(database_url, "block", out)
    first.expect("sending")  # claimed, attempt logged, about to send
    first.kill_9()

    handled, stderr = _run(database_url, "record", out).finish()
    assert handled == 20
    sent = Counter(out.read_text(encoding="utf-8").splitlines())
    assert len(sent) == 20 and set(sent.values()) == {1}  # each exactly once
    done, attempts, logged = await _counts(database_url)
    assert (done, attempts) == (20, 20)
    assert 1 <= logged - 20 <= _in_flight(database_url)  # the claims in flight at the kill
    assert "may arrive twice" in stderr  # the unfinished attempt is reported


async def test_kill_9_between_sending_and_committing_gives_at_most_the_documented_duplicate(database_url, tmp_path):
    await _seed(database_url, 20)
    out = tmp_path / "sent.txt"
    out.touch()
    first = _run(database_url, "send-then-block", out)
    first.expect("sending")  # the platform has it; the commit never comes
    first.kill_9()

    handled, stderr = _run(database_url, "record", out).finish()
    assert handled == 20
    sent = Counter(out.read_text(encoding="utf-8").splitlines())
    assert len(sent) == 20 and set(sent.values()) <= {1, 2}
    # The residual window: each send in flight at the kill is repeated once, no more.
    duplicates = sum(count - 1 for count in sent.values())
    _, _, logged = await _counts(database_url)
    assert 1 <= duplicates <= logged - 20 <= _in_flight(database_url)
    assert "may arrive twice" in stderr


async def test_two_processes_on_one_postgresql_send_500_reminders_each_exactly_once(postgres_url, tmp_path):
    await _seed(postgres_url, 500)
    out = tmp_path / "sent.txt"
    out.touch()
    workers = [Worker(postgres_url, "record", out, latency=0.002) for _ in range(2)]
    for worker in workers:
        worker.expect("ready")
    for worker in workers:
        worker.go()
    counts = [worker.finish()[0] for worker in workers]
    assert sum(counts) == 500
    assert all(count > 0 for count in counts), counts  # both really worked the queue
    sent = Counter(out.read_text(encoding="utf-8").splitlines())
    assert len(sent) == 500 and set(sent.values()) == {1}
    assert await _counts(postgres_url) == (500, 500, 500)
