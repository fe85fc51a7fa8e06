"""User-facing reasons of the coverage, French first.

A count drives its nouns, verbs and adjectives with ``{n:singular|plural}``
(see :mod:`preuve.i18n`).
"""

from __future__ import annotations

from collections.abc import Iterable

from preuve.i18n import Text

NO_LEARNERS = Text(
    fr="aucun apprenant inscrit n'est connu pour cette action",
    en="no enrolled learner is known for this action",
)
NOT_STARTED = Text(
    fr="action pas encore commencée (début le {start})",
    en="action not started yet (starts on {start})",
)
NOT_STARTED_DUE = Text(
    fr="action pas encore commencée (début le {start}, échéance le {due})",
    en="action not started yet (starts on {start}, due by {due})",
)
NOT_STARTED_DUE_UNKNOWN = Text(
    fr="action pas encore commencée (début le {start}) ; échéance après la fin de l'action, "
    "dont la date est inconnue",
    en="action not started yet (starts on {start}); due after the end of the action, whose "
    "date is unknown",
)
# Learners are enrolled, but none is concerned: the rule has nothing to check.
NO_LEARNER_CONCERNED = Text(
    fr="aucun apprenant concerné : tous ont abandonné ou sont suspendus",
    en="no learner concerned: all of them dropped out or are suspended",
)
POSITIONING_OK = Text(
    fr="{n} {n:apprenant|apprenants} sur {total} {n:a|ont} un positionnement d'entrée",
    en="{n} {n:learner|learners} out of {total} {n:has|have} an entry positioning",
)
POSITIONING_MISSING = Text(
    fr="{n} {n:apprenant|apprenants} sur {total} {n:n'a|n'ont} pas de positionnement d'entrée : "
    "{refs}",
    en="{n} {n:learner|learners} out of {total} {n:has|have} no entry positioning: {refs}",
)
POSITIONING_LATE = Text(
    fr="{n} {n:apprenant|apprenants} sur {total} {n:a|ont} un positionnement plus de {days} "
    "{days:jour|jours} après le début : {refs}",
    en="{n} {n:learner|learners} out of {total} {n:was|were} positioned more than {days} "
    "{days:day|days} after the start: {refs}",
)
POSITIONING_DUE = Text(
    fr="{n} {n:positionnement d'entrée attendu|positionnements d'entrée attendus} au plus tard "
    "le {due} : {refs}",
    en="{n} entry {n:positioning|positionings} expected by {due}: {refs}",
)
FINAL_OK = Text(
    fr="{n} {n:apprenant|apprenants} sur {total} ayant terminé {n:a|ont} une évaluation des acquis",
    en="{n} {n:learner|learners} out of {total} who finished {n:has|have} an assessment of the "
    "objectives",
)
FINAL_MISSING = Text(
    fr="{n} {n:apprenant|apprenants} sur {total} ayant terminé {n:n'a|n'ont} pas d'évaluation "
    "des acquis : {refs}",
    en="{n} {n:learner|learners} out of {total} who finished {n:has|have} no assessment of the "
    "objectives: {refs}",
)
FINAL_DUE = Text(
    fr="évaluation des acquis attendue au plus tard le {due} pour {n} "
    "{n:apprenant|apprenants} : {refs}",
    en="assessment of the objectives expected by {due} for {n} {n:learner|learners}: {refs}",
)
ATTENDANCE_OK = Text(
    fr="émargement ou traces d'activité pour {slots} {slots:créneau|créneaux} de {total} "
    "{total:apprenant|apprenants}",
    en="attendance or activity traces for {slots} {slots:slot|slots} of {total} "
    "{total:learner|learners}",
)
ATTENDANCE_MISSING = Text(
    fr="{n} {n:apprenant|apprenants} sur {total} {n:n'a|n'ont} pas émargé "
    "{slots:à l'unique créneau|à au moins un des {slots} créneaux} : {refs}",
    en="{n} {n:learner|learners} out of {total} did not sign in "
    "{slots:for the only slot|for at least one of the {slots} slots}: {refs}",
)
# The start date may be unknown here: the message does not name it.
ATTENDANCE_NONE = Text(
    fr="aucun émargement ni trace d'activité pour cette action",
    en="no attendance or activity trace for this action",
)
DISTANCE_NO_TRACE = Text(
    fr="{n} {n:apprenant|apprenants} sur {total} sans trace d'activité : {refs}",
    en="{n} {n:learner|learners} out of {total} {n:has|have} no activity trace: {refs}",
)
DISTANCE_DUE = Text(
    fr="{n} {n:apprenant|apprenants} sans trace d'activité à distance, attendue au plus tard "
    "le {due} : {refs}",
    en="{n} {n:learner|learners} without distance activity trace, expected by {due}: {refs}",
)
# Rendered in place of a deadline that depends on a date not known yet.
UNKNOWN_DUE_FR = "? (fin de l'action, date inconnue)"
UNKNOWN_DUE_EN = "? (end of the action, date unknown)"
DROPOUT_NONE = Text(fr="aucun abandon à suivre", en="no drop-out to follow up")
DROPOUT_OK = Text(
    fr="{n} {n:abandon suivi|abandons suivis} (relance tracée)",
    en="{n} {n:drop-out|drop-outs} followed up (traced contact)",
)
DROPOUT_MISSING = Text(
    fr="{n} {n:abandon|abandons} sur {total} sans suivi tracé : {refs}",
    en="{n} {n:drop-out|drop-outs} out of {total} without traced follow-up: {refs}",
)
DROPOUT_DUE = Text(
    fr="suivi de {n} {n:abandon|abandons} attendu au plus tard le {due} : {refs}",
    en="follow-up of {n} {n:drop-out|drop-outs} expected by {due}: {refs}",
)
DESCRIPTION_MISSING = Text(
    fr="aucune fiche programme (description de l'action)",
    en="no course description for this action",
)
DESCRIPTION_FIELDS = Text(
    fr="fiche programme incomplète, manque : {fields}",
    en="course description incomplete, missing: {fields}",
)
DESCRIPTION_OK = Text(
    fr="fiche programme complète ({fields})",
    en="course description complete ({fields})",
)
RESOURCES_OK = Text(
    fr="{n} {n:ressource pédagogique|ressources pédagogiques}",
    en="{n} learning {n:resource|resources}",
)
RESOURCES_MISSING = Text(
    fr="{n} {n:ressource pédagogique|ressources pédagogiques} (au moins {min} "
    "{min:attendue|attendues})",
    en="{n} learning {n:resource|resources} (at least {min} expected)",
)
DISTANCE_NOT_CONCERNED = Text(fr="pas de module à distance", en="no distance module")
DISTANCE_OK = Text(
    fr="modules à distance suivis par {total:l'apprenant|les {total} apprenants}",
    en="distance modules followed by {total:the learner|all {total} learners}",
)
SURVEY_OK = Text(
    fr="enquête {timing} ({stakeholder}) : {responses} {responses:réponse|réponses} sur "
    "{invited} ({rate}\u202f%)",
    en="{timing} survey ({stakeholder}): {responses} {responses:answer|answers} out of "
    "{invited} ({rate}%)",
)
SURVEY_LOW = Text(
    fr="enquête {timing} ({stakeholder}) : {responses} {responses:réponse|réponses} sur "
    "{invited} ({rate}\u202f%), sous le seuil de {threshold}\u202f%",
    en="{timing} survey ({stakeholder}): {responses} {responses:answer|answers} out of "
    "{invited} ({rate}%), below the {threshold}% threshold",
)
SURVEY_MISSING = Text(
    fr="aucune enquête {timing} auprès des {stakeholder} (attendue au plus tard le {due})",
    en="no {timing} survey of {stakeholder} (expected by {due})",
)
SURVEY_DUE = Text(
    fr="enquête {timing} auprès des {stakeholder} attendue au plus tard le {due}",
    en="{timing} survey of {stakeholder} expected by {due}",
)
TIMING_FR = {"hot": "à chaud", "cold": "à froid"}
TIMING_EN = {"hot": "hot", "cold": "cold"}
STAKEHOLDER_FR = {
    "learner": "apprenants",
    "employer": "entreprises",
    "funder": "financeurs",
    "trainer": "équipes pédagogiques",
    "client": "donneurs d'ordres",
}
STAKEHOLDER_EN = {
    "learner": "learners",
    "employer": "companies",
    "funder": "funders",
    "trainer": "teaching teams",
    "client": "client organisations",
}
NO_TRAINERS = Text(
    fr="aucun formateur inscrit sur une action active",
    en="no trainer enrolled on an active action",
)
TRAINERS_OK = Text(
    fr="{total} {total:formateur actif|formateurs actifs} : CV récent et qualification en rapport",
    en="{total} active {total:trainer|trainers}: recent CV and matching qualification",
)
TRAINERS_FAULT = Text(
    fr="{n} {n:formateur|formateurs} sur {total} : {details}",
    en="{n} {n:trainer|trainers} out of {total}: {details}",
)
# One trainer's problems, each below without the ref, joined by ", ".
TRAINER_PROBLEMS = Text(fr="{ref} : {problems}", en="{ref}: {problems}")
TRAINER_NO_CV = Text(fr="aucun CV", en="no CV")
TRAINER_OLD_CV = Text(
    fr="CV de plus de {months} mois",
    en="CV older than {months} {months:month|months}",
)
TRAINER_NO_MATCH = Text(
    fr="aucune qualification ni expérience en rapport avec {domains}",
    en="no qualification or experience matching {domains}",
)
# The trainer's actions name no domain: any qualification or experience counts.
TRAINER_NO_QUALIFICATION = Text(
    fr="aucune qualification ni expérience",
    en="no qualification or experience",
)
TRAINER_UNDATED_MATCH = Text(
    fr="qualification ou expérience non datée (en rapport avec {domains})",
    en="undated qualification or experience (matching {domains})",
)
TRAINER_UNDATED = Text(
    fr="qualification ou expérience non datée",
    en="undated qualification or experience",
)
CPD_OK = Text(
    fr="{total} {total:formateur actif|formateurs actifs} avec une formation continue "
    "{months:au cours du dernier mois|au cours des {months} derniers mois}",
    en="{total} active {total:trainer|trainers} with continuing development within the "
    "{months:last month|last {months} months}",
)
CPD_FAULT = Text(
    fr="{n} {n:formateur|formateurs} sur {total} sans formation continue datée "
    "{months:au cours du dernier mois|au cours des {months} derniers mois} : {refs}",
    en="{n} {n:trainer|trainers} out of {total} without dated continuing development within "
    "the {months:last month|last {months} months}: {refs}",
)
RATES_OK = Text(
    fr="indicateurs de résultats calculés pour {n} {n:action terminée|actions terminées}",
    en="result indicators computed for {n} finished {n:action|actions}",
)
RATES_DUE = Text(
    fr="aucune action terminée : premiers résultats le {due}",
    en="no finished action yet: first results on {due}",
)
RATES_DUE_UNDATED = Text(
    fr="aucune action terminée, et aucune date de fin d'action connue pour les premiers résultats",
    en="no finished action yet, and no known end date for the first results",
)
RATES_NO_LEARNERS = Text(
    fr="résultats incalculables (aucun apprenant) pour : {refs}",
    en="results cannot be computed (no learner) for: {refs}",
)
MANUAL_NEEDED = Text(
    fr="preuve manuelle à joindre (document ou lien daté, avec sa validité)",
    en="manual proof needed (dated document or link, with its validity)",
)
MANUAL_OK = Text(
    fr="preuve manuelle « {title} » du {dated}, valable jusqu'au {until}",
    en="manual proof '{title}' of {dated}, valid until {until}",
)
MANUAL_OK_OPEN = Text(
    fr="preuve manuelle « {title} » du {dated}, sans date de fin de validité",
    en="manual proof '{title}' of {dated}, with no end of validity",
)
MANUAL_EXPIRED = Text(
    fr="preuve manuelle « {title} » expirée le {until} : à renouveler",
    en="manual proof '{title}' expired on {until}: renew it",
)
NEW_ENTRANT = Text(
    fr="nouvel entrant : à l'audit initial seul le processus formalisé est vérifié, "
    "joindre la procédure ({detail})",
    en="new entrant: the initial audit checks only the formalised process, attach the "
    "procedure ({detail})",
)
FIELD_LABELS_FR = {
    "objectives": "objectifs",
    "prerequisites": "prérequis",
    "duration_hours": "durée",
    "modalities": "modalités",
    "price": "tarif",
    "access_lead_time": "délai d'accès",
    "assessment_methods": "modalités d'évaluation",
    "accessibility": "accessibilité",
    "contacts": "contacts",
    "teaching_methods": "méthodes mobilisées",
}
FIELD_LABELS_EN = {
    "objectives": "objectives",
    "prerequisites": "prerequisites",
    "duration_hours": "duration",
    "modalities": "modalities",
    "price": "price",
    "access_lead_time": "access lead time",
    "assessment_methods": "assessment methods",
    "accessibility": "accessibility",
    "contacts": "contacts",
    "teaching_methods": "teaching methods",
}


