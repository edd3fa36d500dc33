"""Settings are declared once: the toml, the docs and validation all come from SETTINGS."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxchain import SettingsError, Workspace
from cxchain.settings import SETTINGS, load_settings, settings_reference

ROOT = Path(__file__).resolve().parents[1]


def test_docs_settings_reference_is_current():
    assert (ROOT / "docs" / "settings.md").read_text() == settings_reference(), "run `make docs`"


def test_new_workspace_toml_has_every_setting_with_help(tmp_path):
    ws = Workspace.init(tmp_path / "w", sector="housing")
    text = (ws.path / "cxchain.toml").read_text()
    for s in SETTINGS:
        assert s.help.split(".")[0][:30] in text
    assert ws.settings["sector"] == "housing" and ws.settings["timezone"] == "Europe/London"
    assert ws.settings["metrics.repeat_window_days"] == 7 and ws.settings["cycle.length_weeks"] == 12
    assert "costs.chat" in ws.settings.placeholders_in_use()


@pytest.mark.parametrize("line,msg", [("nonsense = 1", "unknown setting 'nonsense'"), ('sector = "zoo"', "not one of"),
                                      ('as_of = "yesterday"', "not a date"), ("[costs]\nphone = [5, 1]", "above high")])
def test_bad_settings_name_the_key(tmp_path, line, msg):
    p = tmp_path / "cxchain.toml"
    p.write_text(line + "\n")
    with pytest.raises(SettingsError, match=msg):
        load_settings(p)


def test_missing_workspace_is_a_clear_error(tmp_path):
    with pytest.raises(Exception, match="not a cxchain workspace"):
        Workspace(tmp_path)
