"""Configuration: a TOML file parsed and validated once, at start-up, into typed objects."""

from __future__ import annotations

import os
import re
import reprlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import platforms, redaction
from bot.errors import UserError

ONE_WEEK = timedelta(days=7)
# The longest duration any key accepts: beyond it deadline arithmetic would overflow, and no
# setting of a chat assistant needs more than a year.
MAX_DURATION = timedelta(days=366)
# The languages Huitaine speaks: the rule detector, the bundled templates and every
# moderator-facing text exist in these, and no other.
LANGUAGES = ("fr", "en")
# Languages a community may write in: the bundled multilingual encoder reads them and lingua
# tells them apart offline. Beyond French and English only the model detector understands
# them, measured on bench/data/languages_check.csv (README); moderators' texts stay in
# French or English (`CommunityConfig.ui_language`).
DETECTED_LANGUAGES = (*LANGUAGES, "es", "de", "it", "pt")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


class ConfigError(UserError, ValueError):
    """A configuration value is wrong; the message names the key and the fix."""

    def __init__(self, key: str, problem: str, fix: str) -> None:
        """Build the error for `key`."""
        super().__init__(f"config error at '{key}': {problem}. Fix: {fix}")
        self.key = key
        self.problem = problem
        self.fix = fix


def parse_duration(
    value: object,
    key: str,
    *,
    longest: timedelta | None = None,
    too_long_fix: str = "use a year or less",
) -> timedelta:
    """Parse '90m', '48h', '7d' or '1d12h' into a positive timedelta, at most `longest`.

    `longest` defaults to a year (MAX_DURATION): no deadline or wait in Huitaine is longer.
    """
    longest = longest or MAX_DURATION
    if not isinstance(value, str):
        raise ConfigError(
            key, f"expected a duration string, got {_SHORT.repr(value)}", 'write it as "48h"'
        )
    text = value.strip().lower().replace(" ", "")
    if text.startswith("-"):
        raise ConfigError(
            key, f"negative duration {_SHORT.repr(value)}", "use a positive duration"
        )
    match = _DURATION.match(text)
    if not text or match is None:
        raise ConfigError(
            key,
            f"cannot read duration {_SHORT.repr(value)}",
            'use days/hours/minutes: "7d", "48h", "30m"',
        )
    try:
        # A number of more than 4,300 digits is refused by int() itself (ValueError).
        days, hours, minutes = (int(part or 0) for part in match.groups())
        duration = timedelta(days=days, hours=hours, minutes=minutes)
    except (OverflowError, ValueError):
        duration = timedelta.max  # refused just below, with the same message
    if duration > longest:
        raise ConfigError(key, f"duration {_SHORT.repr(value)} is too long", too_long_fix)
    if duration <= timedelta(0):
        raise ConfigError(key, f"duration {_SHORT.repr(value)} is zero", "use a positive duration")
    return duration


@dataclass(frozen=True, slots=True)
class CommunityConfig:
    """Who the community is and how it speaks."""

    name: str = "Community"
    language: str = "en"
    languages: tuple[str, ...] = ("fr", "en")
    timezone: str = "UTC"
    # Where this community's cards, reminders and digests go: a channel or chat id of its own
    # platform; "" = the platform's default place ([discord] review_channel, [telegram]
    # moderators_chat). Set per community in [communities."platform:id".community].
    review_place: str = ""

    @property
    def tz(self) -> ZoneInfo:
        """The community's time zone, for display."""
        return ZoneInfo(self.timezone)

    @property
    def ui_language(self) -> str:
        """The language of moderators' texts: `language` if fr/en, else English.

        Every moderator-facing text exists in French and English only, and English is the
        fallback of every text table, so a Spanish community reads its cards in English.
        """
        return self.language if self.language in LANGUAGES else "en"


