"""The full report as one self-contained HTML file with its charts embedded as PNG images."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from datetime import tzinfo
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: charts are rendered to memory only

import matplotlib.pyplot as plt

from bot.i18n import Catalog, format_time, human_duration, t
from bot.insights import Insights
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
        "minutes": {"en": "minutes", "fr": "minutes"},
        "median_line": {"en": "median first response", "fr": "première réponse (médiane)"},
        "kind": {"en": "kind", "fr": "type"},
        "more": {"en": "… and {n} more", "fr": "… et {n} de plus"},
        "judged": {
            "en": "{part} of {whole} cases judged",
            "fr": "{part} sur {whole} cas jugés",
        },
        "denominators": {
            "en": "A case counts for “within target” once it is answered or its target has "
            "passed, and for “within 7 days” once it is answered or a week old: cases still "
            "inside their time are not judged yet, so the two shares can count different "
            "cases.",
            "fr": "Un cas compte pour « dans l'objectif » dès qu'il est répondu ou que son "
            "objectif est passé, et pour « en 7 jours » dès qu'il est répondu ou a une semaine : "
            "les cas encore dans les temps ne sont pas jugés, les deux parts peuvent donc "
            "porter sur des cas différents.",
        },
        "share": {"en": "share within 7 days", "fr": "part en 7 jours"},
        "none": {"en": "none", "fr": "aucun"},
        "member": {"en": "member", "fr": "membre"},
        "waited": {"en": "waiting for", "fr": "attend depuis"},
        "message": {"en": "message", "fr": "message"},
        "who": {"en": "Who answers", "fr": "Qui répond"},
        "by_staff": {"en": "Staff", "fr": "L'équipe"},
        "by_helpers": {"en": "Helpers (the community)", "fr": "Membres aidants (la communauté)"},
        "by_nobody": {"en": "Nobody yet", "fr": "Personne encore"},
        "loop": {
            "en": "Did the answer help? (the member's own say, per week of opening)",
            "fr": "La réponse a-t-elle aidé ? (l'avis du membre, par semaine d'ouverture)",
        },
        "week_of": {"en": "week of", "fr": "semaine du"},
        "answered": {"en": "answered", "fr": "répondus"},
        "solved": {"en": "solved", "fr": "résolus"},
        "still_help": {"en": "still need help", "fr": "encore besoin d'aide"},
        "share_solved": {"en": "share solved", "fr": "part résolue"},
        "satisfaction": {"en": "satisfaction", "fr": "satisfaction"},
        "loop_note": {
            "en": "Share solved: cases the member marked solved among those answered. "
            "Satisfaction: “solved” among the members' presses (solved or still need help).",
            "fr": "Part résolue : cas marqués résolus par le membre parmi les cas répondus. "
            "Satisfaction : « résolu » parmi les réponses des membres (résolu ou encore "
            "besoin d'aide).",
        },
    }
)

# (platform, community, channel, message id) → a link to the message, or None.
LinkBuilder = Callable[[str, str, str, str], str | None]


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


MAX_TICKS = 10


def _thin_ticks(ax: Any, labels: list[str]) -> None:
    # Years of weeks do not fit as labels: show at most MAX_TICKS, evenly spaced and slanted
    # so that "dd/mm/yy" labels never run into each other.
    step = max(1, -(-len(labels) // MAX_TICKS))
    positions = list(range(len(labels)))[::step]
    ax.set_xticks(positions, [labels[i] for i in positions])
    if len(positions) > 6:
        ax.tick_params(axis="x", labelrotation=35)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
            tick.set_rotation_mode("anchor")


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary within `limit` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    # A single very long word (a URL) is cut where it must be.
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


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
    unit = _trend_unit(insights)
    in_minutes = unit == "minutes"
    values = [m * 60 for m in medians] if in_minutes else medians
    (median_line,) = ax.plot(
        labels,
        values,
        marker="o",
        color="#4c78a8",
        label=f"{_l('median_line', language)} ({_l(unit, language)})",
    )
    ax.set_ylabel(_l(unit, language))
    ax.set_ylim(bottom=0)
    share_axis = ax.twinx()
    shares = [
        100 * w.within_week if w.within_week is not None else float("nan") for w in insights.weeks
    ]
    (share_line,) = share_axis.plot(
        labels,
        shares,
        marker="s",
        linestyle="--",
        color="#54a24b",
        label=f"% {_l('share', language)}",
    )
    share_axis.set_ylim(0, 105)
    share_axis.set_ylabel(f"% {_l('share', language)}")
    ax.set_title(_l("trend", language), pad=24)
    # Two lines on two axes: one legend names both, above the plot where it hides no point.
    ax.legend(
        handles=[median_line, share_line],
        frameon=False,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=2,
        fontsize=8,
    )
    _thin_ticks(ax, labels)
    return _png(fig)


def _trend_unit(insights: Insights) -> str:
    known = [w.median_response_h for w in insights.weeks if w.median_response_h is not None]
    # Minutes when answers come within a few hours: "0.2 hours" reads badly.
    return "minutes" if known and max(known) < 3 else "hours"


def trend_legend(insights: Insights, language: str) -> str:
    """The trend chart's legend as HTML: which line is which, in which unit."""
    unit = _l(_trend_unit(insights), language)
    return (
        f'<span style="color:#4c78a8">●—</span> {html.escape(_l("median_line", language))} '
        f"({html.escape(unit)}) &nbsp; "
        f'<span style="color:#54a24b">■ - -</span> % {html.escape(_l("share", language))}'
    )


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


