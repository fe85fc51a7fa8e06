"""Hand-written trainer documents for the tests (no third-party sample is copied)."""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from typing import Any

import orjson


def europass_v3_xml(
    *,
    email: str | None = "claire.martin@exemple.fr",
    version: str = "V3.4",
    namespace: str = "http://europass.cedefop.europa.eu/Europass",
    updated: str = "2025-09-15T10:00:00.000Z",
    extra_education: str = "",
) -> bytes:
    email_block = f"<Email><Contact>{email}</Contact></Email>" if email else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<SkillsPassport xmlns="{namespace}" locale="fr">
  <DocumentInfo>
    <DocumentType>ECV</DocumentType>
    <LastUpdateDate>{updated}</LastUpdateDate>
    <XSDVersion>{version}</XSDVersion>
  </DocumentInfo>
  <LearnerInfo>
    <Identification>
      <PersonName><FirstName>Claire</FirstName><Surname>Martin</Surname></PersonName>
      <ContactInfo>
        <Address><Contact><AddressLine>3 rue des Lilas</AddressLine>
          <Municipality>Lyon</Municipality></Contact></Address>
        {email_block}
        <TelephoneList><Telephone><Contact>+33 6 00 00 00 00</Contact></Telephone>
        </TelephoneList>
      </ContactInfo>
      <Demographics><Birthdate year="1980" month="--04" day="---12"/></Demographics>
      <Photo><MimeType>image/jpeg</MimeType><Data>AAAA</Data></Photo>
    </Identification>
    <WorkExperienceList>
      <WorkExperience>
        <Period><From year="2016" month="--09"/><Current>true</Current></Period>
        <Position><Label>Formatrice bureautique</Label></Position>
        <Employer><Name>Form'Action</Name><Sector><Code>P</Code><Label>Enseignement</Label>
        </Sector></Employer>
      </WorkExperience>
      <WorkExperience>
        <Period><From year="2010"/><To year="2015"/></Period>
        <Position><Label>Assistante de gestion</Label></Position>
        <Employer><Name>Cabinet Durand</Name></Employer>
      </WorkExperience>
    </WorkExperienceList>
    <EducationList>
      <Education>
        <Period><From year="2006"/><To year="2008" month="--06"/></Period>
        <Title>Master Ingénierie de la formation</Title>
        <Organisation><Name>Université Lyon 2</Name></Organisation>
        <Level><Code>7</Code></Level>
        <Field><Code>01</Code><Label>Éducation</Label></Field>
      </Education>
      <Education>
        <Period><From year="2024" month="--01"/><Current>true</Current></Period>
        <Title>DU Handicap et formation</Title>
        <Organisation><Name>Université Lyon 1</Name></Organisation>
      </Education>
      {extra_education}
    </EducationList>
    <Skills>
      <Linguistic><ForeignLanguageList><ForeignLanguage>
        <Description><Code>en</Code><Label>Anglais</Label></Description>
        <VerifiedBy><Certificate><Title>TOEIC</Title><AwardingBody>ETS</AwardingBody>
          <Date year="2019" month="--11"/><Level>C1</Level></Certificate></VerifiedBy>
      </ForeignLanguage></ForeignLanguageList></Linguistic>
      <Computer><Description>Excel</Description><VerifiedBy><Certificate>
        <Title>TOSA Excel</Title></Certificate></VerifiedBy></Computer>
    </Skills>
    <AchievementList>
      <Achievement><Title><Code>courses</Code></Title>
        <Description>&lt;ul&gt;&lt;li&gt;Classe virtuelle : animer à distance, 03/2025, 14 h
        &lt;/li&gt;&lt;li&gt;Gestion de conflits&lt;/li&gt;&lt;/ul&gt;</Description>
      </Achievement>
      <Achievement><Title><Code>projects</Code></Title><Description>Projet X</Description>
      </Achievement>
    </AchievementList>
  </LearnerInfo>
</SkillsPassport>
""".encode()


def europass_v2_xml(email: str = "paul.legrand@exemple.fr") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<europass:learnerinfo locale="fr_FR"
  xmlns:europass="http://europass.cedefop.europa.eu/Europass/V2.0">
  <docinfo><issuedate>2011-05-02T10:00:00+02:00</issuedate><xsdversion>V2.0</xsdversion>
  </docinfo>
  <identification>
    <firstname>Paul</firstname><lastname>Legrand</lastname>
    <contactinfo><email>{email}</email><telephone>0102030405</telephone></contactinfo>
    <demographics><birthdate>1975-02-03</birthdate></demographics>
  </identification>
  <workexperiencelist>
    <workexperience>
      <period><from year="2001" month="--03"/><to year="2010"/></period>
      <position><label>Formateur sécurité</label></position>
      <employer><name>Sécur'Forma</name><sector><label>Sécurité</label></sector></employer>
    </workexperience>
  </workexperiencelist>
  <educationlist>
    <education>
      <period><from year="1995"/><to year="1997"/></period>
      <title>BTS Hygiène Sécurité</title>
      <organisation><name>Lycée Jean Moulin</name></organisation>
      <level><label>Bac+2</label></level>
    </education>
  </educationlist>
</europass:learnerinfo>
""".encode()


