"""lc-archive's built-in serializers: OLX facts, root tags, /static/ references, containers, collections.

The last tests run every built-in check over every component version, container and collection of
the real openedx-core archives (``../shared/peer``) and of the sample library: no error may come out.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
import tomllib
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import pytest
from support.paths import REPO
from support.peer import peer_archives

from lc_archive.plugins.builtin.collection import Collections
from lc_archive.plugins.builtin.components import (
    AnyComponent,
    HtmlComponent,
    ProblemComponent,
    VideoComponent,
    XBlockComponent,
    python_imports,
)
from lc_archive.plugins.builtin.containers import SectionContainer, SubsectionContainer, UnitContainer
from lc_archive.plugins.builtin.olx_facts import MAX_REF_ISSUES, static_refs
from lc_archive.plugins.contract import ComponentFacts, ComponentSerializer, ComponentVersionView, VersionCheck
from lc_archive.plugins.registry import builtin_registry

SAMPLE = REPO / "testdata" / "sample-library.zip"
OLX_MEMBER = "entities/xblock.v1/html/x/component_versions/v3/block.xml"


def _no_media(path: str) -> contextlib.AbstractContextManager[BinaryIO]:
    return contextlib.nullcontext(io.BytesIO())


def view(olx: bytes | str | None, *, namespace: str = "xblock.v1", type: str = "html", number: int = 3,
         static: tuple[str, ...] = ()) -> ComponentVersionView:
    """A version with that OLX and media ``static/<path>`` for each of ``static``."""
    data = olx.encode() if isinstance(olx, str) else olx
    media: dict[str, str] = {f"static/{p}": f"m/static/{p}" for p in static}
    if data is not None:
        media["block.xml"] = OLX_MEMBER
    return ComponentVersionView(
        ref=f"{namespace}:{type}:x", namespace=namespace, type=type, number=number, member="entities/x.toml",
        olx=data, olx_member=OLX_MEMBER if data is not None else None, media=media, open_media=_no_media,
    )


def check(serializer: ComponentSerializer, olx: bytes | str | None, **kw: object) -> VersionCheck:
    result = serializer.check_version(view(olx, **kw))  # type: ignore[arg-type]
    assert isinstance(result, VersionCheck)
    return result


def messages(result: VersionCheck) -> list[str]:
    return [i.message for i in result.issues]


# -- problems -----------------------------------------------------------------------------------------

PROBLEM_WEIGHT = """<problem display_name="Quiz 1" max_attempts="3" weight="2.5" showanswer="finished">
  <multiplechoiceresponse>
    <label>Which arrow is the net force?</label>
    <choicegroup type="MultipleChoice">
      <choice correct="false">A</choice>
      <choice correct="true">B</choice>
    </choicegroup>
  </multiplechoiceresponse>
</problem>
"""

PROBLEM_MULTI = """<problem display_name="Lab">
  <p>Three questions.</p>
  <stringresponse answer="42"><textline/></stringresponse>
  <div>
    <numericalresponse answer="3.14"><responseparam type="tolerance" default="0.01"/>
      <formulaequationinput/></numericalresponse>
  </div>
  <customresponse cfn="check">
    <textline points="2"/>
    <textline/>
  </customresponse>
  <optionresponse><p>no known input</p></optionresponse>
  <solution><p>Explanation.</p></solution>
