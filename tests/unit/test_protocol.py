"""Protocols are validated on load with messages that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from review.errors import ProtocolError
from review.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _base() -> dict:
    return yaml.safe_load(PROTOCOL.read_text(encoding="utf-8"))


def test_crps_protocol_is_complete() -> None:
    p = load_protocol(PROTOCOL)
    queries = " ".join(s.query for s in p.searches)
    for term in (
        '"Complex Regional Pain Syndromes"[Mesh]',
        '"Reflex Sympathetic Dystrophy"[Mesh]',
        '"Causalgia"[Mesh]',
        "ketamine",
        "Spinal Cord Stimulation",
        "sympathetic block",
        "mirror therapy",
        "topical",
    ):
        assert term in queries
    assert {o.domain for o in p.outcomes} >= {"pain", "function", "quality_of_life"}
    assert [w.label for w in p.follow_up_windows] == ["<= 2 weeks", "2 weeks to 3 months", "> 3 months"]
    assert p.window_for(14).label == "<= 2 weeks"  # type: ignore[union-attr]
    assert p.window_for(15).label == "2 weeks to 3 months"  # type: ignore[union-attr]
    assert p.window_for(365).label == "> 3 months"  # type: ignore[union-attr]
    assert p.screening.reviewers_per_record == 2
    assert "full text not available" in p.screening.exclusion_reasons
    for comp in p.analysis.comparisons:
        assert comp.intervention in p.intervention_classes
        assert set(comp.controls) <= set(p.intervention_classes)


def test_unknown_key_is_named(tmp_path: Path) -> None:
    data = _base()
    data["question"]["populaton"] = "typo"
    with pytest.raises(ProtocolError, match=r"unknown key question\.populaton"):
        load_protocol(_write(tmp_path, data))


def test_missing_field_is_named(tmp_path: Path) -> None:
    data = _base()
    del data["searches"][1]["query"]
    with pytest.raises(ProtocolError, match=r"missing required field searches\[1\]\.query"):
        load_protocol(_write(tmp_path, data))


def test_wrong_type_is_named(tmp_path: Path) -> None:
    data = _base()
    data["follow_up_windows"][0]["from_day"] = "soon"
    with pytest.raises(ProtocolError, match=r"follow_up_windows\[0\]\.from_day must be a number"):
        load_protocol(_write(tmp_path, data))


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProtocolError, match=r"p\.yaml, line \d+: not valid YAML"):
        load_protocol(path)


def test_non_pubmed_database_is_refused(tmp_path: Path) -> None:
    data = _base()
    data["searches"][0]["database"] = "embase"
    with pytest.raises(ProtocolError, match="review import"):
        load_protocol(_write(tmp_path, data))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="no such protocol file"):
        load_protocol(tmp_path / "nope.yaml")