DETECTORS = ("auto", "model", "rules")


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    """Which detector runs, from which score a message opens a case, and the model's settings."""

    detector: str = "auto"
    threshold: float = 0.5
    model: str = ""  # "" = the bundled multilingual-e5-small; else a local folder or a hub id
    prefix: str = ""  # "" = "query: " for e5 models, nothing otherwise
    layers: int = 0  # 0 = 7 for the bundled model, all layers for others
    quantize: bool = True
    max_tokens: int = 128
    batch_size: int = 32
    threads: int = 0  # 0 = torch's default


@dataclass(frozen=True, slots=True)
class DeadlineConfig:
    """Targets per kind, the one-week limit, reminders and escalation."""

    question_target: timedelta = timedelta(hours=48)
    complaint_target: timedelta = timedelta(hours=24)
    limit: timedelta = ONE_WEEK
    remind_before_target: tuple[timedelta, ...] = (timedelta(hours=2),)
    remind_before_limit: tuple[timedelta, ...] = (timedelta(hours=24),)
    escalate_to: str = "@moderators"


@dataclass(frozen=True, slots=True)
class CasesConfig:
    """How messages group into cases."""

    join_window: timedelta = timedelta(hours=1)
    # A member's question or complaint this soon after an answer reopens the answered case.
    reopen_window: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class StaffConfig:
    """Who may act as a moderator, whatever an adapter claims (judged by `bot.staff`).

    `user_ids` are operators, written `platform:id`, who moderate every community of that
    platform; `roles` are role names that make a moderator in the community where they are held.
    A platform's own admin flag (Telegram chat administrators) is reported by its adapter.
    """

    user_ids: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset({"moderator"})
    # Helpers: members (volunteers) whose answers mark a case "answered by the community";
    # they never moderate. Role names (any case), and ids written `platform:id`.
    helper_roles: frozenset[str] = frozenset()
    helper_ids: frozenset[str] = frozenset()
    # Platform → role names whose messages answer as staff there without making a moderator
    # (the key its adapter registered in `bot.platforms`), casefolded.
    answer_roles: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: MappingProxyType({})
    )


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """Defaults for moderators' decisions."""

    snooze: timedelta = timedelta(hours=4)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class HoursConfig:
    """Business hours: when targets and their reminders run (the 7-day limit never pauses).

    Off by default: targets then run on calendar time. Times are in the community's time zone;
    `holidays` are whole local days off.
    """

    enabled: bool = False
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday is 0
    open: time = time(9, 0)
    close: time = time(18, 0)
    holidays: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class DigestConfig:
    """When the weekly digest goes to the moderators (the community's time zone)."""

    enabled: bool = True
    day: str = "monday"
    hour: int = 9

    @property
    def weekday(self) -> int:
        """Monday is 0."""
        return WEEKDAYS.index(self.day)


@dataclass(frozen=True, slots=True)
class LearningConfig:
    """When the running bot retrains its detector from the moderators' decisions.

    Every `check_every`, if at least `after_decisions` new decisions (approved or dismissed as
    not a request) exist, a new head is fitted and kept only if it does at least as well on
    held-out decisions. `after_decisions = 0` turns learning off.
    """

    after_decisions: int = 20
    check_every: timedelta = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """Where the SQLite file lives."""

    database: str = "huitaine.db"


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """How long members' texts and names are kept; the reports' anonymous figures stay.

    A year by default: enough to compare a season with the last, and no member's words are
    kept forever by someone who never thought about it. None keeps them until forgotten.
    """

    erase_after: timedelta | None = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class ResponsesConfig:
    """Where reply templates are read from; empty means the bundled ones."""

    directory: str = ""


