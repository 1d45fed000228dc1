"""Commands that administer the stores: console accounts (``agents``), shopper secrets and demo
passwords (``demo-secrets``), a store's reply flows (``settings``) and seller API tokens (``api-tokens``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def cmd_demo_secrets(_: argparse.Namespace) -> int:
    from bot.chat.conversations import ConversationService
    from bot.core.config import get_settings
    from bot.core.db import get_engine, get_sessionmaker
    from bot.runtime.demo import ensure_demo_agent_passwords

    async def main() -> tuple[list[str], list[str]]:
        try:
            sessions = get_sessionmaker()
            stores = await ConversationService(sessions).ensure_shopper_secrets()
            agents = await ensure_demo_agent_passwords(sessions, get_settings().var_dir)
            return stores, agents
        finally:
            await get_engine().dispose()

    created, agents = asyncio.run(main())
    print(
        f"generated shopper secrets for {len(created)} store(s) that had none"
        + (f": {', '.join(created)}" if created else "")
    )
    if agents:
        print(f"generated console passwords for {', '.join(agents)} (`make run` prints them)")
    return 0


def cmd_agents(args: argparse.Namespace) -> int:
    """Console accounts, as the operator: add one for any stores (with a generated password unless one is
    piped in), invite an email to a store's team (a link, as its seller admins do), list, set a password."""
    import secrets as random_secrets

    from bot.core.config import get_settings
    from bot.core.db import get_engine, get_sessionmaker
    from bot.support.accounts import AgentAccounts
    from bot.support.console_sessions import ConsoleSessions
    from bot.support.credentials import AccountError
    from bot.support.staff_invitations import StaffInvitations

    from_stdin = getattr(args, "password_stdin", False)
    password = ""
    if args.action in ("add", "passwd"):
        password = sys.stdin.readline().rstrip("\n") if from_stdin else random_secrets.token_urlsafe(12)

    async def main() -> int:
        sessions = get_sessionmaker()
        accounts = AgentAccounts(sessions)
        try:
            if args.action == "list":
                for email, name, store, role in await accounts.list(args.store):
                    print(f"{email}\t{name}\t{store}\t{role}")
                return 0
            if args.action == "invite":
                invitations = StaffInvitations(sessions, ConsoleSessions(sessions))
                issued = await invitations.invite(args.store, args.email, args.name, args.role, "operator (command line)")
                if issued is None:
                    print(f"{args.email}: already on {args.store}'s team; now {args.role}")
                    return 0
                console = "seller" if args.role == "seller_admin" else "agent"
                base = get_settings().public_base_url
                print(
                    f"{issued.invitation.email}: invited to {args.store} as {args.role} until {issued.invitation.expires_at:%Y-%m-%d %H:%M} UTC"
                )
                print(f"send them this link privately (it works once): {base}/{console}#invitation={issued.token}")
                return 0
            if args.action == "add":
                created = await accounts.add(
                    args.email, args.name or args.email.split("@")[0], password, args.store, args.role
                )
                if not created:
                    print(f"{args.email}: already exists; now works for {', '.join(args.store)} (password unchanged)")
                    return 0
            elif not await accounts.set_password(args.email, password):
                print(f"error: no agent {args.email}", file=sys.stderr)
                return 2
            print(f"{args.email}: ready" + ("" if from_stdin else f"; password: {password}"))
            return 0
        finally:
            await get_engine().dispose()

    try:
        return asyncio.run(main())
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def cmd_settings(args: argparse.Namespace) -> int:
    """A store's reply flows: show, change (a JSON patch), history, roll back. Every change is a new version."""
    import json

    from bot.core.db import get_engine, get_sessionmaker
    from bot.core.text_input import BadInput, loads
    from bot.seller.store_settings import SettingsError, StoreSettingsService, VersionNotFound

    async def main() -> int:
        service = StoreSettingsService(get_sessionmaker())
        try:
            if args.action == "show":
                current = await service.current(args.store)
                print(json.dumps({"version": current.version, "settings": current.settings}, ensure_ascii=False, indent=2))
            elif args.action == "history":
                for version in await service.history(args.store):
                    when = version.created_at.isoformat(timespec="seconds") if version.created_at else ""
                    print(f"{version.version}\t{when}\t{version.changed_by or ''}\t{version.summary}")
            elif args.action == "set":
                text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
                try:
                    patch = loads(text)
                except json.JSONDecodeError as exc:
                    print(f"error: {args.file} is not valid JSON: {exc.msg} at line {exc.lineno}", file=sys.stderr)
                    return 2
                except BadInput as exc:
                    print(f"error: {args.file}: {exc}", file=sys.stderr)
                    return 2
                saved = await service.update(args.store, patch, args.by)
                print(f"{args.store}: version {saved.version} ({saved.summary})")
            else:
                saved = await service.rollback(args.store, args.version, args.by)
                print(f"{args.store}: version {saved.version} ({saved.summary})")
            return 0
        except LookupError as exc:
            what = f"version {exc.args[0]}" if isinstance(exc, VersionNotFound) else f"store {args.store}"
            print(f"error: no such {what}", file=sys.stderr)
            return 2
        except SettingsError as exc:
            print(f"error: nothing saved: {exc}", file=sys.stderr)
            return 2
        finally:
            await get_engine().dispose()

    return asyncio.run(main())


def cmd_api_tokens(args: argparse.Namespace) -> int:
    """Seller API tokens for one store: create (shown once), list, revoke."""
    from bot.core.db import get_engine, get_sessionmaker
    from bot.seller.api_tokens import ApiTokens

    async def main() -> int:
        tokens = ApiTokens(get_sessionmaker())
        try:
            if args.action == "create":
                print(await tokens.create(args.store, args.label))
                print("(shown once: keep it in your secret store)", file=sys.stderr)
            elif args.action == "list":
                for info in await tokens.list(args.store):
                    state = f"revoked {info.revoked_at:%Y-%m-%d}" if info.revoked_at else "live"
                    used = f"{info.last_used_at:%Y-%m-%d %H:%M}" if info.last_used_at else "never used"
                    print(f"{info.fingerprint}\t{info.label}\t{info.created_at:%Y-%m-%d}\t{used}\t{state}")
            else:
                revoked = await tokens.revoke(args.store, args.fingerprint)
                print(f"revoked {revoked} token{'s' if revoked != 1 else ''}")
                return 0 if revoked else 2
            return 0
        except LookupError:
            print(f"error: no such store: {args.store}", file=sys.stderr)
            return 2
        finally:
            await get_engine().dispose()

    return asyncio.run(main())
