"""Command line: ``python -m bot {migrate,import,run,chat,review-log,…}``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bot.core.clock import utc_now


def _cmd_migrate(_: argparse.Namespace) -> int:
    from bot.core.db import get_engine
    from bot.core.migrate import upgrade

    async def main() -> None:
        engine = get_engine()
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(main())
    print("store database is at the latest schema")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from bot.core.db import get_engine, get_sessionmaker
    from bot.orders.importer import ImportReport, import_lines

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    total = sum(1 for _ in path.open("rb"))
    show = sys.stderr.isatty() or args.progress

    def progress(number: int) -> None:
        if show and (number % 10 == 0 or number == total):
            print(f"\rimporting {path.name}: line {number}/{total}", end="", file=sys.stderr, flush=True)

    async def main() -> ImportReport:
        sessions = get_sessionmaker()
        try:
            with path.open(encoding="utf-8", errors="replace") as lines:
                return await import_lines(sessions, lines, progress)
        finally:
            await get_engine().dispose()

    report = asyncio.run(main())
    if show:
        print(file=sys.stderr)
    for number, reason in report.errors:
        print(f"{path}:{number}: {reason}", file=sys.stderr)

    def counted(kind: str, n: int) -> str:
        noun = kind.replace("_", " ")
        return f"{n} {noun if n == 1 else noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"

    counts = ", ".join(counted(kind, n) for kind, n in report.imported.items())
    print(f"imported {counts}; {len(report.errors)} bad line{'s' if len(report.errors) != 1 else ''}")
    return 0 if report.ok else 1


def _cmd_gateway(_: argparse.Namespace) -> int:
    from bot.core.config import get_settings
    from bot.web.app import run_gateway

    run_gateway(get_settings())
    return 0


def _cmd_worker(_: argparse.Namespace) -> int:
    from bot.core.config import get_settings
    from bot.runtime.worker import run_worker

    run_worker(get_settings())
    return 0


def _cmd_demo_secrets(_: argparse.Namespace) -> int:
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


def _cmd_agents(args: argparse.Namespace) -> int:
    """Console accounts, as the operator: add one for any stores (with a generated password unless one is
    piped in), invite an email to a store's team (a link, as its seller admins do), list, set a password."""
    import secrets as random_secrets

    from bot.core.config import get_settings
    from bot.core.db import get_engine, get_sessionmaker
    from bot.support.accounts import AgentAccounts
    from bot.support.credentials import AccountError

    from_stdin = getattr(args, "password_stdin", False)
    password = ""
    if args.action in ("add", "passwd"):
        password = sys.stdin.readline().rstrip("\n") if from_stdin else random_secrets.token_urlsafe(12)

    async def main() -> int:
        accounts = AgentAccounts(get_sessionmaker())
        try:
            if args.action == "list":
                for email, name, store, role in await accounts.list(args.store):
                    print(f"{email}\t{name}\t{store}\t{role}")
                return 0
            if args.action == "invite":
                issued = await accounts.invite(args.store, args.email, args.name, args.role, "operator (command line)")
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


def _cmd_tracking_event(args: argparse.Namespace) -> int:
    """Record one carrier scan for a seller without a tracking provider."""
    import uuid

    from bot.core.db import get_engine, get_sessionmaker
    from bot.shipping.tracking_updates import (
        BadUpdate,
        Checkpoint,
        TrackingUpdate,
        TrackingUpdates,
        UpdateOutcome,
        parse_tag,
        parse_time,
    )

    try:
        when = parse_time(args.time, "--time") if args.time else utc_now()
        tag = parse_tag(args.tag, "--tag")
    except BadUpdate as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    update = TrackingUpdate(
        event_id=args.event_id or f"cli-{uuid.uuid4()}",
        tracking_number=args.tracking_number,
        tag=tag,
        checkpoints=[Checkpoint(when, tag, args.message or "", args.location)],
    )

    async def main() -> UpdateOutcome:
        try:
            return await TrackingUpdates(get_sessionmaker()).apply(args.store, "cli", update)
        finally:
            await get_engine().dispose()

    outcome = asyncio.run(main())
    print(f"{args.tracking_number}: {outcome.result}" + (f", now {outcome.status}" if outcome.status else ""))
    return 1 if outcome.result == "unknown_shipment" else 0


