"""OLX (block.xml) is parsed by a hardened lxml parser in phase A: no DTD, no entities, no network.

The factory's options are asserted literally, so a refactor back to lxml's defaults fails here; each
attack is refused quickly with a problem naming the member; real archives (openedx-core's and ours)
still validate, every block.xml in them included.
"""

from __future__ import annotations

import base64
import http.server
import json
import random
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from support.cli import refusal_lines
from support.paths import REPO
from support.peer import peer_archives
from support.v1kit import make_zip, tiny_members

from lc_archive import validate
from lc_archive.cli import main
from lc_archive.errors import ArchiveInvalid
from lc_archive.parsing import olx
from lc_archive.parsing.olx import PARSER_OPTIONS, check_olx, olx_parser, parse_olx
from lc_archive.stores import open_store

BASE = "entities/xblock.v1/html"
OLX = f"{BASE}/outro/component_versions/v1/block.xml"
CANARY = "CANARY-7f3a-secret"

EXPECTED_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "attribute_defaults": False,
    "huge_tree": False,
    "decompress": False,
    "recover": False,
    "encoding": "utf-8",
    "collect_ids": False,
}


def billion_laughs() -> bytes:
    ents = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    return f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{ents}]><lolz>&lol9;</lolz>'.encode()


def quadratic() -> bytes:
    return (b'<!DOCTYPE p [<!ENTITY a "' + b"A" * 50_000 + b'">]><p>' + b"&a;" * 20_000 + b"</p>")


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    path = tmp_path / "canary_secret.txt"
    path.write_text(CANARY, encoding="utf-8")
    return path


@pytest.fixture
def http_log() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request it gets."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY x "REMOTE-FETCHED">')

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


# -- the factory --------------------------------------------------------------------------------------


def test_factory_options_are_spelled_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exactly these options, every time: not lxml's defaults (which changed across versions)."""
    assert PARSER_OPTIONS == EXPECTED_OPTIONS
    calls: list[dict[str, Any]] = []
    real = etree.XMLParser

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(olx.etree, "XMLParser", spy)
    olx_parser()
    assert len(calls) == 1
    target = calls[0].pop("target")
    assert calls[0] == EXPECTED_OPTIONS
    assert callable(target.doctype)  # the DOCTYPE trap is wired in


def test_options_alone_never_expand_or_fetch(canary: Path, http_log: tuple[str, list[str]]) -> None:
    """Even without the DOCTYPE trap, a tree built with these options expands and fetches nothing."""
    url, seen = http_log
    parser = etree.XMLParser(**PARSER_OPTIONS)
    xxe = f'<!DOCTYPE a [<!ENTITY x SYSTEM "file://{canary}">]><a>&x;</a>'.encode()
    root = etree.fromstring(xxe, parser)
    assert CANARY not in etree.tostring(root, encoding="unicode")
    assert [type(node).__name__ for node in root] == ["_Entity"]  # left unresolved
    remote = f'<!DOCTYPE a SYSTEM "{url}/ext.dtd"><a>&x;</a>'.encode()
    assert "REMOTE-FETCHED" not in etree.tostring(etree.fromstring(remote, parser), encoding="unicode")
    assert seen == []
    with pytest.raises(etree.XMLSyntaxError, match=r"amplification|loop"):
        etree.fromstring(billion_laughs(), parser)


def test_huge_tree_stays_off() -> None:
    """libxml2's guards: 256 levels of nesting, 10 MB text nodes in a tree (both lifted by huge_tree).

    The checker builds no tree, so a long text only streams through it (max_xml_size bounds it).
    """
    deep, text = b"<a>" * 300 + b"</a>" * 300, b"<a>" + b"x" * 10_500_000 + b"</a>"
    assert "Excessive depth in document" in (check_olx(deep) or "")
    assert check_olx(b"<a>" * 200 + b"</a>" * 200) is None
    with pytest.raises(etree.XMLSyntaxError, match=r"Text node too long|huge"):
        etree.fromstring(text, etree.XMLParser(**PARSER_OPTIONS))
    huge = etree.XMLParser(**{**PARSER_OPTIONS, "huge_tree": True})  # what the option protects against
    etree.fromstring(deep, huge)
    etree.fromstring(text, huge)


# -- attacks, straight to the checker ------------------------------------------------------------------