</problem>
"""


def test_problem_weight_is_max_score() -> None:
    facts = ProblemComponent().facts(PROBLEM_WEIGHT.encode())
    assert facts == ComponentFacts(display_name="Quiz 1", is_scorable=True, max_score=2.5)


def test_problem_counts_inputs_of_each_response() -> None:
    facts = ProblemComponent().facts(PROBLEM_MULTI.encode())
    # 1 (textline) + 1 (formulaequationinput) + 2+1 (points) + 1 (response without a known input)
    assert facts.max_score == 6.0
    assert facts.is_scorable is True
    assert facts.display_name == "Lab"


def test_problem_weight_rules() -> None:
    p = ProblemComponent()
    one = "<stringresponse answer='a'><textline/><textline/></stringresponse>"
    assert p.facts(f'<problem weight="0">{one}</problem>'.encode()).max_score == 0.0
    assert p.facts(f'<problem weight=" 4 ">{one}</problem>'.encode()).max_score == 4.0
    for bad in ("abc", "", "nan", "inf", "-1"):  # not a usable weight: the raw maximum
        assert p.facts(f'<problem weight="{bad}">{one}</problem>'.encode()).max_score == 2.0, bad
    # no response: not graded (0), and a weight does not change that (the LMS ignores it then)
    assert p.facts(b'<problem weight="5"><p>Just text.</p></problem>') == ComponentFacts(
        is_scorable=True, max_score=0.0)
    assert p.facts(b"<problem/>").max_score == 0.0
    assert p.facts(b'<problem><choiceresponse><checkboxgroup points="x"/></choiceresponse></problem>'
                   ).max_score == 1.0


SCRIPTS = """<problem display_name="Scripts">
  <script type="loncapa/python"><![CDATA[
    import numpy as np
    import os.path, json
    from mitxgraders import *
    from . import sibling
    from .pkg import other
    def f():
        import scipy.stats
  ]]></script>
  <script type="text/python">from sympy.parsing import parse_expr</script>
  <script type="python">import math</script>
  <script>import untyped_module</script>
  <script type="text/javascript">import notpython from "x";</script>
  <script type="loncapa/python"><![CDATA[
print "this is Python 2"
import py2only
]]></script>
  <customresponse cfn="check">
    <answer type="loncapa/python">import answer_lib
correct = ['correct']</answer>
    <textline/>
  </customresponse>
