import argparse
import re
from pathlib import Path

import pytest

from tfnn.bench import report
from tfnn.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCED_CODE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(action.choices)


def command_table(text: str) -> set[str]:
    """The commands in the first column of the README's table under "## Commands"."""
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `tfnn ([a-z-]+)` \|", section, re.MULTILINE))


def relative_links(text: str) -> list[str]:
    """Link and image targets outside code, without http(s), mailto or pure #anchors."""
    text = INLINE_CODE.sub("", FENCED_CODE.sub("", text))
    targets = [match.group(1) for match in LINK.finditer(text)]
    return [
        target.split("#", 1)[0]
        for target in targets
        if not re.match(r"[a-z]+:", target) and not target.startswith("#")
    ]


def test_relative_links_skips_code_web_links_and_anchors():
    text = "[a](b.md#part) ![i](images/x.png) [w](https://x.org) [h](#top) `[c](d.md)`"
    assert relative_links(text + "\n```\n[e](f.md)\n```\n") == ["b.md", "images/x.png"]


def test_readme_is_at_most_200_lines():
    assert len(README.read_text().splitlines()) <= 200


def test_the_command_table_lists_every_subcommand():
    assert command_table(README.read_text()) == subcommands(build_parser())


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_and_images_resolve(page):
    targets = set(relative_links(page.read_text()))
    missing = sorted(target for target in targets if not (page.parent / target).exists())
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


def test_performance_page_is_generated_from_the_records(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    records = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs/bench").glob("*.json"))
    report.main(["--page", *records])
    assert (ROOT / "docs/performance.md").read_text() == capsys.readouterr().out, (
        "docs/performance.md is stale: run "
        "python -m tfnn.bench.report --page docs/bench/*.json > docs/performance.md"
    )


def test_the_page_keeps_the_newest_record_of_each_benchmark_current():
    def record(date, mode, names):
        machine = {
            "cpu": "cpu",
            "cores": 2,
            "tensorflow": "tf",
            "keras": "keras",
            "fp32_peak_gflops": 1.0,
            "derivation": "d",
        }
        return {
            "date": date,
            "mode": mode,
            "command": f"scripts/bench --only {','.join(names)}",
            "machine": machine,
            "benchmarks": {name: {} for name in names},
        }

    text = report.page(
        [
            ("old.json", record("2026-01-01 10:00", "full", ["digits", "cnn"])),
            ("new.json", record("2026-02-01 10:00", "full", ["digits"])),
            ("quick.json", record("2026-01-01 09:00", "quick", ["digits"])),
        ],
        "COMMAND",
    )
    current, history = text.split("\n## History\n")
    assert "COMMAND" in current
    assert "### digits (full mode, 2026-02-01 10:00)" in current
    assert "### cnn (full mode, 2026-01-01 10:00)" in current
    assert "### digits (quick mode, 2026-01-01 09:00)" in current
    assert current.index("(full mode") < current.index("(quick mode")
    assert "### digits (full mode, 2026-01-01 10:00)" in history
    assert "Record `old.json`. Measured 2026-01-01 10:00 with `scripts/bench" in history