def who_answers(report: Report, language: str) -> str:
    """Who answered the cases (staff, helpers, nobody), and per week whether it helped."""
    esc = html.escape
    total = report.by_staff + report.by_helpers + report.by_nobody
    cards = "".join(
        f'<div class="card">{esc(_l(key, language))}<b>{count}</b>'
        f"<small>{_percent(count / total if total else None)}</small></div>"
        for key, count in (
            ("by_staff", report.by_staff),
            ("by_helpers", report.by_helpers),
            ("by_nobody", report.by_nobody),
        )
    )
    head = "".join(
        f"<th>{esc(_l(key, language))}</th>"
        for key in ("week_of", "answered", "solved", "still_help", "share_solved", "satisfaction")
    )
    rows = "".join(
        f"<tr><td>{esc(week)}</td><td>{answered}</td><td>{solved}</td><td>{unsolved}</td>"
        f"<td>{_percent(solved / answered if answered else None)}</td>"
        f"<td>{_percent(solved / (solved + unsolved) if solved + unsolved else None)}</td></tr>"
        for week, answered, solved, unsolved in report.weeks
    )
    none = f'<tr><td colspan="6">{esc(_l("none", language))}</td></tr>'
    return (
        f'<h2>{esc(_l("who", language))}</h2>\n<div class="cards">{cards}</div>\n'
        f'<h2>{esc(_l("loop", language))}</h2>\n<table class="weeks"><tr>{head}</tr>'
        f"{rows or none}</table>\n"
        f'<p class="note">{esc(_l("loop_note", language))}</p>'
    )