@dataclass(frozen=True, slots=True)
class PlatformConfig:
    """A platform's settings; its token is read from the named environment variable only.

    `options` holds the section's other keys, which the platform's adapter validates at start-up
    (each adapter owns the meaning of its own keys).
    """

    token_env: str = ""
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def configured(self) -> bool:
        """True when the file has a section for this platform beyond the token name."""
        return bool(self.options)

    def token(self, platform: str, where: str) -> str:
        """The bot token from the environment; ConfigError naming the variable if it is unset.

        `where` tells the user where the token comes from (BotFather, the Developer Portal).
        """
        value = os.environ.get(self.token_env, "").strip()
        redaction.register(value)
        if not value:
            raise ConfigError(
                f"{platform}.token_env",
                f"the environment variable {self.token_env} is empty or not set",
                f"export {self.token_env}=<{where}>",
            )
        return value


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration."""

    community: CommunityConfig = field(default_factory=CommunityConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    deadlines: DeadlineConfig = field(default_factory=DeadlineConfig)
    cases: CasesConfig = field(default_factory=CasesConfig)
    staff: StaffConfig = field(default_factory=StaffConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    responses: ResponsesConfig = field(default_factory=ResponsesConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    learning: LearningConfig = field(default_factory=LearningConfig)
    # Each registered platform's section (`bot.platforms`), by name: its token variable and
    # the options its adapter reads.
    platforms: Mapping[str, PlatformConfig] = field(default_factory=lambda: _default_platforms())
    hours: HoursConfig = field(default_factory=HoursConfig)
    # Per-community overrides, keyed `platform:id` (`discord:<guild>`, `telegram:<chat>`, or
    # whatever id an adapter gives a community): each value is this whole configuration with
    # that community's sections applied over the defaults. Use `for_community`.
    communities: Mapping[str, Config] = field(default_factory=lambda: MappingProxyType({}))

    def for_community(self, platform: str, community_id: str) -> Config:
        """The configuration in force in one community: its overrides, else the defaults."""
        return self.communities.get(community_key(platform, community_id), self)


def _default_platforms() -> Mapping[str, PlatformConfig]:
    """Every registered platform's section as it is when the file has none."""
    return MappingProxyType(
        {name: PlatformConfig(s.token_env) for name, s in platforms.tables().items()}
    )


def community_key(platform: str, community_id: str) -> str:
    """How `[communities."platform:id"]` names a community (ids are unique per platform)."""
    return f"{platform}:{community_id}"


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60


def shown(value: object) -> str:
    """`value` as an error message may quote it: short, and safe on any nesting depth."""
    return _SHORT.repr(value)


def _expect(value: object, kind: type | tuple[type, ...], key: str, example: str) -> Any:
    # bool is an int in Python; a threshold of `true` is a mistake, not 1.0.
    wrong = isinstance(value, bool) and kind is not bool
    if wrong or not isinstance(value, kind):
        # Shortened: a value nested hundreds deep or a page long stays a one-line message.
        shown = _SHORT.repr(value)
        raise ConfigError(key, f"expected {example}, got {shown}", f"write {example}")
    return value


def _staff(section: dict[str, Any]) -> StaffConfig:
    default = StaffConfig()
    roles = section.get("roles", sorted(default.roles))
    helper_roles = section.get("helper_roles", sorted(default.helper_roles))
    return StaffConfig(
        user_ids=_platform_ids(section.get("user_ids", []), "staff.user_ids"),
        roles=frozenset(r.casefold() for r in _str_list(roles, "staff.roles")),
        helper_roles=frozenset(
            r.casefold() for r in _str_list(helper_roles, "staff.helper_roles")
        ),
        helper_ids=_platform_ids(section.get("helper_ids", []), "staff.helper_ids"),
    )


def _platform_ids(value: object, key: str) -> frozenset[str]:
    """A list of `platform:id` people; a bare id is refused (ids are unique per platform)."""
    ids = []
    for item in _expect(value, list, key, f"[{_ids_like('1234')}]"):
        text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        _expect(text, str, key, f"a list like [{_ids_like('1234', ', ')}]")
        platform, sep, user_id = text.partition(":")
        known = platforms.sections()
        if not sep or platform not in known or not user_id.strip():
            # A bare id would be ambiguous: each platform's ids come from its own namespace,
            # and an operator of one platform must never moderate another.
            raise ConfigError(
                key,
                f"{item!r} does not say which platform the id belongs to",
                f"write it as {_ids_like(user_id or platform)}",
            )
        ids.append(f"{platform}:{user_id.strip()}")
    return frozenset(ids)


