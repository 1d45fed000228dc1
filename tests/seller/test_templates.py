"""Sellers' templates: checked on save, rendered as data by the safe formatter."""

from __future__ import annotations

import pytest

from bot.seller.templates import MAX_TEMPLATE_CHARS, TemplateError, placeholders_in, render, validate

DELIVERY = frozenset({"shopper_first_name", "order_number", "item_names", "tracking_url", "store_name"})


def test_a_good_template_renders_with_its_values() -> None:
    text = "Hi {shopper_first_name}, order {order_number} ({item_names}) was delivered. {{Thanks}} from {store_name}!"
    assert validate(text, DELIVERY) == text
    assert placeholders_in(text) == ["shopper_first_name", "order_number", "item_names", "store_name"]
    assert render(
        text,
        {
            "shopper_first_name": "Alex",
            "order_number": "FZ-20931",
            "item_names": "Aluminium oil pan",
            "store_name": "Yangteng",
        },
    ) == ("Hi Alex, order FZ-20931 (Aluminium oil pan) was delivered. {Thanks} from Yangteng!")


def test_chinese_text_and_spaces_inside_braces_are_fine() -> None:
    text = "您好 { shopper_first_name }，订单 {order_number} 已送达。"
    validate(text, DELIVERY)
    assert render(text, {"shopper_first_name": "Alex", "order_number": "FZ-1"}) == "您好 Alex，订单 FZ-1 已送达。"


@pytest.mark.parametrize(
    "text, message",
    [
        ("Hi {name}", "unknown placeholder {name}"),
        ("Hi {review_url}", "unknown placeholder {review_url}"),  # known, but not for this message
        ("Hi {shopper_first_name", "unmatched '{' at character 4"),
        ("Hi shopper_first_name}", "unmatched '}' at character 22"),
        ("Hi {}", "empty placeholder {}"),
        ("{0}", "is not a placeholder"),
        ("{order_number.__class__}", "is not a placeholder"),
        ("{order_number.__class__.__mro__[1].__subclasses__()}", "is not a placeholder"),
        ("{order_number[0]}", "is not a placeholder"),
        ("{order_number!r}", "is not a placeholder"),
        ("{order_number:>99999999}", "is not a placeholder"),
        ("{{7*7}} is fine but {7*7} is not", "is not a placeholder"),
        ("${order_number}{% for x in y %}", "is not a placeholder"),
        ("   ", "cannot be empty"),
        ("x" * (MAX_TEMPLATE_CHARS + 1), "at most"),
    ],
)
def test_broken_or_hostile_templates_are_refused_with_a_clear_reason(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=None) as error:
        validate(text, DELIVERY)
    assert message in str(error.value)


def test_code_in_a_value_stays_text() -> None:
    # Values are data too: never evaluated, never re-parsed as a template.
    out = render("Hi {shopper_first_name}", {"shopper_first_name": "{order_number.__class__} <script>x</script>"})
    assert out == "Hi {order_number.__class__} <script>x</script>"


def test_not_text_is_refused() -> None:
    with pytest.raises(TemplateError, match="must be text"):
        validate(42, DELIVERY)
