"""A load that stops inside its first file's transaction, its rows written and not committed, until killed.

Run as `python held_ingest.py DATABASE_URL FOLDER`: it prints `holding FILE` when it is there, for a test that
kills it to show nothing of the file stays.
"""

import sys
import threading

from pbr.feeds.ingest import ingest
from pbr.plan import load_plan
from pbr.store import Store


def hold(source: str) -> None:
    print(f"holding {source}", flush=True)
    threading.Event().wait()  # until the process is killed


if __name__ == "__main__":
    database_url, folder = sys.argv[1:3]
    ingest(folder, Store(database_url), load_plan().theme_codes, before_commit=hold)
