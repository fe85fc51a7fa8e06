"""Prometheus metrics: one registry, the counters and histograms every subsystem shares.

Other subsystems import what they record from here (the webhooks outbox counts
its deliveries with :data:`WEBHOOK_DELIVERIES`). Labels never carry personal
data; tenant and source ids appear only on the per-source freshness gauge, whose
cardinality is the number of configured sources.

In embedded mode the web app's ``/metrics`` shows everything. In distributed mode
each worker process keeps its own counters: scrape every worker
(``[sync] metrics_port``) as well as the web app.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY: Final = CollectorRegistry(auto_describe=True)

# Sync durations range from a second (an idle JSON Lines source) to an hour.
_DURATION_BUCKETS: Final = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, float("inf"))

SYNC_RUNS: Final = Counter(
    "preuve_sync_runs",
    "Sync runs finished, by source kind and final status.",
    ["kind", "status"],
    registry=REGISTRY,
)
SYNC_DURATION: Final = Histogram(
    "preuve_sync_duration_seconds",
    "Wall time of one (tenant, source) sync run.",
    ["kind", "status"],
    buckets=_DURATION_BUCKETS,
    registry=REGISTRY,
)
SYNC_RECORDS: Final = Counter(
    "preuve_sync_records",
    "Evidence records seen by sync runs, by what the store did with them.",
    ["kind", "outcome"],  # inserted, updated, unchanged, withdrawn, skipped
    registry=REGISTRY,
)
SYNC_ERRORS: Final = Counter(
    "preuve_sync_errors",
    "Errors met by sync runs (failures, retries, skipped items), by code.",
    ["kind", "code"],
    registry=REGISTRY,
)
SYNC_RETRIES: Final = Counter(
    "preuve_sync_retries",
    "Sync jobs put back in the queue after a transient error.",
    ["kind"],
    registry=REGISTRY,
)
SYNC_REFUSED: Final = Counter(
    "preuve_sync_refused",
    "Sync requests refused because the same (tenant, source) was already queued or running.",
    registry=REGISTRY,
)
SYNC_IN_PROGRESS: Final = Gauge(
    "preuve_sync_in_progress",
    "Sync runs going on in this process.",
    registry=REGISTRY,
)
SYNC_LAST_SUCCESS: Final = Gauge(
    "preuve_sync_last_success_timestamp_seconds",
    "Unix time of the last successful (or partial) sync of each source: alert when stale.",
    ["tenant", "source"],
    registry=REGISTRY,
)
QUEUE_DEPTH: Final = Gauge(
    "preuve_sync_queue_depth",
    "Sync jobs waiting: ready to run now, or deferred (nightly spread, retry backoff).",
    ["state"],
    registry=REGISTRY,
)
POST_SYNC_ERRORS: Final = Counter(
    "preuve_post_sync_errors",
    "Failures of the steps after a sync (coverage evaluation, webhook enqueue).",
    ["step"],
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES: Final = Counter(
    "preuve_webhook_deliveries",
    "Outbound webhook delivery attempts, by outcome (delivered, failed, gave_up...).",
    ["outcome"],
    registry=REGISTRY,
)
WEBHOOK_DELIVERY_DURATION: Final = Histogram(
    "preuve_webhook_delivery_seconds",
    "Time taken by one outbound webhook delivery attempt.",
    registry=REGISTRY,
)

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


def exposition() -> bytes:
    """The registry in the Prometheus text format."""
    data: bytes = generate_latest(REGISTRY)
    return data