def _cmd_review_log(args: argparse.Namespace) -> int:
    """Export the store's review-invitation log (every send, skip and deferral) as CSV."""
    from bot.chat.conversations import UnknownStore
    from bot.core.db import get_engine, get_sessionmaker
    from bot.reviews.invitations import ReviewService

    async def main() -> str:
        try:
            return await ReviewService(get_sessionmaker()).export_log(args.store)
        finally:
            await get_engine().dispose()

    try:
        text = asyncio.run(main())
    except UnknownStore:
        print(f"error: no such store: {args.store}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8", newline="")
        entries = text.count("\n") - 1
        print(f"wrote {entries} log entr{'y' if entries == 1 else 'ies'} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_settings(args: argparse.Namespace) -> int:
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


def _cmd_api_tokens(args: argparse.Namespace) -> int:
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


def _cmd_run(args: argparse.Namespace) -> int:
    from bot.runtime.stack import run_stack

    return run_stack(chat=args.chat, store=args.store, shopper_email=args.shopper_email)


def _cmd_chat(args: argparse.Namespace) -> int:
    """Chat with a running assistant, or start one for this chat."""
    import urllib.request

    from bot.core.config import get_settings
    from bot.runtime.terminal_chat import chat

    settings = get_settings()
    try:
        urllib.request.urlopen(f"{settings.rasa_url}/status?token={settings.rasa_token}", timeout=2).close()
    except OSError:
        return _cmd_run(argparse.Namespace(chat=True, store=args.store, shopper_email=args.shopper_email))
    return asyncio.run(chat(settings, store=args.store, shopper_email=args.shopper_email))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the store database").set_defaults(func=_cmd_migrate)
    p_import = sub.add_parser("import", help="import stores, products and orders from JSON Lines")
    p_import.add_argument("file")
    p_import.add_argument("--progress", action="store_true", help="show progress even when not on a terminal")
    p_import.set_defaults(func=_cmd_import)
    sub.add_parser("gateway", help="serve the web gateway (chat API, widget, demo page)").set_defaults(func=_cmd_gateway)
    sub.add_parser("worker", help="run the durable jobs (delivery confirmations)").set_defaults(func=_cmd_worker)
    sub.add_parser(
        "demo-secrets", help="generate a shopper-identity secret for every store that has none, and demo agents' passwords"
    ).set_defaults(func=_cmd_demo_secrets)
    p_event = sub.add_parser("tracking-event", help="record a carrier scan for a shipment (no tracking provider needed)")
    p_event.add_argument("--store", required=True)
    p_event.add_argument("--tracking-number", required=True)
    p_event.add_argument("--tag", required=True, help="an AfterShip tag: InTransit, OutForDelivery, Delivered, Exception, …")
    p_event.add_argument("--message", help='what happened, e.g. "Delivered, left at front door"')
    p_event.add_argument("--location")
    p_event.add_argument("--time", help="ISO-8601 time of the scan (default: now)")
    p_event.add_argument("--event-id", help="makes a repeated command a no-op (default: a new id)")
    p_event.set_defaults(func=_cmd_tracking_event)
    p_reviews = sub.add_parser("review-log", help="export a store's review-invitation log as CSV")
    p_reviews.add_argument("--store", required=True)
    p_reviews.add_argument("--output", help="write the CSV to this file (default: standard output)")
    p_reviews.set_defaults(func=_cmd_review_log)
    p_agents = sub.add_parser("agents", help="console accounts for support staff and seller admins")
    agents_sub = p_agents.add_subparsers(dest="action", required=True)
    p_add = agents_sub.add_parser(
        "add",
        help="the operator's way: create an account for these stores (or add them to one); prints a generated password",
    )
    p_add.add_argument("--store", action="append", required=True, help="a store the agent works for (repeat for several)")
    p_add.add_argument("--email", required=True)
    p_add.add_argument("--name", help="the name shoppers see next to the agent's replies")
    p_add.add_argument("--role", default="agent", choices=["agent", "seller_admin"])
    p_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input instead")
    p_passwd = agents_sub.add_parser("passwd", help="set a new password (signs the agent out everywhere)")
    p_passwd.add_argument("--email", required=True)
    p_passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input instead")
    p_invite = agents_sub.add_parser(
        "invite", help="invite an email to a store's team, as its seller admins do; prints the one-time link to pass on"
    )
    p_invite.add_argument("--store", required=True)
    p_invite.add_argument("--email", required=True)
    p_invite.add_argument("--name", required=True)
    p_invite.add_argument("--role", default="agent", choices=["agent", "seller_admin"])
    p_list = agents_sub.add_parser("list", help="list agents and their stores")
    p_list.add_argument("--store")
    p_agents.set_defaults(func=_cmd_agents)
    p_settings = sub.add_parser("settings", help="a store's reply flows: templates, review and escalation settings")
    settings_sub = p_settings.add_subparsers(dest="action", required=True)
    for action, text in (("show", "print the current version as JSON"), ("history", "list the versions, newest first")):
        settings_sub.add_parser(action, help=text).add_argument("--store", required=True)
    p_set = settings_sub.add_parser("set", help="save a change (a JSON object with only what changes) as a new version")
    p_set.add_argument("--store", required=True)
    p_set.add_argument("--file", required=True, help="the JSON change, or - for standard input")
    p_set.add_argument("--by", default="command line", help="who made the change, for the history")
    p_rollback = settings_sub.add_parser("rollback", help="make an earlier version current again (as a new version)")
    p_rollback.add_argument("--store", required=True)
    p_rollback.add_argument(
        "--version", type=int, required=True, help="0 is the store as imported, with the default templates"
    )
    p_rollback.add_argument("--by", default="command line")
    p_settings.set_defaults(func=_cmd_settings)
    p_tokens = sub.add_parser("api-tokens", help="seller API tokens (one store each)")
    tokens_sub = p_tokens.add_subparsers(dest="action", required=True)
    p_create = tokens_sub.add_parser("create", help="make a token for the store and print it (only this once)")
    p_create.add_argument("--store", required=True)
    p_create.add_argument("--label", default="seller API", help='what it is for, like "ERP sync"')
    tokens_sub.add_parser("list", help="the store's tokens: fingerprint, label, created, last used, state").add_argument(
        "--store", required=True
    )
    p_revoke = tokens_sub.add_parser("revoke", help="revoke a token by the fingerprint `list` shows")
    p_revoke.add_argument("--store", required=True)
    p_revoke.add_argument("--fingerprint", required=True)
    p_tokens.set_defaults(func=_cmd_api_tokens)
    for name, func, text in (
        ("run", _cmd_run, "start the action server, the Rasa server, the gateway and the worker"),
        ("chat", _cmd_chat, "chat in this terminal with a running assistant"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--store", default="yangteng-auto", help="the store the chat belongs to")
        p.add_argument("--shopper-email", help="chat as a shopper the store has already identified")
        if name == "run":
            p.add_argument("--chat", action="store_true", help="also chat in this terminal")
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    # Before anything is written: every file this process or its children create is owner-only,
    # and what an older version left world-readable under var/ is closed now.
    from bot.core.config import PRIVATE_UMASK, get_settings, make_var_dir_private

    os.umask(PRIVATE_UMASK)
    make_var_dir_private(get_settings().var_dir)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
