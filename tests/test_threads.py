"""One warm Reasoner called from several threads at once (a threaded web server, say) gives each
call the advice it gives alone. Every call stages its patient in the same working graphs, and
before the lock two threads cleared each other's patients: valid records came back with empty or
partial advice, and three were recommended drugs their record contraindicates (session-35 failure
probe F1)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from reasoner.pipeline import Reasoner

VALID = Path(__file__).parent / "data" / "valid"


def _records() -> list[dict]:
    """Plain JSON records with advice of many kinds (the first 24 valid fixtures)."""
    records = []
    for path in sorted(VALID.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(record, dict) and record.get("resourceType") is None and "id" in record:
            records.append(record)
    return records[:24]


def test_concurrent_calls_on_one_reasoner_give_the_advice_each_gives_alone(reasoner: Reasoner) -> None:
    records = _records()
    alone = {record["id"]: reasoner.recommend(record).to_json() for record in records}
    assert sum(len(json.loads(text)["advice"]) for text in alone.values()) > 100  # advice to lose
    together: dict[str, str] = {}
    errors: list[BaseException] = []

    def work(chunk: list[dict]) -> None:
        try:
            for _ in range(2):
                for record in chunk:
                    together[record["id"]] = reasoner.recommend(record).to_json()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(records[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert [patient for patient in alone if together.get(patient) != alone[patient]] == []
