"""`safeguard bank ...` and `safeguard match PATH` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.cli import banks as bank_cli
from safeguard.cli import match as match_cli
from safeguard.config import Settings
from safeguard.db.engine import Database
from tests.banks.support import benign_image

runner = CliRunner()


@pytest.fixture
def cli_db(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    settings = Settings(database_url=db.url, data_dir=tmp_path / "data",
                        _env_file=None)  # type: ignore[call-arg]
    for module in (bank_cli, match_cli):
        monkeypatch.setattr(module, "open_db", lambda: Database(db.url))
    monkeypatch.setattr(match_cli, "get_settings", lambda: settings)
    return db


def _ok(app: object, *args: str) -> str:
    result = runner.invoke(app, list(args))  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return result.output


def test_bank_lifecycle(cli_db: Database, tmp_path: Path) -> None:
    _ok(bank_cli.app, "create", "known", "--threshold", "20", "--description", "demo")
    assert "known" in _ok(bank_cli.app, "list")
    hashes = tmp_path / "list.txt"
    hashes.write_text("a" * 64 + "\n" + "b" * 64 + "\n")
    assert "2 new" in _ok(bank_cli.app, "import", "known", str(hashes), "--source", "feed")
    assert "entry 3" in _ok(bank_cli.app, "add-hash", "known", "c" * 64, "--tag", "x")
    out = tmp_path / "out.csv"
    _ok(bank_cli.app, "export", "known", "--out", str(out))
    assert out.read_text().count("\n") == 4
    _ok(bank_cli.app, "disable", "known")
    assert "disabled" in _ok(bank_cli.app, "show", "known")
    _ok(bank_cli.app, "enable", "known")
    _ok(bank_cli.app, "remove-entry", "3", "--bank", "known")


def test_import_with_bad_lines_lists_them_and_exits_1(cli_db: Database, tmp_path: Path) -> None:
    _ok(bank_cli.app, "create", "b")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"a" * 64 + b"\nnope\n" + b"b" * 63 + b"\n")
    result = runner.invoke(bank_cli.app, ["import", "b", str(bad)])
    assert result.exit_code == 1
    assert "line 2" in result.output and "line 3" in result.output
    assert "0 entries" in _ok(bank_cli.app, "show", "b")


def test_unknown_bank_is_a_clear_error(cli_db: Database) -> None:
    result = runner.invoke(bank_cli.app, ["show", "missing"])
    assert result.exit_code == 1 and "no bank named 'missing'" in result.output


def test_match_folder_reports_matches_and_corrupt_files(cli_db: Database,
                                                        tmp_path: Path) -> None:
    folder = tmp_path / "media"
    (folder / "sub").mkdir(parents=True)
    known = benign_image(21)
    (folder / "known.png").write_bytes(known)
    (folder / "sub" / "other.png").write_bytes(benign_image(22))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    source = tmp_path / "known.png"
    source.write_bytes(known)
    _ok(bank_cli.app, "create", "known")
    _ok(bank_cli.app, "add-file", "known", str(source), "--no-variants")
    out = tmp_path / "result.jsonl"
    _ok(match_cli.app, str(folder), "--format", "jsonl", "--out", str(out))
    rows = {Path(r["path"]).name: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["known.png"]["status"] == "match"
    assert rows["other.png"]["status"] == "no_match"
    assert rows["broken.jpg"]["status"] == "error" and "broken.jpg" in rows["broken.jpg"]["error"]


def test_match_csv_to_stdout(cli_db: Database, tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(benign_image(23))
    _ok(bank_cli.app, "create", "known")
    _ok(bank_cli.app, "add-file", "known", str(image))
    result = runner.invoke(match_cli.app, [str(image)])
    assert result.exit_code == 0, result.output
    output = result.stdout
    assert output.lstrip().splitlines()[0].startswith("path,status,bank")
    assert ",match,known," in output


def test_match_scan_on_a_local_dask_cluster(cli_db: Database, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import contextmanager

    import safeguard.jobs.scan as jobs_scan

    real = jobs_scan.dask_client

    @contextmanager
    def in_process(scheduler: str | None = None, workers: int | None = None,
                   processes: bool = True):  # type: ignore[no-untyped-def]
        with real(scheduler, workers, processes=False) as client:  # fast start in tests
            yield client

    monkeypatch.setattr(jobs_scan, "dask_client", in_process)
    folder = tmp_path / "media"
    folder.mkdir()
    known = benign_image(31)
    (folder / "known.png").write_bytes(known)
    (folder / "bad.png").write_bytes(known[:100])
    source = tmp_path / "src.png"
    source.write_bytes(known)
    _ok(bank_cli.app, "create", "known")
    _ok(bank_cli.app, "add-file", "known", str(source))
    out = tmp_path / "scan.csv"
    _ok(match_cli.app, "scan", str(folder), "--out", str(out))
    lines = out.read_text().splitlines()
    assert any("known.png,match,known" in line for line in lines)
    assert any("bad.png,error" in line for line in lines)
