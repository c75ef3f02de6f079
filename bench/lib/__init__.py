"""What the benchmarks in bench/ share, and the parts of the webhook benchmark (bench/webhooks.py)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
