"""A deterministic synthetic content library, shaped like openedx-core's benchmark library.

:func:`generate_library` builds, through the authoring API and in one write transaction, a library of
``components`` XBlock components with the same shape as the one ``../shared/peer/peer.py gen`` makes
in openedx-core, so the two tools can be measured side by side on comparable content:

* html / problem / video components (45 / 40 / 15 %) with realistic OLX, each with 1-3 versions
  before the first publish; ~10 % carry 1-3 images of 3-200 KB (log-uniform, PNG noise or JPEG-like
  bytes), half of them drawn from a shared pool so that blobs are shared between components;
* publish categories: published (50 %), published with newer drafts (20 %), never published (12 %),
  soft-deleted after publishing (6 %), published twice (12 %);
* units of 3-8 components (some components reused in a second unit), subsections of 2-5 units,
  sections of 2-6 subsections; after the first publish: draft edits, never-published components
  added to units or to new draft-only units, subsections and a section, ~15 % of units edited,
  soft-deleted components and ~3 % soft-deleted units; a second publish of the republished
  components, newer drafts on half of them; then ``min(12, 3 + n // 400)`` collections.

The ``unicode`` profile uses unicode titles, descriptions, file names and codes, and plants codes that
are distinct in the store but whose archive slugs collide (case, NFKC width and ligature folding,
dropped dots, surrounding underscores).

Everything derives from ``random.Random(seed)`` and a fixed clock (2025-01-06T09:00:00Z, +37 s per
tick), so the same arguments always give the same content state.
"""

from __future__ import annotations

import math
import random
import struct
import time
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from .stores.authoring import Author
from .stores.sql import SqlStore

__all__ = ["NAMESPACE", "SYNTHETIC_START", "Profile", "SyntheticClock", "generate_library"]

Profile = Literal["default", "unicode"]
"""``default``: mostly ASCII (12 % of titles get a unicode suffix); ``unicode``: unicode-heavy."""

NAMESPACE = "xblock.v1"
SYNTHETIC_START = datetime(2025, 1, 6, 9, 0, 0, tzinfo=UTC)
"""The clock's origin; the first tick is 37 seconds later."""

# ---------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------

_WORD_TEXT = (
    "acid angle axiom basin bridge buffer census charge chord column comet crystal current dataset "
    "delta density dialect dipole domain drift equation estuary factor feudal fiscal flux fossil "
    "fraction friction genome glacier gradient habitat harmonic isotope kernel lattice lens mantle "
    "median membrane meter migration molecule momentum monsoon mutation neuron nucleus optics "
    "parable pendulum photon pigment prism quorum radius reactor reflex regime rhetoric sediment "
    "sonnet spectrum stanza stimulus stratum symbol tariff tensor thesis tissue torque tundra vertex "
    "voltage vortex"
)
_WORDS: tuple[str, ...] = tuple(_WORD_TEXT.split())
_TOPICS: tuple[str, ...] = (
    "Warm-up", "Concepts", "Worked example", "Lab", "Quiz", "Recap", "Field notes", "Exercise",
    "Reading", "Lecture", "Checkpoint", "Problem set", "Wrap-up", "Seminar", "Primer",
)  # fmt: skip
_UNICODE_BITS: tuple[str, ...] = (
    "Ñoño", "Straße", "日本語の練習", "Ἀθῆναι", "Москва", "שלום", "مرحبا", "नमस्ते", "🧬🔭",
    "crème brûlée", "coöperate", "Þingvellir", "서울", "北京大学", "Île-de-France", "∫₀¹ x² dx",
)  # fmt: skip
# Component code stems for the unicode profile; each matches openedx-core's ^[\w.-]+$ once suffixed.
_UNICODE_CODE_STEMS: tuple[str, ...] = (
    "урок", "演習", "اختبار", "άσκηση", "übung", "ｔｅｓｔ", "宿題", "कदम", "ﬂow", "ＬＡＢ", "naïve",
    "読解テスト", "étude", "Ⅳ-part",
)  # fmt: skip
_UNICODE_FILE_STEMS: tuple[str, ...] = ("図表", "schéma_é", "график", "plot with space", "ñ-figura")
_STATIC_DIRS: tuple[str, ...] = ("static/", "static/", "static/images/", "static/img/figures/")
_FILE_STEMS: tuple[str, ...] = ("figure", "diagram", "photo", "chart")
_ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

