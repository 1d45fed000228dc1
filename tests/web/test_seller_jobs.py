"""The seller API's failed jobs (issue 13, item 6), on SQLite and PostgreSQL: the store's own
only, as documented, and sent again on request."""

from __future__ import annotations

import datetime as dt

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.jobs import FAILURE_NO_REPLY, MAX_ATTEMPTS, JobQueue, enqueue
from bot.core.models import JobStatus, ScheduledJob, Shipment
from tests.web.test_seller_api import client, conforms, token  # noqa: F401 - client is a fixture

Sessions = async_sessionmaker[AsyncSession]
STORE, OTHER = "yangteng-auto", "bloomkids-baby"


async def fail_one(sessions: Sessions, store: str) -> int:
    """A delivery confirmation of the store that the worker gave up on."""
    async with sessions() as session, session.begin():
        shipment = await session.scalar(select(Shipment).where(Shipment.store_id == store).order_by(Shipment.id))
        await enqueue(session, store, "delivery_confirmation", f"confirm:{store}", {"shipment_id": shipment.id})
    queue = JobQueue(sessions, "w")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    for _ in range(MAX_ATTEMPTS):
        for job in await queue.claim(now=later):
            await queue.retry_later(job, "NoReply: EXTERNAL_package_delivered produced no messages", FAILURE_NO_REPLY)
    async with sessions() as session:
        return await session.scalar(select(ScheduledJob.id).where(ScheduledJob.key == f"confirm:{store}"))


async def test_a_store_sees_and_retries_its_own_failed_jobs_only(client: TestClient, demo_sessions: Sessions) -> None:  # noqa: F811 - the imported fixture
    mine, theirs = await fail_one(demo_sessions, STORE), await fail_one(demo_sessions, OTHER)
    headers = await token(demo_sessions, STORE)

    response = await client.get("/api/v1/seller/jobs?status=failed", headers=headers)
    assert response.status == 200
    body = await response.json()
    for job in body["jobs"]:
        conforms(job, "FailedJob")
    assert [(j["id"], j["kind"], j["reason"], j["attempts"]) for j in body["jobs"]] == [
        (mine, "delivery_confirmation", FAILURE_NO_REPLY, MAX_ATTEMPTS)
    ]
    assert "last_error" not in body["jobs"][0]  # the operator's details stay in the logs

    assert (await client.get("/api/v1/seller/jobs?status=done", headers=headers)).status == 400
    for job_id in (str(theirs), "99999", "abc", "9" * 30):
        response = await client.post(f"/api/v1/seller/jobs/{job_id}/retry", headers=headers)
        assert response.status == 404 and "error" in await response.json(), job_id

    response = await client.post(f"/api/v1/seller/jobs/{mine}/retry", headers=headers)
    assert response.status == 202 and await response.json() == {"id": mine, "status": "pending"}
    assert (await (await client.get("/api/v1/seller/jobs", headers=headers)).json())["jobs"] == []
    async with demo_sessions() as session:
        statuses = dict((await session.execute(select(ScheduledJob.id, ScheduledJob.status))).all())
    assert statuses == {mine: JobStatus.pending.value, theirs: JobStatus.failed.value}
