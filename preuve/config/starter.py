"""The commented starter configuration written by ``preuve init``."""

STARTER_TOML = """\
# Preuve configuration. Every key can be overridden by an environment variable:
# PREUVE_<SECTION>__<KEY>, e.g. PREUVE_STORE__URL or PREUVE_REDIS__URL.
# Secrets are never written here: name the environment variable that holds them.

language = "fr"            # "fr" or "en": language of messages and reports
log_format = "text"        # "text" or "json"

[store]
# SQLite file by default (no server). For PostgreSQL:
# url = "postgresql+asyncpg://preuve@db/preuve"
url = "sqlite+aiosqlite:///preuve.db"

[redis]
# Unset: syncs run in-process. Set to use arq workers (`preuve worker`):
# url = "redis://127.0.0.1:6379/0"

[schedule]
enabled = true
nightly_at = "02:30"          # local time in the timezone below
timezone = "Europe/Paris"
spread_minutes = 120          # tenants are spread over this window

[web]
host = "127.0.0.1"
port = 8080
# public_url = "https://preuve.example.org"   # used in links sent by webhooks
# API tokens (`preuve token create`): "auto" requires one as soon as a token exists,
# when host is not a loopback address, or when a request comes through a reverse proxy
# (Forwarded, X-Forwarded-For, X-Real-IP); "required" always; "off" never (not advised).
# auth = "auto"
# metrics_auth = false                 # true: /metrics needs an operator read token

[[tenants]]
id = "mon-of"                          # short key: letters, digits, - _ .
name = "Mon organisme de formation"
# siret = "12345678900012"             # 14 digits
# activity_declaration_number = "11755555575"   # NDA, 11 digits
categories = ["training"]              # training, skills_assessment, vae, apprenticeship
new_entrant = false                    # first year of activity (no BPF yet)
subcontracting = false
# Profile flags, used when no synced action says otherwise (left out: unknown).
# certifying = true                    # RNCP / RS certifications: indicators 3, 7, 16
# work_study = true                    # work-study (alternance): indicator 13
# work_based_periods = true            # internships, AFEST, periods in a company: 28
# pseudonym_secret_env = "PREUVE_PSEUDONYM_SECRET"   # secret for pseudonymous learner keys

  [[tenants.sources]]
  id = "moodle"
  kind = "moodle"                      # moodle, xapi, scorm, cv, jsonl
  url = "https://moodle.example.org"
  credentials = { token = "PREUVE_MOODLE_TOKEN" }   # environment variable names

  # [[tenants.sources]]
  # id = "fichiers"
  # kind = "jsonl"
  # path = "/srv/preuve/import"

  # Signed webhooks (Standard Webhooks) when an indicator lacks proof, a sync fails...
  # [[tenants.webhooks]]
  # id = "tickets"
  # url = "https://hooks.example.org/preuve"
  # events = ["indicator.proof_missing", "indicator.due_soon", "sync.failed"]  # [] = all
  # secret_env = "PREUVE_WEBHOOK_SECRET"   # holds whsec_... (several, space separated)
"""
