"""A spec file that cannot be read or parsed is one line naming the file and the problem, never a traceback."""

from pathlib import Path

import pytest

from suite.spec.errors import SpecError
from suite.spec.loader import load_study, read_spec_file

VALID = """
[study]
name = "t"

[[experiments]]
name = "mlp"
backend = "torch"
model = { name = "mlp" }
dataset = { source = "digits" }
training = { epochs = 1 }
"""

UNREADABLE = [
    # (file name, content, expected message)
    (
        "bin.toml",
        bytes(range(256)),
        "bin.toml: not a UTF-8 text file (byte 0x80 at offset 128); a spec is TOML or YAML",
    ),
    (
        "latin.toml",
        '[study]\nname = "café"\n'.encode("latin-1"),
        "latin.toml: not a UTF-8 text file (byte 0xe9 at offset 19); a spec is TOML or YAML",
    ),
    (
        "latin.yaml",
        "study: {name: café}\n".encode("latin-1"),
        "latin.yaml: not a UTF-8 text file (byte 0xe9 at offset 17); a spec is TOML or YAML",
    ),
    ("empty.toml", b"", "empty.toml: the file is empty; a study needs at least one [[experiments]] table"),
    ("blank.yaml", b"\n  \n", "blank.yaml: the file is empty; a study needs at least one [[experiments]] table"),
    (
        "list.yaml",
        b"- a\n- b\n",
        "list.yaml: the file must hold a table of keys ([study], [[experiments]]), got a list",
    ),
    ("int.yaml", b"42\n", "int.yaml: the file must hold a table of keys ([study], [[experiments]]), got a number"),
    ("str.yml", b"hello\n", "str.yml: the file must hold a table of keys ([study], [[experiments]]), got a string"),
    (
        "bad.yaml",
        b"a: b: c\n",
        "bad.yaml: not valid YAML: mapping values are not allowed here (line 1, column 5)",
    ),
    (
        "two.yaml",
        b"a: 1\n---\nb: 2\n",
        "two.yaml: not valid YAML: expected a single document in the stream: but found another document "
        "(line 2, column 1)",
    ),
    (
        "bad.toml",
        b"[study\n",
        "bad.toml: not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 7)",
    ),
    (
        "spec.txt",
        b"[study\n",
        "spec.txt: not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 7)",
    ),
    ("deep.toml", b"a = " + b"[" * 50000 + b"]" * 50000, "deep.toml: not valid TOML: nested too deeply"),
]


@pytest.mark.parametrize(("name", "content", "message"), UNREADABLE, ids=[case[0] for case in UNREADABLE])
def test_unreadable_file_is_one_line(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SpecError) as info:
        load_study(path)
    assert str(info.value) == message


def test_a_directory_is_not_a_spec(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        read_spec_file(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a directory, not a spec file"


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        read_spec_file(tmp_path / "nope.toml")
    assert str(info.value) == f"{tmp_path / 'nope.toml'}: cannot read file (No such file or directory)"


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes("\ufeff".encode() + VALID.encode())
    assert load_study(path).name == "t"


def test_yaml_matrix_keys_must_be_strings(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("matrix: {1: [a]}\nexperiments: [{name: x}]\n")
    with pytest.raises(SpecError) as info:
        load_study(path)
    assert str(info.value) == "m.yaml: matrix: keys must be spec keys like lr or training.epochs, got 1"
