"""Which indicators apply, from the tenant's profile and each training action.

Per action: the action's category picks the referential column; conditional
cells need every listed condition (certifying, work-study, over two days, the
tenant subcontracting); an action delivered as a subcontractor drops the
indicators marked ``not_when_subcontracted`` (1, 2, 3). Organisation level: an
indicator applies when it applies to at least one action, or, with no action
known, when the tenant's profile allows it (unknown conditions count as met so
nothing is hidden).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from preuve.config.settings import TenantConfig
from preuve.evidence.model import ActionCategory, TrainingAction
from preuve.mapping.referential import Indicator, Referential

# Two days of training (7-hour days): 12 applies to trainings "longer than 2 days".
TWO_DAYS_HOURS = 14.0


@dataclass(frozen=True, slots=True)
class Applicability:
    applies: bool
    disputed: bool = False
    new_entrant_process_only: bool = False


def over_two_days(action: TrainingAction) -> bool | None:
    """True when the action lasts more than 2 days; None when unknown.

    The duration in hours wins over the dates: a 12-hour course spread over four
    weeks of evening sessions is not a training "longer than 2 days".
    """
    if action.duration_hours is not None:
        return action.duration_hours > TWO_DAYS_HOURS
    if action.start_date is not None and action.end_date is not None:
        return (action.end_date - action.start_date).days + 1 > 2
    return None


def _conditions_hold(
    indicator: Indicator, tenant: TenantConfig, action: TrainingAction | None
) -> bool:
    for condition in indicator.conditions:
        if condition == "tenant_subcontracting":
            if not tenant.subcontracting:
                return False
        elif action is None:
            continue  # profile only: an unknown condition does not hide the indicator
        elif condition == "certifying":
            if not (action.certifying or action.category is ActionCategory.APPRENTICESHIP):
                return False
        elif condition == "work_study":
            if not (action.work_study or action.category is ActionCategory.APPRENTICESHIP):
                return False
        elif condition == "over_two_days" and over_two_days(action) is False:
            return False
    return True


def indicator_applies(
    indicator: Indicator,
    tenant: TenantConfig,
    category: ActionCategory,
    action: TrainingAction | None = None,
) -> Applicability:
    cell = indicator.applies_to.for_category(category)
    process_only = tenant.new_entrant and indicator.new_entrant_process_only
    if cell == "no":
        return Applicability(applies=False)
    if action is not None and action.subcontracted and indicator.not_when_subcontracted:
        return Applicability(applies=False)
    if cell in ("if_conditions", "disputed") and not _conditions_hold(indicator, tenant, action):
        return Applicability(applies=False, disputed=cell == "disputed")
    return Applicability(
        applies=True, disputed=cell == "disputed", new_entrant_process_only=process_only
    )


ProfileKey = tuple[ActionCategory, bool, bool, bool, bool | None]


def profile_key(action: TrainingAction) -> ProfileKey:
    """What applicability depends on: actions with the same key get the same answer."""
    return (
        action.category,
        action.certifying,
        action.work_study,
        action.subcontracted,
        over_two_days(action),
    )


def action_applicability(
    referential: Referential,
    tenant: TenantConfig,
    action: TrainingAction,
    cache: dict[ProfileKey, dict[int, Applicability]] | None = None,
) -> dict[int, Applicability]:
    """Applicability of every indicator to one action (memoised by profile in ``cache``)."""
    key = profile_key(action)
    if cache is not None and key in cache:
        return cache[key]
    found = {
        i.number: indicator_applies(i, tenant, action.category, action)
        for i in referential.indicators
    }
    if cache is not None:
        cache[key] = found
    return found


def organisation_applicability(
    referential: Referential, tenant: TenantConfig, actions: Iterable[TrainingAction]
) -> dict[int, Applicability]:
    """An indicator applies to the organisation when it applies to one of its actions."""
    cache: dict[ProfileKey, dict[int, Applicability]] = {}
    per_action = [action_applicability(referential, tenant, a, cache) for a in actions]
    result: dict[int, Applicability] = {}
    for indicator in referential.indicators:
        found: list[Applicability]
        if per_action:
            found = [applicability[indicator.number] for applicability in per_action]
        else:
            found = [indicator_applies(indicator, tenant, c) for c in tenant.categories]
        applying = [a for a in found if a.applies]
        result[indicator.number] = (
            Applicability(
                applies=True,
                disputed=any(a.disputed for a in applying),
                new_entrant_process_only=any(a.new_entrant_process_only for a in applying),
            )
            if applying
            else Applicability(applies=False)
        )
    return result
