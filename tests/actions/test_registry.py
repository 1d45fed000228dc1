"""The action server serves exactly the custom actions the domain declares."""

from __future__ import annotations

import yaml
from rasa_sdk.executor import ActionExecutor

from bot.core.config import PROJECT_ROOT


def test_every_domain_action_is_served_and_nothing_else() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    executor = ActionExecutor()
    executor.register_package("actions")
    assert sorted(executor.actions) == sorted(domain["actions"])
