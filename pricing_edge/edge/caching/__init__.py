"""Caching primitives shared by the edge's caches: one stale-while-revalidate policy and refresher
(``swr``) and the memory-bounded in-process L1 (``l1``)."""
