"""The real application served over HTTP for browser and end-to-end tests (pytest plugin).

``live_server`` (session) serves ``safeguard.web.app.create_app(settings)`` with uvicorn in a
background thread on a free 127.0.0.1 port, over a fresh SQLite database that is migrated and
holds the demo data (``safeguard.demo.load_demo``, benign generated pictures written to
``<data_dir>/demo-images``). It is shared by the whole session: tests
should create uniquely named things rather than assume an empty database.
``fresh_live_server`` (per test) is the same with its own database, for tests that change
global state. ``serve_app(settings)`` is the underlying context manager, for other set-ups
(a PostgreSQL URL, other settings).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from safeguard.config import Settings
    from safeguard.db.engine import Database

STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class LiveServer:
    url: str  # http://127.0.0.1:<port>, no trailing slash
    credentials: Any  # safeguard.demo.DemoCredentials(username, password, role): the analyst
    settings: Settings
    db: Database
    demo: Any = None  # safeguard.demo.DemoResult: .accounts (analyst, admin), .images_dir

    def __str__(self) -> str:
        return self.url


def make_settings(data_dir: Path, database_url: str | None = None, **overrides: Any) -> Settings:
    """Test settings: no .env file, everything under ``data_dir``."""
    from safeguard.config import Settings

    data_dir.mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = {
        "database_url": database_url or f"sqlite:///{data_dir / 'safeguard.db'}",
        "data_dir": data_dir,
        # Admins need two-step sign-in in production; browser tests that are not about it
        # sign in with a password (tests/browser/test_console_two_step.py turns it on).
        "totp_required_roles": "",
        # Portal text without a translation shows a visible marker instead of English.
        "i18n_strict": True,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextmanager
def serve_app(settings: Settings, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``create_app(settings)`` until the block ends; yields the base URL."""
    import uvicorn

    from safeguard.web.app import create_app

    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))  # the kernel picks a free port; the socket is handed to uvicorn as is
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to the test thread
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"live-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if failure or not thread.is_alive():
            sock.close()
            raise RuntimeError(f"the live server did not start: {failure[:1] or 'it exited'}")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the live server did not start within {STARTUP_TIMEOUT:.0f} s")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
        sock.close()


def _analyst_credentials(result: Any) -> Any:
    """``load_demo`` returns a ``DemoResult`` with ``.accounts``; pick the analyst's account
    (or take the result itself if it is already a credentials object)."""
    if hasattr(result, "username"):
        return result
    accounts = list(getattr(result, "accounts", []))
    for account in accounts:
        if getattr(account, "role", None) == "analyst":
            return account
    if accounts:
        return accounts[0]
    raise RuntimeError(f"load_demo returned no demo account: {result!r}")


@contextmanager
def demo_live_server(
    data_dir: Path, database_url: str | None = None, **overrides: Any
) -> Iterator[LiveServer]:
    """Migrate a fresh database, load the demo data, serve the app over it."""
    from safeguard.db.engine import Database
    from safeguard.db.migrate import upgrade

    try:
        from safeguard.demo import load_demo
    except ImportError as exc:
        missing = str(exc)
    else:
        missing = ""
    if missing:
        pytest.fail(f"live_server needs safeguard.demo.load_demo ({missing})", pytrace=False)

    settings = make_settings(data_dir, database_url, **overrides)
    db = Database(settings.database_url)
    try:
        upgrade(db)
        demo = load_demo(db, images_dir=data_dir / "demo-images")
        with serve_app(settings) as url:
            yield LiveServer(
                url=url,
                credentials=_analyst_credentials(demo),
                settings=settings,
                db=db,
                demo=demo,
            )
    finally:
        db.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Shared for the session: the demo instance served on a free 127.0.0.1 port."""
    with demo_live_server(tmp_path_factory.mktemp("live-server")) as server:
        yield server


@pytest.fixture
def fresh_live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """Like ``live_server`` but with a database of its own, for tests that change shared state."""
    with demo_live_server(tmp_path / "live-server") as server:
        yield server