def field_labels(fields: Iterable[str], language: str) -> str:
    """Course description fields named for a reader (a key without a label as is)."""
    labels = FIELD_LABELS_EN if language == "en" else FIELD_LABELS_FR
    return ", ".join(labels.get(f, f) for f in fields)


DERIVED_ALL_PROVEN = Text(
    fr="prouvé pour {total} {total:action concernée|actions concernées}",
    en="proven for {total} {total:action|actions} concerned",
)
DERIVED_GAPS = Text(
    fr="{n} {n:action|actions} sur {total} non {n:prouvée|prouvées} : {refs}",
    en="{n} {n:action|actions} out of {total} not proven: {refs}",
)
DERIVED_DUE = Text(
    fr="{n} {n:action|actions} sur {total} à échéance (au plus tard le {due}) : {refs}",
    en="{n} {n:action|actions} out of {total} due (by {due} at the latest): {refs}",
)
DERIVED_DUE_UNDATED = Text(
    fr="{n} {n:action|actions} sur {total} à échéance, à une date encore inconnue : {refs}",
    en="{n} {n:action|actions} out of {total} due, on a date not known yet: {refs}",
)
NOT_APPLICABLE = Text(
    fr="non applicable à ce profil ou à ces actions",
    en="not applicable to this profile or these actions",
)
STATUS_FR = {
    "proven": "prouvé",
    "partial": "partiel",
    "missing": "manquant",
    "due": "à échéance",
    "not_applicable": "non applicable",
    "manual": "preuve manuelle",
}
STATUS_EN = {
    "proven": "proven",
    "partial": "partial",
    "missing": "missing",
    "due": "due",
    "not_applicable": "not applicable",
    "manual": "manual proof",
}
# The non-conformity at stake (``IndicatorCoverage.nonconformity``), for a reader.
NONCONFORMITY_FR = {"minor": "mineure", "major": "majeure"}
NONCONFORMITY_EN = {"minor": "minor", "major": "major"}
NO_ACTIONS = Text(
    fr="aucune action de formation n'est connue : synchronisez une source",
    en="no training action is known: sync a source",
)

