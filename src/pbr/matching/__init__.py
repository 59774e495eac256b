"""Partner records without a person_id (matching.md): matched to members, reviewed by people, and the families
no member matched identified.

The public surface is small: `match_files`, the review decisions (`accept`, `reject`, `unlink`), `review_queue`,
`links`, `identify`, `forget_unmatched` and the configuration. splink and DuckDB stay behind it.
"""

from pbr.matching.identify import Identification, identify
from pbr.matching.retention import Forgotten, forget_unmatched
from pbr.matching.review import (
    DecidedMeanwhile,
    QueuedRow,
    ReviewError,
    accept,
    links,
    partner_row,
    reject,
    review_queue,
    unlink,
)
from pbr.matching.runs import FileOutcome, MatchReport, match_files
from pbr.matching_config import MatchingConfig, MatchingConfigError, load_matching_config

__all__ = [
    "DecidedMeanwhile",
    "FileOutcome",
    "Forgotten",
    "Identification",
    "MatchReport",
    "MatchingConfig",
    "MatchingConfigError",
    "QueuedRow",
    "ReviewError",
    "accept",
    "forget_unmatched",
    "identify",
    "links",
    "load_matching_config",
    "match_files",
    "partner_row",
    "reject",
    "review_queue",
    "unlink",
]
