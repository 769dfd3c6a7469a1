from pathlib import Path

import pytest
from report_store import FIXTURE_RUNS, write_study


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    return write_study(tmp_path / "study", "fixture", FIXTURE_RUNS)
