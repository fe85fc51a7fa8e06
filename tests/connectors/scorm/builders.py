"""Hand-made SCORM fixtures (never copies of the shared samples)."""

from __future__ import annotations

import zipfile
from pathlib import Path

NS_12 = (
    'xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" '
    'xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"'
)
NS_2004 = (
    'xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" '
    'xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" '
    'xmlns:imsss="http://www.imsglobal.org/xsd/imsss" '
    'xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"'
)


def manifest_12(
    *,
    identifier: str = "com.example.securite",
    title: str = "Sécurité au travail",
    schemaversion: str | None = "1.2",
    mastery: str = "80",
    metadata: str = "",
    files: int = 2,
    scormtype_attr: str = "scormtype",
) -> str:
    schema = f"<schemaversion>{schemaversion}</schemaversion>" if schemaversion else ""
    file_list = "".join(f'<file href="page{n}.html"/>' for n in range(files))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="{identifier}" version="1" {NS_12}>
  <metadata><schema>ADL SCORM</schema>{schema}{metadata}</metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>{title}</title>
      <item identifier="module1" identifierref="res1">
        <title>Module 1 : les risques</title>
        <adlcp:masteryscore>{mastery}</adlcp:masteryscore>
        <adlcp:datafromlms>eyJzdGF0ZSI6MX0=</adlcp:datafromlms>
      </item>
      <item identifier="quiz" identifierref="res2" parameters="?mode=quiz">
        <title>Quiz final</title>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="res1" type="webcontent" adlcp:{scormtype_attr}="sco" href="m1/index.html">
      {file_list}
    </resource>
    <resource identifier="res2" type="webcontent" adlcp:{scormtype_attr}="sco" href="quiz.html"/>
  </resources>
</manifest>
"""


def manifest_2004(
    *,
    schemaversion: str | None = "2004 4th Edition",
    lom: str = "",
    completion: str = '<adlcp:completionThreshold completedByMeasure="true" '
    'minProgressMeasure="0.75"/>',
    bases: tuple[str, str, str] = ("", "", ""),
) -> str:
    schema = f"<schemaversion>{schemaversion}</schemaversion>" if schemaversion else ""
    manifest_base, resources_base, resource_base = (f' xml:base="{b}"' if b else "" for b in bases)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.rgpd" version="1.3" {NS_2004}{manifest_base}>
  <metadata><schema>ADL SCORM</schema>{schema}{lom}</metadata>
  <organizations default="org_rgpd">
    <organization identifier="org_rgpd" adlseq:objectivesGlobalToSystem="false">
      <title>RGPD pour les formateurs</title>
      <item identifier="chap" isvisible="true">
        <title>Chapitre</title>
        <item identifier="sco1" identifierref="r1">
          <title>Les principes</title>
          {completion}
          <imsss:sequencing>
            <imsss:objectives>
              <imsss:primaryObjective objectiveID="PRIMARY" satisfiedByMeasure="true">
                <imsss:minNormalizedMeasure>0.7</imsss:minNormalizedMeasure>
              </imsss:primaryObjective>
              <imsss:objective objectiveID="identifier_les_donnees_personnelles">
                <imsss:mapInfo targetObjectiveID="global.rgpd.1"/>
              </imsss:objective>
            </imsss:objectives>
          </imsss:sequencing>
        </item>
      </item>
    </organization>
  </organizations>
  <resources{resources_base}>
    <resource identifier="r1" type="webcontent" adlcp:scormType="sco"
      href="index.html"{resource_base}>
      <file href="index.html"/>
    </resource>
  </resources>
</manifest>
"""


LOM_2004 = """
<lom xmlns="http://ltsc.ieee.org/xsd/LOM">
  <general>
    <title><string language="en">GDPR for trainers</string>
      <string language="fr">RGPD pour les formateurs (LOM)</string></title>
    <description><string language="fr">Comprendre et appliquer le RGPD.</string></description>
  </general>
  <educational><typicalLearningTime><duration>PT1H30M</duration></typicalLearningTime></educational>
  <classification>
    <purpose><source>LOMv1.0</source><value>Educational Objective</value></purpose>
    <description><string language="fr">Identifier une donnée personnelle</string></description>
    <keyword><string language="fr">Tenir un registre des traitements</string></keyword>
  </classification>
</lom>"""

# LOM 1.2 external file, with no namespace at all (as Storyline 360 writes it).
LOM_NO_NAMESPACE = """<?xml version="1.0"?>
<lom><general><title><langstring xml:lang="x-none">Titre externe</langstring></title>
<description><langstring>Description externe du cours.</langstring></description></general>
<educational><typicallearningtime><datetime>0002:00:00</datetime></typicallearningtime></educational>
</lom>"""


