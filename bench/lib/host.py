"""What /proc says about a process (CPU, memory) and about the machine, and the commit measured."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from bench.lib import ROOT

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of all the process's threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_line(path: str, name: str) -> int:
    """The number of a ``Name: value`` line of a /proc file (``/proc/meminfo``, a process's ``status``)."""
    for line in Path(path).read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def status_kib(pid: int, name: str) -> int:
    return status_line(f"/proc/{pid}/status", name)


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+), so each step has its own peak."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def database_backends_cpu(database: str) -> dict[int, float]:
    """CPU so far of each PostgreSQL backend serving ``database``, by process id."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f" {database} ".encode() in (entry / "cmdline").read_bytes().replace(b"\0", b" "):
                found[int(entry.name)] = cpu_seconds(int(entry.name))
        except OSError:
            continue
    return found


def backends_cpu_since(database: str, before: dict[int, float]) -> float:
    """CPU the backends used since ``before`` (a backend that ended meanwhile is not counted)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in database_backends_cpu(database).items())


def commit() -> str:
    """The commit measured (``+changes`` if the work tree differs from it)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    memory = status_line("/proc/meminfo", "MemTotal")
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, "
            f"{memory / 1024 / 1024:.1f} GiB memory, Linux {platform.release()}, Python {platform.python_version()}")