</problem>
"""


def test_problem_imports_from_python_scripts() -> None:
    facts = ProblemComponent().facts(SCRIPTS.encode())
    assert facts.imports == ("answer_lib", "json", "math", "mitxgraders", "numpy", "os", "scipy", "sympy",
                             "untyped_module")
    assert facts.max_score == 1.0


def test_python_imports_never_raise_on_hostile_scripts() -> None:
    assert python_imports("print 'py2'\nimport x") == set()
    assert python_imports("(" * 10_000) == set()
    assert python_imports("-" * 200_000 + "1") == set()
    assert python_imports("import a\x00") == set()
    assert python_imports("x = '\\d'\nimport re") == {"re"}  # SyntaxWarning, silenced
    assert python_imports("import a\n" * 50_000) == {"a"}
    assert python_imports("import b\n" + "#" * 1_100_000) == set()  # too large to parse: skipped


def test_problem_root_must_be_problem() -> None:
    result = check(ProblemComponent(), "<html><stringresponse><textline/></stringresponse></html>", type="problem")
    assert [(i.severity, i.path, i.member) for i in result.issues] == [("error", "$", OLX_MEMBER)]
    assert "<html>" in result.issues[0].message and "<problem>" in result.issues[0].message
    assert result.facts is not None and result.facts.max_score == 1.0


# -- html, video and generic XBlocks ----------------------------------------------------------------

HTML = """<html display_name="Welcome!" editor="visual"><![CDATA[
<h2>Welcome!</h2>
<p><img src="/static/logo.svg" alt="logo"/></p>
<p><img src="/static/figure.png" alt="figure"/></p>
<p><a href='/static/a b.pdf'>notes</a> and <a href="/static/plot%20with%20space.png?v=2#top">plot</a></p>
<style>.hero { background: url(/static/hero.png) no-repeat; } .x { background: url('/static/q.png'); }</style>
<p>See /static/data.csv. Also https://cdn.example.org/static/remote.png and ../static/relative.png</p>
<!-- an HTML comment inside CDATA is text too: <img src="/static/commented.png"> -->
<p><img src="/static/figure.png"/> twice, reported once</p>
<p><a href="/static/">the folder</a> <a href="/static/missing.pdf?download=1">get</a></p>
]]></html>
"""


def test_html_facts_and_static_references() -> None:
    present = ("logo.svg", "a b.pdf", "plot with space.png", "hero.png", "q.png", "data.csv")
    result = check(HtmlComponent(), HTML, static=present)
    assert result.facts == ComponentFacts(display_name="Welcome!", is_scorable=False)
    assert messages(result) == [
        "references /static/figure.png, but version 3 has no static/figure.png",
        "references /static/commented.png, but version 3 has no static/commented.png",
        "references /static/missing.pdf?download=1, but version 3 has no static/missing.pdf",
    ]
    assert {(i.severity, i.path, i.member) for i in result.issues} == {("warning", "$", OLX_MEMBER)}
    everything = check(HtmlComponent(), HTML, static=(*present, "figure.png", "commented.png", "missing.pdf"))
    assert everything.issues == ()


def test_static_references_raw_or_decoded_forms() -> None:
    olx = '<html><![CDATA[<img src="/static/plot%20with%20space.png"><img src="/static/caf%C3%A9.png">]]></html>'
    assert check(HtmlComponent(), olx, static=("plot with space.png", "café.png")).issues == ()
    assert check(HtmlComponent(), olx, static=("plot%20with%20space.png", "caf%C3%A9.png")).issues == ()
    # XML attribute escaping is undone by the parser; HTML escaping inside CDATA is tried too
    assert check(HtmlComponent(), '<html><a href="/static/a&amp;b.pdf">x</a></html>', static=("a&b.pdf",)).issues == ()
    assert check(HtmlComponent(), '<html><![CDATA[<a href="/static/a&amp;b.pdf">]]></html>',
                 static=("a&b.pdf",)).issues == ()
    missing = check(HtmlComponent(), olx)
    assert messages(missing) == [
        "references /static/plot%20with%20space.png, but version 3 has no static/plot with space.png",
        "references /static/caf%C3%A9.png, but version 3 has no static/café.png",
    ]


def test_static_references_in_attributes_and_json() -> None:
    olx = ('<drag-and-drop-v2 display_name="Map" data="{&quot;targetImg&quot;: &quot;/static/map.png&quot;,'
           ' &quot;items&quot;: [{&quot;imageURL&quot;: &quot;/static/img/pin.png&quot;}]}"/>')
    result = check(XBlockComponent(), olx, type="drag-and-drop-v2", static=("map.png",))
    assert messages(result) == ["references /static/img/pin.png, but version 3 has no static/img/pin.png"]
    assert result.facts == ComponentFacts(display_name="Map")


def test_static_ref_scanner() -> None:
    text = ("a /static/x.png, b=\"/static/y z.png\" c='/static/it\"s.png' url(/static/u.png) "
            "http://h/static/no.png /x/static/no.png /static/ end /static/last.")
    assert list(static_refs(text)) == ["x.png", "y z.png", 'it"s.png', "u.png", "last"]
    assert list(static_refs("no references here")) == []


def test_static_warnings_are_capped() -> None:
    olx = "<html>" + "".join(f'<img src="/static/f{i}.png"/>' for i in range(MAX_REF_ISSUES + 30)) + "</html>"
    result = check(HtmlComponent(), olx)
    assert len(result.issues) == MAX_REF_ISSUES + 1
    assert result.issues[-1].message.startswith("... and 30 more")
    assert {i.severity for i in result.issues} == {"warning"}


VIDEO = """<video display_name="Lecture 1" youtube_id_1_0="dQw4w9WgXcQ" download_track="true">
  <source src="/static/lecture.mp4"/>
  <source src="https://media.example.org/lecture-1.mp4"/>
  <transcript language="en" src="transcript-en.srt"/>