def _ids_like(user_id: str, between: str = " or ") -> str:
    """Example ids on every registered platform: '"discord:1234" or "telegram:1234"'."""
    names = sorted(platforms.tables()) or ["platform"]
    return between.join(f'"{name}:{user_id}"' for name in names)


def _with_answer_roles(staff: StaffConfig, raw: dict[str, Any]) -> StaffConfig:
    """Each platform's answer roles, read from the key its adapter registered."""
    answer = {}
    for name, platform in platforms.tables().items():
        section = raw.get(name)
        key = platform.answer_roles
        if key is None or not isinstance(section, dict) or key not in section:
            continue
        roles = section[key]
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ConfigError(
                f"{name}.{key}",
                f"expected a list of role names, got {_SHORT.repr(roles)}",
                'write ["Moderator", "Support"]',
            )
        answer[name] = frozenset(r.casefold() for r in roles)
    if not answer:
        return staff
    return replace(staff, answer_roles=MappingProxyType(answer))


def _str_list(value: object, key: str) -> tuple[str, ...]:
    items = _expect(value, list, key, 'a list of strings like ["a", "b"]')
    for item in items:
        _expect(item, str, key, 'a list of strings like ["a", "b"]')
    return tuple(items)


def _check_keys(section: dict[str, Any], allowed: set[str], prefix: str) -> None:
    for key in section:
        if key in {"token", "api_key", "secret", "bot_token"}:
            raise ConfigError(
                f"{prefix}{key}",
                "secrets are never read from files",
                f"remove it and set the environment variable named by {prefix}token_env",
            )
        if key not in allowed:
            raise ConfigError(
                f"{prefix}{key}",
                "unknown key",
                f"remove it or use one of: {', '.join(sorted(allowed))}",
            )


def _section(raw: dict[str, Any], name: str, cls: type) -> dict[str, Any]:
    section = raw.get(name, {})
    _expect(section, dict, name, f"a [{name}] table")
    _check_keys(section, {f.name for f in fields(cls)}, f"{name}.")
    return dict(section)


def _community(raw: dict[str, Any]) -> CommunityConfig:
    s = _section(raw, "community", CommunityConfig)
    default = CommunityConfig()
    language = _expect(s.get("language", default.language), str, "community.language", '"fr"')
    languages = _str_list(s.get("languages", list(default.languages)), "community.languages")
    supported = ", ".join(f'"{code}"' for code in DETECTED_LANGUAGES)
    if language not in DETECTED_LANGUAGES:
        raise ConfigError(
            "community.language",
            f"{language!r} is not a language Huitaine detects (it knows "
            f"{', '.join(DETECTED_LANGUAGES)}; moderators' texts are in fr or en)",
            f"use one of {supported}",
        )
    for code in languages:
        if code not in DETECTED_LANGUAGES:
            raise ConfigError(
                "community.languages",
                f"{code!r} is not a language Huitaine detects "
                f"(it knows {', '.join(DETECTED_LANGUAGES)})",
                f"list some of {supported}",
            )
    timezone = _expect(s.get("timezone", default.timezone), str, "community.timezone", '"UTC"')
    try:
        ZoneInfo(timezone)
    # OSError: a name too long for a file name (the zone database is a folder of files).
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(
            "community.timezone", f"unknown time zone {timezone[:60]!r}", 'use e.g. "Europe/Paris"'
        ) from exc
    name = _expect(s.get("name", default.name), str, "community.name", '"My community"')
    place = s.get("review_place", default.review_place)
    if isinstance(place, int) and not isinstance(place, bool):
        place = str(place)  # a channel or chat id written as a number
    place = _expect(place, str, "community.review_place", "a channel or chat id like 1234")
    return CommunityConfig(
        name=name,
        language=language,
        languages=languages,
        timezone=timezone,
        review_place=place.strip(),
    )


