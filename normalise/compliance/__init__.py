"""Compliance with the Transparency Code: the rules (``rules``), quarters and deadlines
(``periods``) and the HTML report (``report``, with its Jinja ``templates/``)."""

from normalise.compliance.rules import compute_compliance, monthly_spend

__all__ = ["compute_compliance", "monthly_spend"]
