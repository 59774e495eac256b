"""Load on the web app: 50 signed-in users at once for 60 seconds over the demo's database.

Runs `pbr demo` once (kept in --work), starts `pbr serve` in its own process, signs in the users (coordinators
and auditors), then each user opens family and claim pages, reading each for 1 to 5 seconds before the next (as
locust's users usually do; `--think 0` asks as fast as the server answers, to find its ceiling). Prints requests
per second, p50 and p95 latency per kind of page, and the errors.

    python benchmarks/web_load.py [--users 50] [--seconds 60] [--families 2000] [--think 1 5]
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import random
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict

from _common import PYTHON, arguments

PASSWORD = "load test only"
TARGET_P95 = 1.0  # seconds, for family and claim pages on a 2-core machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pbr(*args: str, db: str, env: dict | None = None) -> None:
    subprocess.run(
        [PYTHON, "-m", "pbr.cli", "--db", db, *args], check=True, capture_output=True, env={**os.environ, **(env or {})}
    )


class User:
    """One person's browser: a cookie jar, the CSRF token, and the pages it may open."""

    def __init__(self, base: str, name: str):
        self.base, self.name = base, name
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, b""

    def sign_in(self) -> None:
        _, page = self.get("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)[1].decode()
        body = urllib.parse.urlencode({"name": self.name, "password": PASSWORD, "csrf_token": token}).encode()
        self.opener.open(self.base + "/login", data=body, timeout=60).read()


def run_user(
    user: User,
    paths: list[tuple[str, str]],
    until: float,
    results: dict,
    lock: threading.Lock,
    think: tuple[float, float],
) -> None:
    rng = random.Random(user.name)
    time.sleep(rng.uniform(0, think[1]))  # people do not all click at the same instant
    while time.monotonic() < until:
        kind, path = rng.choice(paths)
        started = time.perf_counter()
        status, _ = user.get(path)
        elapsed = time.perf_counter() - started
        with lock:
            results[kind].append(elapsed)
            if status != 200:
                results["errors"].append(f"{status} {path}")
        time.sleep(rng.uniform(*think))


def main() -> None:
    parser = arguments(__doc__)
    parser.set_defaults(families=2000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=[1.0, 5.0],
        metavar=("LEAST", "MOST"),
        help="seconds a user reads a page before the next (0 0: no pause)",
    )
    options = parser.parse_args()
    folder = options.work / f"demo-{options.families}"
    db = f"sqlite:///{folder / 'pbr.db'}"
    if not (folder / "pbr.db").exists():
        subprocess.run(
            [PYTHON, "-m", "pbr.cli", "demo", "--families", str(options.families), "--folder", str(folder)],
            check=True,
            capture_output=True,
        )
    names = [f"load{i:02d}" for i in range(options.users)]
    roles = ["coordinator", "auditor"]
    for i, name in enumerate(names):
        subprocess.run(
            [PYTHON, "-m", "pbr.cli", "--db", db, "users", "add", name, "--role", roles[i % 2]],
            capture_output=True,
            env={**os.environ, "PBR_NEW_PASSWORD": PASSWORD},
        )
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "pbr.cli", "--db", db, "serve", "--port", str(port), "--as-of", options.as_of],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/login", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        users = [User(base, name) for name in names]
        for user in users:
            user.sign_in()
        _, listing = users[0].get("/api/families")
        families = [f["family_id"] for f in json.loads(listing)][:500]
        _, claims = users[0].get("/claims")
        refs = sorted(set(re.findall(rb"/claims\?ref=([A-Za-z0-9._-]+)", claims))) or [b""]
        paths = [("family page", f"/families/{f}") for f in families] + [
            ("claim page", f"/claims?ref={r.decode()}") for r in refs
        ] * 50
        started = time.perf_counter()
        users[0].get(paths[0][1])  # the day's decisions, worked out once before the load
        warm = time.perf_counter() - started
        results: dict[str, list] = defaultdict(list)
        lock = threading.Lock()
        until = time.monotonic() + options.seconds
        think = tuple(options.think)
        threads = [threading.Thread(target=run_user, args=(u, paths, until, results, lock, think)) for u in users]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=30)
    total = sum(len(v) for k, v in results.items() if k != "errors")
    print(
        f"{options.users} users reading each page {options.think[0]:g} to {options.think[1]:g} s, for {wall:.0f} s "
        f"over {options.families:,} families (first page of the day "
        f"{warm:.1f} s): {total:,} requests, {total / wall:.1f} requests/s, {len(results['errors'])} errors"
    )
    for kind in ("family page", "claim page"):
        times = sorted(results[kind])
        if times:
            p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
            verdict = "within" if p95 < TARGET_P95 else "over"
            print(
                f"  {kind:<12} {len(times):>6} requests  p50 {p50:.2f} s  p95 {p95:.2f} s ({verdict} the "
                f"{TARGET_P95:g} s target)"
            )
    for error in sorted(set(results["errors"]))[:10]:
        print(f"  error: {error}")


if __name__ == "__main__":
    main()
