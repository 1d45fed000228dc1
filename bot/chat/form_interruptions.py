"""Changing the subject inside a form: the one table of decisions, and the rules and
test stories generated from it.

While a form waits for an answer, a message can be an answer (it fills the requested
slot) or another request. For another request the form rejects, and a rule decides:

- ``resume``: answer the other request, then the form asks again with a short bridge
  ("Back to your order: what's the order number?");
- ``continue``: the form simply asks its question again in full ("yes", "try again",
  or the request that started the form said once more);
- ``switch``: the new request replaces the form (a damaged item during the order
  lookup starts the problem report);
- ``leave``: a short confirmation (or the escalation to a person), and the form ends
  (its answers are forgotten when it next starts: actions/forms.py).

Every form in domain.yml gets a rule for every intent that is not an answer at one of
its slots, forms added later included: ``python -m bot.chat.form_interruptions`` writes
``data/rules_form_interruptions.yml`` and ``tests/form_interruption_stories.yml``, and
tests/chat/test_form_interruptions.py fails when either is out of date. Which intents can be
answers also drives the ``from_text`` slot mappings in domain.yml (checked by the same
test). Pure data and YAML: no Rasa import.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.config import PROJECT_ROOT

RESUME, CONTINUE, SWITCH, LEAVE = "resume", "continue", "switch", "leave"
#: Stands for the form's own stop confirmation in a decision (see ``stop_confirmation``).
STOP_CONFIRMATION = "<the form's stop confirmation>"
#: Says nothing and forgets the count of unusable answers: the form then asks again in full.
CONTINUE_ACTION = "action_continue_form"
#: The NLU's "not sure" intent: not in the domain's list, but a message can carry it.
NLU_FALLBACK = "nlu_fallback"
REPORT_INTENTS = ("report_not_received", "report_damaged", "report_missing_parts", "report_wrong_item")


@dataclass(frozen=True)
class Decision:
    kind: str
    #: resume: the actions that answer the other request; leave: the confirmation (or escalation).
    actions: tuple[str, ...] = ()
    #: switch: the form that replaces this one.
    to_form: str | None = None


#: What a real shopper expects from each intent in the middle of any form (forms added
#: later too), unless ``FORM_DECISIONS`` says otherwise for a form.
DEFAULT_DECISIONS: dict[str, Decision] = {
    "greet": Decision(RESUME, ("action_greet",)),
    "thank": Decision(RESUME, ("utter_thank",)),
    "bot_challenge": Decision(RESUME, ("utter_bot_challenge",)),
    "confirm_delivery": Decision(RESUME, ("utter_confirm_delivery",)),
    "request_installation_guide": Decision(RESUME, ("action_send_installation_guide",)),
    # "Don't ask me for reviews" mid-lookup: opted out, and the lookup goes on.
    "decline_review": Decision(RESUME, ("action_decline_reviews",)),
    "request_return": Decision(RESUME, ("utter_return",)),
    "out_of_scope": Decision(RESUME, ("utter_out_of_scope",)),
    NLU_FALLBACK: Decision(RESUME, ("action_handle_not_understood",)),
    # The store's own processes may write while the shopper is in a form.
    "EXTERNAL_package_delivered": Decision(RESUME, ("action_send_delivery_confirmation",)),
    "EXTERNAL_shipment_exception": Decision(RESUME, ("action_send_exception_notice",)),
    "EXTERNAL_install_video": Decision(RESUME, ("action_send_install_video",)),
    "EXTERNAL_review_due": Decision(RESUME, ("action_send_review_invitation",)),
    # Photos sent before the report asks for them: kept (and said so), and the form goes on.
    "share_photos": Decision(RESUME, ("action_acknowledge_photos",)),
    # "Yes", "ok", "try again" (the choices' first button): ask again.
    "affirm": Decision(CONTINUE),
    # An answer at every slot today; at a slot that takes no text, ask again.
    "inform": Decision(CONTINUE),
    "track_order": Decision(SWITCH, to_form="order_status_form"),
    **{intent: Decision(SWITCH, to_form="problem_report_form") for intent in REPORT_INTENTS},
    "leave_review": Decision(SWITCH, to_form="review_form"),
    "request_human": Decision(LEAVE, ("action_escalate_to_human",)),
    "stop": Decision(LEAVE, (STOP_CONFIRMATION,)),
    "deny": Decision(LEAVE, (STOP_CONFIRMATION,)),
    "goodbye": Decision(LEAVE, (STOP_CONFIRMATION,)),
}

#: Where a form differs from the defaults.
FORM_DECISIONS: dict[str, dict[str, Decision]] = {
    "order_status_form": {"goodbye": Decision(LEAVE, ("utter_goodbye",))},
    # Declining reviews in the middle of a review ends it.
    "review_form": {"decline_review": Decision(LEAVE, ("action_decline_reviews",))},
}

#: Each form's "okay, stopped" (a form added later without one gets ``utter_deny``, or
#: ``utter_<form>_stopped`` if the domain has that response).
STOP_CONFIRMATIONS = {
    "order_status_form": "utter_order_lookup_stopped",
    "problem_report_form": "utter_problem_report_stopped",
    "review_form": "utter_review_stopped",
}

#: Intents whose message is an answer to a requested slot (its ``from_text`` mapping).
DEFAULT_ANSWER_INTENTS = ("inform", NLU_FALLBACK)
SLOT_ANSWER_INTENTS: dict[str, tuple[str, ...]] = {
    # The shopper's own words: "no, nothing at the neighbours" and "the box came crushed" describe it.
    "problem_description": ("inform", NLU_FALLBACK, "deny", *REPORT_INTENTS),
    # Photos (the gateway's intent for them, or words sent with them: "ok here you go, thanks"), or
    # Skip ("no"), or words instead of photos: all end the step.
    "problem_photos": ("inform", NLU_FALLBACK, "deny", "share_photos", "affirm", "thank"),
    # Optional words about the product: praise, thanks, a gripe; "no" skips them.
    "review_comment": ("inform", NLU_FALLBACK, "deny", "thank", "confirm_delivery", "leave_review", "out_of_scope"),
}

RULES_PATH = PROJECT_ROOT / "data" / "rules_form_interruptions.yml"
STORIES_PATH = PROJECT_ROOT / "tests" / "form_interruption_stories.yml"
GENERATED = "# Generated by `python -m bot.chat.form_interruptions` from its table of decisions: do not edit.\n"


def answer_intents(slot: str) -> tuple[str, ...]:
    return SLOT_ANSWER_INTENTS.get(slot, DEFAULT_ANSWER_INTENTS)


def stop_confirmation(form: str, responses: dict[str, Any]) -> str:
    if form in STOP_CONFIRMATIONS:
        return STOP_CONFIRMATIONS[form]
    own = f"utter_{form}_stopped"
    return own if own in responses else "utter_deny"


def decision(form: str, intent: str, responses: dict[str, Any]) -> Decision:
    """What ``form`` does with ``intent`` when it is not an answer to the requested slot."""
    chosen = FORM_DECISIONS.get(form, {}).get(intent) or DEFAULT_DECISIONS.get(intent)
    if chosen is None:
        raise KeyError(f"no decision for {intent!r} during {form}: add it to DEFAULT_DECISIONS")
    if chosen.kind == SWITCH and chosen.to_form == form:
        return Decision(CONTINUE)  # the request that started this form, said again
    actions = tuple(stop_confirmation(form, responses) if a == STOP_CONFIRMATION else a for a in chosen.actions)
    return Decision(chosen.kind, actions, chosen.to_form)


def intents_of(domain: dict[str, Any]) -> list[str]:
    return [*(i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]), NLU_FALLBACK]


def interrupting_intents(domain: dict[str, Any], form: str, slot: str) -> list[str]:
    """Every intent that is not an answer while ``form`` asks for ``slot``."""
    return [intent for intent in intents_of(domain) if intent not in answer_intents(slot)]


def decision_steps(form: str, intent: str, responses: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps after ``intent``, as rules and stories write them."""
    chosen = decision(form, intent, responses)
    if chosen.kind == RESUME:
        return [*({"action": a} for a in chosen.actions), {"action": form}, {"active_loop": form}]
    if chosen.kind == CONTINUE:
        return [{"action": CONTINUE_ACTION}, {"action": form}, {"active_loop": form}]
    if chosen.kind == SWITCH:
        return [
            {"action": "action_deactivate_loop"},
            {"active_loop": None},
            {"action": chosen.to_form},
            {"active_loop": chosen.to_form},
        ]
    return [*({"action": a} for a in chosen.actions), {"action": "action_deactivate_loop"}, {"active_loop": None}]