# unicode profile: codes that are distinct in the store but slugify to the same archive name.
_PLANTED_COMPONENTS: tuple[tuple[str, str], ...] = (
    ("html", "Welcome"), ("html", "welcome"), ("html", "WELCOME"), ("html", "ｗｅｌｃｏｍｅ"),
    ("html", "_welcome_"), ("html", "part.2"), ("html", "part2"), ("html", "ﬂow"), ("html", "flow"),
    ("html", "Ärger"), ("html", "ärger"),
    ("problem", "welcome"), ("problem", "Test-3"), ("problem", "test-3"), ("problem", "TEST-3"),
    ("problem", "課題.3"), ("problem", "課題3"),
    ("video", "welcome"), ("video", "Clip_07"), ("video", "clip_07"),
)  # fmt: skip
_PLANTED_CONTAINERS: dict[str, tuple[str, ...]] = {
    "unit": ("Block.1", "block1", "BLOCK-1", "welcome", "Äbschnitt_ö"),
    "subsection": ("Topic.1", "topic1"),
    "section": ("Ｐａｒｔ", "part"),
}
_PLANTED_COLLECTIONS: tuple[str, ...] = ("Unit_A", "unit_a", "UNIT_A", "unit.a")

_PUBLISHED_CATEGORIES = ("pub", "pub+draft", "deleted", "repub")


# ---------------------------------------------------------------------------------------------------
# Clock and random helpers
# ---------------------------------------------------------------------------------------------------


class SyntheticClock:
    """Deterministic, strictly increasing UTC timestamps: each call moves ``step`` seconds forward."""

    def __init__(self, start: datetime = SYNTHETIC_START, step: int = 37) -> None:
        self.now = start
        self._step = timedelta(seconds=step)

    def __call__(self) -> datetime:
        """Advance one tick and return the new time."""
        self.now += self._step
        return self.now


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(_WORDS, k=n))


