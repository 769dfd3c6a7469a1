"""benchmarks/reliability.py runs as it is, with tiny arguments: its table, exit status and families."""

import pytest
from benchmark_scripts import load_script


def test_a_few_malformed_specs_give_a_clean_table(tmp_path, capsys) -> None:
    markdown = tmp_path / "table.md"
    code = load_script("reliability").main(["--faults", "malformed", "--malformed", "3", "--markdown", str(markdown)])
    assert code == 0
    table = markdown.read_text()
    assert "| malformed spec files | 3 | 3 | 0 | 0 | 0 |" in table
    assert "Parallel runs: not measured." in capsys.readouterr().out


def test_an_unknown_family_is_refused(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        load_script("reliability").main(["--faults", "nope"])
    assert exit_info.value.code == 2
    assert "--faults: unknown nope" in capsys.readouterr().err


@pytest.mark.slow
def test_kills_and_damage_with_one_injection_each() -> None:
    code = load_script("reliability").main(["--faults", "nan,damage,kills", "--kills", "2", "--damage", "1"])
    assert code == 0