# --- Distance modules (19, rnq-2026) --------------------------------------------
DISTANCE_TRACES_OK = Text(
    fr="traces d'activité à distance pour {total:l'apprenant|les {total} apprenants} "
    "(contrôle par apprenant, pas par module)",
    en="distance activity traces for {total:the learner|all {total} learners} "
    "(checked per learner, not per module)",
)
DISTANCE_MODULES_MISSING = Text(
    fr="{n} {n:apprenant|apprenants} sur {total} {n:a|ont} achevé moins de {required} des "
    "{modules} modules à distance : {refs}",
    en="{n} {n:learner|learners} out of {total} completed fewer than {required} of the "
    "{modules} distance modules: {refs}",
)
DISTANCE_MODULES_DUE = Text(
    fr="achèvement des modules à distance attendu au plus tard le {due} pour {n} "
    "{n:apprenant|apprenants} : {refs}",
    en="completion of the distance modules expected by {due} for {n} {n:learner|learners}: {refs}",
)
DISTANCE_MODULES_CHECKED = Text(
    fr="{modules} {modules:module à distance contrôlé|modules à distance contrôlés} par "
    "achèvement, au moins {required} par apprenant",
    en="{modules} distance {modules:module|modules} checked by completion, at least "
    "{required} per learner",
)
DISTANCE_MODULES_UNTRACKED = Text(
    fr="{n} {n:module|modules} à distance sans suivi d'achèvement, non {n:vérifié|vérifiés}",
    en="{n} distance {n:module|modules} without completion tracking, not checked",
)

