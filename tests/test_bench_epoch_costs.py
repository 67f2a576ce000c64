"""The per-callback cost breakdown behind docs/performance.md on the benchmark gaps."""

from __future__ import annotations

import pytest

from tfnn.bench import epoch_costs


def test_epoch_costs_name_each_callback_hook_within_the_epoch_time():
    costs = epoch_costs.measure("digits", 3)
    hooks = costs["hooks_ms"]
    for hook in (
        "EpochValidation.on_epoch_end",
        "ScalarLogger.on_epoch_end",
        "EpochBackup.on_epoch_end",
        "ClassifierFigures.on_epoch_end",
    ):
        assert hooks[hook] > 0, hook
    assert list(hooks.values()) == sorted(hooks.values(), reverse=True)
    # The hooks run inside the timed epochs (the last backup just after them).
    assert 0 < sum(hooks.values()) < 1.5 * costs["epoch_ms"]


def test_epoch_costs_needs_an_epoch_after_the_first(capsys):
    with pytest.raises(ValueError, match="at least 2 epochs"):
        epoch_costs.measure("digits", 1)
    with pytest.raises(SystemExit):
        epoch_costs.main(["digits", "1"])
    assert "at least 2 epochs" in capsys.readouterr().err
