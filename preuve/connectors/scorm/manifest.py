"""``imsmanifest.xml`` to a course description, streamed.

The ``<file>`` inventory (thousands of entries in H5P or 3DVista exports) is
counted and dropped while parsing, so the tree kept in memory is the structure
only. Versions are detected from namespaces first, then ``schemaversion``
(see docs/scorm.md, "Version detection").
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from preuve.connectors.scorm.constants import (
    ADLCP_12,
    ADLCP_2004,
    CP_12,
    CP_2004,
    MAX_MANIFEST_BYTES,
    NAMESPACES_2004,
    VERSION_12,
    VERSION_2004,
    XML_BASE,
)
from preuve.connectors.scorm.durations import DurationError, parse_duration
from preuve.connectors.scorm.errors import ScormError
from preuve.connectors.scorm.lom import LomInfo, child, children, find_lom, read_lom, text_of
from preuve.connectors.scorm.xmlsafe import (
    is_encoding_error,
    iterparse,
    local,
    namespace,
    transcode_legacy,
)
from preuve.i18n import Text

MSG_TOO_BIG = Text(
    fr="manifeste trop volumineux ({size} octets, maximum {limit})",
    en="manifest too large ({size} bytes, limit {limit})",
)
MSG_NOT_MANIFEST = Text(
    fr="élément racine <{tag}> : <manifest> attendu",
    en="root element <{tag}>: expected <manifest>",
)
MSG_NO_VERSION = Text(
    fr="version SCORM introuvable (ni espace de noms IMS/ADL, ni schemaversion)",
    en="SCORM version not found (no IMS/ADL namespace, no schemaversion)",
)
MSG_MISSING_RESOURCE = Text(
    fr='l\'élément <item identifier="{item}"> référence la ressource « {ref} » absente de '
    "<resources>",
    en="<item identifier=\"{item}\"> references resource '{ref}', missing from <resources>",
)
MSG_BAD_NUMBER = Text(
    fr="<{element}> de l'élément « {item} » : nombre attendu, reçu {value!r}",
    en="<{element}> of item '{item}': expected a number, got {value!r}",
)
MSG_VERSION_CONFLICT = Text(
    fr="schemaversion « {text} » contredit les espaces de noms (SCORM {version}) : "
    "espaces de noms retenus",
    en="schemaversion '{text}' contradicts the namespaces (SCORM {version}): namespaces kept",
)
MSG_LEGACY_ENCODING = Text(
    fr="encodage déclaré UTF-8 mais contenu en Windows-1252 : converti",
    en="declared UTF-8 but written in Windows-1252: converted",
)
MSG_DEFAULT_ORG = Text(
    fr="organisation par défaut « {default} » introuvable : première organisation retenue",
    en="default organization '{default}' not found: first organization used",
)
MSG_NO_ORG = Text(
    fr="aucune organisation : ressources SCO utilisées",
    en="no organization: SCO resources used",
)
MSG_BAD_DURATION = Text(
    fr="durée illisible dans <{element}> : {error}",
    en="unreadable duration in <{element}>: {error}",
)

_EDITION = re.compile(r"\b(2nd|3rd|4th|second|third|fourth)\b", re.IGNORECASE)
_EDITIONS = {"2nd": 2, "second": 2, "3rd": 3, "third": 3, "4th": 4, "fourth": 4}


@dataclass(frozen=True, slots=True)
class SequencingObjective:
    """An ``imsss`` objective (SCORM 2004) of an item or organization."""

    objective_id: str | None
    primary: bool
    satisfied_by_measure: bool = False
    min_normalized_measure: float | None = None
    global_targets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScormResource:
    identifier: str
    href: str | None
    scorm_type: str | None  # "sco" / "asset"
    base: str  # xml:base of manifest + resources + resource, resolved
    resource_type: str | None = None
    file_count: int = 0
    duplicate_files: int = 0
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScormItem:
    identifier: str
    title: str | None
    identifierref: str | None = None
    parameters: str | None = None
    visible: bool = True
    launch_url: str | None = None
    scorm_type: str | None = None
    mastery_score: float | None = None  # 1.2, 0-100
    completion_threshold: float | None = None  # 2004, 0-1
    completed_by_measure: bool = False
    max_time_allowed_seconds: float | None = None
    objectives: tuple[SequencingObjective, ...] = ()
    children: tuple[ScormItem, ...] = ()

    @property
    def is_launchable(self) -> bool:
        return self.launch_url is not None

    def walk(self) -> Iterator[ScormItem]:
        yield self
        for item in self.children:
            yield from item.walk()


@dataclass(frozen=True, slots=True)
class ScormCourse:
    """What a content package says about its course."""

    identifier: str
    title: str
    version: str  # "1.2" or "2004"
    edition: int | None  # 2, 3, 4 for SCORM 2004; None when unknown or 1.2
    schemaversion: str | None
    organization_id: str | None
    organization_title: str | None
    items: tuple[ScormItem, ...]
    resources: dict[str, ScormResource]
    lom: LomInfo = field(default_factory=LomInfo)
    objectives: tuple[SequencingObjective, ...] = ()  # organization-level sequencing
    metadata_locations: tuple[str, ...] = ()
    file_count: int = 0
    duplicate_files: int = 0
    warnings: tuple[str, ...] = ()

    def all_items(self) -> Iterator[ScormItem]:
        for item in self.items:
            yield from item.walk()

    def launchable_items(self) -> list[ScormItem]:
        """Leaf items with content: what learners open and what tracking is keyed by."""
        return [item for item in self.all_items() if item.is_launchable]

    @property
    def description(self) -> str | None:
        return self.lom.description

    @property
    def duration_seconds(self) -> float | None:
        return self.lom.typical_learning_seconds

    @property
    def sequencing_objectives(self) -> tuple[SequencingObjective, ...]:
        found = list(self.objectives)
        for item in self.all_items():
            found.extend(item.objectives)
        return tuple(found)

    @property
    def mastery_scores(self) -> tuple[float, ...]:
        return tuple(i.mastery_score for i in self.all_items() if i.mastery_score is not None)

    @property
    def passing_measures(self) -> tuple[float, ...]:
        return tuple(
            o.min_normalized_measure
            for o in self.sequencing_objectives
            if o.primary and o.satisfied_by_measure and o.min_normalized_measure is not None
        )

    @property
    def completion_thresholds(self) -> tuple[float, ...]:
        return tuple(
            i.completion_threshold for i in self.all_items() if i.completion_threshold is not None
        )


MetadataLoader = Callable[[str], LomInfo | None]


def _attr(element: Any, name: str) -> str | None:
    """An attribute by case-insensitive local name (``scormtype``/``scormType``...)."""
    wanted = name.lower()
    for key, value in element.attrib.items():
        if local(key) == wanted:
            text = str(value).strip()
            return text or None
    return None


def _number(element: Any | None, item: str, name: str, walk: _Walk) -> float | None:
    value = text_of(element)
    if value is None:
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError as exc:
        message = MSG_BAD_NUMBER(element=name, item=item, value=value)
        if walk.strict:
            raise ScormError(walk.file, message, where=f"<item {item}>", code="bad_value") from exc
        walk.warnings.append(message)
        return None


def _version(
    root: Any, seen_namespaces: set[str], schemaversion: str | None, file: str, strict: bool
) -> tuple[str, int | None, list[str]]:
    warnings: list[str] = []
    by_namespace: str | None = None
    root_ns = namespace(root.tag)
    if root_ns == CP_12 or ADLCP_12 in seen_namespaces:
        by_namespace = VERSION_12
    if root_ns == CP_2004 or ADLCP_2004 in seen_namespaces or seen_namespaces & NAMESPACES_2004:
        by_namespace = VERSION_2004 if root_ns != CP_12 else by_namespace
    by_text: str | None = None
    normalised = " ".join((schemaversion or "").split()).lower()
    if normalised:
        if normalised in {"1.2", "scorm 1.2"}:
            by_text = VERSION_12
        elif "2004" in normalised or "1.3" in normalised:
            by_text = VERSION_2004
    if by_namespace is None:
        declared = set(root.nsmap.values())
        if ADLCP_2004 in declared or declared & NAMESPACES_2004:
            by_namespace = VERSION_2004
        elif ADLCP_12 in declared:
            by_namespace = VERSION_12
    version = by_namespace or by_text
    if version is None:
        if strict:
            raise ScormError(file, MSG_NO_VERSION(), where="<metadata>", code="no_version")
        warnings.append(MSG_NO_VERSION())
        version = VERSION_12
    elif by_text is not None and by_text != version:
        warnings.append(MSG_VERSION_CONFLICT(text=schemaversion, version=version))
    edition: int | None = None
    if version == VERSION_2004 and (match := _EDITION.search(normalised)):
        edition = _EDITIONS[match[1].lower()]
    return version, edition, warnings


def _join_base(base: str, part: str | None) -> str:
    if not part:
        return base
    return urljoin(base or "", part.strip().replace("\\", "/"))


def _launch_url(base: str, href: str, parameters: str | None) -> str:
    url = _join_base(base, href)
    path, sep, rest = url.partition("?")
    path = posixpath.normpath(path) if path else path
    url = path.removeprefix("./") + sep + rest
    if parameters:
        params = parameters.strip()
        if params.startswith("#"):
            url += params
        elif params.startswith("?"):
            url += ("&" if "?" in url else "?") + params[1:]
        elif params:
            url += ("&" if "?" in url else "?") + params
    return url


def _sequencing(element: Any) -> tuple[SequencingObjective, ...]:
    found: list[SequencingObjective] = []
    for sequencing in children(element, "sequencing"):
        objectives = child(sequencing, "objectives")
        if objectives is None:
            continue
        for node in objectives:
            name = local(node.tag)
            if name not in {"primaryobjective", "objective"}:
                continue
            measure = text_of(child(node, "minnormalizedmeasure"))
            try:
                min_measure = float(measure) if measure is not None else None
            except ValueError:
                min_measure = None
            targets = tuple(
                t for m in children(node, "mapinfo") if (t := _attr(m, "targetObjectiveID"))
            )
            found.append(
                SequencingObjective(
                    objective_id=_attr(node, "objectiveID"),
                    primary=name == "primaryobjective",
                    satisfied_by_measure=(_attr(node, "satisfiedByMeasure") or "").lower()
                    == "true",
                    min_normalized_measure=min_measure,
                    global_targets=targets,
                )
            )
    return tuple(found)


def _completion_threshold(item: Any) -> tuple[float | None, bool, bool]:
    """(threshold, completed_by_measure, 4th-edition form)."""
    node = child(item, "completionthreshold")
    if node is None:
        return None, False, False
    by_measure = (_attr(node, "completedByMeasure") or "").lower() == "true"
    attribute = _attr(node, "minProgressMeasure")
    raw = attribute if attribute is not None else text_of(node)
    fourth = attribute is not None or _attr(node, "progressWeight") is not None
    try:
        threshold = float(raw) if raw is not None else (1.0 if by_measure else None)
    except ValueError:
        threshold = None
    return threshold, by_measure, fourth


@dataclass(slots=True)
class _Walk:
    file: str
    strict: bool
    resources: dict[str, ScormResource]
    warnings: list[str]
    load_metadata: MetadataLoader | None
    metadata_locations: list[str]
    fourth_edition_hint: bool = False
    # Tools name the same file at several levels (Captivate, H5P): read it once.
    loaded: dict[str, LomInfo | None] = field(default_factory=dict)

    def item(self, node: Any) -> ScormItem:
        identifier = _attr(node, "identifier") or ""
        ref = _attr(node, "identifierref")
        parameters = _attr(node, "parameters")
        launch: str | None = None
        scorm_type: str | None = None
        if ref:
            resource = self.resources.get(ref)
            if resource is None:
                message = MSG_MISSING_RESOURCE(item=identifier, ref=ref)
                if self.strict:
                    raise ScormError(
                        self.file, message, where=f"<item {identifier}>", code="missing_resource"
                    )
                self.warnings.append(message)
            else:
                scorm_type = resource.scorm_type
                if resource.href:
                    launch = _launch_url(resource.base, resource.href, parameters)
        mastery = _number(child(node, "masteryscore"), identifier, "masteryscore", self)
        threshold, by_measure, fourth = _completion_threshold(node)
        self.fourth_edition_hint |= fourth or child(node, "data") is not None
        max_time: float | None = None
        if (raw := text_of(child(node, "maxtimeallowed"))) is not None:
            try:
                max_time = parse_duration(raw)
            except DurationError as exc:
                self.warnings.append(MSG_BAD_DURATION(element="maxtimeallowed", error=exc))
        self.metadata(node)
        return ScormItem(
            identifier=identifier,
            title=text_of(child(node, "title")),
            identifierref=ref,
            parameters=parameters,
            visible=(_attr(node, "isvisible") or "true").lower() != "false",
            launch_url=launch,
            scorm_type=scorm_type,
            mastery_score=mastery,
            completion_threshold=threshold,
            completed_by_measure=by_measure,
            max_time_allowed_seconds=max_time,
            objectives=_sequencing(node),
            children=tuple(self.item(c) for c in children(node, "item")),
        )

    def metadata(self, node: Any) -> LomInfo:
        """Inline LOM of a node's <metadata>, completed by its external file, if any."""
        meta = child(node, "metadata")
        if meta is None:
            return LomInfo()
        lom_node = find_lom(meta)
        info = read_lom(lom_node) if lom_node is not None else LomInfo()
        for location in children(meta, "location"):
            href = text_of(location)
            if not href:
                continue
            if href not in self.metadata_locations:
                self.metadata_locations.append(href)
            if self.load_metadata is None:
                continue
            if href not in self.loaded:
                self.loaded[href] = self.load_metadata(href)
            if external := self.loaded[href]:
                info = info.merged_with(external)
        return info