def europass_json(email: str = "claire.martin@exemple.fr") -> bytes:
    return orjson.dumps(
        {
            "SkillsPassport": {
                "DocumentInfo": {"LastUpdateDate": "2025-02-01T08:00:00Z", "XSDVersion": "V3.3"},
                "LearnerInfo": {
                    "Identification": {
                        "PersonName": {"FirstName": "Claire", "Surname": "Martin"},
                        "ContactInfo": {"Email": {"Contact": email}},
                        "Demographics": {"Birthdate": {"Year": 1980, "Month": 4, "Day": 12}},
                    },
                    "Education": [
                        {
                            "Period": {"From": {"Year": 2006}, "To": {"Year": 2008, "Month": 6}},
                            "Title": "Master Ingénierie de la formation",
                            "Organisation": {"Name": "Université Lyon 2"},
                            "Level": {"Code": "7", "Label": "EQF 7"},
                        },
                        {"Title": "Certificat sans date", "Organisation": {"Name": "CNAM"}},
                    ],
                    "WorkExperience": [
                        {
                            "Period": {"From": {"Year": 2016, "Month": 9}, "Current": True},
                            "Position": {"Label": "Formatrice bureautique"},
                            "Employer": {"Name": "Form'Action"},
                        }
                    ],
                },
            }
        }
    )


def json_resume(email: str = "nadia.benali@exemple.fr", **sections: Any) -> bytes:
    value: dict[str, Any] = {
        "basics": {
            "name": "Nadia Benali",
            "email": email,
            "phone": "0600000000",
            "location": {"address": "1 rue X", "city": "Lille"},
        },
        "work": [
            {
                "company": "Digital Campus",  # the old name of "name"
                "position": "Formatrice développement web",
                "startDate": "2018-02",
                "endDate": "2023",
            },
            {"name": "Freelance", "position": "Consultante", "startDate": "2023-05"},
        ],
        "education": [
            {
                "institution": "Université de Lille",
                "area": "Informatique",
                "studyType": "Master",
                "startDate": "2014",
                "endDate": "2016-06",
            },
            {"institution": "IUT", "area": "Réseaux", "studyType": "DUT", "endDate": "juin 2012"},
        ],
        "certificates": [
            {"name": "AWS Cloud Practitioner", "date": "2025-03-10", "issuer": "AWS"},
            {"name": "Formateur professionnel d'adultes", "issuer": "Ministère du Travail"},
        ],
        "meta": {"lastModified": "2025-06-30T12:00:00"},
    }
    value.update(sections)
    return orjson.dumps(value)


def salted(email: str, salt: str, algorithm: str = "sha256") -> str:
    return f"{algorithm}${hashlib.new(algorithm, (email + salt).encode()).hexdigest()}"


def ob2_assertion(
    email: str,
    *,
    salt: str = "sel-de-mer",
    hashed: bool = True,
    algorithm: str = "sha256",
    issued: str = "2025-04-02T09:00:00Z",
    embedded: bool = True,
) -> bytes:
    identity = salted(email, salt, algorithm) if hashed else email
    badge: Any = (
        {
            "type": "BadgeClass",
            "id": "https://badges.exemple.fr/classes/accessibilite",
            "name": "Accessibilité des formations",
            "issuer": {"type": "Profile", "name": "Ressource Handicap Formation"},
        }
        if embedded
        else "https://badges.exemple.fr/classes/accessibilite.json"
    )
    return orjson.dumps(
        {
            "@context": "https://w3id.org/openbadges/v2",
            "type": "Assertion",
            "id": "urn:uuid:2b1f0a44-4c1e-4df6-9c0b-000000000001",
            "recipient": {"type": "email", "hashed": hashed, "salt": salt, "identity": identity},
            "issuedOn": issued,
            "badge": badge,
            "verification": {"type": "hosted"},
        }
    )


def ob3_credential(
    email: str, *, salt: str = "grain", valid_from: str = "2025-01-20T00:00:00Z"
) -> bytes:
    return orjson.dumps(
        {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            ],
            "id": "urn:uuid:9a1e7c8e-0000-4000-8000-000000000003",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": "https://of.exemple.fr", "type": ["Profile"], "name": "OF Exemple"},
            "validFrom": valid_from,
            "name": "Pédagogie inversée",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "identifier": [
                    {
                        "type": "IdentityObject",
                        "identityType": "emailAddress",
                        "hashed": True,
                        "salt": salt,
                        "identityHash": salted(email, salt),
                    }
                ],
                "achievement": {
                    "id": "https://of.exemple.fr/achievements/pedagogie-inversee",
                    "type": ["Achievement"],
                    "name": "Pédagogie inversée",
                    "criteria": {"narrative": "Suivre les 3 modules."},
                },
            },
        }
    )


def compact_jws(payload: bytes) -> bytes:
    """A compact JWS around ``payload`` (the signature is not checked by the parser)."""

    def part(raw: bytes) -> bytes:
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    return b".".join([part(b'{"alg":"RS256"}'), part(payload), part(b"signature")])


def baked_png(text: bytes, *, compressed: bool = False) -> bytes:
    """A 1x1 PNG with an ``openbadges`` iTXt chunk holding ``text``."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00")
    payload = zlib.compress(text) if compressed else text
    itxt = b"openbadges\x00" + bytes([int(compressed), 0]) + b"\x00\x00" + payload
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"iTXt", itxt)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def baked_svg(assertion: bytes | None, *, verify: str | None = None) -> bytes:
    inner = f"<![CDATA[{assertion.decode()}]]>" if assertion else ""
    attr = f' verify="{verify}"' if verify else ""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org" '
        f'width="1" height="1"><openbadges:assertion{attr}>{inner}</openbadges:assertion>'
        "<rect width='1' height='1'/></svg>"
    ).encode()
