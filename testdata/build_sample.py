"""Build ``testdata/sample-library.zip``: a small library that exercises every feature of a v1 archive.

The library (``lib:Demo:SAMPLE``) is authored into a temporary SQLite store with the authoring API and
a fixed clock, then backed up with ``lc_archive.usecases.backup.backup(..., format="v1", created_at=<fixed>,
directory_entries=True)`` (openedx-core's exact layout, directory entries included, as the spec shows it).
Nothing depends on the time, the machine or the temporary path, so running this script twice gives
byte-identical archives (``--check`` verifies that against the committed file).

Usage: ``python testdata/build_sample.py [--out testdata/sample-library.zip] [--check]``, or
``make testdata``. What the library holds is described in ``testdata/README.md``.
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(HERE.parent))

from lc_archive import backup  # noqa: E402
from lc_archive.stores import open_store  # noqa: E402
from lc_archive.stores.authoring import Author  # noqa: E402
from lc_archive.synthetic import SyntheticClock  # noqa: E402

__all__ = ["BACKUP_AT", "DEFAULT_OUT", "REF", "author_sample", "build_sample", "main"]

REF = "lib:Demo:SAMPLE"
DEFAULT_OUT = HERE / "sample-library.zip"
START = datetime(2025, 3, 3, 9, 30, 0, tzinfo=UTC)
"""The authoring clock starts here and moves 61 seconds per operation."""
BACKUP_AT = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC)
"""The archive's ``created_at`` (and so every ZIP entry's timestamp)."""

TITLE = "Demo sample library — ñandú, 日本語, 🎓"
DESCRIPTION = "A small library for lc-archive's tests and demo.\nSecond line: café, Größe, 中文 ✅."


# ---------------------------------------------------------------------------------------------------
# Small deterministic media files
# ---------------------------------------------------------------------------------------------------


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A tiny gradient PNG (deterministic, a few hundred bytes)."""
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            row += bytes(((rgb[0] + 7 * x) % 256, (rgb[1] + 11 * y) % 256, (rgb[2] + 3 * (x + y)) % 256))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"".join(rows), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


LOGO_SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">
  <title>Demo logo — ñ</title>
  <rect x="1" y="1" width="118" height="38" rx="6" fill="#f3f6fa" stroke="#2a5db0"/>
  <text x="60" y="26" text-anchor="middle" font-family="sans-serif" font-size="16" fill="#2a5db0">Demo ✓</text>
</svg>
"""

TRANSCRIPT_EN = """1
00:00:00,000 --> 00:00:04,200
Welcome to the first lecture.

2
00:00:04,200 --> 00:00:09,800
Today: vectors, forces & motion — with a few “quotes”.

3
00:00:09,800 --> 00:00:13,000
¡Vamos! 日本語の字幕もあります。
"""

TRANSCRIPT_ES = """1
00:00:00,000 --> 00:00:04,200
Bienvenidos a la primera clase.