def attacks(canary: Path, url: str) -> dict[str, bytes]:
    return {
        "billion-laughs": billion_laughs(),
        "quadratic-blowup": quadratic(),
        "xxe-file": f'<!DOCTYPE a [<!ENTITY x SYSTEM "file://{canary}">]><a>&x;</a>'.encode(),
        "xxe-relative": b'<!DOCTYPE a [<!ENTITY x SYSTEM "canary_secret.txt">]><a>&x;</a>',
        "xxe-http": f'<!DOCTYPE a [<!ENTITY x SYSTEM "{url}/x">]><a>&x;</a>'.encode(),
        "external-dtd": f'<!DOCTYPE a SYSTEM "{url}/ext.dtd"><a>&x;</a>'.encode(),
        "external-dtd-file": f'<!DOCTYPE a SYSTEM "file://{canary}"><a/>'.encode(),
        "parameter-entity": f'<!DOCTYPE a [<!ENTITY % pe SYSTEM "{url}/pe"> %pe;]><a/>'.encode(),
        "public-id": b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x.dtd"><html/>',
        "bare-doctype": b"<!DOCTYPE html><html/>",
    }


def test_every_doctype_is_refused_unread(canary: Path, http_log: tuple[str, list[str]]) -> None:
    url, seen = http_log
    for name, data in attacks(canary, url).items():
        started = time.perf_counter()
        problem = check_olx(data)
        assert time.perf_counter() - started < 10, name  # a hang guard: an expanded bomb takes minutes
        assert problem is not None and problem.startswith("a DOCTYPE declaration"), (name, problem)
        assert CANARY not in problem
    assert seen == []


@pytest.mark.parametrize(("data", "where", "fragment"), [
    (b"<html>", "line 1, column 7", "Premature end of data"),
    (b"<a>\n<b>\n</c></a>", "line 3, column 5", "mismatch"),
    (b"<a>&nbsp;</a>", "line 1, column 10", "Entity 'nbsp' not defined"),
    (b"<a/>\n<b/>", "line 2, column 1", "Extra content"),
    (b"<a>&#0;</a>", "line 1, column 8", "invalid xmlChar value 0"),
    (b"<a b='1' b='2'/>", "line 1", "Attribute b redefined"),
    (b"<a>\x01</a>", "line 1", "PCDATA invalid Char"),
])  # fmt: skip
def test_malformed_xml_names_line_and_column(data: bytes, where: str, fragment: str) -> None:
    problem = check_olx(data)
    assert problem is not None and problem.startswith(f"not well-formed XML ({where}") and fragment in problem


@pytest.mark.parametrize("data", [
    b"", b"  \n", b"<html/>", b'<?xml version="1.0" encoding="UTF-8"?>\n<problem/>', b"\xef\xbb\xbf<a/>",
    b"<a>&amp;&lt;&gt;&quot;&apos;&#233;</a>", b"<html><![CDATA[<!DOCTYPE html><p>&nbsp;</p>]]></html>",
    b'<a xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"/></a>',
    b'<?xml-stylesheet href="http://127.0.0.1:9/x.xsl"?><a/>', "<p>é 漢字 🎓</p>".encode(),
    b"<?xml version='1.0' encoding='utf8'?><a/>", b'<?xml version="1.0" encoding="Utf_8" standalone="yes"?><a/>',
])  # fmt: skip
def test_ordinary_olx_is_accepted(data: bytes) -> None:
    assert check_olx(data, olx_parser()) is None
    assert parse_olx(data)[1] is None


@pytest.mark.parametrize(("data", "declared"), [
    (b'<?xml version="1.0" encoding="latin-1"?><a>\xc3\xa9</a>', "latin-1"),  # UTF-8 bytes, latin-1 declared
    (b'<?xml version="1.0" encoding="UTF-16"?><a/>', "UTF-16"),
    (b"\xef\xbb\xbf<?xml version='1.0' encoding='ISO-8859-1'?><a/>", "ISO-8859-1"),
    (b'<?xml version="1.0"\n encoding = "ascii"?><a/>', "ascii"),
    (b'<?xml version="1.0" encoding="\x1b[2J"?><a/>', "\\x1b[2J"),  # shown escaped
])  # fmt: skip
def test_a_declaration_other_than_utf8_is_refused(data: bytes, declared: str) -> None:
    """OLX is UTF-8; a declaration saying otherwise would be overridden silently, so it is an error."""
    for problem in (check_olx(data), parse_olx(data)[1]):
        assert problem is not None and f'encoding="{declared}"' in problem and "must be UTF-8" in problem


def test_one_parser_serves_many_documents() -> None:
    parser = olx_parser()
    assert check_olx(b"<!DOCTYPE a><a/>", parser) is not None
    assert check_olx(b"<a>", parser) is not None
    assert check_olx(b"<a/>", parser) is None  # no state carried over from failures


