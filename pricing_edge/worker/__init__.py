"""The sync worker: intake streams → per-entity queues → flows (orders first) → BigCommerce and the ERP.

``router`` moves intake entries into ``store.work_queue`` queues, ``engine`` runs a flow's handler
over them with retries and dead letters, ``flows/`` hold the handlers, ``ops_api`` and ``app``
serve the worker's own port.
"""
