"""The synthetic library's content: vocabulary, titles, OLX of each component type, and images."""

from __future__ import annotations

import math
import random
import struct
import uuid
import zlib
from collections.abc import Sequence

__all__: list[str] = []

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