def _parse_stream(data: bytes, file: str) -> tuple[Any, set[str], int, dict[str, tuple[int, int]]]:
    """Parse, dropping <file> elements as they end; count them per resource."""
    seen: set[str] = set()
    per_resource: dict[str, tuple[int, int]] = {}
    hrefs: dict[str, set[str]] = {}
    root: Any = None
    total = 0
    for _event, element in iterparse(data, file):
        tag = element.tag
        seen.add(namespace(tag))
        for key in element.attrib:
            if key.startswith("{"):
                seen.add(namespace(key))
        if local(tag) == "file":
            parent = element.getparent()
            if parent is not None and local(parent.tag) == "resource":
                resource_id = _attr(parent, "identifier") or ""
                href = _attr(element, "href") or ""
                known = hrefs.setdefault(resource_id, set())
                count, duplicates = per_resource.get(resource_id, (0, 0))
                per_resource[resource_id] = (
                    count + 1,
                    duplicates + (1 if href in known else 0),
                )
                known.add(href)
                total += 1
                parent.remove(element)
        root = element
    seen.discard("")
    return root, seen, total, per_resource


def parse_manifest(
    data: bytes,
    *,
    file: str = "imsmanifest.xml",
    strict: bool = False,
    load_metadata: MetadataLoader | None = None,
) -> ScormCourse:
    """Read an ``imsmanifest.xml`` given as bytes (BOM and legacy encodings tolerated).

    ``load_metadata(href)`` reads an external metadata file named by
    ``adlcp:location`` (the package reader passes one); ``strict`` turns the
    lenient fixes (missing resource, unknown version) into errors.
    """
    if len(data) > MAX_MANIFEST_BYTES:
        raise ScormError(
            file, MSG_TOO_BIG(size=len(data), limit=MAX_MANIFEST_BYTES), code="too_large"
        )
    warnings: list[str] = []
    try:
        root, seen, total, per_resource = _parse_stream(data, file)
    except ScormError as exc:
        if not is_encoding_error(exc):
            raise
        root, seen, total, per_resource = _parse_stream(transcode_legacy(data), file)
        warnings.append(MSG_LEGACY_ENCODING())
    if root is None or local(root.tag) != "manifest":
        tag = local(root.tag) if root is not None else "?"
        raise ScormError(file, MSG_NOT_MANIFEST(tag=tag), where=f"<{tag}>", code="not_manifest")

    meta = child(root, "metadata")
    schemaversion = text_of(child(meta, "schemaversion")) if meta is not None else None
    version, edition, version_warnings = _version(root, seen, schemaversion, file, strict)
    warnings.extend(version_warnings)

    manifest_base = _join_base("", _attr(root, "base") or root.get(XML_BASE))
    resources: dict[str, ScormResource] = {}
    resources_node = child(root, "resources")
    if resources_node is not None:
        base = _join_base(manifest_base, resources_node.get(XML_BASE))
        for node in children(resources_node, "resource"):
            identifier = _attr(node, "identifier") or ""
            count, duplicates = per_resource.get(identifier, (0, 0))
            resources[identifier] = ScormResource(
                identifier=identifier,
                href=_attr(node, "href"),
                scorm_type=(_attr(node, "scormtype") or "").lower() or None,
                base=_join_base(base, node.get(XML_BASE)),
                resource_type=_attr(node, "type"),
                file_count=count,
                duplicate_files=duplicates,
                dependencies=tuple(
                    ref for d in children(node, "dependency") if (ref := _attr(d, "identifierref"))
                ),
            )

    walk = _Walk(file, strict, resources, warnings, load_metadata, [])
    lom = walk.metadata(root)
    organizations = child(root, "organizations")
    org_nodes = list(children(organizations, "organization")) if organizations is not None else []
    default = _attr(organizations, "default") if organizations is not None else None
    org = next((o for o in org_nodes if _attr(o, "identifier") == default), None)
    if org is None and org_nodes:
        org = org_nodes[0]
        if default:
            warnings.append(MSG_DEFAULT_ORG(default=default))
    items: tuple[ScormItem, ...]
    org_objectives: tuple[SequencingObjective, ...] = ()
    org_title: str | None = None
    if org is not None:
        org_title = text_of(child(org, "title"))
        lom = lom.merged_with(walk.metadata(org))
        items = tuple(walk.item(node) for node in children(org, "item"))
        org_objectives = _sequencing(org)
    else:
        warnings.append(MSG_NO_ORG())
        items = tuple(
            ScormItem(
                identifier=r.identifier,
                title=r.href,
                identifierref=r.identifier,
                launch_url=_launch_url(r.base, r.href, None),
                scorm_type=r.scorm_type,
            )
            for r in resources.values()
            if r.scorm_type == "sco" and r.href
        )
    for resource_node in children(resources_node, "resource") if resources_node is not None else ():
        walk.metadata(resource_node)  # external files named at resource level are recorded too
    if version == VERSION_2004 and edition is None and walk.fourth_edition_hint:
        edition = 4  # completionThreshold attributes and adlcp:data exist only in the 4th

    identifier = _attr(root, "identifier") or ""
    title = org_title or lom.title or (items[0].title if items else None) or identifier or file
    return ScormCourse(
        identifier=identifier,
        title=title,
        version=version,
        edition=edition,
        schemaversion=schemaversion,
        organization_id=_attr(org, "identifier") if org is not None else None,
        organization_title=org_title,
        items=items,
        resources=resources,
        lom=lom,
        objectives=org_objectives,
        metadata_locations=tuple(walk.metadata_locations),
        file_count=total,
        duplicate_files=sum(d for _, d in per_resource.values()),
        warnings=tuple(warnings),
    )