def write_zip(path: Path, members: dict[str, bytes | str], **kwargs: object) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            archive.writestr(name, data)
    return path


def package_12(path: Path, **kwargs: str) -> Path:
    return write_zip(
        path,
        {
            "imsmanifest.xml": manifest_12(**kwargs),  # type: ignore[arg-type]
            "m1/index.html": "<html></html>",
            "quiz.html": "<html></html>",
        },
    )


MOODLE_EN = (
    "Name\tEmail address\tAttempt\tStarted on\tLast accessed on\tScore\tModule 1\tQuiz final\n"
    "Alice Martin\talice@example.org\t1\t6 November 2026, 10:15 AM\t"
    "6 November 2026, 11:00 AM\t85\tCompleted\t85/100\n"
    "Bob Durand\tbob@example.org\t1\t7 November 2026, 2:00 PM\t7 November 2026, 2:30 PM\t-\t"
    "Incomplete\tNot attempted\n"
    "Carla Petit\tcarla@example.org\t-\t-\t-\t-\t-\t-\n"
)

MOODLE_FR = (
    '"Nom"\t"Adresse de courriel"\t"Tentative"\t"Commencé le"\t"Dernier accès le"\t'
    '"Note"\t"Module 1"\t"Quiz final"\n'
    '"Alice Martin"\talice@example.org\t1\t"lundi 6 novembre 2026, 10:15"\t'
    '"lundi 6 novembre 2026, 11:00"\t85\tTerminé\t"85/100"\n'
    '"Bob Durand"\tbob@example.org\t2\t"mardi 7 novembre 2026, 14:00"\t'
    '"mardi 7 novembre 2026, 14:30"\t40\tIncomplet\tÉchoué\n'
)

CLOUD_JSON = {
    "registrations": [
        {
            "id": "reg-1",
            "registrationCompletion": "COMPLETED",
            "registrationSuccess": "PASSED",
            "score": {"scaled": 92.5},
            "totalSecondsTracked": 1800.5,
            "firstAccessDate": "2026-10-01T08:00:00Z",
            "lastAccessDate": "2026-10-01T08:30:00Z",
            "completedDate": "2026-10-01T08:30:00Z",
            "course": {"id": "rgpd-101", "title": "RGPD"},
            "learner": {"id": "L1", "email": "Alice@Example.org"},
            "activityDetails": {
                "id": "root",
                "title": "RGPD",
                "children": [
                    {
                        "id": "sco1",
                        "title": "Principes",
                        "attempts": 2,
                        "runtime": {
                            "completionStatus": "Completed",
                            "runtimeSuccessStatus": "Passed",
                            "scoreScaled": "0.925",
                            "scoreRaw": "37",
                            "scoreMin": "0",
                            "scoreMax": "40",
                            "totalTime": "PT29M58.2S",
                            "runtimeInteractions": [
                                {"id": "q1", "type": "Choice", "result": "correct"}
                            ],
                            "runtimeObjectives": [
                                {
                                    "id": "obj-registre",
                                    "runtimeObjectiveSuccessStatus": "Failed",
                                    "scoreScaled": "0.4",
                                }
                            ],
                        },
                    }
                ],
            },
        },
        {
            "id": "reg-2",
            "registrationCompletion": "INCOMPLETE",
            "registrationSuccess": "UNKNOWN",
            "score": {},
            "totalSecondsTracked": 0,
            "lastAccessDate": "2026-10-02T09:00:00Z",
            "course": {"id": "rgpd-101", "title": "RGPD"},
            "learner": {"id": "L2"},
        },
    ]
}

CLOUD_XML = """<?xml version="1.0" encoding="utf-8"?>
<rsp stat="ok">
  <registrationlist>
    <registration id="reg-9" courseid="rgpd-101">
      <courseTitle>RGPD</courseTitle>
      <learnerId>L9</learnerId>
      <email>dina@example.org</email>
      <lastAccessDate>2026-10-03T10:00:00.000+0000</lastAccessDate>
      <registrationreport format="activity" regid="reg-9" instanceid="0">
        <complete>complete</complete>
        <success>failed</success>
        <totaltime>1260</totaltime>
        <score>45</score>
        <activity id="root">
          <title>RGPD</title>
          <children>
            <activity id="sco1">
              <title>Principes</title>
              <attempts>1</attempts>
              <complete>complete</complete>
              <success>failed</success>
              <time>0000:21:00.00</time>
              <score>45</score>
            </activity>
          </children>
        </activity>
      </registrationreport>
    </registration>
  </registrationlist>
</rsp>
"""