def _detection(raw: dict[str, Any]) -> DetectionConfig:
    s = _section(raw, "detection", DetectionConfig)
    d = DetectionConfig()
    detector = _expect(s.get("detector", d.detector), str, "detection.detector", '"auto"')
    if detector not in DETECTORS:
        raise ConfigError(
            "detection.detector",
            f"unknown detector {detector!r}",
            f"use one of {', '.join(DETECTORS)}",
        )
    threshold = float(
        _expect(
            s.get("threshold", d.threshold),
            (int, float),
            "detection.threshold",
            "a number like 0.5",
        )
    )
    if not 0.0 < threshold < 1.0:
        raise ConfigError(
            "detection.threshold", f"{threshold} is outside (0, 1)", "use a value like 0.5"
        )

    def whole(key: str, low: int, high: int) -> int:
        default = getattr(d, key)
        value = _expect(
            s.get(key, default), int, f"detection.{key}", f"a whole number like {default}"
        )
        if not low <= value <= high:
            raise ConfigError(
                f"detection.{key}", f"{value} is outside {low}..{high}", f"use {low} to {high}"
            )
        return int(value)

    return DetectionConfig(
        detector=detector,
        threshold=threshold,
        model=_expect(s.get("model", d.model), str, "detection.model", '"" or a model folder'),
        prefix=_expect(s.get("prefix", d.prefix), str, "detection.prefix", '"query: "'),
        layers=whole("layers", 0, 48),
        quantize=_expect(
            s.get("quantize", d.quantize), bool, "detection.quantize", "true or false"
        ),
        max_tokens=whole("max_tokens", 8, 512),
        batch_size=whole("batch_size", 1, 1024),
        threads=whole("threads", 0, 64),
    )


def _deadlines(raw: dict[str, Any]) -> DeadlineConfig:
    s = _section(raw, "deadlines", DeadlineConfig)
    defaults = DeadlineConfig()

    def duration(key: str) -> timedelta:
        if key not in s:
            return getattr(defaults, key)  # type: ignore[no-any-return]
        return parse_duration(s[key], f"deadlines.{key}")

    def durations(key: str) -> tuple[timedelta, ...]:
        if key not in s:
            return getattr(defaults, key)  # type: ignore[no-any-return]
        items = _str_list(s[key], f"deadlines.{key}")
        return tuple(sorted((parse_duration(i, f"deadlines.{key}") for i in items), reverse=True))

    limit = duration("limit")
    if limit > ONE_WEEK:
        raise ConfigError(
            "deadlines.limit",
            f"{s['limit']!r} is longer than the one-week rule",
            'use "7d" or less: members stop waiting after a week',
        )
    targets = {k: duration(k) for k in ("question_target", "complaint_target")}
    for key, target in targets.items():
        if target > limit:
            # The target may be a default: name its value, not a key the file does not have.
            written = s.get(key, _show(target))
            raise ConfigError(
                f"deadlines.{key}",
                f"target {written!r} is longer than the limit {s.get('limit', _show(limit))!r}",
                f"shorten the target (set deadlines.{key}) or lengthen deadlines.limit"
                " (7d at most)",
            )
    remind_before_target = durations("remind_before_target")
    remind_before_limit = durations("remind_before_limit")
    longest_target = max(targets.values())
    for key, points, until in (
        ("remind_before_target", remind_before_target, longest_target),
        ("remind_before_limit", remind_before_limit, limit),
    ):
        # Only points the file writes: a default that does not fit a short target is unused.
        if key in s and points and points[0] >= until:
            raise ConfigError(
                f"deadlines.{key}",
                f"a reminder {_show(points[0])} before is not after the case opens"
                f" (the {key.removeprefix('remind_before_')} is {_show(until)})",
                f"use points shorter than {_show(until)}",
            )
    escalate_to = _expect(
        s.get("escalate_to", defaults.escalate_to), str, "deadlines.escalate_to", '"@Team leads"'
    )
    return DeadlineConfig(
        question_target=targets["question_target"],
        complaint_target=targets["complaint_target"],
        limit=limit,
        remind_before_target=remind_before_target,
        remind_before_limit=remind_before_limit,
        escalate_to=escalate_to,
    )


def _show(duration: timedelta) -> str:
    """A duration as the file writes it: "8d", "36h", "90m"."""
    minutes = int(duration.total_seconds()) // 60
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def _bounded(value: timedelta, key: str, most: timedelta, why: str) -> timedelta:
    if value > most:
        raise ConfigError(
            key,
            f"{_show(value)} is longer than {_show(most)}: {why}",
            f'use "{_show(most)}" or less',
        )
    return value


