"""Where a dashboard request's server time goes: the service calls behind it, timed in-process on SQLite.

Each part is timed over repeated calls on a fresh migrated database (no HTTP, no threads), then the
checklist read is profiled with cProfile. It explains bench/web.py's per-request CPU figure.

    .venv/bin/python bench/request_parts.py
"""

from __future__ import annotations

import cProfile
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.db.read_cache import ReadCache
from mission_control.identity.service import add_user, create_token, find_token
from mission_control.progress import service
from mission_control.web.app import prepare_database


def timed(label: str, function: Callable[[], object], repeat: int = 200) -> None:
    function()
    started = time.perf_counter()
    for _ in range(repeat):
        function()
    print(f"{label}: {(time.perf_counter() - started) / repeat * 1000:.3f} ms per call ({repeat} calls)")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mc-bench-parts-") as directory:
        database = Database(f"sqlite:///{Path(directory) / 'mission-control.db'}")
        catalog = load_default_catalog()
        prepare_database(database, catalog)
        with database.transaction() as session:
            user = add_user(session=session, name="bench", role="editor", password=None, actor="bench")
            token = create_token(session=session, user=user, name="bench", actor="bench")

        def authenticate() -> None:
            with database.read() as session:
                find_token(session=session, secret=token)

        def checklist() -> object:
            with database.read() as session:
                return service.get_checklist(session=session, catalog=catalog, environment_name="production")

        def tick() -> None:
            with database.transaction() as session:
                service.update_item(
                    session=session,
                    catalog=catalog,
                    environment_name="production",
                    item_id="dns.latency-routing",
                    actor="bench",
                    note=str(time.time()),
                )

        cache = ReadCache(database)

        def cached_checklist() -> object:
            def compute(session: Session, now: object) -> tuple[object, None]:
                return service.get_checklist(
                    session=session, catalog=catalog, environment_name="production"
                ), None

            return cache.get("checklist", compute)

        def patched_item() -> None:
            with database.read() as session:
                environment = service.get_environment(session=session, name="production")
                state = service.item_states(session=session, environment=environment)["dns.latency-routing"]
                service.get_item(session=session, catalog=catalog, state=state)

        timed("find_token (bearer auth, every request)", authenticate)
        timed("get_checklist (computed: after any commit)", checklist)
        timed("the same through ReadCache, nothing committed since (data stamp + lookup)", cached_checklist)
        timed("get_item (a PATCH's answer; includes reading the state row)", patched_item)
        view = checklist()
        timed("ChecklistView.to_dict", view.to_dict)  # type: ignore[attr-defined]
        timed("update_item + commit (PATCH)", tick, repeat=50)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(100):
            checklist()
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(r"mission_control", 12)
        database.dispose()


if __name__ == "__main__":
    main()
