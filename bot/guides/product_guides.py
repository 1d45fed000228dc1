"""A store's product guides as the seller edits them: manual link, video link, install steps, versioned.

The guide lives on the product row, which is what the chat reads on every
message (:mod:`bot.guides.in_chat`), so a saved change reaches the next shopper who
asks. Each change made here (in the console or through the seller API, and a
manual uploaded as a PDF) also writes a version (who, when, what changed);
restoring one saves its content again as a new version, as store settings do.
Order imports keep setting guides directly: the first change made here
records what the import had set as version 0.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.links import BadLink, web_link
from bot.core.models import Product, ProductGuideVersion, iso_utc
from bot.core.refusals import FieldRefusal
from bot.core.version_summaries import AS_IMPORTED, VersionSummary

FIELDS = ("manual_url", "video_url", "install_steps")
MAX_STEPS = 50
MAX_STEP_CHARS = 1000


class GuideError(FieldRefusal, ValueError):
    """A guide change that cannot be saved; ``field`` says which part, the code why."""


class ProductNotFound(LookupError):
    pass


class GuideVersionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ProductGuide:
    sku: str
    name: str
    manual_url: str | None
    video_url: str | None
    install_steps: list[str]
    #: The latest saved version; 0 while the guide is as imported.
    version: int

    def as_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "manual_url": self.manual_url,
            "video_url": self.video_url,
            "install_steps": list(self.install_steps),
            "version": self.version,
        }


@dataclass(frozen=True)
class GuideVersion:
    version: int
    guide: dict[str, Any]
    changed_by: str | None
    summary: str
    created_at: dt.datetime | None
    #: The summary as a code and params, for the console to word (None: an old row's English of no known shape).
    summary_code: str | None = None
    summary_params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "changed_by": self.changed_by,
            "summary": self.summary,
            "summary_code": self.summary_code,
            "summary_params": self.summary_params,
            "created_at": iso_utc(self.created_at),
            "guide": self.guide,
        }


def _link(field: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise GuideError(field, "guide_link_not_text")
    try:
        return web_link(value)
    except BadLink as exc:
        raise GuideError.at(field, exc) from None


def _steps(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(step, str) for step in value):
        raise GuideError("install_steps", "guide_steps_not_list")
    steps = [" ".join(step.split()) for step in value]
    if len(steps) > MAX_STEPS:
        raise GuideError("install_steps", "guide_too_many_steps", limit=MAX_STEPS)
    for number, step in enumerate(steps, start=1):
        if not step:
            raise GuideError("install_steps", "guide_step_empty", step=number)
        if len(step) > MAX_STEP_CHARS:
            raise GuideError("install_steps", "guide_step_too_long", step=number, limit=MAX_STEP_CHARS)
    return steps


def check_guide(changes: Any) -> dict[str, Any]:
    """The fields a change sets, checked and tidied; :class:`GuideError` names the first wrong one."""
    if not isinstance(changes, dict) or not changes:
        raise GuideError("guide", "guide_change_invalid")
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise GuideError(unknown[0], "guide_field_unknown")
    checked: dict[str, Any] = {}
    for field in ("manual_url", "video_url"):
        if field in changes:
            checked[field] = _link(field, changes[field])
    if "install_steps" in changes:
        checked["install_steps"] = _steps(changes["install_steps"])
    return checked


def _snapshot(product: Product) -> dict[str, Any]:
    return {
        "manual_url": product.manual_url,
        "video_url": product.video_url,
        "install_steps": list(product.install_steps or []),
    }


async def _product(session: AsyncSession, store_id: str, sku: str) -> Product:
    product = await session.scalar(select(Product).where(Product.store_id == store_id, Product.sku == sku))
    if product is None:
        raise ProductNotFound(sku)
    return product


async def _latest_version(session: AsyncSession, store_id: str, sku: str) -> int:
    return int(
        await session.scalar(
            select(func.coalesce(func.max(ProductGuideVersion.version), 0)).where(
                ProductGuideVersion.store_id == store_id, ProductGuideVersion.sku == sku
            )
        )
    )


async def save_guide(
    session: AsyncSession,
    product: Product,
    guide: dict[str, Any],
    changed_by: str,
    summary: VersionSummary | None = None,
) -> int:
    """Set ``guide``'s fields on the product and record the version, in the caller's transaction."""
    before = _snapshot(product)
    after = {**before, **guide}
    number = await _latest_version(session, product.store_id, product.sku) + 1
    if number == 1:
        # What the import had set, so that "restore version 0" means it after the first change.
        session.add(
            ProductGuideVersion(
                store_id=product.store_id,
                sku=product.sku,
                version=0,
                guide=before,
                changed_by=None,
                summary=AS_IMPORTED.english(),
                summary_code=AS_IMPORTED.code,
                summary_params=AS_IMPORTED.params,
            )
        )
    summary = summary or VersionSummary.of_changes(name for name in FIELDS if before[name] != after[name])
    session.add(
        ProductGuideVersion(
            store_id=product.store_id,
            sku=product.sku,
            version=number,
            guide=after,
            changed_by=changed_by[:200],
            summary=summary.english(),
            summary_code=summary.code,
            summary_params=summary.params,
        )
    )
    try:
        await session.flush()
    except IntegrityError:
        raise GuideError("guide", "guide_saved_concurrently") from None
    product.manual_url, product.video_url, product.install_steps = (
        after["manual_url"],
        after["video_url"],
        after["install_steps"],
    )
    return number


class ProductGuides:
    """Every query is scoped by store: a SKU of another store is not found."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def list(self, store_id: str) -> list[ProductGuide]:
        async with self._sessions() as session:
            versions = dict(
                (
                    await session.execute(
                        select(ProductGuideVersion.sku, func.max(ProductGuideVersion.version))
                        .where(ProductGuideVersion.store_id == store_id)
                        .group_by(ProductGuideVersion.sku)
                    )
                )
                .tuples()
                .all()
            )
            products = (
                await session.scalars(select(Product).where(Product.store_id == store_id).order_by(Product.sku))
            ).all()
        return [self._guide(p, versions.get(p.sku, 0)) for p in products]

    async def get(self, store_id: str, sku: str) -> ProductGuide:
        async with self._sessions() as session:
            product = await _product(session, store_id, sku)
            return self._guide(product, await _latest_version(session, store_id, sku))

    async def update(self, store_id: str, sku: str, changes: Any, changed_by: str) -> ProductGuide:
        """Check and save a change; nothing is saved if any part is wrong."""
        guide = check_guide(changes)
        async with self._sessions() as session, session.begin():
            product = await _product(session, store_id, sku)
            number = await save_guide(session, product, guide, changed_by)
            return self._guide(product, number)

    # builtins.list: inside this class, plain `list` is the method above.
    async def history(self, store_id: str, sku: str, limit: int = 100) -> builtins.list[GuideVersion]:
        async with self._sessions() as session:
            await _product(session, store_id, sku)
            rows = (
                await session.scalars(
                    select(ProductGuideVersion)
                    .where(ProductGuideVersion.store_id == store_id, ProductGuideVersion.sku == sku)
                    .order_by(ProductGuideVersion.version.desc())
                    .limit(limit)
                )
            ).all()
        return [
            GuideVersion(
                r.version, r.guide, r.changed_by, r.summary, r.created_at, r.summary_code, dict(r.summary_params or {})
            )
            for r in rows
        ]

    async def rollback(self, store_id: str, sku: str, version: int, changed_by: str) -> ProductGuide:
        """Make an earlier version current again, as a new version."""
        async with self._sessions() as session, session.begin():
            product = await _product(session, store_id, sku)
            row = await session.scalar(
                select(ProductGuideVersion).where(
                    ProductGuideVersion.store_id == store_id,
                    ProductGuideVersion.sku == sku,
                    ProductGuideVersion.version == version,
                )
            )
            if row is not None:
                target = {field: row.guide.get(field) for field in FIELDS}
            elif version == 0 and await _latest_version(session, store_id, sku) == 0:
                target = _snapshot(product)  # never changed here: it is still as imported
            else:
                raise GuideVersionNotFound(version)
            number = await save_guide(
                session, product, check_guide(target), changed_by, VersionSummary("restored", {"version": version})
            )
            return self._guide(product, number)

    @staticmethod
    def _guide(product: Product, version: int) -> ProductGuide:
        return ProductGuide(
            product.sku, product.name, product.manual_url, product.video_url, list(product.install_steps or []), version
        )
