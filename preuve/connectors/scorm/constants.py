"""Limits, namespaces and vocabularies of the SCORM connector, kept in one place."""

from __future__ import annotations

from typing import Final

# --- Package safety limits (checked on the zip directory BEFORE any member is read) ---
MAX_ZIP_MEMBERS: Final = 50_000  # 3DVista exports hold ~10k files; far above any real package
MAX_TOTAL_UNCOMPRESSED: Final = 4 * 1024**3  # declared sizes summed over all members
MAX_MEMBER_RATIO: Final = 200  # uncompressed/compressed, for members above RATIO_MIN_SIZE
RATIO_MIN_SIZE: Final = 1024 * 1024  # tiny files compress well and hurt nobody
MAX_MANIFEST_BYTES: Final = 32 * 1024 * 1024  # largest real manifest seen: 785 KB
MAX_METADATA_BYTES: Final = 8 * 1024 * 1024
MAX_JSON_EXPORT_BYTES: Final = 128 * 1024 * 1024  # JSON is loaded whole (no streaming parser)
MAX_UPLOAD_BYTES: Final = 512 * 1024 * 1024  # web upload of one package or export
MAX_CSV_FIELD: Final = 1024 * 1024  # one cell of a Moodle report
MAX_CSV_LINE: Final = 16 * 1024 * 1024  # one row (interaction columns make rows wide)

# --- File names and extensions ---
MANIFEST_NAME: Final = "imsmanifest.xml"
PACKAGE_SUFFIXES: Final = (".zip", ".pif")
TEXT_EXPORT_SUFFIXES: Final = (".txt", ".tsv", ".csv")
JSON_EXPORT_SUFFIXES: Final = (".json",)
XML_EXPORT_SUFFIXES: Final = (".xml",)

# --- Namespaces (docs/scorm.md, reference §2) ---
NS_XML: Final = "http://www.w3.org/XML/1998/namespace"
XML_BASE: Final = f"{{{NS_XML}}}base"
CP_12: Final = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
CP_2004: Final = "http://www.imsglobal.org/xsd/imscp_v1p1"
ADLCP_12: Final = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
ADLCP_2004: Final = "http://www.adlnet.org/xsd/adlcp_v1p3"
IMSSS: Final = "http://www.imsglobal.org/xsd/imsss"
NAMESPACES_12: Final = frozenset({CP_12, ADLCP_12})
NAMESPACES_2004: Final = frozenset(
    {
        CP_2004,
        ADLCP_2004,
        IMSSS,
        "http://www.adlnet.org/xsd/adlseq_v1p3",
        "http://www.adlnet.org/xsd/adlnav_v1p3",
    }
)

# --- Versions ---
VERSION_12: Final = "1.2"
VERSION_2004: Final = "2004"

# LOM classification purposes that carry educational objectives (compared case-insensitively).
OBJECTIVE_PURPOSES: Final = frozenset({"educational objective", "educational_objective"})

# Preferred languages when a LOM string repeats per language.
PREFERRED_LANGUAGES: Final = ("fr", "en")

# --- Connector ---
CONNECTOR_KIND: Final = "scorm"
STREAM_PACKAGES: Final = "packages"
STREAM_TRACKING: Final = "tracking"
DEFAULT_TIMEZONE: Final = "Europe/Paris"
MAX_SOURCE_ID: Final = 200  # longer keys are shortened with a hash (store limit is 255)
