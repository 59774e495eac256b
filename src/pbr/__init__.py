"""pbr: outcomes tracking and payment-by-results claims for English councils.

The public surface is small: load a plan, read a data set, evaluate it.
"""

from pbr.evaluate import evaluate
from pbr.feeds import Dataset, read_dataset
from pbr.plan import Plan, PlanError, load_plan
from pbr.version import VERSION as __version__

__all__ = ["Dataset", "Plan", "PlanError", "__version__", "evaluate", "load_plan", "read_dataset"]