def _escape(text: str) -> str:
    """Escape text for an XML attribute or element body."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _groups[T](rng: random.Random, items: Sequence[T], lo: int, hi: int) -> list[list[T]]:
    """Split ``items`` into consecutive groups of ``lo``-``hi``; a short tail joins the last group."""
    out: list[list[T]] = []
    k = 0
    while k < len(items):
        size = rng.randint(lo, hi)
        out.append(list(items[k : k + size]))
        k += size
    if len(out) > 1 and len(out[-1]) < lo:
        tail = out.pop()
        out[-1].extend(tail)
    return out


# ---------------------------------------------------------------------------------------------------
# Content: titles, OLX, images
# ---------------------------------------------------------------------------------------------------


class _Text:
    """Titles and OLX for one profile."""

    def __init__(self, rng: random.Random, unicode_rate: float) -> None:
        self.rng = rng
        self.unicode_rate = unicode_rate

    def flourish(self, sep: str) -> str:
        """A unicode suffix with probability ``unicode_rate``, else nothing."""
        if self.rng.random() < self.unicode_rate:
            return sep + self.rng.choice(_UNICODE_BITS)
        return ""

    def component_title(self, i: int) -> str:
        rng = self.rng
        return f"{rng.choice(_TOPICS)} {i}: {_words(rng, rng.randint(1, 4)).capitalize()}" + self.flourish(" — ")

    def container_title(self, kind: str, k: int) -> str:
        base = {"unit": "Unit", "subsection": "Lesson", "section": "Module"}[kind]
        return f"{base} {k}: {_words(self.rng, self.rng.randint(1, 3)).capitalize()}" + self.flourish(" · ")

    def sentence(self) -> str:
        return _words(self.rng, self.rng.randint(8, 40)).capitalize() + "." + self.flourish(" ")

    def olx(self, ctype: str, title: str, rev: int) -> str:
        if ctype == "html":
            return self._html(title, rev)
        if ctype == "problem":
            return self._problem(title, rev)
        return self._video(title)

    def _html(self, title: str, rev: int) -> str:
        rng = self.rng
        name = _escape(title)
        parts = [f"<h2>{name}</h2>", f"<p class=\"revision\">Revision {rev}</p>"]
        for _ in range(rng.randint(1, 12)):
            if rng.random() < 0.15:
                items = "".join(f"<li>{_words(rng, rng.randint(2, 6))}</li>" for _ in range(rng.randint(2, 5)))
                parts.append(f"<ul>{items}</ul>")
            else:
                parts.append(f"<p>{self.sentence()}</p>")
        if rng.random() < 0.3:
            parts.append('<figure><img src="/static/figure.png" alt="Figure"/>'
                         "<figcaption>Figure 1</figcaption></figure>")
        if rng.random() < 0.2:
            parts.append("<pre><code>if (a &lt; b &amp;&amp; c &gt; d) { x = ']]&gt;'; }</code></pre>")
        body = "\n".join(parts)
        return f'<html display_name="{name}" editor="visual"><![CDATA[\n{body}\n]]></html>\n'

    def _problem(self, title: str, rev: int) -> str:
        rng = self.rng
        name = _escape(title)
        head = (
            f'<problem display_name="{name}" max_attempts="{rng.randint(1, 5)}" weight="{rng.choice((1, 2, 5))}" '
            f'showanswer="{rng.choice(("finished", "attempted", "never"))}" rerandomize="never">\n'
        )
        style = rng.random()
        if style < 0.55:
            n = rng.randint(2, 5)
            right = rng.randrange(n)
            choices = "\n".join(
                f'      <choice correct="{str(k == right).lower()}">{_words(rng, rng.randint(1, 5))}</choice>'
                for k in range(n)
            )
            body = (
                "  <multiplechoiceresponse>\n"
                f"    <label>{_words(rng, rng.randint(4, 9)).capitalize()}? (v{rev})</label>\n"
                f"    <description>{self.sentence()}</description>\n"
                f'    <choicegroup type="MultipleChoice">\n{choices}\n    </choicegroup>\n'
                "  </multiplechoiceresponse>\n"
            )
        elif style < 0.8:
            a, b = rng.randint(2, 40), rng.randint(2, 40)
            body = (
                "  <script type=\"loncapa/python\"><![CDATA[\n"
                f"a = {a}\nb = {b}\nif a < b and b > 1:\n    answer = a * b\nelse:\n    answer = a + b\n"
                "]]></script>\n"
                f'  <numericalresponse answer="$answer">\n    <label>{self.sentence()} (v{rev})</label>\n'
                '    <responseparam type="tolerance" default="1%"/>\n    <formulaequationinput/>\n'
                "  </numericalresponse>\n"
            )
        else:
            body = (
                f'  <stringresponse answer="{rng.choice(_WORDS)}" type="ci">\n'
                f"    <label>{self.sentence()} (v{rev})</label>\n"
                f'    <additional_answer answer="{rng.choice(_WORDS)}"/>\n    <textline size="20"/>\n'
                "  </stringresponse>\n"
            )
        solution = (
            f'  <solution>\n    <div class="detailed-solution">\n      <p>Explanation</p>\n'
            f"      <p>{self.sentence()}</p>\n    </div>\n  </solution>\n"
        )
        return head + body + solution + "</problem>\n"

    def _video(self, title: str) -> str:
        rng = self.rng
        name = _escape(title)
        youtube = "".join(rng.choices(_ID_CHARS, k=11))
        vid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        end = f"00:{rng.randint(1, 30):02d}:{rng.randint(0, 59):02d}"
        langs = ["en", *rng.sample(("es", "fr", "de", "ja", "ar", "hi"), rng.randint(0, 2))]
        tracks = "".join(f'  <transcript language="{lang}" src="{vid}-{lang}.srt"/>\n' for lang in langs)
        return (
            f'<video display_name="{name}" youtube_id_1_0="{youtube}" edx_video_id="{vid}" '
            f'start_time="00:00:00" end_time="{end}" download_video="{str(rng.random() < 0.5).lower()}" '
            f'show_captions="true" html5_sources="[&quot;https://media.example.org/{vid}.mp4&quot;]">\n'
            f'  <source src="https://media.example.org/{vid}.mp4"/>\n{tracks}'
            f"  <handout>{self.sentence()}</handout>\n</video>\n"
        )


def _png(rng: random.Random, size: int) -> bytes:
    """A valid RGB PNG of about ``size`` bytes whose pixels are noise (so it does not compress)."""
    width = 96
    stride = 3 * width
    height = max(2, size // (stride + 1))
    noise = rng.randbytes(height * stride)
    raw = b"".join(b"\x00" + noise[y * stride : (y + 1) * stride] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")


def _jpeg(rng: random.Random, size: int) -> bytes:
    """JPEG-like bytes: SOI, a JFIF APP0 segment, entropy-looking payload (no 0xFF bytes), EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00"
    payload = rng.randbytes(max(64, size - 24)).replace(b"\xff", b"\x7f")
    return b"\xff\xd8" + app0 + payload + b"\xff\xd9"


