"""v1 file names: the peer's slug/hash rule, its fixed bugs (empty slugs, hashed collisions), length caps."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import tomllib
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.peer import peer_archives

from lc_archive.formats.naming import MAX_STEM_BYTES, NameAllocator, hashed_name, slugify

# format spec §2.3 (openedx-core's test_slug_hash.py, recomputed against 1.15.2)
HASHED = {
    "my_example": "my_example_880989",
    "my@ex#ample!": "myexample_3366b5",
    "xblock.v1:problem:my_component": "xblockv1problemmy_component_d346b1",
    "xblock.v1/problem/my_component": "xblockv1problemmy_component_2648c6",
    "xblock.v1?problem?my_component": "xblockv1problemmy_component_12a86d",
    "xblock.v1\\problem_[my_component]": "xblockv1problem_my_component_a59bb3",
    "xblock.v1>problem_>my_component": "xblockv1problem_my_component_8497eb",
    "xblock.v1*problem*EndsWith|": "xblockv1problemendswith_b88aab",
    "xblock.v1*problem*EndsWith.": "xblockv1problemendswith_7fa0cf",
    "café": "café_07f4df",
    "naïve": "naïve_308c7e",
    "テスト用": "テスト用_be48ab",
    "café_テスト用": "café_テスト用_3cf9ef",
    "a" * 100: "a" * 100 + "_4e84b3",
    "MY_EXAMPLE": "my_example_49be65",
    "my_published_example": "my_published_example_386dce",
    "___": "_bc8554",
    "!!!": "_ed47ef",
}
SLUGS = {
    "my@ex#ample!": "myexample",
    "xblock.v1:problem:my_component": "xblockv1problemmy_component",
    "xblock.v1\\problem_[my_component]": "xblockv1problem_my_component",
    "xblock.v1*problem*EndsWith|": "xblockv1problemendswith",
    "café_テスト用": "café_テスト用",
    "COL1": "col1",
    "ﬁle": "file",
    "Ａ１": "a1",
    "İ": "i",
    "___": "",
    "!!!": "",
    "_": "",
    "...": "",
    " -a  b- ": "a-b",
}


@pytest.mark.parametrize(("identifier", "expected"), HASHED.items())
def test_hashed_name_vectors(identifier: str, expected: str) -> None:
    assert hashed_name(identifier) == expected


@pytest.mark.parametrize(("identifier", "expected"), SLUGS.items())
def test_slug_vectors(identifier: str, expected: str) -> None:
    assert slugify(identifier) == expected


def test_first_come_first_served_across_kinds() -> None:
    names = NameAllocator()
    # all entities by ref (uppercase first), then collections: one shared used-slug set
    assert names.allocate("html1", "entities") == "html1"
    assert names.allocate("html1", "entities/xblock.v1/html") == "html1_15cdc3"
    assert names.allocate("My_published_example", "entities/xblock.v1/problem") == "my_published_example"
    assert names.allocate("my_published_example", "entities/xblock.v1/problem") == "my_published_example_386dce"
    assert names.allocate("html1", "collections") == "html1_15cdc3"
    assert names.allocate("COL1", "collections") == "col1"


def test_hashed_name_never_duplicates_a_real_name() -> None:
    names = NameAllocator()
    got = [names.allocate(code, "entities/xblock.v1/html") for code in ("Foo", "foo", "foo_359973")]
    assert got[:2] == ["foo", "foo_359973"]  # as the peer
    assert len(set(got)) == 3
    assert got[2] == "foo_359973_" + hashlib.blake2b(b"foo_359973", digest_size=3).hexdigest()
    # the other order: the real name first, then the hash would land on it
    names = NameAllocator()
    got = [names.allocate(code, "d") for code in ("foo_359973", "Foo", "foo")]
    assert got[:2] == ["foo_359973", "foo"]
    assert got[2] not in got[:2]
    assert got[2] == "foo_" + hashlib.blake2b(b"foo", digest_size=4).hexdigest()  # a longer hash


def test_names_in_different_directories_are_left_as_the_peer_writes_them() -> None:
    names = NameAllocator()
    assert names.allocate("foo_359973", "entities") == "foo_359973"
    assert names.allocate("Foo", "entities/ns/t") == "foo"
    assert names.allocate("foo", "entities/ns/t") == "foo_359973"  # fine: another directory


def test_empty_slugs_never_give_an_empty_name() -> None:
    names = NameAllocator()
    got = [names.allocate(code, "d") for code in ("_", "___", "!!!", "...", "-")]
    assert got[0] == "_" + hashlib.blake2b(b"_", digest_size=3).hexdigest()
    assert got[1:3] == ["_bc8554", "_ed47ef"]
    assert all(len(n) == 7 for n in got)
    assert len(set(got)) == len(got)


def test_repeated_identifier_in_one_scope_still_gets_unique_names() -> None:
    names = NameAllocator()
    got = [names.allocate("same", "d") for _ in range(40)]
    assert len(set(got)) == 40
    assert got[0] == "same"
    assert all(names.is_given(n, "d") for n in got)


def test_long_names_are_capped_at_a_character_boundary() -> None:
    names = NameAllocator()
    exact = "a" * MAX_STEM_BYTES
    assert names.allocate(exact, "d") == exact
    long_unicode = "é" * 255  # 510 UTF-8 bytes
    name = names.allocate(long_unicode, "d")
    assert len(name.encode("utf-8")) <= MAX_STEM_BYTES
    assert name.endswith("_" + hashlib.blake2b(long_unicode.encode(), digest_size=3).hexdigest())
    assert name.startswith("é" * 90)
    # two long codes with the same prefix stay distinct; so does a hashed long name
    other = names.allocate("é" * 254 + "x", "d")
    again = names.allocate("É" * 255, "d")
    assert len({name, other, again}) == 3
    assert all(len(n.encode("utf-8")) <= MAX_STEM_BYTES for n in (other, again))
    assert len(hashed_name("b" * 255).encode()) == MAX_STEM_BYTES


@given(st.lists(st.text(max_size=30), max_size=30), st.lists(st.sampled_from(["a", "b"]), min_size=30, max_size=30))
def test_allocator_never_repeats_a_name_in_a_scope(identifiers: list[str], scopes: list[str]) -> None:
    names = NameAllocator()
    seen: set[tuple[str, str]] = set()
    for identifier, scope in zip(identifiers, scopes, strict=False):
        name = names.allocate(identifier, scope)
        assert name
        assert (scope, name) not in seen
        assert len(name.encode("utf-8")) <= MAX_STEM_BYTES
        seen.add((scope, name))


# -- against what openedx-core really wrote ------------------------------------------------------


def _expected_names(zf: zipfile.ZipFile) -> list[tuple[str, str, str]]:
    """(scope, identifier, stem written by the peer), in the peer's naming order."""
    entities, collections = [], []
    for member in zf.namelist():
        if not member.endswith(".toml") or "/component_versions/" in member or member == "package.toml":
            continue
        path = PurePosixPath(member)
        scope, stem = str(path.parent), member.rsplit("/", 1)[1][: -len(".toml")]
        doc = tomllib.loads(zf.read(member).decode("utf-8"))
        if member.startswith("collections/"):
            collections.append((scope, doc["collection"]["key"], stem))
        elif scope == "entities":
            entities.append((doc["entity"]["key"], (scope, doc["entity"]["key"], stem)))
        else:
            key = doc["entity"]["key"]
            entities.append((key, (scope, key.split(":", 2)[2], stem)))
    return [e for _, e in sorted(entities)] + collections


