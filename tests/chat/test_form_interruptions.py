"""The table of decisions for changing the subject inside a form (bot/chat/form_interruptions.py):
the generated rules and test stories are up to date, every form and intent has a decision,
and domain.yml's answer mappings agree with it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from bot.chat import form_interruptions as fi
from bot.core.config import PROJECT_ROOT

DOMAIN: dict[str, Any] = fi.load(PROJECT_ROOT / "domain.yml")
RULES: dict[str, Any] = fi.load(PROJECT_ROOT / "data" / "rules.yml")


@pytest.mark.parametrize("path", [fi.RULES_PATH, fi.STORIES_PATH], ids=lambda p: p.name)
def test_the_committed_file_is_what_the_generator_writes(path) -> None:  # type: ignore[no-untyped-def]
    expected = fi.generated_files()[path]
    assert path.read_text(encoding="utf-8") == expected, "run: .venv/bin/python -m bot.chat.form_interruptions"


def test_every_form_has_a_decision_for_every_intent_that_does_not_answer_it() -> None:
    for form, spec in DOMAIN["forms"].items():
        for slot in spec["required_slots"]:
            for intent in fi.interrupting_intents(DOMAIN, form, slot):
                chosen = fi.decision(form, intent, DOMAIN["responses"])
                assert chosen.kind in (fi.RESUME, fi.CONTINUE, fi.SWITCH, fi.LEAVE)


def test_every_action_and_form_the_table_names_is_in_the_domain() -> None:
    known = {*DOMAIN["actions"], *DOMAIN["responses"], "action_deactivate_loop"}
    for form in DOMAIN["forms"]:
        for intent in fi.intents_of(DOMAIN):
            chosen = fi.decision(form, intent, DOMAIN["responses"])
            assert set(chosen.actions) <= known, (form, intent, chosen)
            assert chosen.to_form is None or chosen.to_form in DOMAIN["forms"], (form, intent, chosen)
    assert fi.CONTINUE_ACTION in DOMAIN["actions"]


def test_what_a_shopper_expects() -> None:
    responses = DOMAIN["responses"]
    decide = lambda form, intent: fi.decision(form, intent, responses)  # noqa: E731
    guide = ("action_send_installation_guide",)
    assert decide("order_status_form", "request_installation_guide") == fi.Decision(fi.RESUME, guide)
    assert decide("order_status_form", "report_damaged") == fi.Decision(fi.SWITCH, to_form="problem_report_form")
    assert decide("review_form", "track_order") == fi.Decision(fi.SWITCH, to_form="order_status_form")
    assert decide("order_status_form", "leave_review") == fi.Decision(fi.SWITCH, to_form="review_form")
    assert decide("order_status_form", "decline_review") == fi.Decision(fi.RESUME, ("action_decline_reviews",))
    assert decide("review_form", "decline_review") == fi.Decision(fi.LEAVE, ("action_decline_reviews",))
    assert decide("problem_report_form", "request_human") == fi.Decision(fi.LEAVE, ("action_escalate_to_human",))
    assert decide("order_status_form", "stop") == fi.Decision(fi.LEAVE, ("utter_order_lookup_stopped",))
    # The request that started the form, said again, asks again.
    assert decide("order_status_form", "track_order") == fi.Decision(fi.CONTINUE)
    assert decide("problem_report_form", "report_wrong_item") == fi.Decision(fi.CONTINUE)
    # "No" skips the review's words, and describes a problem; elsewhere it leaves.
    assert "deny" in fi.answer_intents("review_comment") and "deny" in fi.answer_intents("problem_description")
    assert "deny" not in fi.answer_intents("order_number")


def _from_text_intents(slot: str, form: str) -> list[list[str]]:
    return [
        mapping.get("intent")
        for mapping in DOMAIN["slots"][slot]["mappings"]
        if mapping["type"] == "from_text"
        and any(c.get("active_loop") == form and c.get("requested_slot") == slot for c in mapping.get("conditions", []))
    ]


def test_only_answers_fill_a_form_slot_from_text() -> None:
    for form, spec in DOMAIN["forms"].items():
        for slot in spec["required_slots"]:
            for intents in _from_text_intents(slot, form):
                assert intents is not None and sorted(intents) == sorted(fi.answer_intents(slot)), (form, slot)
            # No mapping may take "not these" lists: a new intent would silently become an answer.
            assert not any("not_intent" in m for m in DOMAIN["slots"][slot]["mappings"]), slot


def test_a_form_added_later_gets_rules_and_stories_with_the_defaults() -> None:
    domain = copy.deepcopy(DOMAIN)
    domain["forms"]["return_form"] = {"required_slots": ["return_reason", "order_number"]}
    rules = copy.deepcopy(RULES)
    rules["rules"].append(
        {
            "rule": "start a return",
            "steps": [{"intent": "request_return"}, {"action": "return_form"}, {"active_loop": "return_form"}],
        }
    )

    new_rules = {r["rule"]: r for r in fi.rules(domain) if r["condition"] == [{"active_loop": "return_form"}]}
    assert new_rules["return_form: stop (leave)"]["steps"] == [
        {"intent": "stop"},
        {"action": "utter_deny"},
        {"action": "action_deactivate_loop"},
        {"active_loop": None},
    ]
    assert new_rules["return_form: affirm (continue)"]["steps"][1] == {"action": fi.CONTINUE_ACTION}
    assert new_rules["return_form: track_order (switch)"]["steps"][-2:] == [
        {"action": "order_status_form"},
        {"active_loop": "order_status_form"},
    ]

    stories = [s for s in fi.stories(domain, fi.form_triggers(rules)) if s["story"].startswith("return_form")]
    asked = {s["story"].split(": ")[0] for s in stories}
    assert asked == {"return_form asking return_reason", "return_form asking order_number"}
    everything = set(fi.intents_of(domain))
    for slot in ("return_reason", "order_number"):
        covered = {s["story"].split(": ")[1] for s in stories if f"asking {slot}:" in s["story"]}
        assert covered == everything - set(fi.answer_intents(slot))
    yaml.safe_load(fi.stories_text(domain, rules))  # and it is valid YAML


def test_a_form_nobody_can_start_is_refused() -> None:
    domain = copy.deepcopy(DOMAIN)
    domain["forms"]["orphan_form"] = {"required_slots": ["colour"]}
    with pytest.raises(KeyError, match="no rule starts orphan_form"):
        fi.stories(domain, fi.form_triggers(RULES))


def test_an_intent_without_a_decision_is_refused() -> None:
    domain = copy.deepcopy(DOMAIN)
    domain["intents"].append("ask_weather_forecast")
    with pytest.raises(KeyError, match="ask_weather_forecast"):
        fi.rules(domain)
