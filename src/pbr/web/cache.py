"""The web app's decisions: worked out once per as-of day and kept until the database changes."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from pbr.evaluate import Evaluation, evaluate
from pbr.plan import Plan
from pbr.store import Store


@dataclass
class _Kept:
    marker: tuple
    made: float
    evaluation: Evaluation


class DecisionCache:
    """Evaluations of the whole database, one per as-of day, for the pages of a running app.

    An evaluation is used again while the store's change marker is the same (no load, form entry or claim
    step since) and it is younger than `max_age` seconds, which bounds how long a change made to the
    database outside pbr can go unseen. At most `keep` days are kept.
    """

    def __init__(
        self,
        store: Store,
        plan: Plan,
        keep: int = 3,
        max_age: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store, self.plan, self.keep, self.max_age, self.clock = store, plan, keep, max_age, clock
        self._kept: OrderedDict[dt.date, _Kept] = OrderedDict()
        self._others: OrderedDict[tuple[str, dt.date], _Kept] = OrderedDict()
        # one evaluation at a time: a burst of first requests waits for one result instead of each making its own
        self._lock = threading.Lock()

    def decisions(self, day: dt.date) -> Evaluation:
        # read before evaluating: a change landing meanwhile leaves the kept result marked old, so it is redone
        marker = self.store.change_marker()
        with self._lock:
            kept = self._kept.get(day)
            if kept is not None and kept.marker == marker and self.clock() - kept.made < self.max_age:
                self._kept.move_to_end(day)
                return kept.evaluation
            evaluation = evaluate(as_of=day, plan=self.plan, store=self.store)
            self._kept[day] = _Kept(marker, self.clock(), evaluation)
            self._kept.move_to_end(day)
            while len(self._kept) > self.keep:
                self._kept.popitem(last=False)
            return evaluation

    def kept(self, name: str, day: dt.date, compute: Callable[[], object]) -> object:
        """Another whole-database result for `day` (`compute()`), kept as the evaluations are."""
        marker = self.store.change_marker()
        with self._lock:
            found = self._others.get((name, day))
            if found is not None and found.marker == marker and self.clock() - found.made < self.max_age:
                return found.evaluation
            result = compute()
            self._others[(name, day)] = _Kept(marker, self.clock(), result)
            self._others.move_to_end((name, day))
            while len(self._others) > self.keep:
                self._others.popitem(last=False)
            return result
