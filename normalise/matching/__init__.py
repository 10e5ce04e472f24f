"""Matching: suppliers to register organisations (``matcher``), linked register entries as one
body (``bodies``), a user's corrections (``overrides``), the per-council supplier table
(``suppliers``), who gets the money (``shares``) and scoring against a key (``evaluation``)."""

from normalise.matching.matcher import Matcher, MatcherError, match_csv

__all__ = ["Matcher", "MatcherError", "match_csv"]
