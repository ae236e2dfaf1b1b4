"""`safeguard ads scan`: bad lines reported by number, leads and networks written, ads stored
and linked with --store, extraction on Dask (a LocalCluster) giving the same result."""

from __future__ import annotations

import builtins
import csv
import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from safeguard.ads.extract import extract
from safeguard.ads.models import AdNetwork, AdRecord
from safeguard.ads.synthetic import generate
from safeguard.cli.main import app
from safeguard.config import Settings
from safeguard.db.engine import Database
from safeguard.db.migrate import upgrade


def corpus(tmp_path: Path, n: int = 150) -> Path:
    path = tmp_path / "ads.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for planted in generate(n, seed=9):
            ad = planted.ad
            handle.write(json.dumps({"site": ad.site, "id": ad.ad_id, "title": ad.title,
                                     "text": ad.text, "region": ad.region}) + "\n")
            if ad.ad_id.endswith("7"):
                handle.write("{not json\n")
        handle.write(json.dumps({"site": "s", "id": "x", "region": "Britain"}) + "\n")
    return path


def test_scan_reports_bad_lines_and_writes_leads_and_networks(tmp_path: Path) -> None:
    path = corpus(tmp_path)
    bad = sum(1 for line in path.read_text().splitlines() if not line.startswith('{"'))
    result = CliRunner().invoke(app, ["ads", "scan", str(path), "--out",
                                      str(tmp_path / "leads.csv"), "--networks",
                                      str(tmp_path / "net.graphml")])
    assert result.exit_code == 0, result.output
    lines = path.read_text().splitlines()
    first_bad = next(i for i, line in enumerate(lines, 1) if line == "{not json")
    assert f"skipped line {first_bad}: not valid JSON" in result.output
    assert f"skipped line {len(lines)}: region must be a two-letter ISO code" in result.output
    assert f"skipped {bad + 1} bad line(s)" in result.output
    rows = list(csv.DictReader((tmp_path / "leads.csv").open(encoding="utf-8")))
    assert len(rows) == 150
    assert float(rows[0]["score"]) >= float(rows[-1]["score"])
    graph = nx.read_graphml(tmp_path / "net.graphml")
    assert any(d["type"] == "phone" for _, d in graph.nodes(data=True))


def test_scan_store_links_into_the_database(db: Database, cli_env: Settings,
                                            tmp_path: Path) -> None:
    upgrade(db)
    path = corpus(tmp_path, 120)
    runner = CliRunner()
    first = runner.invoke(app, ["ads", "scan", str(path), "--store", "--networks",
                                str(tmp_path / "n.json")])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["ads", "scan", str(path), "--store"])
    assert again.exit_code == 0, again.output
    exported = {n["id"] for n in json.loads((tmp_path / "n.json").read_text())["networks"]}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AdRecord)) == 120
        assert set(s.scalars(select(AdNetwork.id))) == exported
    stored = runner.invoke(app, ["ads", "export", "--leads", str(tmp_path / "stored.jsonl"),
                                 "--networks", str(tmp_path / "stored.graphml")])
    assert stored.exit_code == 0, stored.output
    assert len((tmp_path / "stored.jsonl").read_text().splitlines()) == 120
    graph = nx.read_graphml(tmp_path / "stored.graphml")
    assert {d["network"] for _, d in graph.nodes(data=True)} == exported
    nothing = runner.invoke(app, ["ads", "export"])
    assert nothing.exit_code == 1 and "--leads" in nothing.output


def test_scan_refuses_bad_options(tmp_path: Path) -> None:
    path = corpus(tmp_path, 10)
    runner = CliRunner()
    missing = runner.invoke(app, ["ads", "scan", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1 and "is not a file" in missing.output
    region = runner.invoke(app, ["ads", "scan", str(path), "--region", "XYZ"])
    assert region.exit_code == 1 and "--region" in region.output
    score = runner.invoke(app, ["ads", "scan", str(path), "--min-score", "7"])
    assert score.exit_code == 1 and "--min-score" in score.output


def test_scheduler_without_dask_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    real_import = builtins.__import__

    def no_dask(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("dask"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    result = CliRunner().invoke(app, ["ads", "scan", str(corpus(tmp_path, 5)),
                                      "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "pip install 'safeguard[dask]'" in result.output


def test_extraction_on_a_dask_cluster_matches_local(tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed",
                                      reason="dask is an optional extra: safeguard[dask]")
    from safeguard.jobs.ads import extract_on_dask

    ads = [p.ad for p in generate(60, seed=1)]
    # Worker processes and a TCP scheduler: what `--scheduler tcp://host:8786` talks to.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert cluster.scheduler_address.startswith("tcp://")
        done: list[int] = []
        found = list(extract_on_dask(client, ads, ads_per_task=7, in_flight=3,
                                     on_done=done.append))
        assert found == [extract(ad) for ad in ads] and sum(done) == 60
        path = corpus(tmp_path, 40)
        result = CliRunner().invoke(app, ["ads", "scan", str(path), "--scheduler",
                                          cluster.scheduler_address, "--out",
                                          str(tmp_path / "dask.jsonl")])
    assert result.exit_code == 0, result.output
    local = CliRunner().invoke(app, ["ads", "scan", str(path), "--out",
                                     str(tmp_path / "local.jsonl")])
    assert local.exit_code == 0
    assert (tmp_path / "dask.jsonl").read_text() == (tmp_path / "local.jsonl").read_text()
