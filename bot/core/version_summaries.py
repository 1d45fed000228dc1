"""What a saved version changed (store settings, a product guide), said two ways.

The consoles word a version's summary in their reader's language from a stable code and its
params (``changed`` with ``{"fields": [...]}``, ``rolled_back`` with ``{"version": 3}``...), in
``static/i18n/seller.<language>.json``; the English sentence made here from the same code is
for the seller API and the command line. Both are stored with the version, so the English can
be reworded without touching a console (migration 0021 gave the versions saved before the
codes theirs, from the sentences of the time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: code -> the English sentence, "{name}" filled from the params (a list joined with ", ").
ENGLISH = {
    "as_imported": "as imported",
    "no_change": "no change",
    "changed": "changed {fields}",
    "rolled_back": "rolled back to version {version}",
    "restored": "restored version {version}",
    "manual_uploaded": "uploaded the manual {name}",
}
#: The summary column's width: a long list of fields is cut in the English only (the params keep all).
MAX_SUMMARY_CHARS = 500


@dataclass(frozen=True)
class VersionSummary:
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in ENGLISH:
            raise ValueError(f"no English for the version summary code {self.code!r}")

    @classmethod
    def of_changes(cls, fields: Iterable[str]) -> VersionSummary:
        names = list(fields)
        return cls("changed", {"fields": names}) if names else cls("no_change")

    def english(self) -> str:
        values = {key: ", ".join(value) if isinstance(value, list) else value for key, value in self.params.items()}
        return ENGLISH[self.code].format(**values)[:MAX_SUMMARY_CHARS]


AS_IMPORTED = VersionSummary("as_imported")
