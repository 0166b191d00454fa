"""The explorer's first paint needs no torch: a cold process draws the closed form at once and
adds PyTorch's own curve once torch, imported in the background, is there (issue 24)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from steplr_viz.schedules import steplr as schedule
from tests.apptest_pages import REPO
from tests.plotly_data import trace_array

TORCH_METRIC = "Largest |closed form − PyTorch|"

# Run in a fresh interpreter: in the test process other tests have imported torch long ago.
_COLD_START = textwrap.dedent(
    """
    import json, sys
    from streamlit.testing.v1 import AppTest

    import app_modules  # every module app.py imports, before it runs
    print(json.dumps({"torch_after_imports": "torch" in sys.modules}))

    at = AppTest.from_file(sys.argv[1], default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    first = json.loads(at.get("plotly_chart")[0].proto.spec)
    captions = [c.value for c in at.caption]
    first_metrics = [m.label for m in at.metric]

    from steplr_viz.schedules.torch_import import wait_for_torch
    assert wait_for_torch(300)
    at.run()  # the page's poll (AppTest has no run_every timer)
    assert not at.exception, [e.value for e in at.exception]
    second = json.loads(at.get("plotly_chart")[0].proto.spec)
    metrics = {m.label: m.value for m in at.metric}
    print(json.dumps({
        "first": [t.get("name") for t in first["data"]],
        "first_captions": captions,
        "first_metrics": first_metrics,
        "second": {t.get("name"): t.get("y") for t in second["data"]},
        "second_captions": [c.value for c in at.caption],
        "metrics": metrics,
    }))
    """
)

# The imports at the top of app.py, as a module the script above can import.
_APP_MODULES = "\n".join(
    line
    for line in (REPO / "app.py").read_text(encoding="utf-8").splitlines()
    if line.startswith(("import ", "from ")) and "__future__" not in line
)


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_the_first_run_paints_without_torch_and_adds_pytorchs_curve_after(tmp_path):
    (tmp_path / "app_modules.py").write_text(_APP_MODULES + "\n", encoding="utf-8")
    script = tmp_path / "cold_start.py"
    script.write_text(_COLD_START, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(REPO / "app.py")],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    imports, result = (json.loads(line) for line in done.stdout.splitlines()[-2:])
    assert imports == {"torch_after_imports": False}
    # First paint: the closed form and its decays, no PyTorch yet, and a note saying why.
    assert any(name.startswith("closed form") for name in result["first"])
    assert "PyTorch StepLR" not in result["first"]
    assert TORCH_METRIC not in result["first_metrics"]
    assert any("Loading PyTorch" in c for c in result["first_captions"])
    # Once torch is there, the next run draws PyTorch's own curve over it, and the note is gone.
    np.testing.assert_array_equal(
        trace_array(result["second"]["PyTorch StepLR"]), schedule.torch_lr_curve(0.1, 0.5, 10, 40)
    )
    assert result["metrics"][TORCH_METRIC] == "0 (identical)"
    assert not any("Loading PyTorch" in c for c in result["second_captions"])
