"""`speakers.json`: the names an import settled the kind of, merged across imports, bad files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from evswarm.core.batch_speakers import SPEAKERS_FILE, read_named, record_named
from evswarm.core.errors import EvswarmError


def test_names_merge_across_imports_and_a_name_given_again_takes_its_new_kind(tmp_path: Path) -> None:
    assert read_named(tmp_path).agents == [] and read_named(tmp_path).people == []
    record_named(tmp_path, ["customer_service", "Billing"], ["shopper"])
    record_named(tmp_path, ["Shopper", "billing"], [])  # shopper is an agent after all; Billing named twice
    named = read_named(tmp_path)
    assert named.agents == ["billing", "customer_service", "Shopper"] and named.people == []


def test_a_bad_speakers_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    (tmp_path / SPEAKERS_FILE).write_text('{"format": "evswarm.speakers.v1", "agents": "customer_service"}')
    with pytest.raises(EvswarmError) as caught:
        read_named(tmp_path)
    assert str(tmp_path / SPEAKERS_FILE) in str(caught.value) and "field `agents`" in str(caught.value)