def rules(domain: dict[str, Any]) -> list[dict[str, Any]]:
    """One rule per form and intent that is not an answer at one of the form's slots."""
    generated = []
    for form, spec in domain["forms"].items():
        slots = spec["required_slots"]
        for intent in intents_of(domain):
            if all(intent in answer_intents(slot) for slot in slots):
                continue
            chosen = decision(form, intent, domain.get("responses", {}))
            generated.append(
                {
                    "rule": f"{form}: {intent} ({chosen.kind})",
                    "condition": [{"active_loop": form}],
                    "steps": [{"intent": intent}, *decision_steps(form, intent, domain.get("responses", {}))],
                }
            )
    return generated


def form_triggers(rule_data: dict[str, Any]) -> dict[str, str]:
    """For each form, an intent that starts it: the first unconditional rule "intent, form, active_loop"."""
    triggers: dict[str, str] = {}
    for rule in rule_data.get("rules", []):
        steps = rule.get("steps", [])
        if rule.get("condition") or len(steps) != 3 or "intent" not in steps[0]:
            continue
        form = steps[1].get("action")
        if steps[2] == {"active_loop": form}:
            triggers.setdefault(form, steps[0]["intent"])
    return triggers


def stories(domain: dict[str, Any], triggers: dict[str, str]) -> list[dict[str, Any]]:
    """Every form × every requested slot × every intent that is not an answer there.

    The form is started by its trigger intent and each earlier slot answered with
    ``inform``; after the interruption a resumed form is answered once more.
    """
    responses = domain.get("responses", {})
    generated = []
    for form, spec in domain["forms"].items():
        slots = spec["required_slots"]
        if form not in triggers:
            raise KeyError(f"no rule starts {form}: add one (intent, {form}, active_loop) to data/rules.yml")
        start = [{"intent": triggers[form]}, {"action": form}, {"active_loop": form}]
        for position, slot in enumerate(slots):
            reach = list(start)
            reach.append({"slot_was_set": [{"requested_slot": slots[0]}]})
            for next_slot in slots[1 : position + 1]:
                reach += [{"intent": "inform"}, {"action": form}, {"slot_was_set": [{"requested_slot": next_slot}]}]
            for intent in interrupting_intents(domain, form, slot):
                steps = [*reach, {"intent": intent}, *decision_steps(form, intent, responses)]
                if decision(form, intent, responses).kind in (RESUME, CONTINUE):
                    steps += [{"slot_was_set": [{"requested_slot": slot}]}, {"intent": "inform"}, {"action": form}]
                generated.append({"story": f"{form} asking {slot}: {intent}", "steps": steps})
    return generated


