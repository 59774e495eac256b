"""`pbr` whose scheduled jobs each hold their lease for some seconds before they work: the stop and the lease
tests need a job that is still running when they act.

Run as `python held_scheduler.py SECONDS PBR-ARGUMENTS...`.
"""

import sys
import time

from pbr.cli import run
from pbr.jobs import tasks


def held(task, seconds: float):
    def run_held(config, ctx):
        time.sleep(seconds)
        return task(config, ctx)

    return run_held


if __name__ == "__main__":
    seconds = float(sys.argv[1])
    # the task table is the scheduler's registry: this process's copy runs each job late
    for job, task in list(tasks.TASKS.items()):
        tasks.TASKS[job] = held(task, seconds)
    sys.argv = ["pbr", *sys.argv[2:]]
    run()