# -- in archives: phase A refuses, validate and restore print the same line ----------------------------


def archive_with(tmp_path: Path, data: bytes, name: str = "a.zip") -> Path:
    members = tiny_members()
    members[OLX] = data
    return make_zip(tmp_path / name, members)


@pytest.mark.parametrize("attack", ["billion-laughs", "quadratic-blowup", "xxe-file", "external-dtd",
                                    "parameter-entity"])
def test_archive_with_attack_is_refused(attack: str, canary: Path, http_log: tuple[str, list[str]],
                                        tmp_path: Path) -> None:
    url, seen = http_log
    archive = archive_with(tmp_path, attacks(canary, url)[attack])
    started = time.perf_counter()
    with pytest.raises(ArchiveInvalid) as info:
        validate(archive)
    assert time.perf_counter() - started < 30  # a hang guard, not a speed claim
    [problem] = info.value.problems
    assert (problem.member, problem.path) == (OLX, "$")
    assert problem.message.startswith("a DOCTYPE declaration") and CANARY not in str(info.value)
    assert seen == []


def test_validate_and_restore_print_the_same_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    members = tiny_members()
    members[OLX] = b"<html>\n<p>unclosed</html>"
    members[f"{BASE}/intro/component_versions/v1/block.xml"] = billion_laughs()
    archive = str(make_zip(tmp_path / "a.zip", members))
    db = tmp_path / "store.db"
    with open_store(db) as store:
        assert store.package_refs() == []
    before = db.read_bytes()
    lines = {}
    for command in (["validate", archive], ["restore", archive, f"sqlite:///{db}", "--ref", "lib:Org:X"]):
        assert main(command) == 1
        lines[command[0]] = capsys.readouterr().err.splitlines()
        assert refusal_lines("\n".join(lines[command[0]])) == lines[command[0]][1:]
        assert main([*command, "--json"]) == 1
        problems = json.loads(capsys.readouterr().out)["problems"]
        assert [f"{p['member']}: {p['path']}: {p['message']}" for p in problems] == lines[command[0]][1:]
    assert lines["validate"] == lines["restore"]
    assert lines["validate"][0] == "2 problem(s); nothing was written:"
    assert lines["validate"][1].startswith(f"{BASE}/intro/component_versions/v1/block.xml: $: a DOCTYPE declaration")
    assert lines["validate"][2] == (f"{OLX}: $: not well-formed XML (line 2, column 19): Opening and ending tag "
                                    "mismatch: p line 2 and html")
    assert db.read_bytes() == before


def test_oversized_olx_is_refused_before_it_is_read(tmp_path: Path) -> None:
    archive = archive_with(tmp_path, b"<a>" + base64.b64encode(random.Random(1).randbytes(8_500_000)) + b"</a>")
    with pytest.raises(ArchiveInvalid) as info:
        validate(archive)
    [problem] = info.value.problems
    assert problem.member == OLX and "above the limit of 10485760 bytes for OLX (max_xml_size)" in problem.message


def test_invalid_utf8_olx(tmp_path: Path) -> None:
    with pytest.raises(ArchiveInvalid) as info:
        validate(archive_with(tmp_path, b"<a>\xff\xfe</a>"))
    [problem] = info.value.problems
    assert (problem.member, problem.message) == (OLX, "block.xml is not valid UTF-8 (byte 3): invalid start byte")


def test_empty_olx_still_round_trips(tmp_path: Path) -> None:
    validate(archive_with(tmp_path, b""))


# -- real archives ----------------------------------------------------------------------------------------


def _block_xml_members(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as z:
        return [n for n in z.namelist() if n.endswith("/block.xml")]


def test_sample_library_olx_parses() -> None:
    archive = REPO / "testdata" / "sample-library.zip"
    parser = olx_parser()
    with zipfile.ZipFile(archive) as z:
        names = _block_xml_members(archive)
        assert names and all(check_olx(z.read(n), parser) is None for n in names)
    validate(archive)


def test_peer_archives_olx_parses(peer_dir: Path) -> None:
    """Every block.xml openedx-core 1.15.2 wrote parses, and every archive still validates."""
    parser = olx_parser()
    checked = 0
    for archive in peer_archives(peer_dir):
        with zipfile.ZipFile(archive) as z:
            for name in _block_xml_members(archive):
                assert check_olx(z.read(name), parser) is None, (archive.name, name)
                checked += 1
        # The peer's generator writes <img src="/static/figure.png"> without the file: warnings only.
        summary = validate(archive, strict=False)
        assert all("references /static/figure.png" in w.message for w in summary.warnings), summary.warnings
    assert checked >= 500
