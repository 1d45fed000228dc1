"""A store's reply-flow settings: checked on save, versioned with who and when,
rolled back, kept in step with the store row, and scoped to one store.
On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Store
from bot.email.store_email import store_email_settings
from bot.seller.store_settings import TEMPLATES, SettingsError, StoreSettingsService, VersionNotFound

Sessions = async_sessionmaker[AsyncSession]
STORE, OTHER = "yangteng-auto", "bloomkids-baby"


async def test_a_new_store_starts_with_english_defaults_and_its_imported_settings(demo_sessions: Sessions) -> None:
    current = await StoreSettingsService(demo_sessions).current(STORE)
    assert current.version == 0 and current.changed_by is None
    assert set(current.settings["templates"]) == set(TEMPLATES)
    assert "{order_number}" in current.template("delivery_confirmation")
    # What the import said about the store.
    assert current.settings["review"]["url"].startswith("https://yangteng-auto.example/reviews")
    assert current.settings["escalation"]["reply_time_minutes"] == 120
    assert current.settings["escalation"]["business_hours"]["sat"] == ["09:00-17:00"]


async def test_a_change_is_a_new_version_with_who_and_what_and_reaches_the_store_row(demo_sessions: Sessions) -> None:
    service = StoreSettingsService(demo_sessions)
    saved = await service.update(
        STORE,
        {"templates": {"greeting": "您好！我是{store_name}的售后助手。"}, "review": {"delay_days": 10}},
        "Lin Wei <lin.wei@yangteng-auto.example>",
    )
    assert saved.version == 1
    assert saved.summary == "changed templates.greeting, review.delay_days"
    assert (saved.summary_code, saved.summary_params) == (
        "changed",
        {"fields": ["templates.greeting", "review.delay_days"]},
    )
    assert (await service.current(STORE)).template("greeting") == "您好！我是{store_name}的售后助手。"
    async with demo_sessions() as session:
        assert (await session.get(Store, STORE)).review_delay_days == 10  # type: ignore[union-attr]
    # Another store is untouched.
    other = await service.current(OTHER)
    assert other.version == 0 and other.template("greeting") == TEMPLATES["greeting"][1]


@pytest.mark.parametrize(
    "patch, field, words",
    [
        ({"templates": {"greeting": "Hi {order.__class__}"}}, "templates.greeting", "is not a placeholder"),
        (
            {"templates": {"review_thanks": "Thanks {tracking_url}"}},
            "templates.review_thanks",
            "unknown placeholder {tracking_url}",
        ),
        ({"templates": {"greeting": "Hi {store_name"}}, "templates.greeting", "unmatched"),
        ({"templates": {"farewell": "Bye"}}, "templates.farewell", "is not a setting"),
        ({"review": {"delay_days": 3}}, "review.delay_days", "from 5 to 30"),
        ({"review": {"delay_days": True}}, "review.delay_days", "whole number"),
        ({"review": {"reminder": "yes"}}, "review.reminder", "true or false"),
        ({"review": {"url": "javascript:alert(1)"}}, "review.url", "http(s) link"),
        ({"review": {"url": "https://x.example/{customer_email}"}}, "review.url", "unknown placeholder"),
        ({"escalation": {"reasons": ["damaged"]}}, "escalation.reasons", "must always get one"),
        ({"escalation": {"reasons": ["shopper_request", "boredom"]}}, "escalation.reasons", "must be a list of"),
        ({"escalation": {"business_hours": {"mon": ["18:00-09:00"]}}}, "escalation.business_hours", "ends before"),
        ({"escalation": {"reply_time_minutes": 0}}, "escalation.reply_time_minutes", "from 1 to"),
        ({"review": 7}, "review", "must be an object"),
        ({"privacy": {"data_retention_days": 0}}, "privacy.data_retention_days", "from 1 to 3,650"),
        ({"email": {"kinds": {"newsletter": True}}}, "email.kinds.newsletter", "is not a setting"),
        ({"email": {"kinds": {"agent_reply": "no"}}}, "email.kinds.agent_reply", "true or false"),
        ({"email": {"sender_name": "Shop\r\nBcc: x@evil.example"}}, "email.sender_name", "printable"),
        ({"email": {"reply_domain": "not a domain"}}, "email.reply_domain", "domain name"),
        ({"email": {"page_url": "javascript:alert(1)"}}, "email.page_url", "http(s) link"),
        ({"email": {"quiet_hours": {"start": "22:00"}}}, "email.quiet_hours", "HH:MM"),
        ({"email": {"quiet_hours": {"start": "25:00", "end": "07:00"}}}, "email.quiet_hours.start", "HH:MM"),
    ],
)
async def test_a_bad_change_says_where_and_why_and_saves_nothing(
    demo_sessions: Sessions,
    patch: dict,
    field: str,
    words: str,  # type: ignore[type-arg]
) -> None:
    service = StoreSettingsService(demo_sessions)
    if "templates" not in patch:
        # A good part next to the bad one is not saved either.
        patch = {**patch, "templates": {"install_video": "Video time!"}}
    with pytest.raises(SettingsError) as error:
        await service.update(STORE, patch, "Lin Wei")
    assert error.value.field == field and words in str(error.value)
    current = await service.current(STORE)
    assert current.version == 0 and current.template("install_video") == TEMPLATES["install_video"][1]
    async with demo_sessions() as session:
        assert (await session.get(Store, STORE)).review_delay_days == 7  # type: ignore[union-attr]


async def test_email_settings_are_saved_and_quiet_hours_can_be_none(demo_sessions: Sessions) -> None:
    service = StoreSettingsService(demo_sessions)
    saved = await service.update(
        STORE,
        {"email": {"kinds": {"review_invitation": False}, "sender_name": "Yangteng 售后", "quiet_hours": None}},
        "Lin Wei",
    )
    assert saved.settings["email"]["kinds"]["review_invitation"] is False
    assert saved.settings["email"]["kinds"]["delivery_confirmation"] is True
    assert saved.settings["email"]["quiet_hours"] is None
    async with demo_sessions() as session:
        email = await store_email_settings(session, STORE)
    assert not email.sends("review_invitation") and not email.sends("review_reminder") and email.sends("agent_reply")
    assert email.sender_name == "Yangteng 售后" and email.quiet_hours is None
    again = await service.update(STORE, {"email": {"quiet_hours": {"start": "22:00", "end": "07:30"}}}, "Lin Wei")
    assert again.settings["email"]["quiet_hours"] == {"start": "22:00", "end": "07:30"}


async def test_rollback_saves_the_old_version_again_and_keeps_the_history(demo_sessions: Sessions) -> None:
    service = StoreSettingsService(demo_sessions)
    await service.update(STORE, {"templates": {"review_thanks": "Thanks a lot!"}}, "Lin Wei")
    await service.update(
        STORE,
        {
            "templates": {"review_thanks": "谢谢您的评价！"},
            "escalation": {"reply_time_minutes": 30},
            "privacy": {"data_retention_days": 90},
        },
        "Mei",
    )
    async with demo_sessions() as session:
        assert (await session.get(Store, STORE)).data_retention_days == 90  # type: ignore[union-attr]
    back = await service.rollback(STORE, 1, "Lin Wei")
    assert back.version == 3 and back.summary == "rolled back to version 1"
    assert (back.summary_code, back.summary_params) == ("rolled_back", {"version": 1})
    history = await service.history(STORE)
    assert [(v.version, v.summary_code) for v in history] == [
        (3, "rolled_back"),
        (2, "changed"),
        (1, "changed"),
        (0, "as_imported"),
    ]
    current = await service.current(STORE)
    assert current.template("review_thanks") == "Thanks a lot!"
    assert current.settings["escalation"]["reply_time_minutes"] == 120
    async with demo_sessions() as session:
        store = await session.get(Store, STORE)
        assert store is not None and (store.reply_time_minutes, store.data_retention_days) == (120, 365)
    assert [(v.version, v.changed_by) for v in await service.history(STORE)] == [
        (3, "Lin Wei"),
        (2, "Mei"),
        (1, "Lin Wei"),
        (0, None),
    ]
    to_defaults = await service.rollback(STORE, 0, "Lin Wei")
    assert (await service.current(STORE)).template("review_thanks") == TEMPLATES["review_thanks"][1]
    assert to_defaults.version == 4
    with pytest.raises(VersionNotFound):
        await service.rollback(STORE, 99, "Lin Wei")
    with pytest.raises(VersionNotFound):  # another store's version numbers are not this store's
        await service.rollback(OTHER, 1, "Mei")


async def test_two_saves_at_once_never_share_a_version_number(demo_sessions: Sessions) -> None:
    service = StoreSettingsService(demo_sessions)
    results = await asyncio.gather(
        *(
            service.update(STORE, {"templates": {"greeting": f"Hello {n} from {{store_name}}"}}, f"agent {n}")
            for n in range(4)
        ),
        return_exceptions=True,
    )
    saved = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, SettingsError) and "same moment" in str(r) for r in refused), refused
    versions = [v.version for v in await service.history(STORE)]
    assert sorted(versions) == list(range(0, len(saved) + 1))  # 0: the store as imported, kept at the first save


async def test_handoff_notices_use_the_stores_words(demo_sessions: Sessions) -> None:
    import datetime as dt

    from bot.support.escalations import EscalationService

    await StoreSettingsService(demo_sessions).update(
        STORE,
        {
            "templates": {
                "handoff_waiting": "{store_name} 的客服会在 {reply_time} 内回复（编号 {reference}）。",
                "out_of_hours": "Back {back_in}; expect an answer within {reply_time}. Ref {reference}.",
            }
        },
        "Lin Wei",
    )
    escalations = EscalationService(demo_sessions)
    tuesday_noon = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai: both stores open
    open_now = await escalations.availability(STORE, tuesday_noon)
    assert open_now is not None
    assert open_now.notice(tuesday_noon, "E-7") == "Yangteng Auto Parts 的客服会在 2 hours 内回复（编号 E-7）。"
    sunday = dt.datetime(2026, 11, 29, 4, 0, tzinfo=dt.UTC)  # Sunday noon in Shanghai: closed
    closed = await escalations.availability(STORE, sunday)
    assert closed is not None
    assert closed.notice(sunday, "E-8") == (
        "Back in about 21 hours (Monday 09:00, Asia/Shanghai time); expect an answer within 2 hours. Ref E-8."
    )
    # Another store still speaks with the defaults.
    other = await escalations.availability(OTHER, tuesday_noon)
    assert other is not None and other.notice(tuesday_noon).startswith("Everyone at BloomKids Baby is busy right now.")


@pytest.mark.slow  # runs `python -m bot` in a process of its own
def test_the_command_line_saves_refuses_lists_and_rolls_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.engine import DEMO_DATA, bot_cli, engine_settings

    settings = engine_settings(tmp_path)
    for args in (("migrate",), ("import", str(DEMO_DATA))):
        assert bot_cli(settings, *args).returncode == 0
    patch = tmp_path / "patch.json"
    patch.write_text(json.dumps({"templates": {"review_thanks": "谢谢！"}}), encoding="utf-8")
    saved = bot_cli(settings, "settings", "set", "--store", STORE, "--file", str(patch), "--by", "Lin Wei")
    assert saved.returncode == 0 and "version 1 (changed templates.review_thanks)" in saved.stdout
    patch.write_text(json.dumps({"templates": {"review_thanks": "Thanks {password}"}}), encoding="utf-8")
    refused = bot_cli(settings, "settings", "set", "--store", STORE, "--file", str(patch))
    assert (
        refused.returncode == 2
        and "nothing saved: templates.review_thanks: unknown placeholder {password}" in refused.stderr
    )
    history = bot_cli(settings, "settings", "history", "--store", STORE)
    assert history.stdout.count("\n") == 2 and "Lin Wei\tchanged templates.review_thanks" in history.stdout
    assert "as imported" in history.stdout
    back = bot_cli(settings, "settings", "rollback", "--store", STORE, "--version", "0")
    assert back.returncode == 0 and "version 2 (rolled back to version 0)" in back.stdout
    shown = json.loads(bot_cli(settings, "settings", "show", "--store", STORE).stdout)
    assert (
        shown["version"] == 2 and shown["settings"]["templates"]["review_thanks"] == "Thank you for your review, it's saved."
    )
    assert bot_cli(settings, "settings", "show", "--store", "nope").returncode == 2
