"""The quality coach: scores a closed conversation on the criteria of a good consultant.
Pure Python, no I/O besides reading its rules once (``data/rules.toml``). See docs/quality.md."""
from frontdesk.quality.criteria import (
    CRITERIA,
    DEFAULT_SETTINGS,
    CriterionResult,
    Msg,
    QualityReport,
    Rules,
    load_rules,
    score_conversation,
)

__all__ = ["CRITERIA", "DEFAULT_SETTINGS", "CriterionResult", "Msg", "QualityReport", "Rules", "load_rules",
           "score_conversation"]
