"""The case state machine: which status may follow which, and what closing needs.

    received → in_triage → assessed → referred → monitoring → closed (with an outcome)
                                    ↘ closed              ↘ closed
Any open case can be closed as a duplicate or withdrawn; a closed case can be reopened
(back to in_triage). Every change is a decision the author can undo for a short while.
"""

from __future__ import annotations

from safeguard.cases.case_models import CaseStatus as S
from safeguard.cases.case_models import Outcome

TRANSITIONS: dict[S, frozenset[S]] = {
    S.RECEIVED: frozenset({S.IN_TRIAGE, S.CLOSED}),
    S.IN_TRIAGE: frozenset({S.ASSESSED, S.CLOSED}),
    S.ASSESSED: frozenset({S.REFERRED, S.CLOSED, S.IN_TRIAGE}),
    S.REFERRED: frozenset({S.MONITORING, S.CLOSED}),
    S.MONITORING: frozenset({S.CLOSED}),
    S.CLOSED: frozenset({S.IN_TRIAGE}),
}
# Outcomes that only make sense once the content was seen and judged or acted on.
_NEEDS_ASSESSMENT = frozenset({Outcome.REMOVED, Outcome.UNAVAILABLE, Outcome.MOVED,
                               Outcome.NOT_ILLEGAL})
_ASSESSED_OR_LATER = frozenset({S.ASSESSED, S.REFERRED, S.MONITORING})


def check_transition(current: S, target: S, outcome: Outcome | None) -> str | None:
    """None when allowed, else the reason in plain words."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current]))
        return (f"a {current.value.replace('_', ' ')} case cannot become "
                f"{target.value.replace('_', ' ')}; it can become: {allowed}")
    if target == S.CLOSED:
        if outcome is None:
            return "closing a case needs an outcome: " + ", ".join(o.value for o in Outcome)
        if outcome in _NEEDS_ASSESSMENT and current not in _ASSESSED_OR_LATER:
            return (f"the outcome {outcome.value.replace('_', ' ')} needs an assessed case; "
                    "close it as duplicate or withdrawn, or assess it first")
    elif outcome is not None:
        return "only closing a case takes an outcome"
    return None