def _image(rng: random.Random) -> tuple[str, bytes]:
    """(extension, bytes) of an image of 3-200 KB, log-uniformly distributed; 70 % PNG."""
    size = int(math.exp(math.log(3_000) + rng.random() * math.log(200_000 / 3_000)))
    if rng.random() < 0.7:
        return "png", _png(rng, size)
    return "jpg", _jpeg(rng, size)


# ---------------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Comp:
    i: int
    type: str
    code: str
    cat: str
    title: str
    n_pre: int
    static: bool
    standalone: bool
    ref: str = ""
    rev: int = 0
    files: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Cont:
    kind: str
    ref: str
    title: str
    children: list[str]
    dirty: bool = False


class _Builder:
    """Holds the generator's state while it drives one :class:`Author`."""

    def __init__(self, author: Author, rng: random.Random, n: int, unicode: bool) -> None:
        self.a = author
        self.rng = rng
        self.n = n
        self.uni = unicode
        self.text = _Text(rng, 0.85 if unicode else 0.12)
        self.pool: list[tuple[str, bytes]] = []
        self.stats: dict[str, int] = {
            "component_versions": 0, "container_versions": 0, "static_files": 0,
            "units": 0, "subsections": 0, "sections": 0,
        }  # fmt: skip
        self._container_serial = 0
        self._planted = {k: list(v) for k, v in _PLANTED_CONTAINERS.items()}

    # -- planning ------------------------------------------------------------------------------

    def plan(self) -> list[_Comp]:
        rng = self.rng
        planted = _PLANTED_COMPONENTS if self.uni else ()
        used: set[tuple[str, str]] = set()
        comps: list[_Comp] = []
        for i in range(self.n):
            if i < len(planted):
                ctype, code = planted[i]
            else:
                r = rng.random()
                ctype = "html" if r < 0.45 else ("problem" if r < 0.85 else "video")
                code = self._new_code(ctype, i, used)
            used.add((ctype, code))
            r = rng.random()
            if r < 0.50:
                cat = "pub"
            elif r < 0.70:
                cat = "pub+draft"
            elif r < 0.82:
                cat = "never"
            elif r < 0.88:
                cat = "deleted"
            else:
                cat = "repub"
            comps.append(_Comp(
                i=i, type=ctype, code=code, cat=cat, title=self.text.component_title(i),
                n_pre=rng.randint(1, 3), static=rng.random() < 0.10, standalone=rng.random() >= 0.1,
            ))  # fmt: skip
        self.pool = [_image(rng) for _ in range(max(4, self.n // 40))]
        return comps

    def _new_code(self, ctype: str, i: int, used: set[tuple[str, str]]) -> str:
        rng = self.rng
        while True:
            if self.uni:
                stem = rng.choice(_UNICODE_CODE_STEMS)
                code = f"{stem}-{i}" if rng.random() < 0.7 else f"{stem}.{i}_{rng.randint(0, 9)}"
            elif rng.random() < 0.6:
                code = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            else:
                code = f"{ctype}-{rng.choice(_WORDS)}-{i}"
            if (ctype, code) not in used:
                return code

    # -- components ----------------------------------------------------------------------------

    def _static_file(self, c: _Comp, k: int) -> tuple[str, bytes]:
        rng = self.rng
        ext, data = rng.choice(self.pool) if rng.random() < 0.5 else _image(rng)
        stems = _UNICODE_FILE_STEMS if self.uni and rng.random() < 0.5 else _FILE_STEMS
        stem = rng.choice(stems)
        return f"{rng.choice(_STATIC_DIRS)}{stem}-{c.i}-{k}.{ext}", data

    def create_component(self, c: _Comp) -> None:
        c.ref = self.a.create_component(NAMESPACE, c.type, c.code, can_stand_alone=c.standalone)
        c.rev = 1
        files: dict[str, str | bytes | None] = {"block.xml": self.text.olx(c.type, c.title, 1)}
        if c.static:
            for k in range(self.rng.randint(1, 3)):
                path, data = self._static_file(c, k)
                if path not in files:
                    files[path] = data
                    c.files.append(path)
                    self.stats["static_files"] += 1
        self.a.add_component_version(c.ref, files, title=c.title, replace=True)
        self.stats["component_versions"] += 1
        for _ in range(c.n_pre - 1):
            self.edit_component(c)

    def edit_component(self, c: _Comp) -> None:
        """The next version: new OLX, sometimes a new title, sometimes an image added or removed."""
        rng = self.rng
        c.rev += 1
        if rng.random() < 0.4:
            c.title = self.text.component_title(c.i)
        delta: dict[str, str | bytes | None] = {"block.xml": self.text.olx(c.type, c.title, c.rev)}
        if c.static and c.files and rng.random() < 0.35:
            if rng.random() < 0.5 and len(c.files) > 1:
                gone = rng.choice(c.files)
                c.files.remove(gone)
                delta[gone] = None
            else:
                path, data = self._static_file(c, c.rev)
                if path not in c.files:
                    c.files.append(path)
                    self.stats["static_files"] += 1
                delta[path] = data
        self.a.add_component_version(c.ref, delta, title=c.title)
        self.stats["component_versions"] += 1

    # -- containers ----------------------------------------------------------------------------

    def _container_code(self, kind: str) -> str:
        self._container_serial += 1
        if self.uni and self._planted[kind]:
            return self._planted[kind].pop(0)
        if self.uni:
            stem = {"unit": "блок", "subsection": "小節", "section": "Kapitel"}[kind]
            return f"{stem}-{self._container_serial}"
        return f"{kind}-{self.rng.getrandbits(32):08x}-{self._container_serial}"

    def create_container(self, kind: str, title: str, children: list[str], *, standalone: bool = True) -> _Cont:
        ref = self.a.create_container(kind, self._container_code(kind), can_stand_alone=standalone)
        self.a.add_container_version(ref, children, title=title)
        self.stats["container_versions"] += 1
        self.stats[kind + "s"] += 1
        return _Cont(kind, ref, title, list(children))

    def next_container_version(self, cont: _Cont, *, title: str | None = None,
                               children: list[str] | None = None) -> None:
        if title is not None:
            cont.title = title
        if children is not None:
            cont.children = list(children)
        self.a.add_container_version(cont.ref, cont.children, title=cont.title)
        self.stats["container_versions"] += 1

    # -- the whole library ---------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        rng, text, a = self.rng, self.text, self.a
        comps = self.plan()

        # Phase A: the content of the first publish.
        eligible = [c for c in comps if c.cat in _PUBLISHED_CATEGORIES]
        for c in eligible:
            self.create_component(c)
        in_units = [c.ref for c in eligible if rng.random() < 0.8]
        unit_groups = _groups(rng, in_units, 3, 8)
        for group in unit_groups:  # a few components appear in a second unit too
            if rng.random() < 0.1 and eligible:
                extra = rng.choice(eligible).ref
                if extra not in group:
                    group.append(extra)
        units = [
            self.create_container("unit", text.container_title("unit", k), g, standalone=rng.random() >= 0.2)
            for k, g in enumerate(unit_groups)
        ]
        subsections = [
            self.create_container("subsection", text.container_title("subsection", k), [u.ref for u in g],
                                  standalone=rng.random() >= 0.2)
            for k, g in enumerate(_groups(rng, units, 2, 5))
        ]  # fmt: skip
        sections = [
            self.create_container("section", text.container_title("section", k), [s.ref for s in g])
            for k, g in enumerate(_groups(rng, subsections, 2, 6))
        ]

        # Phase B: first publish.
        a.publish(message="Initial publish")

        # Phase C: unpublished work on top.
        for c in comps:
            if c.cat == "pub+draft":
                for _ in range(rng.randint(1, 2)):
                    self.edit_component(c)
            elif c.cat == "repub":
                self.edit_component(c)
            elif c.cat == "never":
                self.create_component(c)
        never = [c for c in comps if c.cat == "never"]
        rng.shuffle(never)
        lo, hi = int(len(never) * 0.4), int(len(never) * 0.7)
        for c in never[lo:hi]:  # 30 %: draft-only children of published units
            if units:
                u = rng.choice(units)
                u.children.append(c.ref)
                u.dirty = True
        new_units = [  # 30 %: new draft-only units
            self.create_container("unit", text.container_title("unit", 1000 + k), [c.ref for c in g])
            for k, g in enumerate(_groups(rng, never[hi:], 3, 8))
        ]
        half = len(new_units) // 2
        for u in new_units[:half]:
            if subsections:
                s = rng.choice(subsections)
                s.children.append(u.ref)
                s.dirty = True
        if new_units[half:]:
            draft_subsections = [
                self.create_container("subsection", text.container_title("subsection", 1000 + k), [u.ref for u in g])
                for k, g in enumerate(_groups(rng, new_units[half:], 2, 5))
            ]
            self.create_container("section", "Draft module (never published)", [s.ref for s in draft_subsections])
        for u in units:
            if u.dirty or rng.random() < 0.15:
                kids = list(u.children)
                if rng.random() < 0.5:
                    rng.shuffle(kids)
                new_title = text.container_title("unit", rng.randint(1, 999)) if rng.random() < 0.5 else None
                self.next_container_version(u, title=new_title, children=kids)
        for s in subsections:
            if s.dirty or rng.random() < 0.1:
                self.next_container_version(s)
        for s in sections:
            if rng.random() < 0.1:
                self.next_container_version(s, title=text.container_title("section", rng.randint(1, 99)))
        for c in comps:
            if c.cat == "deleted":
                a.soft_delete(c.ref)
        deleted_units = 0
        for u in units:
            if rng.random() < 0.03:
                a.soft_delete(u.ref)
                deleted_units += 1

        # Phase D: second publish, of the "repub" components only.
        repub = [c.ref for c in comps if c.cat == "repub"]
        if repub:
            a.publish(message="Republish", refs=repub)

        # Phase E: newer drafts on half of the republished components.
        for c in comps:
            if c.cat == "repub" and rng.random() < 0.5:
                self.edit_component(c)

        # Collections.
        n_coll = min(12, 3 + self.n // 400)
        codes = [f"collection-{k}" for k in range(n_coll)]
        if self.uni:
            codes = [*_PLANTED_COLLECTIONS, *(f"coll-{k}" for k in range(n_coll))]
        others = [u.ref for u in units] + [s.ref for s in subsections] + [s.ref for s in sections]
        component_refs = [c.ref for c in comps]
        for k, code in enumerate(codes):
            title = f"Collection {k}: {_words(rng, 2).capitalize()}" + text.flourish(" ")
            description = "" if k % 3 == 2 else f"Items about {_words(rng, 5)}."
            if self.uni and description:
                description += "\nЗаметки: " + rng.choice(_UNICODE_BITS)
            a.create_collection(code, title, description=description)
            if k == len(codes) - 1 and len(codes) > 2:
                continue  # the last collection stays empty
            m = max(2, int(len(comps) * rng.uniform(0.02, 0.08)))
            members = rng.sample(component_refs, min(m, len(component_refs)))
            members += rng.sample(others, min(len(others), rng.randint(0, 4)))
            a.add_to_collection(code, members)

        categories: dict[str, int] = {}
        for c in comps:
            categories[c.cat] = categories.get(c.cat, 0) + 1
        entities = len(comps) + self.stats["units"] + self.stats["subsections"] + self.stats["sections"]
        return {
            "component_categories": dict(sorted(categories.items())),
            "collections": len(codes),
            "entities": entities,
            "deleted_units": deleted_units,
            **self.stats,
        }


def generate_library(
    store: SqlStore,
    ref: str,
    *,
    components: int,
    seed: int = 1,
    profile: Profile = "default",
    user: str | None = "author",
) -> dict[str, Any]:
    """Create package ``ref`` in ``store`` with ``components`` synthetic components; return statistics.

    Runs in one authoring transaction with a :class:`SyntheticClock`, so the same ``seed``, size and
    profile always give the same content state. The result holds the counts made (component
    categories, versions, containers, collections, static files) and ``wall_s``, the time taken.
    Raises ``PackageExists`` if ``ref`` is taken.
    """
    if components < 0:
        raise ValueError("components must be >= 0")
    if profile not in ("default", "unicode"):
        raise ValueError(f"unknown profile {profile!r} (use 'default' or 'unicode')")
    started = time.perf_counter()
    rng = random.Random(seed)
    uni = profile == "unicode"
    if uni:
        title = f"Bibliothèque d'essai «{seed}» — 合成教材 🧪 ({components})"
        description = "Описание: a unicode-heavy library.\n説明文。 Ελληνικά, עברית, العربية, emoji 🎓📚."
    else:
        title = f"Synthetic library {ref} (seed {seed}, {components} components)"
        description = (
            "Generated by lc-archive for benchmarking backup and restore.\n"
            "html, problem and video components in units, subsections and sections, with collections."
        )
    with store.author(ref, user=user, create={"title": title, "description": description},
                      clock=SyntheticClock()) as author:  # fmt: skip
        stats = _Builder(author, rng, components, uni).build()
    return {
        "op": "generate", "ref": ref, "seed": seed, "profile": profile, "components": components,
        **stats, "wall_s": round(time.perf_counter() - started, 3),
    }  # fmt: skip
