"""Which indicators apply, from the tenant's profile and each training action.

Per action: the action's category picks the referential column; conditional
cells need every listed condition (certifying, work-study, periods in a company,
over two days, the tenant subcontracting); an action delivered as a subcontractor
drops the indicators marked ``not_when_subcontracted`` (1, 2, 3). Organisation
level: an indicator applies when it applies to at least one action. With no action
known, the tenant's profile decides: its categories, and its ``certifying``,
``work_study`` and ``work_based_periods`` flags (None, unknown, counts as met so
nothing is hidden; False hides the indicators that need the condition). With
actions known, a flag set to True keeps the indicators that need it applicable to
the organisation even when no known action needs them (``from_profile``), and so
does a declared category none of the known actions belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from preuve.config.settings import TenantConfig
from preuve.evidence.model import ActionCategory, TrainingAction
from preuve.mapping.referential import Condition, Indicator, Referential

# Two days of training (7-hour days): 12 applies to trainings "longer than 2 days".
TWO_DAYS_HOURS = 14.0

# Conditions the organisation's profile can declare (TenantConfig flags).
PROFILE_CONDITIONS: frozenset[Condition] = frozenset(
    {"certifying", "work_study", "work_based_periods"}
)


@dataclass(frozen=True, slots=True)
class Applicability:
    applies: bool
    disputed: bool = False
    new_entrant_process_only: bool = False
    # Organisation level: applies only because the profile declares it (a flag set to
    # True) while no known action needs it.
    from_profile: bool = False


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


def profile_condition(
    condition: Condition, tenant: TenantConfig, category: ActionCategory
) -> bool | None:
    """What the tenant's profile says of a condition for a category; None: unknown.

    An apprenticeship always prepares a certification and is work-study (so it has
    periods in a company), whatever the flags say.
    """
    if condition == "tenant_subcontracting":
        return tenant.subcontracting
    if condition == "over_two_days":
        return None  # a property of each action: the profile cannot say
    if category is ActionCategory.APPRENTICESHIP:
        return True
    if condition == "certifying":
        return tenant.certifying
    if condition == "work_study":
        return tenant.work_study
    # work_based_periods: work-study training always includes periods in a company.
    return True if tenant.work_study else tenant.work_based_periods


def action_condition(condition: Condition, tenant: TenantConfig, action: TrainingAction) -> bool:
    """Whether one action meets a condition (an unknown duration counts as met)."""
    apprenticeship = action.category is ActionCategory.APPRENTICESHIP
    if condition == "tenant_subcontracting":
        return tenant.subcontracting
    if condition == "certifying":
        return action.certifying or apprenticeship
    if condition == "work_study":
        return action.work_study or apprenticeship
    if condition == "work_based_periods":
        return action.in_company_periods or apprenticeship
    return over_two_days(action) is not False


def _conditions_hold(
    indicator: Indicator,
    tenant: TenantConfig,
    category: ActionCategory,
    action: TrainingAction | None,
) -> bool:
    if action is None:  # profile only: only an explicit "no" hides the indicator
        return all(
            profile_condition(c, tenant, category) is not False for c in indicator.conditions
        )
    return all(action_condition(c, tenant, action) for c in indicator.conditions)


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
    if cell in ("if_conditions", "disputed") and not _conditions_hold(
        indicator, tenant, category, action
    ):
        return Applicability(applies=False, disputed=cell == "disputed")
    return Applicability(
        applies=True, disputed=cell == "disputed", new_entrant_process_only=process_only
    )


def declared_by_profile(indicator: Indicator, tenant: TenantConfig) -> Applicability:
    """Applies because the profile declares every condition a conditional cell needs.

    Only cells that need at least one profile flag count (``certifying``,
    ``work_study``, ``work_based_periods`` set to True): the duration and the
    tenant's subcontracting are judged per action.
    """
    found: list[Applicability] = []
    for category in tenant.categories:
        cell = indicator.applies_to.for_category(category)
        if cell not in ("if_conditions", "disputed"):
            continue
        if not PROFILE_CONDITIONS & set(indicator.conditions):
            continue
        if all(profile_condition(c, tenant, category) is True for c in indicator.conditions):
            found.append(Applicability(applies=True, disputed=cell == "disputed"))
    if not found:
        return Applicability(applies=False)
    return Applicability(
        applies=True,
        disputed=all(a.disputed for a in found),
        new_entrant_process_only=tenant.new_entrant and indicator.new_entrant_process_only,
        from_profile=True,
    )


def declared_by_category(
    indicator: Indicator, tenant: TenantConfig, categories: Iterable[ActionCategory]
) -> Applicability:
    """Applies because the profile declares a category no known action belongs to.

    A tenant that declares apprenticeship while only its training actions are synced
    still owes the apprenticeship indicators (14, 15, 20, 29): the profile-only rule
    answers for each such category.
    """
    found = [
        applicability
        for category in categories
        if (applicability := indicator_applies(indicator, tenant, category)).applies
    ]
    if not found:
        return Applicability(applies=False)
    return Applicability(
        applies=True,
        disputed=all(a.disputed for a in found),
        new_entrant_process_only=any(a.new_entrant_process_only for a in found),
        from_profile=True,
    )


ProfileKey = tuple[ActionCategory, bool, bool, bool, bool, bool | None]


def profile_key(action: TrainingAction) -> ProfileKey:
    """What applicability depends on: actions with the same key get the same answer."""
    return (
        action.category,
        action.certifying,
        action.work_study,
        action.in_company_periods,
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
    """An indicator applies to the organisation when it applies to one of its actions.

    With no action known, the profile decides (categories and flags). With actions
    known, an indicator no action needs still applies when the profile declares it:
    by a flag set to True, or by a category none of the known actions belongs to.
    An indicator is disputed at organisation level only when every applying action
    (or category) finds it disputed: one undisputed need settles it.
    """
    cache: dict[ProfileKey, dict[int, Applicability]] = {}
    known = list(actions)
    per_action = [action_applicability(referential, tenant, a, cache) for a in known]
    unsynced = [c for c in tenant.categories if c not in {a.category for a in known}]
    result: dict[int, Applicability] = {}
    for indicator in referential.indicators:
        found: list[Applicability]
        if per_action:
            found = [applicability[indicator.number] for applicability in per_action]
        else:
            found = [indicator_applies(indicator, tenant, c) for c in tenant.categories]
        applying = [a for a in found if a.applies]
        if applying:
            result[indicator.number] = Applicability(
                applies=True,
                disputed=all(a.disputed for a in applying),
                new_entrant_process_only=any(a.new_entrant_process_only for a in applying),
            )
        elif per_action:  # no known action needs it: does the profile declare it?
            declared = declared_by_profile(indicator, tenant)
            if not declared.applies:
                declared = declared_by_category(indicator, tenant, unsynced)
            result[indicator.number] = declared
        else:
            result[indicator.number] = Applicability(applies=False)
    return result
