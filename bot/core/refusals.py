"""Every refusal the gateway and its services can give, by a stable code.

A refusal is a code (``template_unknown_placeholder``), the values its text interpolates
(``params``: ``{"name": "password", "allowed": "{order_number}, ..."}``) and the English
the registry renders from them. Clients translate by code and fill in the params, so the
English can be reworded without breaking the Chinese console (which used to match the
English sentences); the English stays for API users, logs and the command line.

Services raise a :class:`Refusal` (their own exceptions derive from it), the web layer
answers ``{"error": English, "code": code, "params": {...}}`` with it
(:func:`bot.web.json_io.json_error`), and the OpenAPI ``Error`` schema lists the codes
(a test keeps that list equal to :data:`REFUSALS`).

Templates use :meth:`str.format` fields; a literal brace is doubled. Each code declares its
params, and rendering with any other set is a programming error (:class:`TypeError`). A number
that counts (a limit, a position, seconds: :data:`COUNTS`) is always written ``{limit:,}``, with
the thousands separator the consoles show it with; nothing else has a format spec or a
conversion. Quotes around a value are written in the template (``'{sku}'``), never ``{sku!r}``,
whose quotes depend on the value: the consoles' texts quote it the same way.

A new code or a reworded template also goes into the consoles' texts,
``bot/web/static/i18n/refusals.<language>.json`` (``{name}`` for a param, the brace itself for a
literal one); tests/core/test_refusals.py says what to write.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

#: What a param may hold: plain JSON scalars, so that every client can fill it in.
ParamValue = str | int | float | bool | None


@dataclass(frozen=True)
class Wording:
    """A code's English template and the params it interpolates (their names, in the template)."""

    english: str
    params: tuple[str, ...] = ()

    def template_fields(self) -> set[str]:
        """The names the template actually uses (for the registry's own test)."""
        return {name for _, name, _, _ in string.Formatter().parse(self.english) if name is not None}


#: The params that count something: written ``{name:,}`` ("at most 5,000 lines"), as the consoles
#: show a number with their language's separators (a ``version`` names one: shown as it is).
COUNTS = frozenset({"limit", "limit_mb", "max", "min", "min_chars", "position", "retry_after", "step"})


def _w(english: str, *params: str) -> Wording:
    return Wording(english, params)


NO_INVITATION = "this invitation link does not work: it was used, withdrawn or declined, or it expired"

