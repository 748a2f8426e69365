"""The worker's flows: each routes its messages to entities and handles one at a time (``engine.Flow``)."""