class _Dumper(yaml.SafeDumper):
    """Rasa's own layout: lists indented under their key, every step written out (no anchors)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(header: str, key: str, items: list[dict[str, Any]]) -> str:
    body = yaml.dump({"version": "3.1", key: items}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return GENERATED + header + body


def rules_text(domain: dict[str, Any]) -> str:
    header = "# Every form's answer to every intent that is not an answer to its question.\n"
    return _dump(header, "rules", rules(domain))


def stories_text(domain: dict[str, Any], rule_data: dict[str, Any]) -> str:
    header = (
        "# Every form x every requested slot x every other intent, run by tests/test_dialogue.py with\n"
        "# `rasa test core --fail-on-prediction-errors`. Intents are given: these test the dialogue only.\n"
    )
    return _dump(header, "stories", stories(domain, form_triggers(rule_data)))


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def generated_files(root: Path = PROJECT_ROOT) -> dict[Path, str]:
    """What each generated file must hold, from domain.yml and data/rules.yml."""
    domain = load(root / "domain.yml")
    return {
        root / RULES_PATH.relative_to(PROJECT_ROOT): rules_text(domain),
        root / STORIES_PATH.relative_to(PROJECT_ROOT): stories_text(domain, load(root / "data" / "rules.yml")),
    }


def main() -> int:
    for path, text in generated_files().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
