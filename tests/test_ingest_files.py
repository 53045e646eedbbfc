"""Files as `smkb ingest` finds and reads them: links out of a folder, names that are not UTF-8, UTF-16/32 text."""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import smkb

from shadowmatch_kb.ingest.readers import expand_inputs, item_id_for, list_inputs, printable, read_input

NOTE = "Night shift\nRobots now plan the night shift for the ward.\n"


def names(folder: Path) -> list[str]:
    return [str(Path(p).relative_to(folder)) for p in expand_inputs([str(folder)])]


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "note.txt").write_text(NOTE)
    return folder


def test_a_link_out_of_the_folder_is_refused_with_its_reason(inbox, tmp_path):
    outside = tmp_path / "private.txt"
    outside.write_text("Salaries\nThe payroll of every employee.")
    (inbox / "link.txt").symlink_to(outside)
    (inbox / "etc.txt").symlink_to("/etc/passwd")
    listed = {str(Path(e.value).relative_to(inbox)): e.refused for e in list_inputs([str(inbox)])}
    assert listed["a/note.txt"] is None
    assert "outside the folder" in listed["link.txt"] and "outside the folder" in listed["etc.txt"]
    assert names(inbox) == ["a/note.txt"]


def test_a_link_to_a_folder_outside_is_refused_and_never_entered(inbox, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.md").write_text("# Secret\n\nNot for the knowledge base.\n")
    (inbox / "more").symlink_to(elsewhere, target_is_directory=True)
    refused = [e for e in list_inputs([str(inbox)]) if e.refused]
    assert [Path(e.value).name for e in refused] == ["more"]
    assert names(inbox) == ["a/note.txt"]


def test_links_inside_the_folder_are_followed_once_and_loops_end(inbox):
    (inbox / "again.txt").symlink_to(inbox / "a" / "note.txt")  # the same file under a second name
    (inbox / "a" / "loop").symlink_to(inbox, target_is_directory=True)  # a folder that contains itself
    (inbox / "b").symlink_to(inbox / "a", target_is_directory=True)
    assert names(inbox) == ["a/note.txt"]
    assert all(e.refused is None for e in list_inputs([str(inbox)]))


def test_a_broken_link_is_reported(inbox, tmp_path):
    (inbox / "gone.txt").symlink_to(tmp_path / "missing.txt")
    refused = [e for e in list_inputs([str(inbox)]) if e.refused]
    assert [Path(e.value).name for e in refused] == ["gone.txt"]


def test_a_file_named_directly_may_be_a_link(inbox, tmp_path):
    # Naming a file is an explicit choice; only a folder's walk is kept inside the folder.
    (tmp_path / "direct.txt").symlink_to(inbox / "a" / "note.txt")
    assert [e.refused for e in list_inputs([str(tmp_path / "direct.txt")])] == [None]


def test_the_cli_reports_a_link_out_of_the_folder_as_failed(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    outside = tmp_path / "private.txt"
    outside.write_text("Salaries\nThe payroll of every employee.")
    (folder / "link.txt").symlink_to(outside)
    kb = tmp_path / "kb"
    result = smkb("ingest", str(folder), "--json", kb=kb)
    assert result.exit_code == 1
    [entry] = json.loads(result.stdout)["items"]
    assert entry["input"] == str(folder / "link.txt") and entry["status"] == "failed" and entry["id"] is None
    assert "outside the folder" in entry["error"]
    assert json.loads(smkb("list", "--json", kb=kb).stdout)["items"] == []


# ----- names and encodings ------------------------------------------------------------------------------


def undecodable(folder: Path) -> Path:
    """A file whose name is Latin-1 bytes, as an old archive unpacked on Linux leaves them."""
    raw = os.path.join(os.fsencode(folder), b"caf\xe9.txt")
    with open(raw, "wb") as handle:
        handle.write(NOTE.encode())
    return Path(os.fsdecode(raw))


def test_printable_escapes_bytes_that_are_not_utf8():
    assert printable("caf\udce9.txt") == "caf\\xe9.txt"
    assert printable("café.txt") == "café.txt"
    assert printable("half \ud800 pair") == "half \\ud800 pair"


def test_a_name_that_is_not_utf8_is_read_and_named_printably(tmp_path):
    path = undecodable(tmp_path)
    loaded = read_input(str(path))
    assert loaded.item.title == "Night shift"
    assert loaded.raw.input == str(tmp_path) + "/caf\\xe9.txt"
    loaded.raw.input.encode("utf-8")  # storable and printable
    assert loaded.item.id == hashlib.md5(b"file:" + os.fsencode(path.resolve())).hexdigest()
    assert item_id_for(str(tmp_path / "cafe.txt")) == hashlib.md5(f"file:{tmp_path / 'cafe.txt'}".encode()).hexdigest()


def test_an_unreadable_file_with_such_a_name_fails_in_valid_utf8_json(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), b"r\xe9sum\xe9.png.txt")))
    path.write_bytes(b"\x00\x01\x02binary")
    result = smkb("ingest", str(folder), "--json", kb=tmp_path / "kb")
    assert result.exit_code == 1
    result.stdout_bytes.decode("utf-8")  # strict: every byte is UTF-8
    [entry] = json.loads(result.stdout_bytes)["items"]
    assert entry["input"] == str(folder) + "/r\\xe9sum\\xe9.png.txt"
    assert entry["status"] == "failed" and entry["error"] == "binary file, not text"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_text_with_a_bom_is_read_as_text(tmp_path, codec):
    bom = {
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32-le": codecs.BOM_UTF32_LE,
        "utf-32-be": codecs.BOM_UTF32_BE,
    }[codec]
    for name, content in (("note.txt", NOTE), ("note.md", "# Ward rounds\n\nNurses dictate notes to a scribe.\n")):
        path = tmp_path / name
        path.write_bytes(bom + content.encode(codec))
        loaded = read_input(str(path))
        assert loaded.item.title in ("Night shift", "Ward rounds")
        assert "\x00" not in loaded.item.text and loaded.raw.content == path.read_bytes()


def test_utf16_html_with_a_bom_is_read(tmp_path):
    page = "<html><head><title>Port cranes</title></head><body><article><p>" + "Remote operators run cranes. " * 30
    path = tmp_path / "page.html"
    path.write_bytes(codecs.BOM_UTF16_LE + (page + "</p></article></body></html>").encode("utf-16-le"))
    assert "Remote operators" in read_input(str(path)).item.text


def test_a_bom_does_not_make_binary_text(tmp_path):
    path = tmp_path / "fake.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8\x00\xd8" * 50)  # lone surrogates: not UTF-16 text
    with pytest.raises(Exception, match="not readable text"):
        read_input(str(path))


def test_json_output_is_valid_utf8_whatever_a_string_holds(capsys):
    from shadowmatch_kb.cli.output import print_json

    print_json({"items": [{"input": "caf\udce9.txt", "error": "half \ud800 pair"}]})
    out = capsys.readouterr().out
    out.encode("utf-8")
    assert json.loads(out)["items"] == [{"input": "caf\\xe9.txt", "error": "half \\ud800 pair"}]
