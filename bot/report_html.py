"""The full report as one self-contained HTML file with its charts embedded as PNG images."""

from __future__ import annotations

import base64
import html
import io
from datetime import tzinfo
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: charts are rendered to memory only

import matplotlib.pyplot as plt

from bot.i18n import Catalog, format_time, human_duration, t
from bot.insights import Insights, message_link
from bot.models import Case
from bot.report import Report

_BUCKETS = ((1, "< 1 h"), (4, "1-4 h"), (24, "4-24 h"), (48, "1-2 d"), (168, "2-7 d"))
_l = Catalog(
    {
        "title": {"en": "How are we doing?", "fr": "Où en sommes-nous ?"},
        "as_of": {"en": "as of", "fr": "au"},
        "cases": {"en": "Cases", "fr": "Cas"},
        "median": {"en": "Median first response", "fr": "Première réponse (médiane)"},
        "target": {"en": "Answered within target", "fr": "Répondu dans l'objectif"},
        "week": {"en": "Answered within 7 days", "fr": "Répondu en 7 jours"},
        "waiting": {"en": "Still waiting", "fr": "Attendent encore"},
        "per_week": {"en": "Cases per week", "fr": "Cas par semaine"},
        "dist": {"en": "First-response time", "fr": "Délai de première réponse"},
        "trend": {
            "en": "Trend: median first response and the week kept",
            "fr": "Tendance : réponse médiane et semaine tenue",
        },
        "load": {"en": "Answers per moderator", "fr": "Réponses par modérateur"},
        "never": {"en": "Never answered, oldest first", "fr": "Jamais répondus, du plus ancien"},
        "faq": {
            "en": "What members ask most (FAQ candidates)",
            "fr": "Ce que les membres demandent le plus (FAQ possibles)",
        },
        "tone": {
            "en": "Do staff talk with the community or at it?",
            "fr": "L'équipe parle-t-elle avec la communauté ou à la communauté ?",
        },
        "with": {"en": "replies and mentions", "fr": "réponses et mentions"},
        "at": {"en": "broadcasts", "fr": "annonces"},
        "hours": {"en": "hours", "fr": "heures"},
        "share": {"en": "share within 7 days", "fr": "part en 7 jours"},
        "none": {"en": "none", "fr": "aucun"},
        "member": {"en": "member", "fr": "membre"},
        "waited": {"en": "waiting for", "fr": "attend depuis"},
        "message": {"en": "message", "fr": "message"},
    }
)


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _week_labels(insights: Insights) -> list[str]:
    weeks = [w.week for w in insights.weeks]
    # Day and month are enough within a year; a longer history needs the year too.
    fmt = "%d/%m" if weeks and (weeks[-1] - weeks[0]).days < 330 else "%d/%m/%y"
    return [week.strftime(fmt) for week in weeks]