2
00:00:04,200 --> 00:00:09,800
Hoy: vectores, fuerzas y movimiento.
"""


def _html(name: str, body: str) -> str:
    return f'<html display_name="{name}" editor="visual"><![CDATA[\n{body}\n]]></html>\n'


def _choice_problem(name: str, question: str, choices: list[tuple[str, bool]], attempts: int = 2) -> str:
    rows = "\n".join(f'      <choice correct="{str(ok).lower()}">{text}</choice>' for text, ok in choices)
    return (
        f'<problem display_name="{name}" max_attempts="{attempts}" weight="1.0" showanswer="finished">\n'
        f"  <multiplechoiceresponse>\n    <label>{question}</label>\n"
        f'    <choicegroup type="MultipleChoice">\n{rows}\n    </choicegroup>\n'
        f"  </multiplechoiceresponse>\n</problem>\n"
    )


# ---------------------------------------------------------------------------------------------------
# The library
# ---------------------------------------------------------------------------------------------------


def author_sample(a: Author) -> None:
    """Author the sample library's content with ``a`` (a fresh, empty package)."""
    ns = "xblock.v1"

    # -- html: an image and an SVG; two versions, both published -----------------------------------
    welcome = a.create_component(ns, "html", "welcome")
    a.add_component_version(welcome, {
        "block.xml": _html("Welcome", "<h2>Welcome</h2>\n<p>Start here.</p>"),
        "static/images/campus.png": _png(12, 8, (40, 90, 160)),
    }, title="Welcome")  # fmt: skip
    a.add_component_version(welcome, {
        "block.xml": _html("Welcome!", '<h2>Welcome!</h2>\n<p><img src="/static/logo.svg" alt="logo"/></p>\n'
                           '<p><img src="/static/images/campus.png" alt="campus"/></p>'),
        "static/logo.svg": LOGO_SVG.encode("utf-8"),
    }, title="Welcome!")  # fmt: skip

    # -- html with three versions: published v2, draft v3 ahead of it ------------------------------
    reading = a.create_component(ns, "html", "reading-1")
    for rev in (1, 2):
        a.add_component_version(reading, {"block.xml": _html("Reading 1", f"<p>Chapter one, revision {rev}.</p>")},
                                title="Reading 1")
    intro = a.create_component(ns, "html", "intro-ñ", can_stand_alone=False)
    a.add_component_version(intro, {"block.xml": _html("Introducción — ñandú", "<p>¿Qué es un ñandú?</p>")},
                            title="Introducción — ñandú")

    # -- problem with a figure ---------------------------------------------------------------------
    quiz = a.create_component(ns, "problem", "quiz-1")
    a.add_component_version(quiz, {
        "block.xml": _choice_problem("Quiz 1", 'Which arrow in <img src="/static/figure.png"/> is the net force?',
                                     [("A", False), ("B", True), ("C", False)]),
        "static/figure.png": _png(10, 10, (200, 30, 30)),
    }, title="Quiz 1")  # fmt: skip

    # -- problem with a unicode code and title ------------------------------------------------------
    uebung = a.create_component(ns, "problem", "übung-1")
    a.add_component_version(uebung, {
        "block.xml": _choice_problem("Übung 1: Größen &amp; Maße", "Wie viele Meter hat ein Kilometer?",
                                     [("100", False), ("1000", True)]),
    }, title="Übung 1: Größen & Maße — 日本語 🎓")  # fmt: skip

    # -- video with .srt transcripts ------------------------------------------------------------------
    lecture = a.create_component(ns, "video", "lecture-1")
    a.add_component_version(lecture, {
        "block.xml": (
            '<video display_name="Lecture 1" youtube_id_1_0="dQw4w9WgXcQ" edx_video_id="" '
            'download_track="true" show_captions="true">\n'
            '  <source src="https://media.example.org/lecture-1.mp4"/>\n'
            '  <transcript language="en" src="transcript-en.srt"/>\n'
            '  <transcript language="es" src="transcript-es.srt"/>\n</video>\n'
        ),
        "static/transcript-en.srt": TRANSCRIPT_EN.encode("utf-8"),
        "static/transcript-es.srt": TRANSCRIPT_ES.encode("utf-8"),
    }, title="Lecture 1")  # fmt: skip

    # -- an unusual block type ------------------------------------------------------------------------
    dnd = a.create_component(ns, "drag-and-drop-v2", "sort-planets")
    a.add_component_version(dnd, {
        "block.xml": (
            '<drag-and-drop-v2 display_name="Sort the planets" mode="standard" max_attempts="3" '
            'show_title="true" item_background_color="" item_text_color="" '
            'data="{&quot;items&quot;: [{&quot;displayName&quot;: &quot;Mars&quot;, &quot;zones&quot;: '
            '[&quot;inner&quot;]}, {&quot;displayName&quot;: &quot;Jupiter&quot;, &quot;zones&quot;: '
            '[&quot;outer&quot;]}], &quot;zones&quot;: [{&quot;uid&quot;: &quot;inner&quot;}, '
            '{&quot;uid&quot;: &quot;outer&quot;}]}"/>\n'
        ),
    }, title="Sort the planets 🪐")  # fmt: skip

    # -- a component that will be soft-deleted after publishing ---------------------------------------
    old = a.create_component(ns, "html", "old-notes")
    a.add_component_version(old, {"block.xml": _html("Old notes", "<p>Superseded.</p>")}, title="Old notes")

    # -- a problem with a static file removed in a later version --------------------------------------
    lab = a.create_component(ns, "problem", "lab-2")
    a.add_component_version(lab, {
        "block.xml": '<problem display_name="Lab 2"><stringresponse answer="42"><textline/></stringresponse>'
                     "</problem>\n",
        "static/data.csv": b"x,y\n1,2\n3,4\n",
    }, title="Lab 2")  # fmt: skip

    # -- text and a unicode-named static file, in two versions (both published) ------------------------
    glossary = a.create_component(ns, "html", "glossary")
    a.add_component_version(glossary, {
        "block.xml": _html("Glossary", '<p>See <a href="/static/glossaire-é.txt">the glossary</a>.</p>'),
        "static/glossaire-é.txt": "force: Kraft, fuerza, 力\nvector: Vektor, vector, ベクトル\n".encode(),
    }, title="Glossary")  # fmt: skip
    a.add_component_version(glossary, {"static/glossaire-é.txt": "force: Kraft, fuerza, 力\n".encode()},
                            title="Glossary (short)")

    # -- containers: section > subsections > units ------------------------------------------------------
    unit1 = a.create_container("unit", "unit-1")
    a.add_container_version(unit1, [welcome, intro, reading], title="Unit 1: Getting started")
    unit2 = a.create_container("unit", "unit-2")
    a.add_container_version(unit2, [quiz, uebung, lab], title="Unit 2: Übungen")
    unit3 = a.create_container("unit", "unit-3")
    a.add_container_version(unit3, [lecture, dnd, old, glossary], title="Unit 3: 日本語の講義")
    sub1 = a.create_container("subsection", "subsection-1")
    a.add_container_version(sub1, [unit1, unit2], title="Lesson 1")
    sub2 = a.create_container("subsection", "subsection-2", can_stand_alone=False)
    a.add_container_version(sub2, [unit3], title="Lesson 2 — ñ")
    section = a.create_container("section", "section-1")
    a.add_container_version(section, [sub1, sub2], title="Module 1 🚀")

    a.publish(message="First release")

    # -- after the publish: drafts ahead of published, a deletion, never-published content ----------
    a.add_component_version(reading, {"block.xml": _html("Reading 1", "<p>Chapter one, revision 3 (draft).</p>")},
                            title="Reading 1 (revised)")
    a.soft_delete(old)
    draft_only = a.create_component(ns, "problem", "draft-only")
    a.add_component_version(draft_only, {
        "block.xml": _choice_problem("Draft only", "Not published yet?", [("yes", True), ("no", False)]),
    }, title="Draft only (never published)")  # fmt: skip
    a.add_component_version(quiz, {
        "block.xml": _choice_problem("Quiz 1", "Which arrow is the net force?", [("A", False), ("B", True)], 3),
    }, title="Quiz 1")  # fmt: skip
    a.add_component_version(lab, {"static/data.csv": None}, title="Lab 2")
    a.publish(message="Fix quiz, drop lab data", refs=[quiz, lab])
    a.add_component_version(lab, {
        "block.xml": '<problem display_name="Lab 2 (v3)"><stringresponse answer="42"><textline/>'
                     "</stringresponse></problem>\n",
    }, title="Lab 2 (v3)")  # fmt: skip
    a.add_container_version(unit2, [uebung, quiz, lab, draft_only], title="Unit 2: Übungen")
    extra = a.create_component(ns, "html", "summary")
    a.add_component_version(extra, {"block.xml": _html("Summary", "<p>All done 🎉</p>")}, title="Summary")
    unit4 = a.create_container("unit", "unit-4")
    a.add_container_version(unit4, [extra], title="Unit 4: Summary (draft)")

    # -- collections --------------------------------------------------------------------------------
    a.create_collection("getting-started", "Getting started ✨",
                        description="Everything a newcomer needs.\nIncludes the welcome page and the first unit.")
    a.add_to_collection("getting-started", [welcome, intro, unit1])
    a.create_collection("assessments", "Évaluations — 評価", description="")
    a.add_to_collection("assessments", [quiz, uebung, lab, dnd, draft_only, unit2])


def build_sample(out: Path = DEFAULT_OUT) -> Path:
    """Author the sample into a throw-away SQLite store and back it up, reproducibly, to ``out``."""
    with tempfile.TemporaryDirectory(prefix="lc-sample-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'sample.db'}")
        try:
            with store.author(REF, user="alice", create={"title": TITLE, "description": DESCRIPTION},
                              clock=SyntheticClock(START, 61)) as a:  # fmt: skip
                author_sample(a)
            backup(store, REF, out, format="v1", created_at=BACKUP_AT, directory_entries=True)
        finally:
            store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: build the sample (``--check``: also rebuild and compare with the existing file)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="archive to write (default: %(default)s)")
    p.add_argument("--check", action="store_true",
                   help="do not write: build into a temporary file and compare with --out byte for byte")
    args = p.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory(prefix="lc-sample-check-") as tmp:
            fresh = build_sample(Path(tmp) / "sample.zip").read_bytes()
        same = args.out.exists() and args.out.read_bytes() == fresh
        print(f"{args.out}: {'identical to a fresh build' if same else 'DIFFERS from a fresh build'}")
        return 0 if same else 1
    path = build_sample(args.out)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
