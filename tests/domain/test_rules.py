"""The domain's rules, each defined once: every layer that applies one gets the same answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lc_archive.domain import (
    CHILD_RULES,
    CONTAINER_TYPES,
    PLUGIN_NAME_RE,
    check_code,
    child_problem,
    component_ref,
    iso,
    media_path_problem,
    media_type_for,
    split_component_ref,
    to_utc,
)
from lc_archive.plugins.builtin.containers import SectionContainer, SubsectionContainer, UnitContainer
from lc_archive.plugins.payloads import PayloadError, render_payload

BAD_PATHS = ["", " a", "a ", "/abs", "a\\b", "static/../evil.png", "../x", "./x", "a//b", "a/", "a/./b", "n\x00l",
             "x" * 501]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_media_paths_that_leave_their_version_or_cannot_be_stored_are_refused(path: str) -> None:
    assert media_path_problem(path) is not None


@pytest.mark.parametrize("path", ["block.xml", "static/a b.png", "static/img/ñ.png", "x" * 500, "v1/static/x.toml"])
def test_ordinary_media_paths_are_accepted(path: str) -> None:
    assert media_path_problem(path) is None


def test_container_child_rules() -> None:
    assert CONTAINER_TYPES == ("unit", "subsection", "section") == tuple(CHILD_RULES)
    assert child_problem("unit", "component", "xblock.v1:html") is None
    assert child_problem("subsection", "container", "unit") is None
    assert child_problem("section", "container", "subsection") is None
    assert child_problem("unit", "container", "unit") == "a unit holds components, not units"
    assert child_problem("subsection", "component", "x") == "a subsection holds units, not components"
    assert child_problem("section", "container", "odd") == "a section holds subsections, not 'odd' containers"
    assert child_problem("chapter", "component", "x") is None  # unknown container types are refused elsewhere


@pytest.mark.parametrize("serializer", [UnitContainer, SubsectionContainer, SectionContainer])
def test_built_in_container_serializers_apply_the_domain_rule(serializer: type[UnitContainer]) -> None:
    for kind, type_ in [("component", "xblock.v1:html"), ("container", "unit"), ("container", "subsection"),
                        ("container", "section")]:
        assert serializer().child_problem(kind, type_) == child_problem(serializer.container_type, kind, type_)


def test_codes_and_refs() -> None:
    assert check_code("naïve-1.x_") == "naïve-1.x_"
    for bad in ("", "a b", "a:b", "x" * 256):
        with pytest.raises(ValueError):
            check_code(bad)
    with pytest.raises(ValueError, match="ASCII"):
        check_code("naïve", ascii_only=True)
    assert component_ref("xblock.v1", "html", "intro") == "xblock.v1:html:intro"
    assert split_component_ref("xblock.v1:html:a:b") == ("xblock.v1", "html", "a:b")
    assert split_component_ref("unit-1") is None and split_component_ref("a::b") is None


def test_plugin_names_are_one_pattern_for_payloads_and_serializer_ids() -> None:
    assert PLUGIN_NAME_RE.fullmatch("tags") and PLUGIN_NAME_RE.fullmatch("a.b-c_9")
    for bad in ("Tags", "-x", "", "x" * 65, "a/b"):
        assert not PLUGIN_NAME_RE.fullmatch(bad)
        with pytest.raises(PayloadError, match="plugin name"):
            render_payload(bad, 1, {})


def test_media_types_and_timestamps() -> None:
    assert media_type_for("html", "block.xml") == "application/vnd.openedx.xblock.v1.html+xml"
    assert media_type_for("html", "static/a.png") == "image/png"
    assert media_type_for("html", "static/a.unknownext") == "application/octet-stream"
    assert iso(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2025-01-02T03:04:05Z"
    assert iso(datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == "2025-01-02T03:04:05.000006Z"
    assert to_utc(datetime(2025, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == datetime(2025, 1, 1, tzinfo=UTC)
    assert to_utc(datetime(2025, 1, 1)) == datetime(2025, 1, 1, tzinfo=UTC)
