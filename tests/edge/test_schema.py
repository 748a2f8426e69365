import threading
from pathlib import Path

import orjson
from graphql import build_schema, parse, validate

from pricing_edge.edge.schema import save_schema, with_extension

UPSTREAM = "type Query { site: Site! } type Site { name: String! } type Customer { entityId: Int! }"


def test_the_edges_extension_is_additive_to_the_upstream_schema() -> None:
    schema = with_extension(build_schema(UPSTREAM), "extend type Site { asOf: String }")
    assert not validate(schema, parse("{ site { name asOf } }"))
    assert not validate(schema, parse("{ site { name } }"))  # existing documents are unaffected


def test_processes_saving_the_schema_at_once_never_take_each_others_file(tmp_path: Path) -> None:
    # `serve --workers N`: every worker introspects and saves at start-up, at the same moment.
    target = tmp_path / "upstream-schema.json"
    failures: list[BaseException] = []

    def save_many(writer: int) -> None:
        for round_ in range(200):
            try:
                save_schema(target, orjson.dumps({"writer": writer, "round": round_}))
            except BaseException as exc:  # noqa: BLE001 — any failure is the finding
                failures.append(exc)

    threads = [threading.Thread(target=save_many, args=(writer,)) for writer in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert set(orjson.loads(target.read_bytes())) == {"writer", "round"}  # whole, one writer's
    assert [p.name for p in tmp_path.iterdir()] == ["upstream-schema.json"]  # no temporary left behind