</video>
"""


def test_video() -> None:
    result = check(VideoComponent(), VIDEO, type="video", static=("transcript-en.srt",))
    assert result.facts == ComponentFacts(display_name="Lecture 1", is_scorable=False)
    assert messages(result) == ["references /static/lecture.mp4, but version 3 has no static/lecture.mp4"]
    assert check(VideoComponent(), VIDEO, type="video", static=("lecture.mp4",)).issues == ()


def test_xblock_root_must_be_block_type() -> None:
    ok = check(XBlockComponent(), '<drag-and-drop-v2 display_name="Sort"/>', type="drag-and-drop-v2")
    assert ok.issues == () and ok.facts == ComponentFacts(display_name="Sort")
    bad = check(XBlockComponent(), '<problem display_name="Sort"/>', type="drag-and-drop-v2")
    assert [(i.severity, i.path, i.member) for i in bad.issues] == [("error", "$", OLX_MEMBER)]
    assert bad.issues[0].message == ("the OLX root element is <problem>, but a xblock.v1:drag-and-drop-v2 "
                                     "component's root must be <drag-and-drop-v2>")
    namespaced = check(XBlockComponent(), '<x:survey xmlns:x="urn:x"/>', type="survey")
    assert len(namespaced.issues) == 1 and "{urn:x}survey" in namespaced.issues[0].message
    for serializer, type_ in ((HtmlComponent(), "html"), (VideoComponent(), "video")):
        wrong = check(serializer, "<div/>", type=type_)
        assert [i.severity for i in wrong.issues] == ["error"] and f"<{type_}>" in wrong.issues[0].message


def test_blank_and_missing_olx_are_accepted() -> None:
    for olx in (b"", b"  \n\t", None):
        assert check(XBlockComponent(), olx, type="survey") == VersionCheck(facts=ComponentFacts())
        assert check(AnyComponent(), olx, namespace="openedx.v1", type="upload").issues == ()
        assert check(ProblemComponent(), olx, type="problem") == VersionCheck(facts=ComponentFacts(is_scorable=True))
        assert check(HtmlComponent(), olx) == VersionCheck(facts=ComponentFacts(is_scorable=False))
    assert XBlockComponent().facts(b"") == ComponentFacts()


def test_any_component_has_no_root_requirement() -> None:
    result = check(AnyComponent(), '<whatever display_name="Upload"><img src="/static/a.png"/></whatever>',
                   namespace="openedx.v1", type="upload")
    assert result.facts == ComponentFacts(display_name="Upload")
    assert messages(result) == ["references /static/a.png, but version 3 has no static/a.png"]
    assert AnyComponent().facts(b"<a/>") == ComponentFacts()  # no display_name: None, never derived


# -- hostile input ----------------------------------------------------------------------------------

ALL = (AnyComponent(), XBlockComponent(), ProblemComponent(), HtmlComponent(), VideoComponent())

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<problem>&lol3;</problem>"""
XXE = b'<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><problem display_name="&x;"/>'
EXTERNAL_DTD = b'<!DOCTYPE html SYSTEM "http://example.org/evil.dtd"><html/>'


@pytest.mark.parametrize("olx", [
    BILLION_LAUGHS, XXE, EXTERNAL_DTD,
    b"<problem>" * 10_000 + b"</problem>" * 10_000,  # deeper than libxml2's 256
    b"<problem><unclosed></problem>",
    b"\xff\xfe<\x00p\x00/\x00>\x00",  # UTF-16
    b"<problem>\x00</problem>",
    b"<html>&undefined;</html>",
    b"not xml at all",
    b"<?xml version='1.0' encoding='latin-1'?><html>\xe9</html>",
], ids=["billion-laughs", "xxe", "external-dtd", "deep", "malformed", "utf16", "nul", "entity", "text", "latin1"])
def test_hostile_olx_is_an_issue_never_an_exception(olx: bytes) -> None:
    for serializer in ALL:
        result = serializer.check_version(view(olx, type="problem"))
        assert [(i.severity, i.path, i.member) for i in result.issues] == [("error", "$", OLX_MEMBER)]
        assert "the OLX cannot be read" in result.issues[0].message
        assert "root:" not in result.issues[0].message  # nothing of /etc/passwd
        assert isinstance(serializer.facts(olx), ComponentFacts)


def test_doctype_is_refused_before_its_subset_is_read() -> None:
    result = ProblemComponent().check_version(view(BILLION_LAUGHS, type="problem"))
    assert "DOCTYPE" in result.issues[0].message