REFUSALS: dict[str, Wording] = {
    # --- any request: the body, its text, the HTTP layer, limits ---
    "body_not_json": _w("the body is not valid JSON"),
    "body_not_object": _w("the body must be a JSON object"),
    "text_lone_surrogate": _w(
        '"{field}" holds a lone UTF-16 surrogate (\\u{codepoint} at character {position:,}), which is not text; '
        "send valid Unicode",
        "field",
        "codepoint",
        "position",
    ),
    "number_too_large": _w('"{field}" is a number too large (at most 64 bits)', "field"),
    "number_not_finite": _w('"{field}" is not a finite number', "field"),
    "json_too_deep": _w("the JSON is nested more than {limit:,} levels deep", "limit"),
    "json_too_deep_at": _w('the JSON is nested more than {limit:,} levels deep at "{field}"', "limit", "field"),
    "json_not_usable": _w("not usable JSON: {detail}", "detail"),
    "rate_limited": _w("too many requests; try again in {retry_after:,} s", "retry_after"),
    "http_bad_request": _w("Bad Request"),
    "http_not_found": _w("Not Found"),
    "http_method_not_allowed": _w("Method Not Allowed"),
    "http_body_too_large": _w("Request Entity Too Large"),
    "http_unsupported_media_type": _w("Unsupported Media Type"),
    "http_error": _w("{reason}", "reason"),
    # --- the public chat API ---
    "conversation_token_wrong": _w("missing or wrong conversation token"),
    "shopper_identity_malformed": _w('"shopper" must be {{"email": ..., "ts": ..., "signature": ...}}'),
    "shopper_ts_invalid": _w('"shopper.ts" must be the time the store signed, in whole Unix seconds'),
    "store_unknown": _w("unknown store"),
    "shopper_signature_invalid": _w("the shopper signature is not valid"),
    "shopper_signature_needs_time": _w("this store requires a signed time (ts) with the shopper signature"),
    "shopper_signature_from_future": _w(
        "the shopper signature's time (ts) is in the future; check the store server's clock"
    ),
    "shopper_signature_expired": _w("the shopper signature has expired; sign the shopper again when the page is made"),
    "messages_after_invalid": _w('"after" must be a whole number, 0 or more (a message\'s seq)'),
    "messages_limit_invalid": _w('"limit" must be a whole number from 1 to {max:,}', "max"),
    "frame_not_json": _w("frames must be JSON"),
    "messages_rate_limited": _w("too many messages"),
    "message_text_or_payload": _w('send either "text" or "payload"'),
    "message_not_string": _w('"text" and "payload" must be strings'),
    "message_too_long": _w("a message can have at most {limit:,} characters", "limit"),
    "message_empty": _w("the message is empty"),
    "message_intent_forbidden": _w("this intent cannot be sent from the chat"),
    "payload_not_intent": _w('a payload starts with "/", like "/inform{{...}}"'),
    "button_not_offered": _w('a message can start with "/" only as one of the buttons the assistant offered in this chat'),
    # --- tracking webhooks ---
    "webhook_signature_wrong": _w("missing or wrong {header} signature", "header"),
    "update_body_without_msg": _w('the body must be an object with "msg"'),
    "update_event_invalid": _w("{what} must name the webhook event", "what"),
    "update_event_unknown": _w("{what} is not an event this webhook takes: '{value}'", "what", "value"),
    "aftership_version_invalid": _w("as-webhook-version must be a version like 2026-07: '{value}'", "value"),
    "integration_provider_unknown": _w(
        "unknown connector '{provider}': shopify, woocommerce, aftership, easypost, 17track or json", "provider"
    ),
    "shop_domain_invalid": _w("'{value}' is not a Shopify shop domain like example.myshopify.com", "value"),
    "site_url_invalid": _w("'{value}' is not a site address like https://shop.example/", "value"),
    "integration_has_no_shop": _w("the {provider} connector is not bound to a shop", "provider"),
    "integration_uses_webhook_secret": _w("{provider} signs with the store's webhook secret: rotate that one", "provider"),
    "integration_key_is_pasted": _w("{provider} makes its own key: paste it here instead", "provider"),
    "integration_key_invalid": _w("a key is {min:,} to {max:,} printable characters without spaces", "min", "max"),
    "shop_bound_elsewhere": _w("the shop {value} is connected to another store", "value"),
    "integration_shop_value_missing": _w('"value" must be the shop\'s address, or null to disconnect it'),
    "shop_domain_unknown": _w("this webhook comes from a shop that is not connected to this store"),
    "webhook_header_missing": _w("the {header} header is missing or empty", "header"),
    "shop_order_number_taken": _w("order {order_number} already exists here from another source", "order_number"),
    "shop_order_number_clash": _w(
        "order number '{order_number}' reads the same as order '{other}' of this store", "order_number", "other"
    ),
    "shop_field_missing": _w("{what} is missing", "what"),
    "shop_field_invalid": _w("{what} is not usable: '{value}'", "what", "value"),
    # --- shop order backfill ---
    "backfill_lines_bad": _w(
        "{count} order(s) of the file are not usable (each is listed with its line): nothing was imported", "count"
    ),
    "backfill_column_missing": _w("the file has no '{column}' column: is it Shopify's \"Export orders\" CSV?", "column"),
    "backfill_not_utf8": _w("the file is not UTF-8 text (line {line})", "line"),
    "backfill_json_invalid": _w("not valid JSON here: {detail}", "detail"),
    "backfill_json_not_object": _w("an order must be a JSON object"),
    "backfill_csv_invalid": _w("not a readable CSV row here: {detail}", "detail"),
    "backfill_order_repeated": _w(
        "order {order_number} appears again, apart from its rows from line {line}", "order_number", "line"
    ),
    "backfill_too_large": _w("a backfill file can be at most {limit_mb:,} MB", "limit_mb"),
    "backfill_content_type": _w("send the file as the body, with Content-Type: text/csv or application/json"),
    "backfill_provider_unsupported": _w("{provider} has no order backfill", "provider"),
    "update_item_not_object": _w("{what} must be an object", "what"),
    "update_time_missing": _w("{what} must be an ISO-8601 date-time", "what"),
    "update_time_invalid": _w("{what} is not an ISO-8601 date-time: '{value}'", "what", "value"),
    "update_tag_invalid": _w("{what} is not a tracking status tag: '{value}'", "what", "value"),
    "update_date_not_text": _w("{what} must be a date", "what"),
    "update_date_invalid": _w("{what} is not a date: '{value}'", "what", "value"),
    "update_not_list": _w("{what} must be a list", "what"),
    "update_text_missing": _w("{what} must be a non-empty string", "what"),
    # --- signing in to a console, invitations, accounts ---
    "cross_origin": _w("cross-origin requests are refused"),
    "session_expired": _w("please sign in"),
    "csrf_token_wrong": _w("missing or wrong CSRF token; reload the page"),
    "sign_ins_rate_limited": _w("too many sign-ins from your address; try again in {retry_after:,} s", "retry_after"),
    "login_throttled": _w("too many failed logins; try again in {retry_after:,} s", "retry_after"),
    "password_check_busy": _w("too many sign-ins at once; try again in a moment"),
    "login_fields_missing": _w('send "email" and "password"'),
    "login_wrong": _w("wrong email or password"),
    "invitation_token_missing": _w('send {{"token": ...}} from the invitation link'),
    "join_token_missing": _w('send {{"token": ..., "password": ...}} from the invitation link'),
    "join_fields_invalid": _w('send {{"token": ..., "password": ..., "name": ...}}'),
    "join_password_wrong": _w("wrong password for the account with this email"),
    "invitation_not_found": _w(NO_INVITATION),
    "invitation_not_yours": _w(NO_INVITATION + ", or it is for another email"),
    "invitation_not_waiting": _w("no such invitation waiting for your answer"),
    "email_invalid": _w("'{email}' is not an email address", "email"),
    "role_invalid": _w("role must be one of {roles}", "roles"),
    "password_too_short": _w("the password needs at least {min_chars:,} characters", "min_chars"),
    "stores_missing": _w("name at least one store"),
    "store_unknown_named": _w("unknown store {store}", "store"),
    "member_name_missing": _w("give the person's name"),
    # --- the agent console ---
    "conversation_not_found": _w("no such conversation in your stores"),
    "conversation_claimed_by": _w("already claimed by {holder}", "holder"),
    "conversation_claimed": _w("already claimed"),
    "conversation_not_yours": _w("you are not handling this conversation"),
    "claim_before_reply": _w("claim the conversation before replying"),
    "text_not_string": _w('"text" must be a string'),
    "text_empty": _w("the text is empty"),
    "text_too_long": _w("the text can have at most {limit:,} characters", "limit"),
    "queue_limit_invalid": _w('"limit" must be a whole number'),
    "queue_limit_out_of_range": _w('"limit" must be between 1 and {max:,}', "max"),
    "queue_order_invalid": _w('"order" must be one of {orders}', "orders"),
    "queue_cursor_invalid": _w('"cursor" is not one this queue gave out'),
    "spam_ids_invalid": _w('"escalation_ids" must be a list of 1 to {max:,} case ids', "max"),
    "spam_batch_too_large": _w("at most {max:,} cases at a time", "max"),
    "engine_unavailable": _w("the assistant engine is not answering; nothing was changed, try again"),
    # --- the seller API and the seller console ---
    "seller_token_wrong": _w("missing, wrong or revoked seller API token"),
    "console_store_not_found": _w("no such store among the stores you administer"),
    "settings_version_missing": _w('send {{"version": N}}, a version number from the history (0: as imported)'),
    "version_not_found": _w("no version {version}", "version"),
    "push_too_many_lines": _w("at most {limit:,} lines per request", "limit"),
    "template_key_unknown": _w("template must be one of {templates}", "templates"),
    "test_chat_not_started": _w("start a test conversation from the console"),
    "secret_kind_unknown": _w("rotate the shopper or the webhook secret"),
    "grace_hours_invalid": _w('"grace_hours" must be from 0 to 168'),
    "member_fields_invalid": _w('send {{"email": ..., "name": ..., "role": "agent" or "seller_admin"}}'),
    "member_remove_self": _w("you cannot remove yourself; ask another seller admin of the store"),
    "member_not_found": _w("no such member of this store, nor a pending invitation"),
    "jobs_status_invalid": _w('only failed jobs are listed: "status=failed"'),
    "job_not_found": _w("no failed job with this id in this store"),
    # a store's own SMTP server (their field is the error's ``field``)
    "smtp_host_invalid": _w("must be the mail server's domain name, like smtp.example.com (not an IP address)"),
    "smtp_port_invalid": _w("must be a port number from 1 to 65535"),
    "smtp_tls_invalid": _w('must be "none", "starttls" or "tls"'),
    "smtp_username_invalid": _w("must be 1 to {limit:,} characters without spaces, or null for none", "limit"),
    "smtp_password_invalid": _w("must be 1 to {limit:,} printable characters, or null to remove it", "limit"),
    "smtp_password_without_username": _w("a password needs a user name"),
    # settings (their field is the error's ``field``)
    "setting_unknown": _w("is not a setting"),
    "setting_not_object": _w("must be an object"),
    "review_delay_out_of_range": _w("must be a whole number of days from {min:,} to {max:,}", "min", "max"),
    "review_reminder_not_boolean": _w("must be true or false"),
    "review_url_not_link": _w("must be an http(s) link, or null for none"),
    "escalation_reasons_invalid": _w("must be a list of {reasons}", "reasons"),
    "escalation_reasons_without_request": _w("a shopper who asks for a person must always get one"),
    "reply_time_out_of_range": _w("must be from 1 to {max:,} minutes", "max"),
    "email_link_invalid": _w("this link is not valid; open the chat from the store's page"),
    "email_link_expired": _w("this link has expired; open the chat from the store's page"),
    "email_kind_not_boolean": _w("must be true or false"),
    "email_sender_name_invalid": _w(
        "must be a name of 1 to {limit:,} printable characters, or null for the store's name", "limit"
    ),
    "email_reply_domain_invalid": _w("must be a domain name like mail.example.com, or null for the default"),
    "email_page_url_invalid": _w("must be an http(s) link to the store's page, or null for the page the assistant hosts"),
    "email_quiet_hours_invalid": _w('must be {{"start": "HH:MM", "end": "HH:MM"}}, or null for none'),
    # --- inbound email: replies, bounces and complaints (bot/email/inbound.py) ---
    "email_inbound_not_form": _w('the body must be a multipart/form-data "inbound parse" form'),
    "email_inbound_too_large": _w("the mail is larger than {limit_mb:,} MB", "limit_mb"),
    "email_inbound_field_too_large": _w('"{field}" is larger than {limit:,} bytes', "field", "limit"),
    "email_inbound_too_many_parts": _w("the form has more than {limit:,} parts", "limit"),
    "email_inbound_field_missing": _w('the form has no "{field}"', "field"),
    "email_inbound_field_not_text": _w('"{field}" is not UTF-8 text', "field"),
    "email_inbound_address_invalid": _w('"{field}" is not a mail address', "field"),
    "email_inbound_mime_invalid": _w('the raw mail ("email") cannot be read as a message'),
    "email_reply_address_unknown": _w("no conversation has this reply address"),
    "email_sender_not_shopper": _w("only the shopper of this conversation can reply to it by email"),
    "email_reply_empty": _w("the reply has no new text once the quoted mail is taken away"),
    "settings_saved_concurrently": _w("someone else saved a change at the same moment; reload and try again"),
    # reply templates
    "template_not_text": _w("a template must be text"),
    "template_empty": _w("a template cannot be empty"),
    "template_too_long": _w("a template can have at most {limit:,} characters", "limit"),
    "template_brace_unmatched_open": _w(
        "unmatched '{{' at character {position:,}; write {{{{ for a literal brace", "position"
    ),
    "template_brace_unmatched_close": _w(
        "unmatched '}}' at character {position:,}; write }}}} for a literal brace", "position"
    ),
    "template_placeholder_empty": _w(
        "empty placeholder {{}} at character {position:,}; name it, like {{order_number}}", "position"
    ),
    "template_placeholder_malformed": _w(
        "{{{text}}} at character {position:,} is not a placeholder: only names like {{order_number}} are allowed "
        "(no attributes, indexes, formats or code)",
        "text",
        "position",
    ),
    "template_unknown_placeholder": _w("unknown placeholder {{{name}}}; this message can use {allowed}", "name", "allowed"),
    # business hours
    "hours_not_object": _w('business hours must be an object like {{"mon": ["09:00-18:00"]}}'),
    "hours_weekday_unknown": _w("unknown weekday '{day}' (use {weekdays})", "day", "weekdays"),
    "hours_day_not_list": _w("the hours of '{day}' must be a list like [\"09:00-18:00\"]", "day"),
    "hours_span_invalid": _w("{day}: '{span}' is not a span like 09:00-18:00", "day", "span"),
    "hours_span_after_midnight": _w("{day}: '{span}' ends after midnight", "day", "span"),
    "hours_span_backwards": _w("{day}: '{span}' ends before it starts", "day", "span"),
    # links (a review link, a guide's manual and video)
    "link_too_long": _w("a link can be at most {limit:,} characters", "limit"),
    "link_not_web": _w("must be an http(s) link, like https://example.com/manual.pdf"),
    "link_unsafe_characters": _w("a link cannot contain spaces, quotes or angle brackets"),
    # product guides and manuals
    "product_not_found": _w("no product '{sku}' in this store", "sku"),
    "guide_version_not_found": _w("no version {version} of this guide", "version"),
    "guide_version_missing": _w('send {{"version": N}}, a version number from the guide\'s history (0: as imported)'),
    "guide_change_invalid": _w('send an object with any of "manual_url", "video_url", "install_steps"'),
    "guide_field_unknown": _w("is not part of a guide"),
    "guide_link_not_text": _w("must be a link (text), or null for none"),
    "guide_steps_not_list": _w("must be a list of texts, one per step"),
    "guide_too_many_steps": _w("at most {limit:,} steps", "limit"),
    "guide_step_empty": _w("step {step:,} is empty", "step"),
    "guide_step_too_long": _w("step {step:,} is longer than {limit:,} characters", "step", "limit"),
    "guide_saved_concurrently": _w("someone else saved this guide at the same moment; reload and try again"),
    "manual_content_type": _w("send the manual as the body, with Content-Type: application/pdf"),
    "manual_too_large": _w("a manual can be at most {limit_mb:,} MB", "limit_mb"),
    "manual_empty": _w("the file is empty"),
    "manual_not_pdf": _w("the file is not a PDF (manuals must be PDF files)"),
    # --- photos (bot/photos/) ---
    "photo_too_large": _w("a photo can be at most {limit_mb:,} MB", "limit_mb"),
    "photo_not_an_image": _w("the file is not an image; send a JPEG, PNG, WebP or HEIC photo"),
    "photo_type_unsupported": _w("{kind} images are not accepted; send a JPEG, PNG, WebP or HEIC photo", "kind"),
    "photo_truncated": _w("the image is incomplete or damaged; send it again"),
    "photo_too_many_pixels": _w("the image has more than {limit:,} pixels", "limit"),
    "photo_limit_reached": _w("this conversation has reached its {limit:,} photos for today; try again tomorrow", "limit"),
    "photo_unknown": _w("no such photo"),
    "photo_variant_invalid": _w("variant must be full or thumbnail"),
    "photo_storage_unavailable": _w("the photo could not be stored just now; send it again in a moment"),
    "message_photos_invalid": _w("photos must be a list of the ids of photos uploaded to this conversation"),
    "message_photos_too_many": _w("a message can carry at most {limit:,} photos", "limit"),
    "message_photos_unknown": _w("a photo in the message was not uploaded to this conversation, or was already sent"),
    "data_retention_out_of_range": _w("must be a whole number of days from {min:,} to {max:,}", "min", "max"),
    # --- erasing a shopper's data (bot/seller/shopper_erasure.py) ---
    "erasure_email_invalid": _w('send {{"email": ...}}: the shopper\'s email address, at most {max:,} characters', "max"),
}


