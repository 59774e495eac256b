"""Web app page times at scale: the first page of a day, pages after it, and the page after a keyworker records.

Ingests synthetic families into SQLite (kept between runs), then serves pages in this process.

    python benchmarks/web_pages.py [--families 100000] [--db URL]
"""

from __future__ import annotations

import datetime as dt
import re
import time

from _common import PYTHON, arguments, make_data, run_measured
from fastapi.testclient import TestClient

from pbr.store import Store
from pbr.web.app import create_app
from pbr.web.auth import add_user, user_by_name

PASSWORD = "benchmark only"


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite file kept in --work)")
    options = parser.parse_args()
    data = make_data(options.families, options.work / f"data-{options.families}")
    db = options.db or f"sqlite:///{options.work / f'web-{options.families}.db'}"
    store = Store(db)
    if user_by_name(store, "bench") is None:
        wall, _ = run_measured([PYTHON, "-m", "pbr.cli", "--db", db, "ingest", str(data)], quiet=True)
        print(f"  ingested {options.families:,} families in {wall:.1f} s", flush=True)
        add_user(store, "bench", "coordinator", PASSWORD, None)

    client = TestClient(
        create_app(db, as_of=dt.date.fromisoformat(options.as_of), secret_key="bench"), follow_redirects=False
    )
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]
    client.post("/login", data={"name": "bench", "password": PASSWORD, "csrf_token": token})
    token = client.get("/api/session").json()["csrf_token"]
    family = client.get("/api/families").json()[0]["family_id"]  # evaluates the day: timed again below

    def timed(what: str, path: str) -> None:
        started = time.perf_counter()
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        print(f"  {what:<58} {time.perf_counter() - started:6.2f} s")

    print(f"{options.families:,} families in {db.split(':')[0]}, as of {options.as_of}:")
    timed("dashboard, first page of another day (evaluates)", "/dashboard?as_of=2018-12-30")
    timed("dashboard, again (decisions kept)", "/dashboard?as_of=2018-12-30")
    timed("one family's page (decisions kept)", f"/families/{family}")
    person = store.load_tables(family)["members"].get_column("person_id")[0]
    started = time.perf_counter()
    response = client.post(
        f"/families/{family}/records/events",
        data={"person_id": person, "event_type": "asb_incident", "event_date": options.as_of, "csrf_token": token},
    )
    assert response.status_code == 303, response.text
    print(f"  {'a keyworker records an incident':<58} {time.perf_counter() - started:6.2f} s")
    timed("that family's page after the record (evaluates again)", f"/families/{family}")


if __name__ == "__main__":
    main()