def test_doctype_text_inside_cdata_is_fine() -> None:
    olx = '<html display_name="Page"><![CDATA[<!DOCTYPE html><p>hi</p>]]></html>'
    assert check(HtmlComponent(), olx) == VersionCheck(facts=ComponentFacts(display_name="Page", is_scorable=False))


def test_large_text_is_checked_quickly() -> None:
    body = "lorem ipsum /static/x " * 240_000  # ~5 MB of text in one CDATA section
    olx = f'<html display_name="Big"><![CDATA[{body}<img src="/static/big.png">]]></html>'.encode()
    assert len(olx) > 5_000_000
    start = time.perf_counter()
    result = check(HtmlComponent(), olx, static=("x",))
    assert time.perf_counter() - start < 10
    assert messages(result) == ["references /static/big.png, but version 3 has no static/big.png"]
    adversarial = ("/static/" + "a" * 5000 + " ") * 1000  # long runs, bounded scan
    start = time.perf_counter()
    check(HtmlComponent(), f"<html><![CDATA[{adversarial}]]></html>")
    assert time.perf_counter() - start < 10


def test_many_attributes_and_elements() -> None:
    olx = "<problem " + " ".join(f'a{i}="/static/f.png"' for i in range(5000)) + ">"
    olx += "<stringresponse><textline/></stringresponse>" * 20_000 + "</problem>"
    result = check(ProblemComponent(), olx, type="problem", static=("f.png",))
    assert result.issues == () and result.facts is not None and result.facts.max_score == 20_000.0


# -- containers and collections -------------------------------------------------------------------

def test_container_child_rules() -> None:
    unit, subsection, section = UnitContainer(), SubsectionContainer(), SectionContainer()
    assert unit.child_problem("component", "xblock.v1:problem") is None
    assert unit.child_problem("component", "openedx.v1:upload") is None
    assert unit.child_problem("container", "subsection") == "a unit holds components, not subsections"
    assert subsection.child_problem("container", "unit") is None
    assert subsection.child_problem("container", "section") == "a subsection holds units, not sections"
    assert subsection.child_problem("component", "xblock.v1:html") == "a subsection holds units, not components"
    assert section.child_problem("container", "subsection") is None
    assert section.child_problem("container", "unit") == "a section holds subsections, not units"
    assert section.child_problem("container", "chapter") == "a section holds subsections, not 'chapter' containers"


def test_collection_duplicates() -> None:
    collections = Collections()
    assert collections.check("c", "C", ["unit-1", "xblock.v1:html:a"]) == []
    assert collections.check("c", "C", []) == []
    issues = collections.check("c", "C", ["a", "b", "a", "a"])
    assert [(i.path, i.severity) for i in issues] == [("$.collection.entities[2]", "error"),
                                                      ("$.collection.entities[3]", "error")]
    assert issues[0].message == "collection 'c' lists 'a' again (already at entities[0])"


# -- regression: real archives ----------------------------------------------------------------------

_VERSION_MEMBER = re.compile(r"^entities/([^/]+)/([^/]+)/([^/]+)/component_versions/v(\d+)/(.+)$")


def _component_views(z: zipfile.ZipFile) -> Iterator[ComponentVersionView]:
    versions: dict[tuple[str, str, str, int], dict[str, str]] = defaultdict(dict)
    for name in z.namelist():
        m = _VERSION_MEMBER.match(name)
        if m is not None and not name.endswith("/"):
            versions[(m[1], m[2], m[3], int(m[4]))][m[5]] = name

    def opener(path: str) -> contextlib.AbstractContextManager[BinaryIO]:
        return z.open(path)

    for (ns, type_, stem, number), media in sorted(versions.items()):
        olx_member = media.get("block.xml")
        yield ComponentVersionView(
            ref=f"{ns}:{type_}:{stem}", namespace=ns, type=type_, number=number,
            member=f"entities/{ns}/{type_}/{stem}.toml", olx=z.read(olx_member) if olx_member else None,
            olx_member=olx_member, media=media, open_media=opener,
        )


