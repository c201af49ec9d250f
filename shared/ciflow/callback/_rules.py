"""Which sinks a result goes to: every rule it matches, plus review sinks for suspicious moderation verdicts.

A CI workflow's reports (its jobs' TaskFinish, its WorkflowFinish: ``kind`` ``workflow``, ``job_id`` the RunId) are
authenticated like any report, by the callback URL's token (the workflow's ``NotifyConfig.Url``), but carry no
ciflow-signed UserData: their ``route`` is None, so a rule naming a ``route`` never matches them; rules on
``kind``, ``tag`` and ``state`` (or a rule without conditions) route them.
"""

from ..results import JobResult
from ._settings import RouteRule

__all__ = ["verdict_name", "matches", "select_sinks"]

_VERDICTS = {0: "normal", 1: "block", 2: "review"}


def verdict_name(result: JobResult) -> str | None:
    if result.verdict is None or result.verdict.result is None:
        return None
    return _VERDICTS.get(result.verdict.result, "review")


def matches(rule: RouteRule, result: JobResult) -> bool:
    checks = (
        (rule.kind, result.kind),
        (rule.tag, result.tag),
        (rule.state, result.state),
        (rule.route, result.route),
        (rule.verdict, verdict_name(result)),
    )
    return all(accepted is None or value in accepted for accepted, value in checks)


def select_sinks(rules: list[RouteRule], result: JobResult, review_sinks: list[str]) -> list[str]:
    """Sink names in first-mention order, without repeats."""
    chosen: dict[str, None] = {}
    for rule in rules:
        if matches(rule, result):
            chosen.update(dict.fromkeys(rule.sinks))
    if verdict_name(result) == "review":
        chosen.update(dict.fromkeys(review_sinks))
    return list(chosen)
