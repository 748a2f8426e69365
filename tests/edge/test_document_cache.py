"""Documents seen before are found by their text (the hit path hashes nothing): the same prepared document the
hash finds, never another text's, and only prepared ones are kept so (a refused text is not held)."""
from __future__ import annotations

import pytest

from pricing_edge.edge.document import DocumentCache, DocumentError, document_key
from pricing_edge.sim.storefront.schema import build

SCHEMA = build()
PAGE = "query Page { site { settings { storeHash } } }"
SAME_BUT_SPACED = "query Page {  site { settings { storeHash } } }"
OTHER = "query Other { site { settings { storeName } } }"
REFUSED = "query Bad { site { noSuchField } }"


def test_a_text_seen_before_is_the_document_its_hash_found() -> None:
    documents = DocumentCache(SCHEMA)
    first = documents.prepare(PAGE)
    assert first.key == document_key(PAGE)
    assert documents.prepare(PAGE) is first
    assert documents.prepare("".join(PAGE)) is first  # an equal text made anew (as each request's is)


def test_a_different_text_is_a_different_document_even_when_it_means_the_same() -> None:
    documents = DocumentCache(SCHEMA)
    page, spaced, other = documents.prepare(PAGE), documents.prepare(SAME_BUT_SPACED), documents.prepare(OTHER)
    assert len({page.key, spaced.key, other.key}) == 3
    assert spaced.key == document_key(SAME_BUT_SPACED) and other.key == document_key(OTHER)
    assert documents.prepare(PAGE) is page and documents.prepare(OTHER) is other


def test_a_refused_text_is_refused_every_time_and_not_kept_by_its_text() -> None:
    documents = DocumentCache(SCHEMA)
    for _ in range(2):
        with pytest.raises(DocumentError):
            documents.prepare(REFUSED)
    assert REFUSED not in documents._by_text


def test_the_texts_kept_are_bounded_and_a_text_let_go_is_still_its_document() -> None:
    documents = DocumentCache(SCHEMA, size=2)
    page = documents.prepare(PAGE)
    documents.prepare(SAME_BUT_SPACED)
    documents.prepare(OTHER)
    assert len(documents._by_text) == 2 and PAGE not in documents._by_text
    assert documents.prepare(PAGE).key == page.key
