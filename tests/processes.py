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
