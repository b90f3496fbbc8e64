"""Full history survives a live openedx-core instance: a package in lc-archive's SQL store with 20
versions per component, pins, a reverted draft, soft deletes, a published deletion, a disabled
collection and a publish log of several events goes to v2, into openedx-core through the adapter, out
to v2 again and back into a fresh SQL store: ``lc-archive state --all-versions`` (times, authors, pins,
log) is identical."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.openedx_db import OpenedxDb, any_user

from lc_archive.stores import open_store
from lc_archive.stores.sql import SqlStore
from lc_archive.usecases.backup import backup
from lc_archive.usecases.restore import restore
from lc_archive.usecases.state import compute_state

REF = "lib:Org:HISTORY"
VERSIONS = 20


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 4, 1, 8, 0, 0, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=41)
        return self.now


def build_history(store: SqlStore) -> None:
    """The package (one authoring transaction, deterministic times)."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    with store.author(REF, user="author", create={"title": "History", "description": "every version"},
                      clock=_Clock()) as a:  # fmt: skip
        comps = []
        for i in range(6):
            tag = "problem" if i % 2 else "html"
            ref = a.create_component("xblock.v1", tag, f"c{i}", can_stand_alone=i != 5)
            for v in range(1, VERSIONS + 1):
                media: dict[str, str | bytes | None] = {"block.xml": f'<{tag} display_name="c{i}">v{v}</{tag}>'}
                if i == 0 and v % 4 == 0:
                    media["static/fig.png"] = png + bytes([v])
                a.add_component_version(ref, media, title=f"C{i} v{v}")
                if v in (5, 12):
                    a.publish(f"c{i} at v{v}", refs=[ref])
            comps.append(ref)
        a.create_container("unit", "u1")
        a.add_container_version("u1", [comps[0], (comps[1], 3), comps[2]], title="U1")
        a.add_container_version("u1", [(comps[1], 7), comps[0]], title="U1 again")
        a.create_container("unit", "u2")
        a.add_container_version("u2", [comps[3], comps[4], (comps[5], 20)], title="U2")
        a.create_container("subsection", "s1", can_stand_alone=False)
        a.add_container_version("s1", ["u1", "u2"], title="S1")
        a.create_container("section", "x1")
        a.add_container_version("x1", ["s1"], title="X1")
        a.publish("everything")
        a.soft_delete(comps[3])
        a.publish("delete c3", refs=[comps[3]])  # a published deletion
        a.soft_delete(comps[5])  # a soft-deleted draft, still published
        a.set_draft(comps[4], 9)  # a draft reverted to an older version
        a.add_component_version(comps[2], {"block.xml": "<html>draft only</html>"}, title="C2 draft")
        a.create_collection("col-a", "Enabled", description="two members")
        a.add_to_collection("col-a", [comps[0], "u1"])
        a.create_collection("col-b", "Disabled")
        a.add_to_collection("col-b", [comps[1]])
        a.disable_collection("col-b")


def test_all_versions_state_survives_openedx(openedx_db: OpenedxDb, tmp_path: Path) -> None:
    any_user("author")
    with open_store(f"sqlite:///{tmp_path / 'a.db'}") as first:
        assert isinstance(first, SqlStore)
        build_history(first)
        backup(first, REF, tmp_path / "first.zip", format="v2")
        with first.read(REF) as source:
            before = compute_state(source, all_versions=True)
    with open_store(openedx_db.store_url) as live:
        restore(tmp_path / "first.zip", live, ref=REF)
        backup(live, REF, tmp_path / "second.zip", format="v2")
    with open_store(f"sqlite:///{tmp_path / 'b.db'}") as last:
        restore(tmp_path / "second.zip", last, ref=REF)
        with last.read(REF) as source:
            after = compute_state(source, all_versions=True)
    assert len(before["publish_log"]) >= 14
    assert after == before