def _dangling_figure_refs(v: ComponentVersionView) -> int:
    """Counted independently of the serializers: the peer generator's ``<img src="/static/figure.png">``."""
    return int(v.olx is not None and b'src="/static/figure.png"' in v.olx and "static/figure.png" not in v.media)


def _check_archive(path: Path) -> tuple[int, int, int]:
    """(versions checked, expected warnings, warnings); asserts that nothing else is reported."""
    registry = builtin_registry()
    assert not registry.failures
    checked = expected = warnings = 0
    with zipfile.ZipFile(path) as z:
        for v in _component_views(z):
            serializer = registry.component(v.namespace, v.type)
            result = serializer.check_version(v)
            assert result.facts is not None
            checked += 1
            expected += _dangling_figure_refs(v)
            for issue in result.issues:
                assert issue.severity == "warning", (path.name, v.ref, v.number, issue)
                assert issue.message == f"references /static/figure.png, but version {v.number} has no " \
                                        "static/figure.png", (path.name, v.ref, issue)
                warnings += 1
            if v.type == "problem" and v.olx and v.olx.strip():
                assert result.facts.is_scorable is True and (result.facts.max_score or 0) >= 1
            if v.type in ("html", "video"):
                assert result.facts.is_scorable is False
        docs = {n: tomllib.loads(z.read(n).decode()) for n in z.namelist()
                if n.endswith(".toml") and n != "package.toml"}
        containers = {d["entity"]["key"]: next(iter(d["entity"]["container"]))
                      for d in docs.values() if "entity" in d and "container" in d["entity"]}
        for d in docs.values():
            if "entity" in d and "container" in d["entity"]:
                ctype = containers[d["entity"]["key"]]
                rules = registry.container(ctype)
                assert rules is not None
                for version in d.get("version", []):
                    for child in version.get("container", {}).get("children", []):
                        kind, child_type = ("container", containers[child]) if child in containers else (
                            "component", ":".join(child.split(":")[:2]))
                        assert rules.child_problem(kind, child_type) is None, (path.name, child)
            if "collection" in d:
                collection = registry.collection()
                assert collection is not None
                c = d["collection"]
                assert collection.check(c["key"], c.get("title", ""), c.get("entities", [])) == []
    return checked, expected, warnings


def test_sample_library_has_no_issues() -> None:
    checked, expected, warnings = _check_archive(SAMPLE)
    assert checked == 14 and expected == warnings == 0


def test_every_peer_archive_has_only_the_expected_warnings(peer_dir: Path) -> None:
    archives = peer_archives(peer_dir)
    assert archives
    total_checked = total_warnings = 0
    for path in archives:
        checked, expected, warnings = _check_archive(path)
        assert warnings == expected, path.name
        total_checked += checked
        total_warnings += warnings
    assert total_checked > 500
    assert total_warnings > 0  # the peer generator's dangling figure.png references


def test_registry_serializers_are_the_ones_tested_here() -> None:
    registry = builtin_registry()
    expected: Mapping[tuple[str, str], type] = {
        ("xblock.v1", "problem"): ProblemComponent, ("xblock.v1", "html"): HtmlComponent,
        ("xblock.v1", "video"): VideoComponent, ("xblock.v1", "drag-and-drop-v2"): XBlockComponent,
        ("openedx.v1", "upload"): AnyComponent,
    }
    for (ns, type_), cls in expected.items():
        assert type(registry.component(ns, type_)) is cls


def test_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-lc-archive-91f2")
    olx = (f'<!DOCTYPE problem [<!ENTITY s SYSTEM "file://{secret}">]>'
           '<problem display_name="&s;"><p>&s;</p></problem>').encode()
    for serializer in ALL:
        result = serializer.check_version(view(olx, type="problem"))
        assert len(result.issues) == 1 and "DOCTYPE" in result.issues[0].message
        assert "CANARY" not in repr(result) and "CANARY" not in repr(serializer.facts(olx))
