"""A store's reply flows as the seller configures them, versioned.

Each save writes a whole new version (who, when, what changed) and never
edits an old one, so any version can be restored ("rolled back") by saving
its content again. The settings the rest of the code already reads from the
``stores`` row (review delay and link, business hours, reply time) are kept
in step there in the same transaction. Everything is read on each message,
so a change applies to the next one: no retraining, no restart.

(Issue 6 groundwork: the templates here are validated and versioned; the
flows start reading them as the seller console and API land.)
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import (
    MAX_DATA_RETENTION_DAYS,
    MAX_REVIEW_DELAY_DAYS,
    MIN_DATA_RETENTION_DAYS,
    MIN_REVIEW_DELAY_DAYS,
    Order,
    Store,
    StoreSettingsVersion,
)
from bot.core.refusals import FieldRefusal
from bot.core.version_summaries import AS_IMPORTED, VersionSummary
from bot.email.store_email import check_email_settings, default_email_settings
from bot.seller.templates import DEFAULT_TEMPLATES, TEMPLATES, TemplateError, first_name, render, store_templates, validate
from bot.support.business_hours import BadBusinessHours, parse_business_hours
from bot.support.escalations import PRIORITY_BY_REASON

REVIEW_URL_PLACEHOLDERS = frozenset({"order_number", "sku"})
MAX_REPLY_TIME_MINUTES = 60 * 24 * 7
#: Settings saved whole rather than merged key by key (business hours: a day left out is a day
#: closed), and which may be null (no quiet hours) where the default is an object.
OPAQUE_SETTINGS = frozenset({"business_hours", "quiet_hours"})


class SettingsError(FieldRefusal, ValueError):
    """A change that cannot be saved; ``field`` says where (``templates.greeting``), the code why."""


class VersionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class SettingsVersion:
    store_id: str
    #: 0 is the store as imported, before any change in the console or the API.
    version: int
    settings: dict[str, Any]
    changed_by: str | None
    summary: str
    created_at: dt.datetime | None
    #: The summary as a code and params, for the console to word (None: an old row's English of no known shape).
    summary_code: str | None = AS_IMPORTED.code
    summary_params: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def of_row(cls, row: StoreSettingsVersion, settings: dict[str, Any] | None = None) -> SettingsVersion:
        return cls(
            row.store_id,
            row.version,
            row.settings if settings is None else settings,
            row.changed_by,
            row.summary,
            row.created_at,
            row.summary_code,
            dict(row.summary_params or {}),
        )

    def template(self, key: str) -> str:
        return str(self.settings["templates"][key])


def defaults(store: Store) -> dict[str, Any]:
    """A store's settings before any change: English templates, and what the store row says."""
    return {
        "templates": dict(DEFAULT_TEMPLATES),
        "review": {"delay_days": store.review_delay_days, "reminder": False, "url": store.review_url},
        "escalation": {
            "reasons": sorted(PRIORITY_BY_REASON),
            "business_hours": store.business_hours,
            "reply_time_minutes": store.reply_time_minutes,
        },
        "email": default_email_settings(),
        # How long shoppers' photos are kept (bot/photos/conversation_photos.py purges older ones).
        "privacy": {"data_retention_days": store.data_retention_days},
    }


def _merge(base: dict[str, Any], patch: dict[str, Any], path: str = "") -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        where = f"{path}{key}"
        if key not in base:
            raise SettingsError(where, "setting_unknown")
        if isinstance(base[key], dict) and key not in OPAQUE_SETTINGS:
            if not isinstance(value, dict):
                raise SettingsError(where, "setting_not_object")
            merged[key] = _merge(base[key], value, f"{where}.")
        else:
            merged[key] = value
    return merged