# --- Satisfaction (30) -----------------------------------------------------------
SURVEY_LOW_DUE = Text(
    fr="enquête {timing} ({stakeholder}) : {responses} {responses:réponse|réponses} sur "
    "{invited} ({rate}\u202f%), sous le seuil de {threshold}\u202f%, relances possibles "
    "jusqu'au {due}",
    en="{timing} survey ({stakeholder}): {responses} {responses:answer|answers} out of "
    "{invited} ({rate}%), below the {threshold}% threshold, reminders possible until {due}",
)
SURVEY_RATE_UNKNOWN = Text(
    fr="enquête {timing} ({stakeholder}) : {responses} {responses:réponse|réponses}, taux "
    "de réponse inconnu : nombre d'invités absent",
    en="{timing} survey ({stakeholder}): {responses} {responses:answer|answers}, response "
    "rate unknown: no invited count",
)
SURVEY_RATE_UNKNOWN_DUE = Text(
    fr="enquête {timing} ({stakeholder}) : {responses} {responses:réponse|réponses}, taux "
    "de réponse inconnu : nombre d'invités absent (à compléter au plus tard le {due})",
    en="{timing} survey ({stakeholder}): {responses} {responses:answer|answers}, response "
    "rate unknown: no invited count (to complete by {due})",
)
SURVEY_OK_UNKNOWN_INVITED = Text(
    fr="enquête {timing} ({stakeholder}) : {responses} {responses:réponse|réponses}, "
    "nombre d'invités inconnu (au moins {min} {min:réponse attendue|réponses attendues})",
    en="{timing} survey ({stakeholder}): {responses} {responses:answer|answers}, invited "
    "count unknown (at least {min} {min:answer|answers} expected)",
)

