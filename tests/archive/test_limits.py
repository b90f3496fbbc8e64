"""Limits: one settings object, the same from the CLI and the Python API, applied everywhere in phase A.

Also the TOML nesting-depth check that runs before ``tomllib`` (``lc_archive.parsing.safe_toml``):
it must never underestimate a document's depth, must stay linear on hostile input, and must refuse a
10,000-deep document quickly and clearly, naming the member.
"""

from __future__ import annotations

import dataclasses
import json
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.cli import refusal_lines
from support.paths import REPO
from support.v1kit import make_zip, tiny_members

from lc_archive import restore, validate
from lc_archive.archive.limits import (
    DEFAULT_LIMITS,
    LIMIT_HELP,
    Limits,
    limit_unit,
    parse_count,
    parse_limit,
    parse_size,
)
from lc_archive.cli import main
from lc_archive.errors import ArchiveInvalid
from lc_archive.parsing.safe_toml import TomlInvalid, parse_toml, toml_depth
from lc_archive.stores import open_store

FIELDS = [f.name for f in dataclasses.fields(Limits)]
BASE = "entities/xblock.v1/html"
INTRO_XML = f"{BASE}/intro/component_versions/v2/block.xml"
IMAGE = f"{BASE}/intro/component_versions/v2/static/me.png"

HANG_GUARD_S = 30
"""Generous bound that only catches a hang (an expanded bomb); timings live in `make bench`."""


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


# -- the settings object ---------------------------------------------------------------------------


def test_every_limit_is_documented_and_typed() -> None:
    adr = (REPO / "docs" / "decisions" / "0002-limits.md").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in FIELDS:
        assert LIMIT_HELP[name], name
        assert limit_unit(name) in ("bytes", "count")
        assert f"`{name}`" in adr, f"docs/decisions/0002-limits.md does not explain {name}"
    assert "--max-member-size" in readme and "--max-members" in readme


def test_new_defaults() -> None:
    assert DEFAULT_LIMITS.max_toml_depth == 100
    assert DEFAULT_LIMITS.max_xml_size == 10 << 20
    assert DEFAULT_LIMITS.max_media_size == 50_000_000
    assert DEFAULT_LIMITS.max_archive_nesting == 1
    assert DEFAULT_LIMITS.changed() == {}
    assert DEFAULT_LIMITS.replace(max_members=5).changed() == {"max_members": 5}


def test_defaults_fit_a_100000_component_library() -> None:
    """The numbers in the ADR: ~740,000 members and ~1.7 GB for 100,000 components (10,000: 74,183)."""
    members, total = 740_000, 1_700_000_000
    assert DEFAULT_LIMITS.max_members >= members * 1.3
    assert DEFAULT_LIMITS.max_total_uncompressed >= total * 10


@pytest.mark.parametrize(("text", "value"), [
    ("1048576", 1 << 20), ("64MiB", 64 << 20), ("64mib", 64 << 20), ("2GB", 2_000_000_000), ("2 GB", 2 * 10**9),
    ("1.5GiB", 3 << 29), ("512k", 512 << 10), ("512kB", 512_000), ("10M", 10 << 20), ("1_000", 1000),
    ("7b", 7), ("1TiB", 1 << 40),
])  # fmt: skip
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "x", "-1", "0", "0MiB", "1.5.2", "5 parsecs", "MiB", "1e6", "½MiB"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


def test_parse_count_and_limit() -> None:
    assert parse_count("1_000_000") == 1_000_000
    for bad in ("0", "-3", "1.5", "10k", "", "٣"):
        with pytest.raises(ValueError, match="positive whole number"):
            parse_count(bad)
    assert parse_limit("max_member_size", "2MiB") == 2 << 20
    assert parse_limit("max_members", "12") == 12
    with pytest.raises(KeyError, match="no limit called"):
        parse_limit("max_nothing", "1")


@pytest.mark.parametrize("command", ["restore", "validate", "inspect"])
def test_every_limit_has_a_flag(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())  # undo argparse's line wrapping
    for name in FIELDS:
        assert flag(name) in help_text, (command, name)
    assert "(default 64MiB)" in help_text and "(default 50MB)" in help_text