def render_html(
    report: Report,
    insights: Insights,
    *,
    title: str,
    language: str = "en",
    tz: tzinfo | None = None,
    waiting: list[Case] | None = None,
    waiting_total: int | None = None,
    link: LinkBuilder | None = None,
) -> str:
    """The whole report as one HTML document that opens offline.

    `link` turns (platform, community, channel, message id) into a link back to the message;
    the platforms' adapters provide it, the core knows none of their URLs.
    """
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
    # (image, alt text, legend under the image): the legend repeats in text what the trend
    # chart's two lines are, for readers who cannot see colours or the image.
    charts: list[tuple[str, str, str]] = []
    if insights.weeks:
        charts.append((chart_weekly(insights, language), _l("per_week", language), ""))
        charts.append(
            (
                chart_trend(insights, language),
                _l("trend", language),
                trend_legend(insights, language),
            )
        )
    if insights.response_hours:
        charts.append((chart_distribution(insights, language), _l("dist", language), ""))
    if insights.load:
        charts.append((chart_load(insights, language), _l("load", language), ""))
    rows = []
    for case in waiting:
        first = case.message_ids[0] if case.message_ids else ""
        url = link(case.platform, case.community, case.channel, first) if link else None
        excerpt = esc(shorten(case.excerpt, 160))
        cell = f'<a href="{esc(url)}">{excerpt}</a>' if url else excerpt
        waited = human_duration((report.now - case.opened_at).total_seconds(), language)
        rows.append(
            f"<tr><td>#{case.id}</td><td>{esc(case.author.name)}</td>"
            f"<td>{esc(t(case.kind.value, language))}</td><td>{esc(waited)}</td>"
            f"<td>{cell}</td></tr>"
        )
    faq = "".join(
        f"<li><b>{esc(c.label)}</b> ({c.count}) — "
        + " / ".join(f"“{esc(shorten(e, 90))}”" for e in c.examples)
        + "</li>"
        for c in insights.faq
    )
    tone = (
        f"{insights.staff_replies} {_l('with', language)} · "
        f"{insights.staff_broadcasts} {_l('at', language)} · "
        f"<b>{_percent(insights.share_with)}</b> {_l('with', language)}"
    )
    if waiting_count > len(waiting):
        more = _l("more", language, n=waiting_count - len(waiting))
        rows.append(f'<tr class="more"><td colspan="5">{esc(more)}</td></tr>')
    none = esc(_l("none", language))
    none_row = f'<tr><td colspan="5">{none}</td></tr>'
    none_item = f"<li>{none}</li>"
    judged_target = _l("judged", language, part=report.within_target, whole=report.judged_target)
    judged_week = _l("judged", language, part=report.within_week, whole=report.judged_week)
    images = "".join(
        f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{png}">'
        + (f'<figcaption class="legend">{legend}</figcaption>' if legend else "")
        + "</figure>"
        for png, alt, legend in charts
    )
    return f"""<!DOCTYPE html>
<html lang="{esc(language)}"><head><meta charset="utf-8">
<title>{esc(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }}
.cards {{ display: flex; gap: 1rem; flex-wrap: wrap; }}
.card {{ border: 1px solid #ddd; border-radius: .5rem; padding: .8rem 1.2rem; min-width: 10rem; }}
.card b {{ display: block; font-size: 1.6rem; }}
img {{ display: block; max-width: 100%; margin: 1rem 0 .2rem; }} figure {{ margin: 0 0 1rem; }}
figcaption {{ font-size: .85rem; color: #444; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ border-bottom: 1px solid #eee;
padding: .3rem; text-align: left; vertical-align: top; white-space: nowrap; }}
td:last-child {{ white-space: normal; overflow-wrap: anywhere; }}
.card small {{ color: #666; }} .note {{ color: #555; font-size: .9rem; }}
tr.more td {{ color: #666; font-style: italic; }}
</style></head><body>
<h1>{esc(title)} — {esc(_l("title", language))}</h1>
<p>{esc(_l("as_of", language))} {esc(format_time(report.now, tz))}</p>
<div class="cards">
<div class="card">{esc(_l("cases", language))}<b>{total_cases}</b></div>
<div class="card">{esc(_l("median", language))}<b>{esc(median)}</b></div>
<div class="card">{esc(_l("target", language))}<b>{_percent(report.share_within_target)}</b>
<small>{esc(judged_target)}</small></div>
<div class="card">{esc(_l("week", language))}<b>{_percent(report.share_within_week)}</b>
<small>{esc(judged_week)}</small></div>
<div class="card">{esc(_l("waiting", language))}<b>{waiting_count}</b></div>
</div>
<p class="note">{esc(_l("denominators", language))}</p>
{who_answers(report, language)}
{images}
<h2>{esc(_l("never", language))}</h2>
<table><tr><th>#</th><th>{esc(_l("member", language))}</th><th>{esc(_l("kind", language))}</th>
<th>{esc(_l("waited", language))}</th><th>{esc(_l("message", language))}</th></tr>
{"".join(rows) or none_row}</table>
<h2>{esc(_l("faq", language))}</h2>
<ul>{faq or none_item}</ul>
<h2>{esc(_l("tone", language))}</h2>
<p>{tone}</p>
</body></html>
"""
