"""Product guides as the seller edits them (bot/guides/product_guides.py), on SQLite and PostgreSQL:
versions with who, restore, store scoping, and two saves at once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.guides.in_chat import GuideService, guide_messages
from bot.guides.product_guides import GuideError, GuideVersionNotFound, ProductGuides, ProductNotFound

Sessions = async_sessionmaker[AsyncSession]
STORE, OTHER = "yangteng-auto", "bloomkids-baby"


async def test_the_chat_sends_the_changed_guide(demo_sessions: Sessions) -> None:
    guides = ProductGuides(demo_sessions)
    await guides.update(
        STORE, "DP-3102", {"video_url": "https://videos.example/dp-3102", "install_steps": ["Only step."]}, "Lin Wei"
    )
    [plug] = [p for p in await GuideService(demo_sessions).products(STORE) if p.sku == "DP-3102"]
    texts = [m.text for m in guide_messages(plug)]
    assert any("1. Only step." in t for t in texts) and not any("2." in t for t in texts)
    assert any(m.attachment and m.attachment["url"] == "https://videos.example/dp-3102" for m in guide_messages(plug))


async def test_removing_a_link_and_restoring_it(demo_sessions: Sessions) -> None:
    guides = ProductGuides(demo_sessions)
    imported = await guides.get(STORE, "GK-2040")
    removed = await guides.update(STORE, "GK-2040", {"video_url": ""}, "Lin Wei")
    assert removed.video_url is None and removed.manual_url == imported.manual_url and removed.version == 1
    restored = await guides.rollback(STORE, "GK-2040", 0, "Wang Fang")
    assert (restored.video_url, restored.version) == (imported.video_url, 2)
    history = await guides.history(STORE, "GK-2040")
    assert [(v.version, v.changed_by, v.summary) for v in history] == [
        (2, "Wang Fang", "restored version 0"),
        (1, "Lin Wei", "changed video_url"),
        (0, None, "as imported"),
    ]
    assert [(v.summary_code, v.summary_params) for v in history] == [
        ("restored", {"version": 0}),
        ("changed", {"fields": ["video_url"]}),
        ("as_imported", {}),
    ]
    with pytest.raises(GuideVersionNotFound):
        await guides.rollback(STORE, "GK-2040", 7, "Wang Fang")


async def test_a_sku_of_another_store_is_not_found(demo_sessions: Sessions) -> None:
    guides = ProductGuides(demo_sessions)
    with pytest.raises(ProductNotFound):
        await guides.update(STORE, "BK-CR100", {"video_url": "https://evil.example/"}, "Lin Wei")
    with pytest.raises(ProductNotFound):
        await guides.history(STORE, "BK-CR100")
    assert (await guides.get(OTHER, "BK-CR100")).video_url != "https://evil.example/"
    skus = {g.sku for g in await guides.list(STORE)}
    assert {"OP-1001", "GK-2040", "DP-3102"} <= skus and not any(s.startswith("BK-") for s in skus)


async def test_two_saves_at_once_never_share_a_version_number(demo_sessions: Sessions) -> None:
    guides = ProductGuides(demo_sessions)
    results = await asyncio.gather(
        *(guides.update(STORE, "OP-1001", {"video_url": f"https://videos.example/{n}"}, f"agent {n}") for n in range(4)),
        return_exceptions=True,
    )
    saved = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert saved and all(isinstance(r, GuideError) and "same moment" in str(r) for r in refused), refused
    versions = [v.version for v in await guides.history(STORE, "OP-1001")]
    assert sorted(versions) == list(range(0, len(saved) + 1))
    current = await guides.get(STORE, "OP-1001")
    assert current.version == len(saved) and current.video_url in {r.video_url for r in saved}