@pytest.mark.parametrize(("args", "fragment"), [
    (["--max-members", "lots"], "not a positive whole number"),
    (["--max-member-size", "64 parsecs"], "not a size"),
    (["--max-ratio", "0"], "not a positive whole number"),
])  # fmt: skip
def test_bad_limit_values_are_usage_errors(args: list[str], fragment: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    archive = make_zip(tmp_path / "ok.zip", tiny_members())
    assert main(["validate", str(archive), *args]) == 2
    assert fragment in capsys.readouterr().err


# -- each limit reaches the check it governs, from the API and from the CLI ------------------------------

# (limit, value, the member the refusal names, a fragment of its message); the tiny archive passes the defaults.
CASES: list[tuple[str, str, str, str]] = [
    ("max_members", "5", "(archive)", "limit"),
    ("max_total_uncompressed", "300", "(archive)", "limit"),
    ("max_member_size", "100", "package.toml", "limit"),
    ("max_toml_size", "100", "package.toml", "limit of 100 bytes"),
    ("max_path_length", "40", IMAGE, "limit"),
    ("max_path_depth", "5", IMAGE, "limit"),
    ("max_name_component", "8", f"{BASE}/outro.toml", "limit"),
    ("max_toml_depth", "2", f"{BASE}/outro.toml", "nested more than 2 levels deep"),
    ("max_xml_size", "20", INTRO_XML, "above the limit of 20 bytes for OLX (max_xml_size)"),
    ("max_media_size", "8", IMAGE, "above the limit of 8 bytes (max_media_size"),
]


def _ratio_archive(tmp_path: Path) -> Path:
    m = tiny_members()
    m[INTRO_XML] = "<html>" + "<p>la</p>" * 2000 + "</html>"  # 18 KB that deflate shrinks ~100x
    return make_zip(tmp_path / "ratio.zip", m)


RATIO_CASES = [
    ({"max_ratio": "20", "ratio_min_size": "4KiB"}, INTRO_XML),
    ({"max_total_ratio": "5", "ratio_min_size": "4KiB"}, "(archive)"),
]


def _problems(exc: ArchiveInvalid) -> list[tuple[str, str]]:
    return [(p.member, p.message) for p in exc.problems]


@pytest.mark.parametrize(("name", "value", "member", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_limit_via_api(name: str, value: str, member: str, fragment: str, tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", tiny_members())
    validate(archive)  # fine with the defaults
    limits = DEFAULT_LIMITS.replace(**{name: parse_limit(name, value)})
    with pytest.raises(ArchiveInvalid) as info:
        validate(archive, limits=limits)
    assert any(m == member and fragment in msg for m, msg in _problems(info.value)), _problems(info.value)
    db = tmp_path / "store.db"
    with open_store(db) as store, pytest.raises(ArchiveInvalid) as again:
        restore(archive, store, ref="lib:Org:X", limits=limits)
    assert again.value.problems == info.value.problems
    with open_store(db) as store:
        assert store.package_refs() == []


@pytest.mark.parametrize(("changes", "member"), RATIO_CASES, ids=["max_ratio", "max_total_ratio"])
def test_ratio_limits_via_api(changes: dict[str, str], member: str, tmp_path: Path) -> None:
    archive = _ratio_archive(tmp_path)
    validate(archive)
    limits = DEFAULT_LIMITS.replace(**{k: parse_limit(k, v) for k, v in changes.items()})
    with pytest.raises(ArchiveInvalid) as info:
        validate(archive, limits=limits)
    assert any(m == member and "ratio" in msg for m, msg in _problems(info.value)), _problems(info.value)


@pytest.mark.parametrize(("name", "value", "member", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_limit_via_cli_same_lines_everywhere(name: str, value: str, member: str, fragment: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """validate, restore and inspect refuse with the same lines; --json gives the same problems."""
    archive = str(make_zip(tmp_path / "a.zip", tiny_members()))
    db = f"sqlite:///{tmp_path / 'store.db'}"
    outputs = {}
    for command in (["validate", archive], ["restore", archive, db, "--ref", "lib:Org:X"], ["inspect", archive]):
        assert main([*command, flag(name), value]) == 1
        err = capsys.readouterr().err
        outputs[command[0]] = refusal_lines(err)
        assert any(line.startswith(f"{member}: $: ") and fragment in line for line in outputs[command[0]]), err
        assert main([*command, flag(name), value, "--json"]) == 1
        problems = json.loads(capsys.readouterr().out)["problems"]
        assert [f"{p['member']}: {p['path']}: {p['message']}" for p in problems] == outputs[command[0]]
    assert outputs["validate"] == outputs["restore"] == outputs["inspect"]
    assert main(["restore", archive, db, "--ref", "lib:Org:X", "-q"]) == 0  # the defaults accept it


def test_ratio_limits_via_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = str(_ratio_archive(tmp_path))
    assert main(["validate", archive, "--max-ratio", "20", "--ratio-min-size", "4KiB"]) == 1
    assert f"{INTRO_XML}: $: " in capsys.readouterr().err
    assert main(["validate", archive, "--max-ratio", "20"]) == 0  # the 18 KB member is under the 1 MiB minimum


def test_raising_a_limit_admits_more(tmp_path: Path) -> None:
    m = tiny_members()
    m[INTRO_XML] = "<html>" + "x" * 3000 + "</html>"
    archive = make_zip(tmp_path / "a.zip", m)
    with pytest.raises(ArchiveInvalid):
        validate(archive, limits=DEFAULT_LIMITS.replace(max_xml_size=2048))
    assert main(["validate", str(archive), "--max-xml-size", "4KiB", "-q"]) == 0


# -- TOML nesting --------------------------------------------------------------------------------------

DEEP = 10_000
HOSTILE_TOML = {
    "arrays": "x = " + "[" * DEEP + "]" * DEEP,
    "inline-tables": "x = " + "{a = " * DEEP + "1" + "}" * DEEP,
    "dotted-key": "a" + ".a" * DEEP + " = 1",
    "dotted-key-100k": "a" + ".a" * 100_000 + " = 1",  # tomllib: quadratic, exhausts memory
    "table-header": "[a" + ".a" * DEEP + "]\n",
    "array-of-tables": "[[a" + ".a" * DEEP + "]]\n",
    "mixed": "[t]\n" + "k = " + "[{a = " * (DEEP // 2) + "1" + "}]" * (DEEP // 2),
}


@pytest.mark.parametrize("kind", list(HOSTILE_TOML))
def test_deep_toml_refused_quickly_naming_the_member(kind: str, tmp_path: Path) -> None:
    m = tiny_members()
    member = f"{BASE}/outro.toml"
    m[member] = HOSTILE_TOML[kind]
    archive = make_zip(tmp_path / "deep.zip", m)
    started = time.perf_counter()
    with pytest.raises(ArchiveInvalid) as info:
        validate(archive)
    assert time.perf_counter() - started < HANG_GUARD_S  # not a speed claim: an unguarded parse hangs
    found = [p for p in info.value.problems if p.member == member]
    assert len(found) == 1 and found[0].path == "$"
    assert found[0].message.startswith("invalid TOML: nested more than 100 levels deep"), found[0].message


def test_deep_toml_same_line_from_validate_and_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = tiny_members()
    m["package.toml"] = m["package.toml"] + "x = " + "[" * DEEP + "]" * DEEP + "\n"  # type: ignore[operator]
    archive = str(make_zip(tmp_path / "deep.zip", m))
    assert main(["validate", archive]) == 1
    first = refusal_lines(capsys.readouterr().err)
    assert main(["restore", archive, f"sqlite:///{tmp_path / 's.db'}"]) == 1
    assert refusal_lines(capsys.readouterr().err) == first
    assert first[-1].startswith("package.toml: $: invalid TOML: nested more than 100 levels deep")


@pytest.mark.parametrize(("text", "fragment"), [
    ("version_num = " + "7" * 5000, "Exceeds the limit (4300 digits)"),  # a plain ValueError in tomllib
    ('title = "\\ud800"', "invalid TOML: Escaped character"),
    ("a = 1\na = 2", "invalid TOML: Cannot overwrite a value"),
])  # fmt: skip
def test_other_tomllib_failures_are_problems(text: str, fragment: str, tmp_path: Path) -> None:
    m = tiny_members()
    m[f"{BASE}/outro.toml"] = text
    with pytest.raises(ArchiveInvalid) as info:
        validate(make_zip(tmp_path / "a.zip", m))
    assert any(p.member == f"{BASE}/outro.toml" and fragment in p.message for p in info.value.problems)


def test_datetime_out_of_range_in_utc_is_a_problem(tmp_path: Path) -> None:
    """0001-01-01T00:00:00+01:00 parses, but is before year 1 in UTC: a problem, not an OverflowError."""
    m = tiny_members()
    member = f"{BASE}/outro.toml"
    m[member] = str(m[member]).replace("2025-08-19T04:25:43.685529Z", "0001-01-01T00:00:00+01:00")
    with pytest.raises(ArchiveInvalid) as info:
        validate(make_zip(tmp_path / "a.zip", m))
    [problem] = [p for p in info.value.problems if p.member == member]  # (and the unit's child is now missing)
    assert problem.path == "$.entity.created" and "out of range once converted to UTC" in problem.message


def _true_depth(value: Any, depth: int = 0) -> int:
    if isinstance(value, dict):
        return max((_true_depth(v, depth + 1) for v in value.values()), default=depth)
    if isinstance(value, list):
        return max((_true_depth(v, depth + 1) for v in value), default=depth)
    return depth


@pytest.mark.parametrize("text", [
    "a = 1", "[t]\na = 1", "x = {a = 1}", "x = [[1]]", "a.b.c = 1", "[[a]]\nb = {c = 1}", "[a.b]\nc.d = [[1]]",
    "x = [{a = 1}]", 'a = "[[[[[[{{{{..."', "a = '''[[[[''''", 'a = """[[[""""', 'a = """x\\""""\nb = [[1]]',
    'a = 1.5\nb = 1979-05-27T07:32:00.5Z', '"a.b".c = 1', "a = [ # [[[\n 1, [2]]\n",
    "[[a.b]]\n[[a.b]]\nc = [{d.e = [1]}]", "x = {a.b = {c = [1, {d = 2}]}}", "[ a . b ]\n c . d = 1",
    '[["="]]\n["="."="]', "[[a]]\n[[a.b]]\n[[a.b.c]]\nd = 1",
    "'[x'.\"]\" = [\"#\", '[', \"\"\"\n[[\n\"\"\"]",
])  # fmt: skip
def test_depth_is_exact_or_more(text: str) -> None:
    depth = _true_depth(tomllib.loads(text))
    assert toml_depth(text) >= depth
    assert toml_depth(text, limit=100) >= depth


_keys = st.text(alphabet=st.sampled_from('ab.[]{}"#=\'\\ '), min_size=1, max_size=6)
_leaves = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.text(max_size=8),
                    st.text(alphabet=st.sampled_from('[]{}."\'#=\\\n '), max_size=8))
_values = st.recursive(_leaves, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(_keys, inner, max_size=3)), max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _values, max_size=4))
def test_depth_never_underestimates(document: dict[str, Any]) -> None:
    text = tomlkit.dumps(document)
    depth = _true_depth(tomllib.loads(text))
    assert toml_depth(text) >= depth, text
    for limit in (1, 2, 3, 5):
        assert (toml_depth(text, limit) > limit) >= (depth > limit), (limit, text)


@pytest.mark.parametrize("text", [
    'a = """' + '""a[' * 250_000, 'a = "' + "\\x[" * 330_000, "a = '''" + "''[" * 330_000, '["\\' * 330_000,
    "\n[" * 500_000, "x = [" + "1.5, " * 200_000 + "]",
])  # fmt: skip
def test_depth_scan_is_linear_on_hostile_text(text: str) -> None:
    started = time.perf_counter()
    toml_depth(text)
    assert time.perf_counter() - started < HANG_GUARD_S  # not a speed claim: quadratic scans hang here


def test_parse_toml_messages() -> None:
    assert parse_toml(b'a = "\xc3\xa9"', max_depth=5) == {"a": "é"}
    with pytest.raises(TomlInvalid, match=r"not valid UTF-8 \(byte 5\)"):
        parse_toml(b'a = "\xff"', max_depth=5)
    with pytest.raises(TomlInvalid, match=r"byte-order mark \(BOM\)"):
        parse_toml(b"\xef\xbb\xbfa = 1", max_depth=5)
    with pytest.raises(TomlInvalid, match="nested more than 2 levels deep"):
        parse_toml(b"a.b.c = 1", max_depth=2)
    with pytest.raises(TomlInvalid, match="refused unparsed"):
        parse_toml(b"a = [[[1]]]", max_depth=2)
