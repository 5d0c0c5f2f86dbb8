"""The daily brief as Markdown: what a manager reads in an e-mail (plain text that also renders).

A ✔/✘ per check first, then only the rows that need acting on: at most ``rows`` overdue deals and
shortfalls (the API has them all), and each possible market signal with a typical answer.
"""

from __future__ import annotations

MARK = {True: "✔", False: "✘", None: "–"}


def brief_markdown(brief: dict, rows: int = 10) -> str:
    """``brief``: :func:`talktrack.pipelines.management.brief.daily_brief`'s dict."""
    lines = [f"# Daily brief: {brief['team_name']} ({brief['team']}), {brief['as_of']}", ""]
    if brief.get("manager"):
        lines += [f"For {brief['manager']}.", ""]
    lines += _leads(brief["lead_pool"], brief["checks"]["lead_pool"])
    lines += _breakpoints(brief["breakpoints"], brief["checks"]["breakpoints"], rows)
    lines += _capability(brief["capability"], brief["checks"]["capability"], rows)
    lines += _question(brief["surprises"])
    return "\n".join(lines).rstrip() + "\n"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _leads(pool: dict, ok: bool | None) -> list[str]:
    return [f"## {MARK[ok]} Lead pool", "",
            f"- new leads: {_share(pool['new_share'])} of {pool['pool']} (since {pool['new_since']}; "
            f"at least {pool['min_new_share']:.0%}) {MARK[pool['new_ok']]}",
            f"- invalid leads: {_share(pool['invalid_share'])} (under {pool['max_invalid_share']:.0%}) "
            f"{MARK[pool['invalid_ok']]}", ""]


def _breakpoints(stuck: dict, ok: bool, rows: int) -> list[str]:
    lines = [f"## {MARK[ok]} Stages over their timers: {stuck['count']}", ""]
    if stuck["count"]:
        lines += ["| deal | rep | stage | days in stage | timer |", "|---|---|---|---:|---:|"]
        lines += [f"| {d['deal_id']} | {d['rep']} | {d['stage']} | {d['days_in_stage']:.1f} | {d['threshold_days']:g} |"
                  for d in stuck["deals"][:rows]]
        if stuck["count"] > rows:
            lines.append(f"| … {stuck['count'] - rows} more | | | | |")
    return lines + [""]


def _capability(skills: dict, ok: bool | None, rows: int) -> list[str]:
    title = f"## {MARK[ok]} Below the team mean {skills['months_running']} months running"
    if not skills["available"]:
        return [title, "", f"- {skills['reason']}", ""]
    lines = [f"{title}: {len(skills['shortfalls'])} (to {skills['month']})", ""]
    lines += [f"- {s['rep']}: {s['dimension']} ({s['gap']:+.0%} against the team mean)" for s in skills["shortfalls"][:rows]]
    return lines + [""]


def _question(week: dict) -> list[str]:
    lines = [f"## ? {week['question']['en']} / {week['question']['zh']}", "",
             f"{week['answers']} answers from {week['reps_answering']} reps, {week['since']} .. {week['until']}.", ""]
    if not week["signals"]:
        return lines + ["No new topic this week.", ""]
    lines.append("Possible market signals (not among known objections and topics):")
    lines += [f"- {len(s['answer_ids'])} answers, {len(s['reps'])} reps: \"{s['example']}\"" for s in week["signals"]]
    return lines + [""]
