"""Keeps one in-memory PDQIndex in step with the banks, by deltas.

Start: load the index saved in data_dir (if any) and apply the change feed since its sequence
number; without a usable file, build from every PDQ entry. Then `refresh()` applies only new
changes (a background thread calls it every `index_refresh_seconds`), and commits made in this
process are applied the moment they commit (the feed calls us), so a new hash matches at once.

The index holds PDQ entries of every bank, enabled or not, keyed by entry id: enabling,
disabling and thresholds are applied when matching, so they never touch the index.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import select

from safeguard.banks import feed
from safeguard.banks.models import BankEntry, ChangeOp
from safeguard.db.engine import Database
from safeguard.matching.index import IndexFileError, PDQIndex, hex_to_array

log = logging.getLogger(__name__)

INDEX_FILE = "pdq.index"
STATE_FILE = "pdq.index.json"
_BUILD_BATCH = 200_000


class IndexManager:
    def __init__(self, db: Database, data_dir: Path | None = None, *,
                 save_after_changes: int = 50_000, persist: bool = True) -> None:
        """`persist=False` reads a saved index but never writes one (the CLI, so it does not
        race a running server for the file)."""
        self.db = db
        self.data_dir = data_dir
        self.persist = persist
        self.save_after_changes = save_after_changes
        self.index = PDQIndex()
        self.seq = 0  # every feed change up to here is in the index
        self._lock = threading.RLock()  # one writer at a time; searches need no lock
        self._unsaved = 0
        self._unlisten: Callable[[], None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> IndexManager:
        """Load or build, catch up, and listen to local commits. Returns self."""
        with self._lock:
            if not self._load_saved():
                self._build()
            self._unlisten = feed.add_listener(self.db.url, self._on_commit)
            self.refresh()
        return self

    def run_in_background(self, interval: float) -> Callable[[], None]:
        """Refresh every `interval` seconds in a daemon thread; returns the stop function."""

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.refresh()
                except Exception:  # keep serving the index we have; retry next tick
                    log.exception("index refresh failed")

        self._thread = threading.Thread(target=loop, name="pdq-index-refresh", daemon=True)
        self._thread.start()
        return self.stop

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self.save()

    # ------------------------------------------------------------------ loading

    def _paths(self) -> tuple[Path, Path] | None:
        if self.data_dir is None:
            return None
        return self.data_dir / INDEX_FILE, self.data_dir / STATE_FILE

    def _load_saved(self) -> bool:
        paths = self._paths()
        if paths is None or not paths[0].exists() or not paths[1].exists():
            return False
        try:
            state = json.loads(paths[1].read_text())
            index = PDQIndex.load(paths[0])
            seq = int(state["seq"])
        except (IndexFileError, ValueError, KeyError, OSError) as exc:
            log.warning("ignoring saved index (%s); rebuilding from the database", exc)
            return False
        with self.db.session() as session:
            latest = feed.latest_seq(session)
        if seq > latest:  # the file belongs to another (or a restored) database
            log.warning("saved index is ahead of the database (%s > %s); rebuilding", seq, latest)
            return False
        self.index, self.seq = index, seq
        return True

    def _build(self) -> None:
        index = PDQIndex()
        with self.db.session() as session:
            # Read the sequence first: entries committed after it are replayed (harmlessly).
            seq = feed.latest_seq(session)
            last_id = 0
            while True:
                rows = session.execute(
                    select(BankEntry.id, BankEntry.value)
                    .where(BankEntry.signal_type == "pdq", BankEntry.id > last_id)
                    .order_by(BankEntry.id)
                    .limit(_BUILD_BATCH)
                ).all()
                if not rows:
                    break
                index.add(
                    np.array([r.id for r in rows], dtype=np.int64),
                    hex_to_array([r.value for r in rows]),
                )
                last_id = rows[-1].id
        self.index, self.seq = index, seq
        self._unsaved = len(index)

    # ------------------------------------------------------------------ deltas

    def refresh(self) -> int:
        """Apply feed changes after `seq`; returns how many were applied."""
        applied = 0
        with self._lock:
            while True:
                with self.db.session() as session:
                    changes = feed.changes_since(session, self.seq)
                if not changes:
                    break
                self._apply(changes)
                applied += len(changes)
            if self._unsaved >= self.save_after_changes:
                self.save()
        return applied

    def _on_commit(self, changes: Sequence[feed.Change]) -> None:
        # Applied out of feed order is fine: adds replace by id and removals of unknown ids
        # are ignored, and `refresh` replays the feed in order from `seq` later anyway.
        with self._lock:
            self._apply(changes, advance=False)

    def _apply(self, changes: Sequence[feed.Change], advance: bool = True) -> None:
        adds = [c for c in changes if c.signal_type == "pdq" and c.op is ChangeOp.ADD]
        removes = [
            c.entry_id for c in changes if c.signal_type == "pdq" and c.op is ChangeOp.REMOVE
        ]
        # Keep feed order when one batch adds and removes the same entry.
        removed_after = {
            c.entry_id: c.seq for c in changes if c.signal_type == "pdq" and c.op is ChangeOp.REMOVE
        }
        adds = [c for c in adds if removed_after.get(c.entry_id, -1) < c.seq]
        if removes:
            self.index.remove(np.array(removes, dtype=np.int64))
        if adds:
            self.index.add(
                np.array([c.entry_id for c in adds], dtype=np.int64),
                hex_to_array([c.value for c in adds]),
            )
        if advance:
            self.seq = max(self.seq, changes[-1].seq)
        self._unsaved += len(adds) + len(removes)

    # ------------------------------------------------------------------ reads / saving

    def search(self, queries: np.ndarray, radius: int) -> list[list[tuple[int, int]]]:
        return self.index.search(queries, radius=radius)

    def __len__(self) -> int:
        return len(self.index)

    def save(self) -> None:
        """Write index and sequence; the sequence file is written last, so a crash between the
        two leaves an older sequence, which only replays changes (harmless)."""
        paths = self._paths()
        if paths is None or not self.persist:
            return
        with self._lock:
            paths[0].parent.mkdir(parents=True, exist_ok=True)
            seq = self.seq
            self.index.save(paths[0])
            tmp = paths[1].with_suffix(".tmp")
            tmp.write_text(json.dumps({"seq": seq, "entries": len(self.index)}))
            os.replace(tmp, paths[1])
            self._unsaved = 0
