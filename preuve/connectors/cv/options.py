"""The options of a ``cv`` source (``[tenants.sources.options]`` in the configuration)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from preuve.connectors.cv.constants import DEFAULT_BATCH_FILES


def _email(value: str) -> str:
    value = value.strip()
    if "@" not in value or value.startswith("@") or value.endswith("@"):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


class CvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trainers: dict[str, str] = Field(
        default_factory=dict,
        description="file name, relative path or sub-folder ('dupont/') -> trainer e-mail",
    )
    email: str | None = Field(
        default=None, description="every document of the source belongs to this trainer"
    )
    person_ref: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
        description="person key to use when no e-mail is known",
    )
    batch_files: int = Field(default=DEFAULT_BATCH_FILES, ge=1, le=10_000)
    copy_documents_to: str | None = Field(
        default=None,
        description="keep a copy of each document there (named by its SHA-256); default: "
        "documents are kept by reference and hash only",
    )

    @field_validator("trainers")
    @classmethod
    def _mapping(cls, value: dict[str, str]) -> dict[str, str]:
        return {key.strip().replace("\\", "/"): _email(email) for key, email in value.items()}

    @field_validator("email")
    @classmethod
    def _one_email(cls, value: str | None) -> str | None:
        return _email(value) if value is not None else None


def mapped_email(options: CvOptions, relative: str) -> str | None:
    """The trainer e-mail configured for a file: whole source, then the most precise mapping.

    Keys match the relative path (``dupont/cv.pdf``), the file name (``cv-dupont.pdf``)
    or a parent folder (``dupont/`` or ``dupont``), the deepest folder first.
    """
    if options.email:
        return options.email
    mapping = options.trainers
    if relative in mapping:
        return mapping[relative]
    parts = relative.split("/")
    if parts[-1] in mapping:
        return mapping[parts[-1]]
    for depth in range(len(parts) - 1, 0, -1):
        folder = "/".join(parts[:depth])
        for key in (folder + "/", folder, parts[depth - 1] + "/", parts[depth - 1]):
            if key in mapping:
                return mapping[key]
    return None
