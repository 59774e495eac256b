"""pbr: outcomes tracking and payment-by-results claims for English councils.

The public surface is small: load a plan, read a data set, evaluate it.
"""
from pbr.plan import Plan, PlanError, load_plan
from pbr.feeds import Dataset, read_dataset
from pbr.evaluate import evaluate

__version__ = "0.1.0"
__all__ = ["Plan", "PlanError", "load_plan", "Dataset", "read_dataset", "evaluate", "__version__"]
