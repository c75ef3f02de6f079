"""The webhook benchmark's report in Markdown: the table, the verdicts on the targets, and what the figures say."""

from __future__ import annotations

import math
from pathlib import Path

from bench.lib.host import commit, machine
from bench.lib.runs import BOT, BOT_ORG_ONLY, REFERENCE, TARGET_RATE, Run
from bench.lib.stats import SATURATED_P50, SATURATED_SHARE, Step, percentile


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{1000 * value:.1f}"


def _ratio(bot: float, reference: float) -> str:
    if math.isnan(bot) or math.isnan(reference) or reference == 0:
        return "–"
    return f"{bot / reference:.2f}×"


def _figures(step: Step) -> list[float]:
    return [step.replies_per_second, *(percentile(step.reply_latency, p) for p in (50, 90, 99, 100)),
            *(percentile(step.answer_latency, p) for p in (50, 99)), float(step.lost),
            1000 * step.cpu / step.sent, step.peak_kib / 1024]


def report(run: Run, command: str) -> str:
    by_rate: dict[float, dict[str, Step]] = {}
    for step in run.steps:
        by_rate.setdefault(step.rate, {})[step.program] = step
    lines = [
        f"Command: `{command}`",
        "",
        f"Run {run.started:%Y-%m-%d %H:%M} UTC at commit {commit()} on {machine()}. "
        f"Bot database: {run.database_label}. "
        "All processes (load, fake Webex API, bot, reference, database) share this machine, on 127.0.0.1.",
        "",
        "Each rate: signed `messages/created` webhooks carrying `/distansmöte hjälp`, each from its own person and "
        f"1:1 room, sent open-loop for about {run.args.seconds:g} s (at least {run.args.min_count}, at most "
        f"{run.args.max_count}); at {TARGET_RATE}/s {run.args.rounds} rounds each, pooled. The bot allows the "
        "fake's organisation and the senders' e-mail domain, so a typed command needs no people lookup; the "
        f"organisation-only bot (at {TARGET_RATE}/s) looks every new sender up, as the reference never does. "
        "Latencies in ms; CPU in seconds per 1,000 commands (utime+stime of the process; for a bot on PostgreSQL, "
        "in brackets, the database backends serving it); peak = VmHWM during the step.",
        "",
        "| rate /s | program | replies /s | reply p50 | p90 | p99 | max | answer p50 | answer p99 | lost | "
        "CPU s/1000 | peak MiB |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for rate, steps in by_rate.items():
        label = f"{rate:g}" + (" (2× saturation)" if rate == run.overload_rate else "")
        for step in (steps.get(name) for name in (BOT, REFERENCE, BOT_ORG_ONLY)):
            if step is None:
                continue
            f = _figures(step)
            cpu = f"{f[8]:.2f}"
            if step.db_cpu is not None:
                cpu += f" (+{1000 * step.db_cpu / step.sent:.2f} db)"
            lines.append(f"| {label} | {step.program} | {f[0]:.1f} | " + " | ".join(_ms(v) for v in f[1:7])
                         + f" | {step.lost} | {cpu} | {f[9]:.0f} |")
        reference = steps.get(REFERENCE)
        for step in (steps.get(name) for name in (BOT, BOT_ORG_ONLY)):
            if step is None or reference is None:
                continue
            b, r = _figures(step), _figures(reference)
            lines.append(f"| {label} | {step.program} ÷ reference | "
                         + " | ".join(_ratio(x, y) for x, y in zip(b[:7], r[:7], strict=True))
                         + f" | – | {_ratio(b[8], r[8])} | {_ratio(b[9], r[9])} |")
    lines += ["", *verdicts(run, by_rate), "", *reading(run, by_rate)]
    notes = [f"{s.program} at {s.rate:g}/s: {s.sent - s.accepted} webhooks not answered 200"
             for s in run.steps if s.accepted != s.sent]
    notes += [f"{s.program} at {s.rate:g}/s: {s.extra_replies} duplicate replies" for s in run.steps if s.extra_replies]
    if any(not s.peak_is_per_step for s in run.steps):
        notes.append("VmHWM could not be reset per step: peaks are since process start")
    if notes:
        lines += ["", "Notes: " + "; ".join(notes) + "."]
    return "\n".join(lines) + "\n"


def verdicts(run: Run, by_rate: dict[float, dict[str, Step]]) -> list[str]:
    lines = ["Targets:", ""]
    at_target = by_rate.get(TARGET_RATE, {})
    reference = at_target.get(REFERENCE)
    for name, what in ((BOT, "the bot"), (BOT_ORG_ONLY, "with an organisation-only allowlist (a people lookup "
                                                       "per new sender) it")):
        bot = at_target.get(name)
        if bot is None or reference is None:
            continue
        added = percentile(bot.reply_latency, 50) - percentile(reference.reply_latency, 50)
        ratio = (bot.cpu / bot.sent) / (reference.cpu / reference.sent) if reference.cpu else math.inf
        lines.append(f"- at {TARGET_RATE}/s {what} adds {1000 * added:.1f} ms at the median (target ≤ 3 ms: "
                     f"{'met' if added <= 0.003 else 'NOT met'}); CPU per command {ratio:.2f}× the reference's "
                     f"(target ≤ 1.3×: {'met' if ratio <= 1.3 else 'NOT met'})")
    if run.saturated_at is None or run.reference_saturation is None:
        lines.append("- the reference did not saturate within the ramp (raise --max-rate or --max-seconds)")
    else:
        lines.append(f"- the reference keeps up with {run.reference_saturation:g}/s and saturates at "
                     f"{run.saturated_at:g}/s (replies per second below {SATURATED_SHARE:.0%} of the rate, its "
                     f"median reply later than {SATURATED_P50:g} s, or a reply lost)")
        overload = by_rate.get(run.overload_rate or -1, {}).get(BOT)
        reference_overload = by_rate.get(run.overload_rate or -1, {}).get(REFERENCE)
        if overload is None or reference_overload is None:
            lines.append("- twice the saturation rate was not run (time limit)")
        else:
            p99 = percentile(overload.answer_latency, 99)
            ok = p99 <= 0.050 and overload.lost == 0 and overload.accepted == overload.sent
            lines.append(f"- at {overload.rate:g}/s (twice that) the bot's webhook answer p99 is {1000 * p99:.1f} ms "
                         f"(target ≤ 50 ms) and {overload.lost} replies were lost (target 0; the last came "
                         f"{overload.seconds:.1f} s after the first webhook): {'met' if ok else 'NOT met'}")
            ours, theirs = overload.replies_per_second, reference_overload.replies_per_second
            lines.append(f"- at {overload.rate:g}/s the bot replies at {ours:.0f} a second, the reference at "
                         f"{theirs:.0f} (target: at least the reference's): {'met' if ours >= theirs else 'NOT met'}")
    return lines


def reading(run: Run, by_rate: dict[float, dict[str, Step]]) -> list[str]:
    """What the figures say, from this run's figures."""
    lines = [
        "Reading it:",
        "",
        "- Per command the bot does what the reference does (verify, answer 200, fetch the message, post a "
        "reply) and also: writes the job to the database before answering (one transaction), checks the "
        "allowlist, routes the command, replies with a card, and records the job done and the event handled "
        "in one transaction after the reply, the next webhook's (docs/reliability.md, \"The writes of a "
        "command\"; the backends' CPU in brackets is not in the ratio of the table; --quick counts it on "
        "PostgreSQL).",
    ]
    at_target = by_rate.get(TARGET_RATE, {})
    bot, org_only = at_target.get(BOT), at_target.get(BOT_ORG_ONLY)
    if bot and org_only:
        extra = 1000 * (org_only.cpu / org_only.sent - bot.cpu / bot.sent)
        lines.append(f"- A people lookup (`GET /people/{{id}}`, one more Webex call through requests) costs about "
                     f"{extra:.1f} ms of CPU. The bot keeps people for ten minutes, but here every sender is new; "
                     "with the senders' e-mail domain allowed, a typed command needs no lookup at all.")
    overload = by_rate.get(run.overload_rate or -1, {})
    if BOT in overload and REFERENCE in overload:
        bot_most = max(s.replies_per_second for s in run.steps if s.program == BOT)
        reference_most = max(s.replies_per_second for s in run.steps if s.program == REFERENCE)
        ours, theirs = overload[BOT], overload[REFERENCE]
        lines.append(
            f"- The bot works off at most about {bot_most:.0f} commands a second here, the reference about "
            f"{reference_most:.0f}. Beyond that the bot's backlog waits in the database: webhooks are still "
            f"answered within {1000 * percentile(ours.answer_latency, 99):.0f} ms (p99) at {ours.rate:g}/s and its "
            f"peak memory stays at {ours.peak_kib / 1024:.0f} MiB, while the reference, whose backlog is tasks in "
            f"memory, answers its webhooks only after {1000 * percentile(theirs.answer_latency, 99):.0f} ms (p99) "
            f"and grows to {theirs.peak_kib / 1024:.0f} MiB. (Webex disables a webhook after 100 failed deliveries "
            "in five minutes.)")
    lines.append("- Everything shares one machine; figures move by about ±10 % from run to run, which is why bot "
                 "and reference take turns at every rate and the target rate is measured in several rounds.")
    return lines


def write_section(path: Path, body: str) -> None:
    """Replace (or add) the "Webhooks" section of ``path``, leaving every other section alone."""
    heading = "## Webhooks"
    section = f"{heading}\n\n{body}"
    if not path.exists():
        path.write_text(f"# Benchmarks\n\n{section}")
        return
    text = path.read_text()
    start = text.find(f"\n{heading}\n")
    if start < 0:
        path.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = text.find("\n## ", start + len(heading) + 2)
    path.write_text(text[:start + 1] + section + (text[end:] if end >= 0 else ""))
