"""Sync orchestration: connectors into the store, every night and on demand.

- ``runner``: drives one connector's streams into the store, batch by batch.
- ``jobs``: the sync job of one (tenant, source), the same in every mode.
- ``hooks``: after a sync, the sync's event to the webhook outbox, then a coverage
  snapshot (``snapshot_coverage``: evaluate, store and enqueue its events in one
  transaction), also used by ``preuve coverage`` and the web API.
- ``worker``: the arq worker (distributed mode), ``dispatch``: enqueueing.
- ``embedded``: the in-process scheduler (``preuve serve`` without Redis).
- ``locks``: one sync per (tenant, source) at a time; ``schedule``: the nightly
  tick and the tenant spread; ``progress``: what is running now.
- ``metrics``: the Prometheus registry shared by every subsystem.
"""
