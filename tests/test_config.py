"""Tracker configuration: range checks on every field, ``base:`` inheritance, declared stages."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tracker import Tracker, available_presets, load_config
from tracker.association.terms import REGISTRY
from tracker.config import (
    COST_TERMS,
    AppearanceConfig,
    AssociationConfig,
    CmcConfig,
    CostTermConfig,
    LifecycleConfig,
    MotionConfig,
    StageConfig,
    TrackerConfig,
    config_from_dict,
    dataclass_from_dict,
    ranged,
    read_yaml_with_base,
)

SECTIONS = (MotionConfig, AssociationConfig, AppearanceConfig, LifecycleConfig, CmcConfig)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("data", "where", "allowed"),
    [
        ({"association": {"stages": [{"max_cost": -5}]}}, "association.stages[0].max_cost", "[0, 2]"),
        ({"appearance": {"weight": 7}}, "appearance.weight", "[0, 1]"),
        ({"association": {"high_score": 1.5}}, "association.high_score", "[0, 1]"),
        ({"motion": {"std_weight_position": 0}}, "motion.std_weight_position", "(0, 1]"),
        ({"lifecycle": {"min_hits": 0}}, "lifecycle.min_hits", "[1, "),
        ({"lifecycle": {"max_lost_frames": -1}}, "lifecycle.max_lost_frames", "[0, "),
        ({"appearance": {"ema_alpha": 1.0}}, "appearance.ema_alpha", "[0, 1)"),
        ({"cmc": {"downscale": 0}}, "cmc.downscale", "[1, 64]"),
        ({"appearance": {"fuse": "max"}}, "appearance.fuse", "'min'"),
        ({"association": {"stages": [{"tracks": ["dead"]}]}}, "association.stages[0].tracks", "'tracked'"),
        ({"association": {"stages": [{"cost": ["giou"]}]}}, "association.stages[0].cost[0].name", "'iou'"),
        ({"association": {"stages": [{"detections": "mid"}]}}, "association.stages[0].detections", "'high'"),
        ({"motion": {"gating_chi2": float("nan")}}, "motion.gating_chi2", "(0, "),
    ],
)
def test_values_out_of_range_name_the_key_path_and_the_range(
    data: dict[str, Any], where: str, allowed: str
) -> None:
    with pytest.raises(ValueError) as info:
        config_from_dict(data, where="cfg.yaml")
    msg = str(info.value)
    assert f"cfg.yaml.{where}" in msg
    assert allowed in msg


def test_yaml_out_of_range_names_the_file(tmp_path: Path) -> None:
    p = _write(tmp_path / "bad.yaml", "appearance:\n  weight: 7\n")
    with pytest.raises(
        ValueError, match=r"bad\.yaml\.appearance\.weight: 7.0 is outside the allowed range \[0, 1\]"
    ):
        load_config(p)


@pytest.mark.parametrize("cls", SECTIONS)
def test_every_numeric_field_declares_a_range_and_every_str_field_its_choices(cls: type) -> None:
    for f in dataclasses.fields(cls):
        if f.type in ("float", "int"):
            assert "range" in f.metadata, f"{cls.__name__}.{f.name}"
        if f.type == "str":
            assert "choices" in f.metadata, f"{cls.__name__}.{f.name}"


@pytest.mark.parametrize("cls", SECTIONS)
def test_direct_construction_is_range_checked_too(cls: type) -> None:
    numeric = [f for f in dataclasses.fields(cls) if "range" in f.metadata]
    for f in numeric:
        lo = f.metadata["range"][0]
        with pytest.raises(ValueError, match=f.name):
            cls(**{f.name: lo - 1})


def test_defaults_and_bundled_presets_are_in_range() -> None:
    TrackerConfig()
    for name in available_presets():
        assert isinstance(load_config(name), TrackerConfig)


def test_the_range_mechanism_serves_any_config_dataclass() -> None:
    @dataclasses.dataclass(frozen=True)
    class Other:
        rate: float = ranged(0.5, 0.0, 1.0)

    assert dataclass_from_dict(Other, {"rate": 1}).rate == 1.0
    with pytest.raises(ValueError, match=r"other\.rate: 2.0 is outside the allowed range \[0, 1\]"):
        dataclass_from_dict(Other, {"rate": 2}, "other")


def test_cost_term_names_match_the_registry() -> None:
    assert set(COST_TERMS) == set(REGISTRY)


def test_stages_read_from_yaml_with_shorthand_terms(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "s.yaml",
        "association:\n  stages:\n    - name: one\n      tracks: [tracked, lost, tentative]\n"
        "      detections: all\n      cost: [iou, {name: height, weight: 0.5}]\n      max_cost: 0.9\n",
    )
    cfg = load_config(p)
    (stage,) = cfg.association.stages
    assert stage == StageConfig(
        "one",
        ("tracked", "lost", "tentative"),
        "all",
        (CostTermConfig("iou"), CostTermConfig("height", 0.5)),
        0.9,
    )
    Tracker(cfg)


def test_a_stage_cost_must_start_with_a_base_term(tmp_path: Path) -> None:
    from tracker import Detections

    cfg = config_from_dict({"association": {"stages": [{"cost": ["appearance"]}]}})
    t = Tracker(cfg)
    t.update(Detections([[0, 0, 10, 10]], [0.9]))
    with pytest.raises(ValueError, match="base term"):
        t.update(Detections([[0, 0, 10, 10]], [0.9]))


def test_no_stage_is_an_error() -> None:
    with pytest.raises(ValueError, match="stages"):
        config_from_dict({"association": {"stages": []}})


# -- YAML files, base: ----------------------------------------------------------------------------
def test_top_level_list_is_a_clean_error_naming_the_file(tmp_path: Path) -> None:
    p = _write(tmp_path / "list.yaml", "- association\n- motion\n")
    with pytest.raises(ValueError, match=r"list\.yaml: expected a mapping at the top level, got a list"):
        load_config(p)


def test_base_preset_name_merges_key_by_key(tmp_path: Path) -> None:
    p = _write(tmp_path / "mine.yaml", "base: bytetrack\nlifecycle:\n  max_lost_frames: 12\n")
    cfg = load_config(p)
    ref = load_config("bytetrack")
    assert cfg.name == "mine"
    assert cfg.lifecycle.max_lost_frames == 12
    assert cfg.lifecycle.min_hits == ref.lifecycle.min_hits
    assert cfg.association == ref.association


def test_base_relative_path_chain_and_lists_replace(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "root.yaml", "association:\n  high_score: 0.5\n  low_score: 0.2\n")
    _write(tmp_path / "sub" / "mid.yaml", "base: ../root.yaml\nassociation:\n  high_score: 0.55\n")
    leaf = _write(
        tmp_path / "sub" / "leaf.yaml",
        "base: mid.yaml\nassociation:\n  stages:\n    - cost: [iou]\n",
    )
    data = read_yaml_with_base(leaf, tmp_path, "test preset")
    assert data["association"]["high_score"] == 0.55 and data["association"]["low_score"] == 0.2
    assert data["association"]["stages"] == [{"cost": ["iou"]}]
    assert data["name"] == "leaf" and "base" not in data
    assert len(load_config(leaf).association.stages) == 1


def test_base_cycle_and_bad_base_are_errors(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", "base: b.yaml\n")
    _write(tmp_path / "b.yaml", "base: a.yaml\n")
    with pytest.raises(ValueError, match="base cycle"):
        load_config(tmp_path / "a.yaml")
    _write(tmp_path / "c.yaml", "base: [1, 2]\n")
    with pytest.raises(ValueError, match=r"c\.yaml: base"):
        load_config(tmp_path / "c.yaml")
    _write(tmp_path / "d.yaml", "base: no_such_preset\n")
    with pytest.raises(ValueError, match=r"d\.yaml: base: unknown preset 'no_such_preset'"):
        load_config(tmp_path / "d.yaml")
    with pytest.raises(ValueError, match=r"is a folder; give a preset name or a \.yaml file"):
        load_config(tmp_path)  # it was looked up as a preset name: "unknown preset '/tmp/...'"
    _write(tmp_path / "e.yaml", "base: missing.yaml\n")
    with pytest.raises(FileNotFoundError, match=r"e\.yaml: base: config file not found: .*missing\.yaml"):
        load_config(tmp_path / "e.yaml")


def test_a_key_given_twice_is_an_error(tmp_path: Path) -> None:
    """PyYAML keeps the last of two equal keys silently: `min_hits` written twice took the later."""
    _write(tmp_path / "dup.yaml", "base: default\nlifecycle:\n  min_hits: 2\n  min_hits: 5\n")
    with pytest.raises(ValueError, match=r"(?s)dup\.yaml: invalid YAML: key 'min_hits' given twice.*line 4"):
        load_config(tmp_path / "dup.yaml")
    _write(tmp_path / "twice_apart.yaml", "lifecycle: {min_hits: 2}\nappearance: {weight: 0.5}\n")
    assert load_config(tmp_path / "twice_apart.yaml").lifecycle.min_hits == 2  # same key, other mappings


def test_a_bad_key_is_blamed_on_the_file_that_holds_it(tmp_path: Path) -> None:
    """A bad key in a base file was reported as the child's (`child.yaml.association: unknown key`),
    though the child only names the base."""
    _write(tmp_path / "bad_base.yaml", "base: default\nassociation: {bogus_key: 1}\n")
    _write(tmp_path / "child.yaml", "base: bad_base.yaml\nlifecycle: {min_hits: 3}\n")
    with pytest.raises(ValueError, match=r"bad_base\.yaml\.association: unknown key\(s\) \['bogus_key'\]"):
        load_config(tmp_path / "child.yaml")
    # the child's own mistake is still the child's
    _write(tmp_path / "good_base.yaml", "base: default\n")
    _write(tmp_path / "child2.yaml", "base: good_base.yaml\nlifecycle: {min_hits: -1}\n")
    with pytest.raises(ValueError, match=r"child2\.yaml\.lifecycle\.min_hits"):
        load_config(tmp_path / "child2.yaml")
    # a base that is incomplete on its own but completed by the child loads: only a failing result is
    # traced back through the chain
    _write(tmp_path / "partial.yaml", "association: {relative_score_level: 0.6, score_adapt_rate: 0}\n")
    with pytest.raises(ValueError, match=r"partial\.yaml\.association: relative_score_level needs"):
        load_config(tmp_path / "partial.yaml")
    _write(tmp_path / "completes.yaml", "base: partial.yaml\nassociation: {score_adapt_rate: 0.05}\n")
    assert load_config(tmp_path / "completes.yaml").association.score_adapt_rate == 0.05


@pytest.mark.parametrize(
    ("family", "base_text", "match"),
    [
        ("reid", "base: light\noptim: {gamma: -3}\n", r"base\.yaml\.optim\.gamma"),
        ("linking", "time_window_s: -5\n", r"base\.yaml\.time_window_s"),
    ],
)
def test_the_other_config_families_blame_the_base_too(
    tmp_path: Path, family: str, base_text: str, match: str
) -> None:
    """ReID training and multi-camera linking files share the loader, and so the blame."""
    from tracker.multicam import load_multicam_config
    from tracker.reid.train.config import load_reid_config

    load = load_reid_config if family == "reid" else load_multicam_config
    _write(tmp_path / "base.yaml", base_text)
    _write(tmp_path / "child.yaml", "base: base.yaml\n")
    with pytest.raises(ValueError, match=match):
        load(tmp_path / "child.yaml")  # type: ignore[operator]


def test_read_yaml_with_base_serves_another_preset_folder(tmp_path: Path) -> None:
    _write(tmp_path / "house.yaml", "linking:\n  gate: 0.3\n  other: 1\n")
    p = _write(tmp_path / "x.yaml", "base: house\nlinking:\n  gate: 0.4\n")
    assert read_yaml_with_base(p, tmp_path, "camera preset")["linking"] == {"gate": 0.4, "other": 1}
    with pytest.raises(ValueError, match="unknown camera preset 'nope'"):
        read_yaml_with_base("nope", tmp_path, "camera preset")
