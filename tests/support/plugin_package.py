"""A package carrying plugin data: tags on the package and a component, notes on component versions."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

from lc_archive_notes import Note, NotesSerializer
from lc_archive_tags import ObjectTag, TagsSerializer

from lc_archive.domain import PayloadRecord
from lc_archive.plugins.payloads import encode_payload
from lc_archive.stores import open_store
from lc_archive.stores.sql import SqlStore
from lc_archive.synthetic import SyntheticClock

REF = "lib:Org:PLUG"
WHEN = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
QUIZ = "xblock.v1:problem:quiz-1"
INTRO = "xblock.v1:html:intro"
TAGS = [ObjectTag(taxonomy="subject", value="Physics", lineage=("Science", "Physics")),
        ObjectTag(taxonomy="difficulty", value="Hard", lineage=("Hard",))]
NOTES = [Note(author="alice", body="Check the *units*.", format="markdown",
              created=datetime(2026, 1, 2, tzinfo=UTC))]
PROBLEM = ('<problem display_name="Quiz" weight="2"><multiplechoiceresponse><choicegroup>'
           '<choice correct="true">a</choice><choice correct="false">b</choice></choicegroup>'
           "</multiplechoiceresponse></problem>")


def build(path: Path, *, html: str = '<html display_name="Intro"><![CDATA[<p>Hi</p>]]></html>') -> SqlStore:
    """A package with tags on the package and a component, and notes on a component version."""
    store = open_store(path)
    with store.author(REF, create={"title": "Plugins"}, clock=SyntheticClock()) as author:
        quiz = author.create_component("xblock.v1", "problem", "quiz-1")
        author.add_component_version(quiz, {"block.xml": PROBLEM}, title="Quiz")
        author.add_component_version(quiz, {"block.xml": PROBLEM.replace("Quiz", "Quiz 2")}, title="Quiz 2")
        intro = author.create_component("xblock.v1", "html", "intro")
        author.add_component_version(intro, {"block.xml": html}, title="Intro")
        unit = author.create_container("unit", "u1")
        author.add_container_version(unit, [quiz, intro], title="Unit 1")
        author.publish("first")
        tags, notes = TagsSerializer(), NotesSerializer()
        author.set_payload(encode_payload(tags, TAGS, entity=QUIZ))
        author.set_payload(encode_payload(tags, TAGS[:1]))
        author.set_payload(encode_payload(notes, NOTES, entity=QUIZ, version=2))
        author.set_payload(encode_payload(notes, NOTES, entity=QUIZ, version=1))
    return store


def payload_members(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("plugins/") and not n.endswith("/")}


def payloads_of(store: SqlStore, ref: str) -> list[PayloadRecord]:
    with store.read(ref) as source:
        return list(source.iter_payloads())
