"""Taking someone off a store's team, and giving what they were holding back to the assistant.

The account loses this store only (:meth:`AgentAccounts.remove_from_store`); every conversation it
had taken over there goes back to the queue and, in Rasa, back to the bot: a shopper is never left
waiting for a person who can no longer answer.
"""

from __future__ import annotations

import logging

import aiohttp

from bot.chat.rasa_client import RasaClient
from bot.support.accounts import AgentAccounts

log = logging.getLogger(__name__)


async def remove_from_team(accounts: AgentAccounts, rasa: RasaClient, store_id: str, email: str) -> bool:
    """Whether the email was on the store's team or invited to it (and now is neither)."""
    released = await accounts.remove_from_store(store_id, email)
    if released is None:
        return False
    for conversation_id in released:
        try:
            await rasa.resume(conversation_id)
        except (TimeoutError, aiohttp.ClientError):
            # The removal stands (the account must lose the store either way) and the conversation
            # is back in the queue, where the next agent who claims it and hands it back resumes it.
            log.warning("could not resume %s in Rasa", conversation_id, exc_info=True)
    return True
