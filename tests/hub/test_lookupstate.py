"""The lookup states' words: what results print and what metadata.json keeps, pinned."""

from __future__ import annotations

import json

from modeld.hub.lookupstate import LookupState


def test_each_state_prints_its_result_word_and_records_the_older_one():
    words = {state: (json.dumps(state), state.recorded) for state in LookupState}
    assert words == {
        LookupState.CONFIRMED: ('"confirmed"', "done"),
        LookupState.UNCONFIRMED: ('"unconfirmed"', "miss"),
        LookupState.NOT_FOUND: ('"not_found"', "miss"),
        LookupState.PENDING: ('"pending"', "pending"),
        LookupState.DISABLED: ('"disabled"', None),
        LookupState.MISSING: ('"missing"', None),
        LookupState.FAILED: ('"failed"', None),
    }
    assert LookupState("not_found") is LookupState.NOT_FOUND


def test_only_answers_count_as_answered_and_a_miss_with_leads_is_unconfirmed():
    assert {s for s in LookupState if s.answered} == {
        LookupState.CONFIRMED,
        LookupState.UNCONFIRMED,
        LookupState.NOT_FOUND,
    }
    assert LookupState.missed(("a lead",)) is LookupState.UNCONFIRMED
    assert LookupState.missed(()) is LookupState.NOT_FOUND