def _thin_ticks(ax: Any, labels: list[str]) -> None:
    # A year of weeks does not fit as labels: show about a dozen, evenly spaced.
    step = max(1, -(-len(labels) // 12))
    positions = list(range(len(labels)))[::step]
    ax.set_xticks(positions, [labels[i] for i in positions])
    if step > 1:
        ax.tick_params(axis="x", labelrotation=30)


def chart_weekly(insights: Insights, language: str) -> str:
    """Stacked bars: questions and complaints opened each week."""
    fig, ax = plt.subplots(figsize=(7, 3))
    labels = _week_labels(insights)
    questions = [w.questions for w in insights.weeks]
    complaints = [w.complaints for w in insights.weeks]
    ax.bar(labels, questions, label=t("question", language), color="#4c78a8")
    ax.bar(labels, complaints, bottom=questions, label=t("complaint", language), color="#e45756")
    ax.set_title(_l("per_week", language))
    ax.legend(frameon=False)
    _thin_ticks(ax, labels)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def chart_distribution(insights: Insights, language: str) -> str:
    """Bars: how many first responses fell in each delay band."""
    counts = [0] * (len(_BUCKETS) + 1)
    for hours in insights.response_hours:
        index = next((i for i, (limit, _) in enumerate(_BUCKETS) if hours < limit), len(_BUCKETS))
        counts[index] += 1
    names = [name for _, name in _BUCKETS] + ["> 7 d"]
    colours = ["#54a24b"] * 3 + ["#eeca3b"] * 2 + ["#e45756"]
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.bar(names, counts, color=colours)
    ax.set_title(_l("dist", language))
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def chart_trend(insights: Insights, language: str) -> str:
    """Lines: the median first response per week and the share answered within seven days."""
    fig, ax = plt.subplots(figsize=(7, 3))
    labels = _week_labels(insights)
    medians = [
        w.median_response_h if w.median_response_h is not None else float("nan")
        for w in insights.weeks
    ]
    ax.plot(labels, medians, marker="o", color="#4c78a8")
    ax.set_ylabel(_l("hours", language))
    share_axis = ax.twinx()
    shares = [
        100 * w.within_week if w.within_week is not None else float("nan") for w in insights.weeks
    ]
    share_axis.plot(labels, shares, marker="s", linestyle="--", color="#54a24b")
    share_axis.set_ylim(0, 105)
    share_axis.set_ylabel(f"% {_l('share', language)}")
    ax.set_title(_l("trend", language))
    _thin_ticks(ax, labels)
    return _png(fig)


def chart_load(insights: Insights, language: str) -> str:
    """Horizontal bars: first answers per moderator."""
    fig, ax = plt.subplots(figsize=(7, max(1.5, 0.4 * len(insights.load) + 0.8)))
    names = [name for name, _ in insights.load][::-1]
    counts = [count for _, count in insights.load][::-1]
    ax.barh(names, counts, color="#72b7b2")
    ax.set_title(_l("load", language))
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def render_html(
    report: Report,
    insights: Insights,
    *,
    title: str,
    language: str = "en",
    tz: tzinfo | None = None,
    waiting: list[Case] | None = None,
    waiting_total: int | None = None,
) -> str:
    """The whole report as one HTML document that opens offline."""
    tz = tz or report.now.tzinfo
    assert tz is not None
    esc = html.escape
    median = (
        human_duration(report.median_first_response.total_seconds(), language)
        if report.median_first_response is not None
        else "—"
    )
    total_cases = sum(sum(states.values()) for states in report.by_kind_state.values())
    waiting = waiting if waiting is not None else list(report.oldest_waiting)
    waiting_count = waiting_total if waiting_total is not None else len(waiting)
    charts = []
    if insights.weeks:
        charts += [chart_weekly(insights, language), chart_trend(insights, language)]
    if insights.response_hours:
        charts.append(chart_distribution(insights, language))
    if insights.load:
        charts.append(chart_load(insights, language))
    rows = []
    for case in waiting:
        first = case.message_ids[0] if case.message_ids else ""
        link = message_link(case.platform, case.community, case.channel, first)
        excerpt = esc(case.excerpt[:160])
        cell = f'<a href="{esc(link)}">{excerpt}</a>' if link else excerpt
        waited = human_duration((report.now - case.opened_at).total_seconds(), language)
        rows.append(
            f"<tr><td>#{case.id}</td><td>{esc(case.author.name)}</td>"
            f"<td>{esc(t(case.kind.value, language))}</td><td>{esc(waited)}</td>"
            f"<td>{cell}</td></tr>"
        )
    faq = "".join(
        f"<li><b>{esc(c.label)}</b> ({c.count}) — "
        + " / ".join(f"“{esc(e[:90])}”" for e in c.examples)
        + "</li>"
        for c in insights.faq
    )
    tone = (
        f"{insights.staff_replies} {_l('with', language)} · "
        f"{insights.staff_broadcasts} {_l('at', language)} · "
        f"<b>{_percent(insights.share_with)}</b> {_l('with', language)}"
    )
    none = esc(_l("none", language))
    none_row = f'<tr><td colspan="5">{none}</td></tr>'
    none_item = f"<li>{none}</li>"
    images = "".join(f'<img alt="chart" src="data:image/png;base64,{png}">' for png in charts)
    return f"""<!DOCTYPE html>
<html lang="{esc(language)}"><head><meta charset="utf-8">
<title>{esc(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }}
.cards {{ display: flex; gap: 1rem; flex-wrap: wrap; }}
.card {{ border: 1px solid #ddd; border-radius: .5rem; padding: .8rem 1.2rem; min-width: 10rem; }}
.card b {{ display: block; font-size: 1.6rem; }}
img {{ display: block; max-width: 100%; margin: 1rem 0; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ border-bottom: 1px solid #eee;
padding: .3rem; text-align: left; vertical-align: top; white-space: nowrap; }}
td:last-child {{ white-space: normal; overflow-wrap: anywhere; }}
</style></head><body>
<h1>{esc(title)} — {esc(_l("title", language))}</h1>
<p>{esc(_l("as_of", language))} {esc(format_time(report.now, tz))}</p>
<div class="cards">
<div class="card">{esc(_l("cases", language))}<b>{total_cases}</b></div>
<div class="card">{esc(_l("median", language))}<b>{esc(median)}</b></div>
<div class="card">{esc(_l("target", language))}<b>{_percent(report.share_within_target)}</b></div>
<div class="card">{esc(_l("week", language))}<b>{_percent(report.share_within_week)}</b></div>
<div class="card">{esc(_l("waiting", language))}<b>{waiting_count}</b></div>
</div>
{images}
<h2>{esc(_l("never", language))}</h2>
<table><tr><th>#</th><th>{esc(_l("member", language))}</th><th></th>
<th>{esc(_l("waited", language))}</th><th>{esc(_l("message", language))}</th></tr>
{"".join(rows) or none_row}</table>
<h2>{esc(_l("faq", language))}</h2>
<ul>{faq or none_item}</ul>
<h2>{esc(_l("tone", language))}</h2>
<p>{tone}</p>
</body></html>
"""