# --- Result indicators (2) ------------------------------------------------------
RATES_SUBCONTRACTED = Text(
    fr="{n} {n:action réalisée|actions réalisées} en sous-traitance {n:exclue|exclues} "
    "(le donneur d'ordres diffuse leurs résultats) : {refs}",
    en="{n} {n:action|actions} delivered as a subcontractor left out (the client "
    "publishes their results): {refs}",
)
RATES_ONLY_SUBCONTRACTED = Text(
    fr="toutes les actions sont réalisées en sous-traitance : le donneur d'ordres diffuse "
    "les indicateurs de résultats",
    en="every action is delivered as a subcontractor: the client publishes the result indicators",
)

# --- Manual components of indicators with evidence-based parts --------------------
COMPONENTS = {
    "recognition_funding": Text(
        fr="type de reconnaissance de la formation et modalités de financement publiés "
        "(référentiel 2026, provisoire)",
        en="type of recognition of the training and funding arrangements published "
        "(2026 referential, provisional)",
    ),
    "calculation_method": Text(
        fr="modalités de calcul des indicateurs de résultats publiées (référentiel 2026, "
        "provisoire)",
        en="calculation method of the result indicators published (2026 referential, provisional)",
    ),
    "violence_prevention": Text(
        fr="prévention et traitement des violences, dont sexistes et sexuelles, du "
        "harcèlement et des discriminations (référentiel 2026, provisoire)",
        en="prevention and handling of violence, including sexist and sexual violence, "
        "harassment and discrimination (2026 referential, provisional)",
    ),
    "pedagogical_referent": Text(
        fr="référent pédagogique désigné pour la formation (référentiel 2026, provisoire)",
        en="pedagogical referent appointed for the training (2026 referential, provisional)",
    ),
    "funder_feedback": Text(
        fr="appréciations des financeurs, sollicitées au moins une fois par an ou par "
        "participation à leurs webinaires ou réunions",
        en="funders' views, sought at least once a year or by taking part in their "
        "webinars or meetings",
    ),
    "funder_feedback_if_any": Text(
        fr="appréciations des financeurs le cas échéant, sollicitées au moins une fois par "
        "an ou par participation à leurs webinaires ou réunions (référentiel 2026, provisoire)",
        en="funders' views where there are funders, sought at least once a year or by "
        "taking part in their webinars or meetings (2026 referential, provisional)",
    ),
    "risk_analysis": Text(
        fr="analyse des risques sur la qualité des formations délivrées (référentiel 2026, "
        "provisoire)",
        en="risk analysis on the quality of the training delivered (2026 referential, provisional)",
    ),
    "content_evaluation": Text(
        fr="évaluation des contenus et des enseignements par les apprenants, distincte du "
        "recueil de satisfaction, résultats partagés avec les équipes pédagogiques et "
        "démarche d'amélioration dont l'efficacité est mesurée (référentiel 2026, provisoire)",
        en="learners' evaluation of the contents and teaching, separate from the "
        "satisfaction surveys, shared with the teaching teams, with an improvement approach "
        "whose effect is measured (2026 referential, provisional)",
    ),
}
COMPONENT_NEEDED = Text(
    fr="preuve manuelle à joindre (document ou lien daté) : {what}",
    en="manual proof needed (dated document or link): {what}",
)
COMPONENT_DONE = Text(fr="{what} : {detail}", en="{what}: {detail}")
COMPONENT_WAIVED = Text(
    fr="sans objet : l'organisme déclare ne pas être concerné ({what})",
    en="not applicable: the organisation declares it is not concerned ({what})",
)
FUNDERS_NOT_CONCERNED = Text(
    fr="financeurs non concernés : toutes les actions sont des bilans de compétences ou "
    "réalisées en sous-traitance",
    en="funders not concerned: every action is a skills assessment or delivered as a subcontractor",
)
REFERENT_NOT_REQUIRED = Text(
    fr="{n} {n:formateur|formateurs} : référent pédagogique exigé à partir de {min}",
    en="{n} {n:trainer|trainers}: a pedagogical referent is required from {min}",
)
# An indicator the profile declares (a flag set to true) that no known action needs.
PROFILE_DECLARED = Text(
    fr="déclaré par le profil de l'organisme, mais aucune action connue n'est concernée "
    "(marquez les actions concernées ou joignez une preuve pour l'organisme) : {detail}",
    en="declared by the organisation's profile, but no known action is concerned "
    "(flag the actions concerned or attach an organisation-wide proof): {detail}",
)
# A manual part whose proof is missing, while proofs of the indicator without a
# component are on file: they count for the main manual part only.
COMPONENT_UNTAGGED = Text(
    fr="{n} {n:preuve|preuves} de l'indicateur {indicator} sans composante {n:ne compte|ne "
    "comptent} pas pour cette partie (composante attendue : {key})",
    en="{n} {n:proof|proofs} of indicator {indicator} without a component {n:does|do} not "
    "count for this part (expected component: {key})",
)
# The main manual part of an indicator, while proofs of its other parts are on file.
MANUAL_OTHER_COMPONENTS = Text(
    fr="les preuves rattachées à {n:la composante|aux composantes} {keys} ne comptent pas "
    "pour cette partie",
    en="the proofs of the {n:component|components} {keys} do not count for this part",
)
# Attendance: every learner of the action starts after the evaluation day.
ATTENDANCE_NOT_STARTED = Text(
    fr="aucun apprenant n'a encore commencé (premier début le {start})",
    en="no learner has started yet (first start on {start})",
)
