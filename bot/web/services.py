"""Every service the gateway's handlers use: built once per process, kept under one key.

``create_app`` (:mod:`bot.web.app`) is the one place that builds them. Handlers read them with
:func:`services`, from the chat API, the webhooks and the consoles alike, so each service exists
once per process: one live hub, one HTTP client to Rasa, and one bound on password hashing
(:class:`~bot.support.credentials.PasswordHashing`) shared by the console sign-ins, the invitation
links and the accounts, for both consoles and the seller API.

The services that talk to Rasa need an HTTP client, which exists only once the gateway runs:
:meth:`Services.running` opens it when the gateway starts and closes it when it stops. A test
that needs no answer from Rasa hands ``create_app`` a :class:`~bot.chat.rasa_client.RasaClient`
of its own instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ConversationService
from bot.chat.rasa_client import RasaClient
from bot.chat.unanswered import UnansweredTurns
from bot.core.config import Settings
from bot.core.jobs import FailedJobs
from bot.email.unread_messages import EmailFollowUps
from bot.guides.manuals import Manuals
from bot.guides.product_guides import ProductGuides
from bot.integrations.order_webhooks import OrderWebhooks
from bot.integrations.store_integrations import StoreIntegrations
from bot.orders.lookup import OrderService
from bot.photos.conversation_photos import ConversationPhotos
from bot.photos.storage import photo_storage
from bot.seller.api_tokens import ApiTokens
from bot.seller.previews import TemplatePreviews
from bot.seller.shopper_erasure import ShopperErasure
from bot.seller.store_settings import StoreSettingsService
from bot.shipping.tracking_updates import TrackingUpdates
from bot.support.accounts import AgentAccounts
from bot.support.console_queue import ConsoleQueue
from bot.support.console_sessions import ConsoleSessions
from bot.support.conversation_view import ConversationView
from bot.support.credentials import PasswordHashing
from bot.support.handoff import HandoffService
from bot.support.staff_invitations import StaffInvitations
from bot.web.agent_feed import AgentFeed
from bot.web.live import LiveHub
from bot.web.ratelimit import RateLimiter
from bot.web.turns import ChatTurns

#: Photos decoded at once per gateway process: each may hold some 200 MB at the pixel limit.
DECODES_AT_ONCE = 2
#: Photo uploads per client address per minute (each costs a decode): five full messages' worth,
#: more than a shopper photographing a parcel needs.
UPLOADS_PER_ADDRESS_PER_MINUTE = 20

#: Rasa answers a turn within seconds; a minute covers a cold model and a slow action.
RASA_TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass
class Engine:
    """What talks to Rasa: made when the gateway starts, over its one HTTP client."""

    rasa: RasaClient
    turns: ChatTurns
    handoff: HandoffService
    feed: AgentFeed


@dataclass
class Services:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    conversations: ConversationService
    orders: OrderService
    tracking: TrackingUpdates
    hub: LiveHub
    #: Sign-in, sessions and presence of both consoles.
    console_sessions: ConsoleSessions
    #: Invitations to a store's team, and joining by their links.
    invitations: StaffInvitations
    #: Accounts and the stores' teams.
    accounts: AgentAccounts
    #: The agent console's queue, and what changed for its live feed.
    console_queue: ConsoleQueue
    #: One conversation as an agent sees it.
    conversation_view: ConversationView
    api_tokens: ApiTokens
    store_settings: StoreSettingsService
    previews: TemplatePreviews
    manuals: Manuals
    guides: ProductGuides
    failed_jobs: FailedJobs
    #: The stores' connectors to their shops and tracking providers, and the shops' order webhooks.
    integrations: StoreIntegrations
    order_webhooks: OrderWebhooks
    #: The conversations' photos, in the storage the settings name.
    photos: ConversationPhotos
    #: Photo uploads per client address (each costs a decode).
    photo_uploads: RateLimiter
    #: Photos being decoded at once in this process.
    photo_decodes: asyncio.Semaphore
    #: Erasing a shopper's data at a store, when the shopper asks.
    shopper_erasure: ShopperErasure
    #: Requests to /api/ per client address.
    ip_limit: RateLimiter
    #: Shopper messages per conversation, over HTTP and the websocket alike.
    conversation_limit: RateLimiter
    #: Sign-ins and invitation links per client address (both consoles share it).
    login_limit: RateLimiter
    #: A Rasa client given by the caller (tests), used instead of one over the gateway's client.
    given_rasa: RasaClient | None = None
    _engine: Engine | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls, settings: Settings, sessions: async_sessionmaker[AsyncSession], rasa: RasaClient | None = None
    ) -> Services:
        conversations = ConversationService(sessions, settings.shopper_signature_max_age_seconds)
        store_settings = StoreSettingsService(sessions)
        hashing = PasswordHashing(settings.password_hash_workers, settings.password_hash_waiting)
        console_sessions = ConsoleSessions(sessions, hashing)
        photos = ConversationPhotos(sessions, photo_storage(settings, sessions), settings.photos_per_conversation_per_day)
        return cls(
            settings=settings,
            sessions=sessions,
            conversations=conversations,
            orders=OrderService(sessions),
            tracking=TrackingUpdates(sessions),
            hub=LiveHub(
                per_conversation=settings.websockets_per_conversation,
                per_address=settings.websockets_per_address,
                watch=conversations.watch_new_messages,
            ),
            console_sessions=console_sessions,
            invitations=StaffInvitations(sessions, console_sessions, hashing),
            accounts=AgentAccounts(sessions, hashing),
            console_queue=ConsoleQueue(sessions),
            conversation_view=ConversationView(sessions),
            api_tokens=ApiTokens(sessions),
            store_settings=store_settings,
            previews=TemplatePreviews(sessions, store_settings),
            manuals=Manuals(sessions),
            guides=ProductGuides(sessions),
            failed_jobs=FailedJobs(sessions),
            integrations=StoreIntegrations(sessions),
            order_webhooks=OrderWebhooks(sessions),
            photos=photos,
            photo_uploads=RateLimiter(UPLOADS_PER_ADDRESS_PER_MINUTE),
            photo_decodes=asyncio.Semaphore(DECODES_AT_ONCE),
            shopper_erasure=ShopperErasure(sessions, photos),
            ip_limit=RateLimiter(settings.ip_requests_per_minute),
            conversation_limit=RateLimiter(
                settings.conversation_messages_per_minute, burst=max(1, settings.conversation_messages_per_minute // 3)
            ),
            login_limit=RateLimiter(settings.login_attempts_per_minute),
            given_rasa=rasa,
        )

    @property
    def engine(self) -> Engine:
        """The services that talk to Rasa; there while the gateway runs."""
        if self._engine is None:
            raise RuntimeError("the gateway is not running: its services that talk to Rasa are not made yet")
        return self._engine

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """While the gateway runs: its HTTP client to Rasa and what uses it; on the way out, the
        agent feed's poller and the open websockets end."""
        async with aiohttp.ClientSession(timeout=RASA_TIMEOUT) as http:
            rasa = self.given_rasa or RasaClient(self.settings, http)
            self._engine = Engine(
                rasa=rasa,
                turns=ChatTurns(self.conversations, rasa, self.hub, UnansweredTurns(self.sessions), self.photos),
                handoff=HandoffService(
                    self.sessions,
                    self.conversations,
                    rasa,
                    self.conversation_view,
                    EmailFollowUps.when_enabled(self.settings),
                ),
                feed=AgentFeed(self.console_queue),
            )
            try:
                yield
            finally:
                await self._engine.feed.close()
                await self.hub.close()
                self._engine = None


SERVICES = web.AppKey("services", Services)


def services(request: web.Request) -> Services:
    """The gateway's services, from any handler, in the main application or a console's."""
    return request.config_dict[SERVICES]
