"""Fixtures of the CV connector tests: a tenant folder of trainer documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from preuve.config.settings import TenantConfig
from preuve.evidence.identity import Pseudonymiser
from tests.connectors.cv.builders import europass_v3_xml, json_resume, ob2_assertion
from tests.connectors.cv.pdfmaker import make_pdf

TENANT = TenantConfig(id="of-test", name="OF test")
CLAIRE = "claire.martin@exemple.fr"
NADIA = "nadia.benali@exemple.fr"
PAUL = "paul.legrand@exemple.fr"


def person_key(email: str) -> str:
    """The key the Moodle connector gives the user with this e-mail."""
    return Pseudonymiser(TENANT.pseudonym_secret()).person_key(source="moodle", email=email)


def paul_pdf() -> bytes:
    return make_pdf(
        [
            "Paul Legrand",
            PAUL,
            "Diplômes",
            "1997 BTS Hygiène Sécurité Environnement, Lycée Jean Moulin",
            "Expérience professionnelle",
            "2001 - 2010 Formateur sécurité, Sécur'Forma",
            "Formation continue",
            "02/2019 Prévention des risques, INRS (21 h)",
        ],
        modified="D:20250110090000Z",
    )


@pytest.fixture
def trainer_folder(tmp_path: Path) -> Path:
    """claire/ (Europass CV + hashed badge), nadia.json (JSON Resume), paul.pdf."""
    root = tmp_path / "cv"
    (root / "claire").mkdir(parents=True)
    (root / "claire" / "cv-europass.xml").write_bytes(europass_v3_xml())
    (root / "claire" / "badge-accessibilite.json").write_bytes(ob2_assertion(CLAIRE))
    (root / "nadia.json").write_bytes(json_resume())
    (root / "paul.pdf").write_bytes(paul_pdf())
    (root / ".hidden.json").write_bytes(b"{broken")  # hidden files are not read
    return root