def _within_a_week(section: dict[str, Any], key: str, default: timedelta, why: str) -> timedelta:
    """The duration at `key` (its dataclass default when absent), refused beyond a week."""
    name = key.rsplit(".", 1)[1]
    if name not in section:
        return default
    return _bounded(parse_duration(section[name], key), key, ONE_WEEK, why)


def _directory(value: object) -> str:
    directory: str = _expect(value, str, "responses.directory", '"responses"')
    try:
        missing = bool(directory) and not Path(directory).is_dir()
    except (OSError, ValueError):  # a name too long, or with a NUL byte
        missing = True
    if missing:
        raise ConfigError(
            "responses.directory",
            f"{_SHORT.repr(directory)} is not a folder (cases would get no drafted replies)",
            'write the path of a folder of *.toml templates, or "" for the bundled ones',
        )
    return directory


def _platforms(raw: dict[str, Any]) -> Mapping[str, PlatformConfig]:
    """Every registered platform's section, its options checked by its adapter's validator."""
    found = {}
    for name, section in platforms.tables().items():
        platform = _platform(raw, name, section.token_env)
        # Only a section the file writes: one naming just its token variable (or none) is a
        # platform this file does not set up, and its adapter refuses it if it is started.
        if platform.configured and section.validate is not None:
            section.validate(platform.options)
        found[name] = platform
    return MappingProxyType(found)


def _platform(raw: dict[str, Any], name: str, default_env: str) -> PlatformConfig:
    s = raw.get(name, {})
    _expect(s, dict, name, f"a [{name}] table")
    for secret in ("token", "api_key", "secret", "bot_token"):
        if secret in s:
            raise ConfigError(
                f"{name}.{secret}",
                "secrets are never read from files",
                f"remove it and set the environment variable named by {name}.token_env",
            )
    env = _expect(s.get("token_env", default_env), str, f"{name}.token_env", f'"{default_env}"')
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", env):
        raise ConfigError(
            f"{name}.token_env",
            f"{env!r} is not an environment variable name (tokens never go in this file)",
            f'name the variable that holds the token, e.g. "{default_env}"',
        )
    options = {key: value for key, value in s.items() if key != "token_env"}
    return PlatformConfig(token_env=env, options=MappingProxyType(options))


def _digest(raw: dict[str, Any]) -> DigestConfig:
    s = _section(raw, "digest", DigestConfig)
    defaults = DigestConfig()
    enabled = _expect(s.get("enabled", defaults.enabled), bool, "digest.enabled", "true or false")
    day = _expect(s.get("day", defaults.day), str, "digest.day", '"monday"').casefold()
    if day not in WEEKDAYS:
        raise ConfigError(
            "digest.day", f"{day!r} is not a day", f"use one of {', '.join(WEEKDAYS)}"
        )
    hour = _expect(s.get("hour", defaults.hour), int, "digest.hour", "an hour from 0 to 23")
    if not 0 <= hour <= 23:
        raise ConfigError("digest.hour", f"{hour} is not an hour", "use 0 to 23")
    return DigestConfig(enabled=enabled, day=day, hour=hour)


def _clock_time(value: object, key: str) -> time:
    text = _expect(value, str, key, '"09:00"')
    try:
        return time.fromisoformat(text.strip())
    except ValueError as exc:
        raise ConfigError(key, f"cannot read time {_SHORT.repr(value)}", 'write "09:00"') from exc


