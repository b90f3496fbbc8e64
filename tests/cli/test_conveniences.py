"""What a restic or Django user expects: --version, help on every argument, the default store from the
environment, tables that never cut an identifier, warnings summarised, -q."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.v1kit import component, make_zip, tiny_members

from lc_archive.cli import main
from lc_archive.cli.app import build_parser


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_help_on_every_argument() -> None:
    missing = [f"{name} {action.dest}" for name, parser in _subparsers().items() for action in parser._actions
               if not action.help and not isinstance(action, argparse._HelpAction)]
    assert not missing, missing


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("lc-archive ")


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys\nfrom lc_archive.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('sqlalchemy', 'pydantic', 'lxml', 'rich', 'fsspec') if m in sys.modules]\n"
            "print(heavy, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "[]", done.stderr


def _long_ref_archive(tmp_path: Path) -> tuple[Path, str]:
    code = "a_very_long_component_code_that_a_narrow_table_would_cut_" + "x" * 60
    ref = f"xblock.v1:html:{code}"
    members = tiny_members()
    members[f"entities/xblock.v1/html/{code}.toml"] = component(ref, [(1, "Long")], 1, 1)
    members[f"entities/xblock.v1/html/{code}/component_versions/v1/block.xml"] = "<html/>"
    return make_zip(tmp_path / "long.zip", members), ref


def test_tables_never_cut_an_identifier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive, ref = _long_ref_archive(tmp_path)
    assert main(["inspect", str(archive)]) == 0
    out = capsys.readouterr().out
    assert ref in out and "…" not in out


def _warned_archive(tmp_path: Path, count: int) -> Path:
    members = tiny_members()
    images = "".join(f'<img src="/static/missing-{i}.png"/>' for i in range(count))
    members["entities/xblock.v1/html/outro/component_versions/v1/block.xml"] = f"<html>{images}</html>"
    return make_zip(tmp_path / "warned.zip", members)


def test_warnings_are_grouped_and_the_summary_is_last(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = _warned_archive(tmp_path, 40)
    assert main(["restore", str(archive), str(tmp_path / "s.db"), "--ref", "lib:Org:W"]) == 0
    out, err = capsys.readouterr()
    lines = (out + err).splitlines()
    assert len(lines) <= 15, lines
    assert out.splitlines()[-1].startswith("restored ")
    assert "warning(s) of kind missing-static" in err and "--show-warnings" in err
    assert main(["restore", str(archive), str(tmp_path / "s.db"), "--ref", "lib:Org:W2", "-v"]) == 0
    assert capsys.readouterr().err.count("references /static/") >= 20
    assert main(["restore", str(archive), str(tmp_path / "s.db"), "--ref", "lib:Org:W3", "-q"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and len(out.splitlines()) == 1


def test_validate_says_when_all_problems_are_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = _warned_archive(tmp_path, 40)
    assert main(["validate", str(archive)]) == 1
    err = capsys.readouterr().err
    assert "all warnings: --allow-warnings accepts them" in err
    assert len(err.splitlines()) <= 15
    assert main(["verify", str(archive)]) == 1  # verify fails on what validate fails on
    capsys.readouterr()
    assert main(["verify", str(archive), "--allow-warnings", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warning_count"] > 0


@pytest.mark.slow
def test_3000_components_with_1000_warnings_fit_on_a_screen(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    members = tiny_members()
    for i in range(3000):
        code = f"c{i:04d}"
        members[f"entities/xblock.v1/html/{code}.toml"] = component(f"xblock.v1:html:{code}", [(1, code)], 1, 1)
        body = f'<img src="/static/gone-{i}.png"/>' if i % 3 == 0 else ""
        members[f"entities/xblock.v1/html/{code}/component_versions/v1/block.xml"] = f"<html>{body}</html>"
    archive = make_zip(tmp_path / "big.zip", members)
    assert main(["restore", str(archive), str(tmp_path / "s.db"), "--ref", "lib:Org:BIG"]) == 0
    out, err = capsys.readouterr()
    assert len((out + err).splitlines()) <= 15, out + err
    assert "1000 warning(s)" in err
    assert out.splitlines()[-1].startswith("restored ") and "1000 warning(s)" in out.splitlines()[-1]
