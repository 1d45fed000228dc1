"""Command line: ``python -m bot {migrate,import,shop-import,run,chat,review-log,…}``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from bot.runtime.store_admin_commands import cmd_agents, cmd_api_tokens, cmd_demo_secrets, cmd_settings
from bot.runtime.store_data_commands import (
    cmd_erase_shopper,
    cmd_import,
    cmd_migrate,
    cmd_review_log,
    cmd_shop_import,
    cmd_tracking_event,
    cmd_tracking_import,
)


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


def _cmd_mail_sink(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.core.config import get_settings
    from bot.runtime.mail_sink import run_mail_sink

    settings = get_settings()
    directory = Path(args.dir).resolve() if args.dir else settings.mail_sink_maildir
    return run_mail_sink(directory, args.port if args.port is not None else settings.mail_sink_port)


def _cmd_inbound_smtp(args: argparse.Namespace) -> int:
    from bot.core.config import get_settings
    from bot.runtime.inbound_smtp import run_inbound_smtp

    return run_inbound_smtp(get_settings(), args.host)


def _cmd_email_webhook_url(_: argparse.Namespace) -> int:
    """The URL to give the mail provider's inbound parse: it holds the secret, so it is printed only on request."""
    from bot.core.config import get_settings

    settings = get_settings()
    print(f"{settings.public_base_url}/webhooks/email/inbound/{settings.email_inbound_secret}")
    return 0


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
    sub.add_parser("migrate", help="create or upgrade the store database").set_defaults(func=cmd_migrate)
    p_import = sub.add_parser("import", help="import stores, products and orders from JSON Lines")
    p_import.add_argument("file")
    p_import.add_argument("--progress", action="store_true", help="show progress even when not on a terminal")
    p_import.set_defaults(func=cmd_import)
    p_shop = sub.add_parser(
        "shop-import",
        help="import a store's past orders from its shop's export (Shopify CSV or Admin API JSON), all or nothing",
    )
    p_shop.add_argument("--store", required=True)
    p_shop.add_argument("--provider", required=True, choices=["shopify", "woocommerce"])
    p_shop.add_argument("file")
    p_shop.add_argument("--progress", action="store_true", help="show progress even when not on a terminal")
    p_shop.set_defaults(func=cmd_shop_import)
    sub.add_parser("gateway", help="serve the web gateway (chat API, widget, demo page)").set_defaults(func=_cmd_gateway)
    sub.add_parser("worker", help="run the durable jobs (delivery confirmations)").set_defaults(func=_cmd_worker)
    p_sink = sub.add_parser(
        "mail-sink", help="a local SMTP server that keeps every email in a Maildir and sends none (make run starts it)"
    )
    p_sink.add_argument("--port", type=int, help="the loopback port (default: MAIL_SINK_PORT, 2525)")
    p_sink.add_argument("--dir", help="the Maildir (default: MAIL_SINK_DIR, var/mail_sink)")
    p_sink.set_defaults(func=_cmd_mail_sink)
    p_inbound = sub.add_parser(
        "inbound-smtp", help="receive replies by SMTP on INBOUND_SMTP_PORT (for deployments without an inbound webhook)"
    )
    p_inbound.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    p_inbound.set_defaults(func=_cmd_inbound_smtp)
    sub.add_parser(
        "email-webhook-url", help="print the inbound-mail webhook's URL (with its secret) for the mail provider"
    ).set_defaults(func=_cmd_email_webhook_url)
    sub.add_parser(
        "demo-secrets", help="generate a shopper-identity secret for every store that has none, and demo agents' passwords"
    ).set_defaults(func=cmd_demo_secrets)
    p_event = sub.add_parser("tracking-event", help="record a carrier scan for a shipment (no tracking provider needed)")
    p_event.add_argument("--store", required=True)
    p_event.add_argument("--tracking-number", required=True)
    p_event.add_argument("--tag", required=True, help="an AfterShip tag: InTransit, OutForDelivery, Delivered, Exception, …")
    p_event.add_argument("--message", help='what happened, e.g. "Delivered, left at front door"')
    p_event.add_argument("--location")
    p_event.add_argument("--time", help="ISO-8601 time of the scan (default: now)")
    p_event.add_argument("--event-id", help="makes a repeated command a no-op (default: a new id)")
    p_event.set_defaults(func=cmd_tracking_event)
    p_backfill = sub.add_parser(
        "tracking-import", help="apply a tracking provider's export to a store's shipments, telling no shopper"
    )
    p_backfill.add_argument("--store", required=True)
    p_backfill.add_argument("--provider", required=True, choices=["aftership", "easypost", "17track"])
    p_backfill.add_argument(
        "file",
        help='AfterShip: GET /trackings output or JSON Lines; EasyPost: Tracker objects ({"trackers": [...]} or '
        "JSON Lines); 17TRACK: a gettrackinfo answer",
    )
    p_backfill.add_argument("--progress", action="store_true", help="show progress even when not on a terminal")
    p_backfill.set_defaults(func=cmd_tracking_import)
    p_reviews = sub.add_parser("review-log", help="export a store's review-invitation log as CSV")
    p_reviews.add_argument("--store", required=True)
    p_reviews.add_argument("--output", help="write the CSV to this file (default: standard output)")
    p_reviews.set_defaults(func=cmd_review_log)
    p_erase = sub.add_parser(
        "erase-shopper",
        help="erase a shopper's conversations, photos and reviews at one store, at the shopper's request (orders stay)",
    )
    p_erase.add_argument("--store", required=True)
    p_erase.add_argument("--email", required=True, help="the shopper's email address")
    p_erase.set_defaults(func=cmd_erase_shopper)
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
    p_agents.set_defaults(func=cmd_agents)
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
    p_settings.set_defaults(func=cmd_settings)
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
    p_tokens.set_defaults(func=cmd_api_tokens)
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