def english(code: str, params: dict[str, Any] | None = None) -> str:
    """The code's English with ``params`` filled in; :class:`TypeError` unless they are exactly the code's."""
    wording = REFUSALS[code]
    given = set(params or {})
    if given != set(wording.params):
        raise TypeError(f"refusal {code!r} takes params {sorted(wording.params)}, not {sorted(given)}")
    return wording.english.format(**(params or {}))


class Refusal(Exception):
    """A refusal with its code and params; ``str()`` is the English. Services' own exceptions
    derive from it (beside the built-in one callers catch, such as ``ValueError``)."""

    def __init__(self, code: str, /, **params: ParamValue) -> None:
        self.code = code
        self.params: dict[str, ParamValue] = params
        self.english = english(code, params)
        super().__init__(self.english)


class FieldRefusal(Refusal):
    """A refusal of one field of a document (``templates.greeting``); ``str()`` is
    ``"field: English"``, as the command line prints it."""

    def __init__(self, field: str, code: str, /, **params: ParamValue) -> None:
        super().__init__(code, **params)
        self.field = field
        self.args = (f"{field}: {self.english}",)

    @classmethod
    def at(cls, field: str, refused: Refusal) -> FieldRefusal:
        """``refused`` (a template's, a link's), as the refusal of ``field``."""
        return cls(field, refused.code, **refused.params)