def _hours(raw: dict[str, Any]) -> HoursConfig:
    s = _section(raw, "hours", HoursConfig)
    d = HoursConfig()
    enabled = _expect(s.get("enabled", d.enabled), bool, "hours.enabled", "true or false")
    days = d.days
    if "days" in s:
        names = [n.casefold() for n in _str_list(s["days"], "hours.days")]
        for name in names:
            if name not in WEEKDAYS:
                raise ConfigError(
                    "hours.days", f"{name!r} is not a day", f"use some of {', '.join(WEEKDAYS)}"
                )
        days = tuple(sorted({WEEKDAYS.index(n) for n in names}))
    opens = _clock_time(s["open"], "hours.open") if "open" in s else d.open
    closes = _clock_time(s["close"], "hours.close") if "close" in s else d.close
    if closes <= opens:
        raise ConfigError(
            "hours.close",
            f"closing time {closes:%H:%M} is not after opening time {opens:%H:%M}",
            "write a close later the same day than open",
        )
    if enabled and not days:
        raise ConfigError(
            "hours.days", "no working day: no target could ever be reached", 'list "monday" …'
        )
    holidays = set()
    for item in _str_list(s.get("holidays", []), "hours.holidays"):
        try:
            holidays.add(date.fromisoformat(item.strip()))
        except ValueError as exc:
            raise ConfigError(
                "hours.holidays", f"cannot read date {_SHORT.repr(item)}", 'write "2026-12-25"'
            ) from exc
    return HoursConfig(
        enabled=enabled, days=days, open=opens, close=closes, holidays=frozenset(holidays)
    )


# What a community may set for itself; the rest (detection, storage, platforms) is the bot's.
COMMUNITY_SECTIONS = ("community", "deadlines", "staff", "hours", "review", "responses", "digest")
_COMMUNITY_KEY = re.compile(r"^[a-z][a-z0-9_-]*:\S+$")


def _communities(raw: dict[str, Any], defaults: Config) -> Mapping[str, Config]:
    """Each `[communities."platform:id"]`: its sections over the defaults, validated alike."""
    table = _expect(raw.get("communities", {}), dict, "communities", '[communities."platform:1"]')
    found: dict[str, Config] = {}
    for key, override in table.items():
        where = f'communities."{key}"'
        if not _COMMUNITY_KEY.match(key):
            raise ConfigError(
                where,
                "a community is named by its platform and id",
                f"write it as [communities.{_ids_like('1234', '] or [communities.')}]",
            )
        _expect(override, dict, where, f"a [{where}] table")
        _check_keys(override, set(COMMUNITY_SECTIONS), f"{where}.")
        # Each section is the default file's section with this community's keys over it, read
        # by the same parser: one set of defaults, one set of checks.
        merged = dict(raw)
        for name in COMMUNITY_SECTIONS:
            if name in override:
                base = raw.get(name, {})
                _expect(override[name], dict, f"{where}.{name}", f"a [{where}.{name}] table")
                merged[name] = {**(base if isinstance(base, dict) else {}), **override[name]}
        try:
            own = _sections(merged, check_platforms=False)
        except ConfigError as exc:
            raise ConfigError(f"{where}.{exc.key}", exc.problem, exc.fix) from exc
        found[key] = replace(defaults, **{name: getattr(own, name) for name in COMMUNITY_SECTIONS})
    return MappingProxyType(found)


def _retention(raw: dict[str, Any]) -> RetentionConfig:
    s = _section(raw, "retention", RetentionConfig)
    if "erase_after" not in s:
        return RetentionConfig()
    value = s["erase_after"]
    if value == "never":
        return RetentionConfig(erase_after=None)
    age = parse_duration(
        value,
        "retention.erase_after",
        longest=timedelta(days=36_500),
        too_long_fix='keep texts at most a century, or write "never"',
    )
    if age < ONE_WEEK:
        raise ConfigError(
            "retention.erase_after",
            f"{value!r} is shorter than the one-week limit",
            'use "7d" or more (moderators need the texts while a case runs), or "never"',
        )
    return RetentionConfig(erase_after=age)


