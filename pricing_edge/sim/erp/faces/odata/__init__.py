"""A small OData V2 server for the simulated ERP's vendor faces: entity definitions and the
``$metadata`` built from them, query options, JSON envelopes and paging, ``$batch``, and the
Gateway-style auth, CSRF and error bodies a face answers with."""
