"""The front end as files: none too long to find one's way in, and every ES module's imports
resolve to files its console serves, exporting the names imported."""

from __future__ import annotations

import posixpath
import re

from bot.web.console_auth import STATIC

MAX_LINES = 600
#: widget.js stays one classic script: host pages load it by tag, so it cannot import modules.
ONE_SCRIPT = {"widget.js"}
#: Still to be split into modules (issue 15, branch i15-agent): remove once it is.
NOT_YET_SPLIT = {"agent.js"}
IMPORT = re.compile(r"^import \{([^}]*)\} from '([^']+)';", re.M)
EXPORT = re.compile(r"^export (?:async )?(?:function|const|let|class) ([\w$]+)", re.M)


def test_no_front_end_file_is_over_600_lines() -> None:
    lengths = {
        path.relative_to(STATIC).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in STATIC.rglob("*") if path.is_file() and path.suffix in (".js", ".css", ".html", ".json")
    }
    assert lengths["seller.css"] > 0 and "seller/main.js" in lengths
    too_long = {name: n for name, n in lengths.items() if n > MAX_LINES and name not in ONE_SCRIPT | NOT_YET_SPLIT}
    assert too_long == {}
    # An exception that is no longer needed goes.
    assert all(lengths.get(name, 0) > MAX_LINES for name in NOT_YET_SPLIT)


def test_every_seller_module_import_resolves_to_a_served_file_and_its_exports() -> None:
    from bot.web.seller_console import AUTH

    served = set(AUTH.static_files)
    page = (STATIC / "seller.html").read_text(encoding="utf-8")
    [entry] = re.findall(r'<script type="module" src="/seller/static/([^"]+)"></script>', page)
    assert entry in served and "i18n/seller.en.json" in served and "i18n/seller.zh-CN.json" in served
    modules = [name for name in served if name.endswith(".js")]
    assert {"seller/main.js", "shared/dom.js", "shared/safe-text.js", "shared/console-api.js", "shared/i18n.js",
            "shared/format.js"} <= set(modules)
    reached, todo = set(), [entry]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        script = (STATIC / name).read_text(encoding="utf-8")
        assert "require(" not in script and not re.search(r"^\(function \(\)", script, re.M), f"{name} is not a module"
        for names, target in IMPORT.findall(script):
            assert target.startswith(("./", "../")), (name, target)
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
            assert resolved in served, (name, target)
            exported = set(EXPORT.findall((STATIC / resolved).read_text(encoding="utf-8")))
            imported = {n.split(" as ")[0].strip() for n in names.split(",") if n.strip()}
            assert imported <= exported, (name, resolved, imported - exported)
            todo.append(resolved)
    # Every module the console serves is one it runs (none left behind by a split).
    assert reached == set(modules)