def _learning(raw: dict[str, Any]) -> LearningConfig:
    s = _section(raw, "learning", LearningConfig)
    defaults = LearningConfig()
    count = _expect(
        s.get("after_decisions", defaults.after_decisions),
        int,
        "learning.after_decisions",
        f"a whole number like {defaults.after_decisions} (0 turns learning off)",
    )
    if not 0 <= count <= 100_000:
        raise ConfigError(
            "learning.after_decisions",
            f"{count} is outside 0..100000",
            f"use {defaults.after_decisions}, or 0 to turn learning off",
        )
    every = _within_a_week(
        s,
        "learning.check_every",
        defaults.check_every,
        "new decisions would wait too long to be learned",
    )
    if every < timedelta(minutes=10):
        raise ConfigError(
            "learning.check_every",
            f"{_show(every)} is shorter than 10 minutes (each check reads every decision)",
            'use "10m" or more, e.g. "6h"',
        )
    return LearningConfig(after_decisions=int(count), check_every=every)


def _rules_read(community: CommunityConfig, detection: DetectionConfig) -> None:
    """Refuse the rule detector for a community writing in a language its rules do not read."""
    others = [c for c in (community.language, *community.languages) if c not in LANGUAGES]
    if others and detection.detector == "rules":
        raise ConfigError(
            "detection.detector",
            f"the rule detector reads only French and English, and the community writes "
            f"{others[0]!r}",
            'use "auto" (the bundled multilingual model), or keep community.language and '
            'community.languages to "fr"/"en"',
        )


def parse_config(raw: dict[str, Any]) -> Config:
    """Validate a parsed TOML document and build the typed configuration."""
    # A platform is a table of the file once its adapter registered it (`bot.platforms`).
    allowed = {f.name for f in fields(Config)} - {"platforms"} | set(platforms.tables())
    _check_keys(raw, allowed, "")
    defaults = _sections(raw)
    return replace(defaults, communities=_communities(raw, defaults))


def _sections(raw: dict[str, Any], *, check_platforms: bool = True) -> Config:
    """Every section but `communities`, validated.

    A community sets no platform section, so its own parse skips them: the defaults' were
    checked once, and an adapter's validator logs its warnings once.
    """
    cases = _section(raw, "cases", CasesConfig)
    staff = _section(raw, "staff", StaffConfig)
    review = _section(raw, "review", ReviewConfig)
    storage = _section(raw, "storage", StorageConfig)
    responses = _section(raw, "responses", ResponsesConfig)
    community = _community(raw)
    detection = _detection(raw)
    _rules_read(community, detection)
    return Config(
        community=community,
        detection=detection,
        deadlines=_deadlines(raw),
        cases=CasesConfig(
            join_window=_within_a_week(
                cases,
                "cases.join_window",
                CasesConfig().join_window,
                "a follow-up that late is a new case",
            ),
            reopen_window=_within_a_week(
                cases,
                "cases.reopen_window",
                CasesConfig().reopen_window,
                "a follow-up that late is a new case",
            ),
        ),
        staff=_with_answer_roles(_staff(staff), raw),
        review=ReviewConfig(
            snooze=_within_a_week(
                review,
                "review.snooze",
                ReviewConfig().snooze,
                "a snoozed case would outlive the one-week rule",
            )
        ),
        digest=_digest(raw),
        storage=StorageConfig(
            database=_expect(
                storage.get("database", StorageConfig().database),
                str,
                "storage.database",
                '"huitaine.db"',
            )
        ),
        responses=ResponsesConfig(
            directory=_directory(responses.get("directory", ResponsesConfig().directory))
        ),
        retention=_retention(raw),
        learning=_learning(raw),
        platforms=_platforms(raw) if check_platforms else _default_platforms(),
        hours=_hours(raw),
    )


def load_config(path: Path | None) -> Config:
    """Read and validate the TOML file at `path`; no path gives the defaults."""
    if path is None:
        return Config()
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(
            str(path), "file not found", "copy config.example.toml and edit it"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML ({exc})", "fix the syntax") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path), f"not UTF-8 text (byte {exc.start})", "save it as UTF-8"
        ) from exc
    except ValueError as exc:  # an integer of thousands of digits
        raise ConfigError(str(path), f"not valid TOML ({exc})"[:200], "fix the value") from exc
    except RecursionError as exc:
        raise ConfigError(
            str(path), "nested too deep", "write the sections as the example does"
        ) from exc
    return parse_config(raw)
