"""Tracking updates: applied once per event, never backwards, scoped by store."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Order, Shipment, TrackingEvent, TrackingTag, TrackingWebhookEvent
from bot.shipping.tracking_updates import (
    AFTERSHIP_STATUSES,
    BadUpdate,
    Checkpoint,
    IgnoredEvent,
    TrackingUpdate,
    TrackingUpdates,
    aftership_status,
    aftership_version,
    moves_status,
    parse_aftership,
    parse_simple,
)

STORE = "yangteng-auto"
TRACKING = "9400111899223100000000"  # FZ-20931, InTransit in the demo data
#: AfterShip's samples and lists, each with its source: tests/integrations/fixtures/SOURCES-tracking.md.
AFTERSHIP = Path(__file__).parents[1] / "integrations" / "fixtures" / "aftership"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def delivered(event_id: str = "evt-delivered", when: str = "2026-11-27T21:40:00Z") -> TrackingUpdate:
    return TrackingUpdate(
        event_id=event_id,
        tracking_number=TRACKING,
        tag="Delivered",
        checkpoints=[Checkpoint(at(when), "Delivered", "Delivered, in/at mailbox", "New York, NY 10027")],
    )


async def shipment(sessions: async_sessionmaker[AsyncSession], store: str = STORE) -> Shipment:
    async with sessions() as session:
        return await session.scalar(select(Shipment).where(Shipment.store_id == store, Shipment.tracking_number == TRACKING))


async def test_a_delivered_update_is_stored_at_once(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    outcome = await TrackingUpdates(demo_sessions).apply(STORE, "aftership", delivered())
    assert outcome.result == "applied" and outcome.delivered_now
    stored = await shipment(demo_sessions)
    assert stored.status == "Delivered"
    assert stored.delivered_at == at("2026-11-27T21:40:00Z")
    async with demo_sessions() as session:
        order = await session.get(Order, stored.order_id)
        assert order is not None and order.status == "delivered"
        latest = await session.scalar(
            select(TrackingEvent).where(TrackingEvent.shipment_id == stored.id).order_by(TrackingEvent.occurred_at.desc())
        )
    assert latest is not None and latest.message == "Delivered, in/at mailbox"


async def _scan_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(func.count()).select_from(TrackingEvent).join(Shipment).where(Shipment.tracking_number == TRACKING)
        )


async def test_a_repeated_event_changes_nothing(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    updates = TrackingUpdates(demo_sessions)
    scans = await _scan_count(demo_sessions)
    assert (await updates.apply(STORE, "aftership", delivered())).result == "applied"
    again = await updates.apply(STORE, "aftership", delivered())
    assert again.result == "duplicate" and not again.delivered_now
    async with demo_sessions() as session:
        received = await session.scalar(select(func.count()).select_from(TrackingWebhookEvent))
    assert received == 1
    assert await _scan_count(demo_sessions) == scans + 1  # the delivery scan, once


async def test_concurrent_deliveries_of_one_event_apply_once(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    updates = TrackingUpdates(demo_sessions)
    outcomes = await asyncio.gather(*(updates.apply(STORE, "aftership", delivered()) for _ in range(5)))
    assert sorted(o.result for o in outcomes) == ["applied"] + ["duplicate"] * 4
    assert sum(o.delivered_now for o in outcomes) == 1


async def test_an_older_event_never_moves_the_shipment_back(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    updates = TrackingUpdates(demo_sessions)
    await updates.apply(STORE, "aftership", delivered())
    late = TrackingUpdate(
        event_id="evt-late",
        tracking_number=TRACKING,
        tag="OutForDelivery",
        checkpoints=[Checkpoint(at("2026-11-27T08:05:00Z"), "OutForDelivery", "Out for delivery", "New York, NY")],
    )
    outcome = await updates.apply(STORE, "aftership", late)
    assert outcome.result == "stale"
    stored = await shipment(demo_sessions)
    assert stored.status == "Delivered"
    async with demo_sessions() as session:
        messages = (
            await session.scalars(
                select(TrackingEvent.message)
                .where(TrackingEvent.shipment_id == stored.id)
                .order_by(TrackingEvent.occurred_at)
            )
        ).all()
    assert messages[-2:] == ["Out for delivery", "Delivered, in/at mailbox"]  # the scan is kept, in time order


async def test_an_older_event_than_the_imported_scans_is_stale(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    old = TrackingUpdate(
        event_id="evt-old",
        tracking_number=TRACKING,
        tag="InfoReceived",
        checkpoints=[Checkpoint(at("2026-11-20T12:00:00Z"), "InfoReceived", "Label created")],
    )
    assert (await TrackingUpdates(demo_sessions).apply(STORE, "json", old)).result == "stale"
    assert (await shipment(demo_sessions)).status == "InTransit"


async def test_updates_are_scoped_by_store(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    outcome = await TrackingUpdates(demo_sessions).apply("bloomkids-baby", "aftership", delivered())
    assert outcome.result == "unknown_shipment"
    assert (await shipment(demo_sessions)).status == "InTransit"


def test_aftership_payload_is_parsed() -> None:
    update = parse_aftership(
        {
            "event": "tracking_update",
            "event_id": "b7c5",
            "ts": "2026-11-27T21:41:00+00:00",
            "msg": {
                "tracking_number": TRACKING,
                "slug": "usps",
                "tag": "Delivered",
                "expected_delivery": "2026-11-27",
                "shipment_delivery_date": "2026-11-27T16:40:00-05:00",
                "checkpoints": [
                    {
                        "checkpoint_time": "2026-11-27T16:40:00-05:00",
                        "city": "New York",
                        "state": "NY",
                        "country_name": "USA",
                        "message": "Delivered",
                        "tag": "Delivered",
                    }
                ],
            },
        }
    )
    assert update.event_id == "b7c5" and update.tag == "Delivered"
    assert update.checkpoints[0].time == at("2026-11-27T21:40:00Z")
    assert update.checkpoints[0].location == "New York, NY, USA"
    assert update.delivered_at == at("2026-11-27T21:40:00Z")


@pytest.mark.parametrize(
    "payload, reason",
    [
        ({"event_id": "x"}, '"msg"'),
        ({"event_id": "x", "msg": {"tracking_number": "1", "tag": "Tele-ported!"}}, "tracking status tag"),
        ({"event_id": "x", "msg": {"tracking_number": "1", "tag": 7}}, "tracking status tag"),
        ({"event_id": "x", "msg": {"tracking_number": "1", "tag": "InTransit", "subtag": ["x"]}}, "msg.subtag"),
        ({"event": 3, "event_id": "x", "msg": {"tracking_number": "1", "tag": "InTransit"}}, "event"),
        ({"event_id": "x", "ts": "soon", "msg": {"tracking_number": "1", "tag": "InTransit"}}, "ts"),
        ({"event_id": "x", "ts": True, "msg": {"tracking_number": "1", "tag": "InTransit"}}, "ts"),
        ({"event_id": "x", "ts": 1e300, "msg": {"tracking_number": "1", "tag": "InTransit"}}, "ts"),
        ({"msg": {"tracking_number": "1", "tag": "Delivered"}}, "event_id"),
        (
            {
                "event_id": "x",
                "msg": {
                    "tracking_number": "1",
                    "tag": "Delivered",
                    "checkpoints": [{"checkpoint_time": "yesterday", "tag": "Delivered"}],
                },
            },
            "checkpoint_time",
        ),
    ],
)
def test_bad_aftership_payloads_say_why(payload: dict, reason: str) -> None:
    with pytest.raises(BadUpdate, match=reason):
        parse_aftership(payload)


def test_simple_payload_is_parsed() -> None:
    update = parse_simple(
        {
            "event_id": "s-1",
            "tracking_number": TRACKING,
            "status": "OutForDelivery",
            "estimated_delivery": "2026-11-27",
            "events": [
                {
                    "time": "2026-11-27T13:05:00Z",
                    "location": "New York, NY",
                    "tag": "OutForDelivery",
                    "message": "Out for delivery",
                }
            ],
        }
    )
    assert update.estimated_delivery == dt.date(2026, 11, 27)
    assert update.checkpoints[0].message == "Out for delivery"
    with pytest.raises(BadUpdate, match="status"):
        parse_simple({"event_id": "s-2", "tracking_number": TRACKING, "status": "Lost"})


@pytest.mark.slow  # runs `python -m bot` in a process of its own
def test_the_tracking_event_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from tests.engine import DEMO_DATA, bot_cli, engine_settings

    settings = engine_settings(tmp_path)
    for args in (("migrate",), ("import", str(DEMO_DATA))):
        assert bot_cli(settings, *args).returncode == 0
    command = (
        "tracking-event",
        "--store",
        STORE,
        "--tracking-number",
        TRACKING,
        "--tag",
        "Delivered",
        "--message",
        "Left at front door",
        "--location",
        "New York, NY",
        "--time",
        "2026-11-27T21:40:00Z",
        "--event-id",
        "manual-1",
    )
    first = bot_cli(settings, *command)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"{TRACKING}: applied, now Delivered"
    assert bot_cli(settings, *command).stdout.strip() == f"{TRACKING}: duplicate"
    unknown = bot_cli(settings, "tracking-event", "--store", STORE, "--tracking-number", "NOPE", "--tag", "Delivered")
    assert unknown.returncode == 1 and "unknown_shipment" in unknown.stdout
    bad = bot_cli(settings, "tracking-event", "--store", STORE, "--tracking-number", TRACKING, "--tag", "Lost")
    assert bad.returncode == 2 and "not a tracking status tag" in bad.stderr
    with sqlite3.connect(tmp_path / "store.db") as db:
        assert db.execute("SELECT status FROM shipments WHERE tracking_number = ?", (TRACKING,)).fetchone()[0] == "Delivered"


async def _jobs(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    from bot.core.models import ScheduledJob

    async with sessions() as session:
        return [(row.kind, row.key) for row in (await session.scalars(select(ScheduledJob).order_by(ScheduledJob.id))).all()]


async def test_delivery_queues_one_confirmation_per_shipment(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    updates = TrackingUpdates(demo_sessions)
    await updates.apply(STORE, "aftership", delivered("d1"))
    await updates.apply(STORE, "aftership", delivered("d1"))  # repeat
    await updates.apply(STORE, "json", delivered("d2", when="2026-11-27T22:00:00Z"))  # a second Delivered scan
    jobs = await _jobs(demo_sessions)
    # The order is delivered too: its review invitation is queued once (tests/reviews/test_invitations.py).
    assert sorted(kind for kind, _ in jobs) == ["delivery_confirmation", "review_invitation"]


async def test_each_new_hold_up_queues_one_notice(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    updates = TrackingUpdates(demo_sessions)

    def held(event_id: str, when: str, tag: str = "Exception") -> TrackingUpdate:
        return TrackingUpdate(event_id, TRACKING, tag, [Checkpoint(at(when), tag, "Held by customs")])

    await updates.apply(STORE, "aftership", held("h1", "2026-11-25T09:00:00Z"))
    await updates.apply(STORE, "aftership", held("h1", "2026-11-25T09:00:00Z"))  # repeat
    await updates.apply(STORE, "aftership", held("h2", "2026-11-25T15:00:00Z"))  # still held: nothing new
    await updates.apply(STORE, "aftership", held("h3", "2026-11-26T10:00:00Z", "AttemptFail"))
    kinds = [kind for kind, _ in await _jobs(demo_sessions)]
    assert kinds == ["exception_notice", "exception_notice"]


# --- AfterShip's dated webhook versions, and the one status table -------------------------------


def aftership_fixture(name: str) -> dict:
    return json.loads((AFTERSHIP / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("tag", sorted(aftership_fixture("tags.json")["tags"]))
def test_every_aftership_tag_has_a_row(tag: str) -> None:
    # tags.json: AfterShip docs "Delivery Statuses" 2025-01 and the SDK's Tag enum.
    assert tag in AFTERSHIP_STATUSES
    assert aftership_status(tag, "tag") == (None if tag == "Pending" else TrackingTag(tag))


@pytest.mark.parametrize("subtag", sorted(aftership_fixture("tags.json")["subtags_read"]))
def test_aftership_subtags_map_by_their_tag(subtag: str) -> None:
    # tags.json: AfterShip docs "Delivery Sub-statuses" 2025-04 / 2026-07 (the rows readable there).
    assert aftership_status(subtag, "subtag") == TrackingTag(subtag.split("_")[0])


@pytest.mark.parametrize(
    "value, ours",
    [
        ("InTransit_999", TrackingTag.InTransit),  # a sub-status AfterShip adds later
        ("Pending_001", None),
        ("Teleported", None),  # a well-formed tag we do not know: no information
        ("Teleported_002", None),
    ],
)
def test_unknown_and_pending_aftership_statuses_move_nothing(value: str, ours: TrackingTag | None) -> None:
    assert aftership_status(value, "tag") == ours


def test_a_subtag_row_overrides_its_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(AFTERSHIP_STATUSES, "OutForDelivery_999", TrackingTag.AvailableForPickup)
    body = {"event": "tracking_update", "event_id": "x", "msg": {"tracking_number": "1", "tag": "OutForDelivery"}}
    body["msg"]["subtag"] = "OutForDelivery_999"
    update = parse_aftership(body, "2026-07")
    assert isinstance(update, TrackingUpdate) and update.tag == "AvailableForPickup"
    body["msg"]["subtag"] = "Pending_001"  # a sub-status without information leaves the tag's word
    assert parse_aftership(body, "2026-07").tag == "OutForDelivery"  # type: ignore[union-attr]


def test_the_2026_07_sample_is_parsed() -> None:
    # tracking_update_2026-07_trimmed.json: AfterShip's 2026-07 sample as trimmed by a third party
    # (hookdeck webhook-skills), not verified against AfterShip's page (SOURCES-tracking.md).
    update = parse_aftership(aftership_fixture("tracking_update_2026-07_trimmed.json"), "2026-07")
    assert isinstance(update, TrackingUpdate)
    assert update.event_id == "94dadd60-ed26-46d0-aa52-3ced925a50ff"
    assert update.tracking_number == "0000000000000000" and update.tag == "InTransit"
    assert update.checkpoints == [
        Checkpoint(at("2021-01-14T00:52:00Z"), "InTransit", "Departed Shipping Partner Facility, USPS Awaiting Item")
    ]
    assert update.observed_at == dt.datetime.fromtimestamp(1712741696, dt.UTC)  # ts, a unix number


def test_dated_renamed_fields_are_read() -> None:
    # The sample above with the renamed fields of field_renames.json filled in (values OURS).
    body = aftership_fixture("tracking_update_2026-07_trimmed.json")
    body["msg"]["latest_estimated_delivery"] = {"type": "specific", "source": "Carrier EDD", "datetime": "2026-12-02"}
    body["msg"]["expected_delivery"] = "2030-01-01"  # gone in the dated versions: not read
    body["msg"]["checkpoints"][0].update(city="Memphis", state="TN", country_region_name="United States")
    update = parse_aftership(body, "2026-07")
    assert isinstance(update, TrackingUpdate)
    assert update.estimated_delivery == dt.date(2026, 12, 2)
    assert update.checkpoints[0].location == "Memphis, TN, United States"
    del body["msg"]["latest_estimated_delivery"]
    body["msg"]["courier_estimated_delivery_date"] = {"estimated_delivery_date": "2026-12-03"}
    assert parse_aftership(body, "2026-07").estimated_delivery == dt.date(2026, 12, 3)  # type: ignore[union-attr]
    body["msg"]["courier_estimated_delivery_date"] = "2026-12-03"
    with pytest.raises(BadUpdate, match="courier_estimated_delivery_date"):
        parse_aftership(body, "2026-07")


@pytest.mark.parametrize("event", ["edd_revise", "tracking_pending_time", "something_new"])
def test_other_aftership_events_are_ignored_with_a_reason(event: str) -> None:
    # Event codes from webhook_contract.json (AfterShip "Webhook Specifications" 2025-01).
    body = aftership_fixture("tracking_update_2026-07_trimmed.json") | {"event": event}
    ignored = parse_aftership(body, "2026-07")
    assert ignored == IgnoredEvent(event, "94dadd60-ed26-46d0-aa52-3ced925a50ff", f"not a tracking update: {event}")


def test_a_dated_body_must_name_its_event() -> None:
    body = aftership_fixture("tracking_update_2026-07_trimmed.json")
    del body["event"]
    with pytest.raises(BadUpdate, match="event"):
        parse_aftership(body, "2026-07")
    assert isinstance(parse_aftership(body), TrackingUpdate)  # old v4 bodies may not name it


@pytest.mark.parametrize("header, version", [(None, None), ("2026-07", "2026-07"), (" 2025-01 ", "2025-01")])
def test_webhook_versions(header: str | None, version: str | None) -> None:
    assert aftership_version(header) == version


@pytest.mark.parametrize("header", ["", "v4", "2026-13", "2026-7", "2026-07-01"])
def test_bad_webhook_versions_are_refused(header: str) -> None:
    with pytest.raises(BadUpdate, match="as-webhook-version"):
        aftership_version(header)


# --- never backwards ----------------------------------------------------------------------------

T0 = at("2026-11-27T12:00:00Z")
LATER = at("2026-11-27T13:00:00Z")
EARLIER = at("2026-11-27T11:00:00Z")


@pytest.mark.parametrize(
    "current, current_at, new, new_at, moves",
    [
        ("InTransit", T0, "OutForDelivery", LATER, True),
        ("InTransit", T0, "InfoReceived", LATER, True),  # newer scans are believed
        ("OutForDelivery", T0, "InTransit", EARLIER, False),  # older after newer
        ("Delivered", T0, "InTransit", EARLIER, False),
        ("Delivered", T0, "InTransit", LATER, False),  # delivered is final
        ("Delivered", T0, "Exception", LATER, False),
        ("Delivered", T0, "Delivered", LATER, True),
        ("InTransit", T0, None, LATER, False),  # no information
        ("InTransit", T0, "Pending", LATER, False),
        ("OutForDelivery", T0, "InTransit", T0, False),  # same minute: not backwards
        ("InTransit", T0, "OutForDelivery", T0, True),
        ("Exception", T0, "AttemptFail", T0, True),
        ("Pending", None, "InTransit", EARLIER, True),  # nothing known yet
    ],
)
def test_the_never_backwards_rule(
    current: str, current_at: dt.datetime | None, new: str | None, new_at: dt.datetime, moves: bool
) -> None:
    assert moves_status(current, current_at, new, new_at) is moves


@pytest.mark.parametrize("source", ["aftership", "json"])
async def test_a_newer_update_without_information_keeps_the_status(
    demo_sessions: async_sessionmaker[AsyncSession], source: str
) -> None:
    updates = TrackingUpdates(demo_sessions)
    scans = await _scan_count(demo_sessions)
    # AfterShip's Pending maps to None (no information); the simple JSON says "Pending" itself.
    tag = None if source == "aftership" else "Pending"
    pending = TrackingUpdate("p1", TRACKING, tag, [Checkpoint(at("2030-01-01T00:00:00Z"), "Pending", "Carrier lost track")])
    outcome = await updates.apply(STORE, source, pending)
    assert outcome.result == "no_status" and outcome.status == "InTransit"
    stored = await shipment(demo_sessions)
    assert stored.status == "InTransit" and stored.status_at != at("2030-01-01T00:00:00Z")
    assert await _scan_count(demo_sessions) == scans + 1  # the scan is kept
    assert (await updates.apply(STORE, source, pending)).result == "duplicate"


@pytest.mark.parametrize("source", ["aftership", "json"])
async def test_a_delivered_shipment_stays_delivered(demo_sessions: async_sessionmaker[AsyncSession], source: str) -> None:
    updates = TrackingUpdates(demo_sessions)
    assert (await updates.apply(STORE, source, delivered())).delivered_now
    after = TrackingUpdate(
        "later", TRACKING, "InTransit", [Checkpoint(at("2026-11-28T09:00:00Z"), "InTransit", "Scanned at depot")]
    )
    assert (await updates.apply(STORE, source, after)).result == "stale"
    stored = await shipment(demo_sessions)
    assert stored.status == "Delivered" and stored.status_at == at("2026-11-27T21:40:00Z")
    assert [kind for kind, _ in await _jobs(demo_sessions)].count("delivery_confirmation") == 1
