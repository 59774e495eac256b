"""The decision engine: whole tables in, one decision per family out, with the evidence of each measure."""

from pbr.engine import eligibility, measures  # noqa: F401  (their rule kinds register themselves)
