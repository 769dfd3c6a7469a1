import re
from pathlib import Path

import pandas as pd
import pytest
from report_store import FIXTURE_RUNS, TRACEBACK, FakeRun, write_study

from reports import build_report, load_results

LINK = re.compile(r"\]\(([^)]+\.png)\)")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    directory = write_study(
        tmp_path_factory.mktemp("built") / "study",
        "fixture",
        FIXTURE_RUNS,
        command="suite run studies/fixture.toml --set training.epochs=2",
    )
    path = build_report([directory])
    return path, path.read_text(encoding="utf-8")


def _sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_markdown_written_beside_results_with_figures(built: tuple[Path, str]) -> None:
    path, markdown = built
    assert path == path.parent / "report.md" and path.parent.name == "study"
    links = LINK.findall(markdown)
    assert len(links) >= 2 * 7 + 5  # curves + confusion per completed run, plus study figures
    for link in links:
        assert not Path(link).is_absolute() and link.startswith("figures/")
        figure = path.parent / link
        assert figure.is_file() and figure.stat().st_size > 1000


def test_every_section_the_fixture_supports_is_there_and_none_is_empty(built: tuple[Path, str]) -> None:
    sections = _sections(built[1])
    expected = {
        "Leaderboard",
        "Parameter efficiency",
        "Model zoo",
        "Cross-framework comparison",
        "Strategy comparison",
        "Per-class report (best run)",
        "Figures",
        "Runs",
        "Runs that did not complete",
        "How to read the uncertainty",
        "Provenance",
    }
    assert set(sections) == expected
    for title, body in sections.items():
        assert body.strip(), title


def test_failed_run_and_provenance(built: tuple[Path, str]) -> None:
    sections = _sections(built[1])
    assert "`RuntimeError: out of memory`" in sections["Runs that did not complete"]
    provenance = sections["Provenance"]
    assert "suite run studies/fixture.toml --set training.epochs=2" in provenance
    assert "Test CPU 9000 (2 cores)" in provenance and "GPU none" in provenance
    assert "torch 1.0" in provenance and "keras 1.0" in provenance
    assert "2026-01-01T00:00:00+00:00" in provenance
    for run_id in load_results([built[0].parent])["run_id"]:
        assert f"`{run_id}`" in provenance


def test_numbers_reach_the_markdown(built: tuple[Path, str]) -> None:
    sections = _sections(built[1])
    leaderboard = sections["Leaderboard"]
    # rank 1, band 1; 10/10 correct: Wilson [72.2, 100.0]
    assert "| 1 | 1 | resnet18[freeze=none] | torch | 1 | 100.00% [72.2, 100.0] | reference (best) |" in leaderboard
    assert "85.00% ± 7.07 [21.5, 100.0]" in leaderboard
    assert "Detectable difference (80% power, α = 0.05): 39.8 pp" in leaderboard
    cross = sections["Cross-framework comparison"]
    # seed 0: torch wrong [0], keras wrong [0, 1, 2] -> 2 discordant, p = 2 / 2**2 = 0.5
    # Newcombe's paired interval of (7 both right, 0 only keras, 2 only torch, 1 neither): [-50.2, +13.5]
    assert "| within noise [-50.2, +13.5] | 0.500 | 0.500 | seed 0 · 10 samples (by position) |" in cross
    assert "0.56×" in cross
    assert "statsmodels `mcnemar(exact=True)`" in sections["How to read the uncertainty"]
    assert "2,000 resamples, seed 0" in sections["How to read the uncertainty"]


def test_every_accuracy_has_an_interval_and_every_delta_a_verdict(built: tuple[Path, str]) -> None:
    percent = re.compile(r"\d+\.\d\d%")
    titles = ("Leaderboard", "Parameter efficiency", "Model zoo", "Cross-framework comparison", "Strategy comparison")
    for title in (*titles, "Runs"):
        header, _, *rows = sections_table(built[1], title)
        columns = [cell.strip() for cell in header.strip("|").split("|")]
        for row in rows:
            cells = dict(zip(columns, [cell.strip() for cell in row.strip("|").split("|")], strict=True))
            for name, cell in cells.items():
                if name.startswith(("Test acc", "Acc (", "Macro F1")) and percent.search(cell):
                    assert "[" in cell, (title, name, cell)
                if name.startswith(("Δ", "Gain over")) and cell not in ("–", "reference (best)"):
                    assert cell.startswith(("within noise", "**", "reference", "★")), (title, name, cell)


def sections_table(markdown: str, title: str) -> list[str]:
    """The pipe-table lines of one section."""
    return [line for line in _sections(markdown)[title].splitlines() if line.startswith("|")]


def test_only_failed_runs_still_reports(tmp_path: Path) -> None:
    directory = write_study(tmp_path / "s", "broken", [FakeRun("a", error=TRACEBACK), FakeRun("b", error="boom")])
    sections = _sections(build_report([directory]).read_text(encoding="utf-8"))
    assert set(sections) == {"Runs that did not complete", "Provenance"}
    assert "`boom`" in sections["Runs that did not complete"]


def test_single_run_omits_comparisons(tmp_path: Path) -> None:
    directory = write_study(tmp_path / "s", "one", [FakeRun("m", wrong=[0, 3, 1])])
    out = tmp_path / "elsewhere" / "one.md"
    path = build_report([directory], out=out)
    assert path == out
    sections = _sections(path.read_text(encoding="utf-8"))
    assert set(sections) == {
        "Leaderboard",
        "Per-class report (best run)",
        "Runs",
        "How to read the uncertainty",
        "Provenance",
    }
    assert all((out.parent / link).is_file() for link in LINK.findall(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tidy_table_export_merges_study_dirs(tmp_path: Path, fmt: str) -> None:
    first = write_study(tmp_path / "a", "a", FIXTURE_RUNS)
    second = write_study(tmp_path / "b", "b", [FakeRun("extra[backend=torch]", strategy={"freeze": ["stem"]})])
    path = build_report([first, second], fmt=fmt)
    assert path == first / f"results.{fmt}"
    table = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
    assert len(table) == 9
    assert set(table["study"]) == {"a", "b"}
    assert table.loc[table["name"] == "extra[backend=torch]", "spec.strategy.freeze"].item() == '["stem"]'
    accuracy = table.set_index("name")["metrics.test_accuracy"]
    assert accuracy["resnet18[freeze=none]"] == pytest.approx(1.0)


def test_bad_arguments(study_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        build_report([study_dir], fmt="html")
    with pytest.raises(ValueError):
        build_report([])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no runs found"):
        build_report([tmp_path / "empty"])


def test_provenance_lists_every_invocation_of_a_study(tmp_path: Path) -> None:
    from reports.provenance import study_lines

    study = {
        "study": "s",
        "command": "suite run s.toml",
        "date": "2026-12-01T10:00:00+00:00",
        "invocations": [
            {"command": "suite run s.toml", "date": "2026-12-01T10:00:00+00:00", "run_ids": ["a", "b"]},
            {"command": "suite run s.toml --only b", "date": "2026-12-02T10:00:00+00:00", "run_ids": ["b"]},
        ],
    }
    lines = study_lines([tmp_path], [study])
    assert lines[0].endswith("2026-12-01T10:00:00+00:00: `suite run s.toml`")
    assert lines[1] == "**s** again, 2026-12-02T10:00:00+00:00: `suite run s.toml --only b` (1 run(s))"