def test_names_match_every_peer_archive(peer_dir: Path) -> None:
    checked = 0
    for archive in peer_archives(peer_dir):
        with zipfile.ZipFile(archive) as zf:
            names = NameAllocator()
            for scope, identifier, stem in _expected_names(zf):
                got = names.allocate(identifier, scope)
                if stem == "":  # the peer's empty-slug bug (probe-empty_slug_*): fixed here
                    assert got == "_" + hashlib.blake2b(identifier.encode(), digest_size=3).hexdigest()
                else:
                    assert got == stem, f"{archive.name}: {identifier!r} in {scope}"
                checked += 1
    assert checked > 500


@pytest.mark.peer
def test_slugify_matches_django(peer_python: Path) -> None:
    rng = random.Random(1234)
    alphabet = "aZ_-. :/\\!@#$%^&*()[]{}|<>?,;'\"~`\t\n\x0b\u00a0\u2003İıﬁＡ１éÉßẞǅΣσςテスト用😀\u0301\u200b\ufeff"
    samples = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    samples += [chr(c) for c in range(0x20, 0x3000)]
    code = (
        "import json,sys;from django.utils.text import slugify;"
        "print(json.dumps([slugify(s, allow_unicode=True) for s in json.load(sys.stdin)]))"
    )
    result = subprocess.run(
        [str(peer_python), "-c", code], input=json.dumps(samples), capture_output=True, text=True, check=True
    )
    expected = json.loads(result.stdout)
    assert [slugify(s) for s in samples] == expected
