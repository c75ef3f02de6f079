"""Stopping the CLI's long-running commands the way an operator would."""

from __future__ import annotations

import signal
import subprocess


def stop(process: subprocess.Popen, how: signal.Signals = signal.SIGTERM, timeout: float = 15) -> int:
    """Send ``how`` and wait for the exit code; kill (and fail) a process that does not stop."""
    process.send_signal(how)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def serving_address(process: subprocess.Popen) -> tuple[str, list[str]]:
    """Read ``serve``'s log until it says where it listens: ``(host:port, the lines before)``."""
    assert process.stderr is not None
    log_lines: list[str] = []
    while not (line := process.stderr.readline()).count("serving on"):
        assert line, "serve stopped before it was serving:\n" + "".join(log_lines)
        log_lines.append(line)
    return line.rsplit("serving on ", 1)[1].strip(), log_lines
