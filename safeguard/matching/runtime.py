"""What a server process runs for matching: the live index and the webhook worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from safeguard.config import Settings
from safeguard.db.engine import Database
from safeguard.matching.index_manager import IndexManager
from safeguard.matching.webhooks import WebhookWorker


def start_matching(state: Any, db: Database, settings: Settings) -> list[Callable[[], None]]:
    """Load the index (saved file + feed), refresh it in the background, start webhook
    delivery; sets `state.index_manager` and `state.webhook_worker`. Returns stop functions
    (call them in order)."""
    index = IndexManager(db, settings.data_dir).start()
    stop_index = index.run_in_background(settings.index_refresh_seconds)
    worker = WebhookWorker(db, settings)
    stop_worker = worker.start()
    state.index_manager = index
    state.webhook_worker = worker
    return [stop_worker, stop_index]
