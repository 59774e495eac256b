"""A load that stops inside its first file's transaction, its rows written and not committed: until killed, or
for SECONDS when given, then it goes on.

Run as `python held_ingest.py DATABASE_URL FOLDER [SECONDS]`: it prints `holding FILE` when it is there.
"""

import sys
import threading

from pbr.feeds.ingest import ingest
from pbr.plan import load_plan
from pbr.store import Store


def holding(seconds: float | None):
    held = []

    def hold(source: str) -> None:
        if held:
            return  # the first file only
        held.append(source)
        print(f"holding {source}", flush=True)
        threading.Event().wait(seconds)  # None: until the process is killed

    return hold


if __name__ == "__main__":
    database_url, folder = sys.argv[1:3]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else None
    ingest(folder, Store(database_url), load_plan().theme_codes, before_commit=holding(seconds))
    print("loaded", flush=True)