def _overlay(base: dict[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
    """Like :func:`_merge` for reading a saved version: what no longer exists is ignored."""
    merged = copy.deepcopy(base)
    for key, value in saved.items():
        if key not in base:
            continue
        if isinstance(base[key], dict) and isinstance(value, dict) and key not in OPAQUE_SETTINGS:
            merged[key] = _overlay(base[key], value)
        else:
            merged[key] = value
    return merged


def check(settings: dict[str, Any]) -> dict[str, Any]:
    """Every rule a saved version must meet; :class:`SettingsError` names the first broken one."""
    for key, text in settings["templates"].items():
        allowed, _ = TEMPLATES[key]
        try:
            validate(text, allowed)
        except TemplateError as exc:
            raise SettingsError.at(f"templates.{key}", exc) from None
    review = settings["review"]
    delay = review["delay_days"]
    if not isinstance(delay, int) or isinstance(delay, bool) or not MIN_REVIEW_DELAY_DAYS <= delay <= MAX_REVIEW_DELAY_DAYS:
        raise SettingsError(
            "review.delay_days", "review_delay_out_of_range", min=MIN_REVIEW_DELAY_DAYS, max=MAX_REVIEW_DELAY_DAYS
        )
    if not isinstance(review["reminder"], bool):
        raise SettingsError("review.reminder", "review_reminder_not_boolean")
    url = review["url"]
    if url is not None:
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise SettingsError("review.url", "review_url_not_link")
        try:
            validate(url, REVIEW_URL_PLACEHOLDERS)
        except TemplateError as exc:
            raise SettingsError.at("review.url", exc) from None
    escalation = settings["escalation"]
    reasons = escalation["reasons"]
    if not isinstance(reasons, list) or not all(r in PRIORITY_BY_REASON for r in reasons):
        raise SettingsError(
            "escalation.reasons", "escalation_reasons_invalid", reasons=", ".join(sorted(PRIORITY_BY_REASON))
        )
    if "shopper_request" not in reasons:
        raise SettingsError("escalation.reasons", "escalation_reasons_without_request")
    try:
        parse_business_hours(escalation["business_hours"])
    except BadBusinessHours as exc:
        raise SettingsError.at("escalation.business_hours", exc) from None
    minutes = escalation["reply_time_minutes"]
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MAX_REPLY_TIME_MINUTES:
        raise SettingsError("escalation.reply_time_minutes", "reply_time_out_of_range", max=MAX_REPLY_TIME_MINUTES)
    escalation["reasons"] = sorted(set(reasons))
    check_email_settings(settings["email"], SettingsError)
    retention = settings["privacy"]["data_retention_days"]
    if (
        not isinstance(retention, int)
        or isinstance(retention, bool)
        or not MIN_DATA_RETENTION_DAYS <= retention <= MAX_DATA_RETENTION_DAYS
    ):
        raise SettingsError(
            "privacy.data_retention_days",
            "data_retention_out_of_range",
            min=MIN_DATA_RETENTION_DAYS,
            max=MAX_DATA_RETENTION_DAYS,
        )
    return settings


def _changed_keys(before: dict[str, Any], after: dict[str, Any], path: str = "") -> list[str]:
    keys = []
    for key in after:
        if isinstance(after[key], dict) and isinstance(before.get(key), dict) and key not in OPAQUE_SETTINGS:
            keys += _changed_keys(before[key], after[key], f"{path}{key}.")
        elif before.get(key) != after[key]:
            keys.append(f"{path}{key}")
    return keys


class StoreSettingsService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def current(self, store_id: str) -> SettingsVersion:
        async with self._sessions() as session:
            return await self._current(session, store_id)

    async def store(self, store_id: str) -> Store | None:
        """The store itself: its name and time zone for the console, its shopper secrets for a test conversation."""
        async with self._sessions() as session:
            return await session.get(Store, store_id)

    @staticmethod
    async def _current(session: AsyncSession, store_id: str) -> SettingsVersion:
        store = await session.get(Store, store_id)
        if store is None:
            raise LookupError(store_id)
        latest = await session.scalar(
            select(StoreSettingsVersion)
            .where(StoreSettingsVersion.store_id == store_id)
            .order_by(StoreSettingsVersion.version.desc())
            .limit(1)
        )
        if latest is None:
            return SettingsVersion(store_id, 0, defaults(store), None, AS_IMPORTED.english(), None)
        # A template added after this version was saved starts from its default.
        settings = _overlay(defaults(store), latest.settings)
        return SettingsVersion.of_row(latest, settings)

    async def update(self, store_id: str, patch: Any, changed_by: str) -> SettingsVersion:
        """Check and save a change as a new version; nothing is saved if any part is wrong."""
        if not isinstance(patch, dict):
            raise SettingsError("settings", "setting_not_object")
        async with self._sessions() as session, session.begin():
            current = await self._current(session, store_id)
            settings = check(_merge(current.settings, patch))
            return await self._save(session, current, settings, changed_by, None)

    async def rollback(self, store_id: str, version: int, changed_by: str) -> SettingsVersion:
        """Make an earlier version current again, as a new version (history is never rewritten)."""
        async with self._sessions() as session, session.begin():
            current = await self._current(session, store_id)
            row = await session.scalar(
                select(StoreSettingsVersion).where(
                    StoreSettingsVersion.store_id == store_id, StoreSettingsVersion.version == version
                )
            )
            if row is not None:
                target = row.settings
            elif version == 0 and current.version == 0:
                target = current.settings  # nothing changed yet: the store is still as imported
            else:
                raise VersionNotFound(version)
            settings = check(_overlay(current.settings, target))
            return await self._save(
                session, current, settings, changed_by, VersionSummary("rolled_back", {"version": version})
            )

    @staticmethod
    async def _save(
        session: AsyncSession,
        current: SettingsVersion,
        settings: dict[str, Any],
        changed_by: str,
        summary: VersionSummary | None,
    ) -> SettingsVersion:
        summary = summary or VersionSummary.of_changes(_changed_keys(current.settings, settings))
        number = (
            await session.execute(
                select(func.coalesce(func.max(StoreSettingsVersion.version), 0)).where(
                    StoreSettingsVersion.store_id == current.store_id
                )
            )
        ).scalar_one() + 1
        if number == 1:
            # Keep the store as imported, so that "roll back to version 0" still means it after the
            # first change has moved the store row's own settings.
            session.add(
                StoreSettingsVersion(
                    store_id=current.store_id,
                    version=0,
                    settings=current.settings,
                    changed_by=None,
                    summary=AS_IMPORTED.english(),
                    summary_code=AS_IMPORTED.code,
                    summary_params=AS_IMPORTED.params,
                )
            )
        row = StoreSettingsVersion(
            store_id=current.store_id,
            version=number,
            settings=settings,
            changed_by=changed_by[:200],
            summary=summary.english(),
            summary_code=summary.code,
            summary_params=summary.params,
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:
            # Two saves at once: the (store, version) key lets one win; the other says so.
            raise SettingsError("settings", "settings_saved_concurrently") from None
        store = await session.get(Store, current.store_id)
        assert store is not None
        store.review_delay_days = settings["review"]["delay_days"]
        store.review_url = settings["review"]["url"]
        store.business_hours = settings["escalation"]["business_hours"]
        store.reply_time_minutes = settings["escalation"]["reply_time_minutes"]
        store.data_retention_days = settings["privacy"]["data_retention_days"]
        return SettingsVersion.of_row(row)

    async def greeting(self, store_id: str | None, shopper_email: str | None) -> str:
        """The store's greeting for this shopper (by first name when the store vouched for them)."""
        if store_id is None:
            return render(DEFAULT_TEMPLATES["greeting"], {"store_name": "the store", "shopper_first_name": "there"})
        async with self._sessions() as session:
            store_name = await session.scalar(select(Store.name).where(Store.id == store_id))
            name = None
            if shopper_email:
                name = await session.scalar(
                    select(Order.shopper_name)
                    .where(Order.store_id == store_id, Order.shopper_email == shopper_email)
                    .order_by(Order.placed_at.desc())
                    .limit(1)
                )
            templates = await store_templates(session, store_id)
        return render(
            templates["greeting"], {"store_name": store_name or "the store", "shopper_first_name": first_name(name)}
        )

    async def history(self, store_id: str, limit: int = 100) -> list[SettingsVersion]:
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(StoreSettingsVersion)
                    .where(StoreSettingsVersion.store_id == store_id)
                    .order_by(StoreSettingsVersion.version.desc())
                    .limit(limit)
                )
            ).all()
        return [SettingsVersion.of_row(r) for r in rows]
