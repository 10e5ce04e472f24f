"""Matching: suppliers to register organisations (``matcher``), with a user's corrections
(``overrides``), the per-council supplier table (``suppliers``) and scoring against a key
(``evaluation``)."""

from normalise.matching.matcher import Matcher, MatcherError, match_csv

__all__ = ["Matcher", "MatcherError", "match_csv"]
