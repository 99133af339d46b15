"""The rendering every command shares, on a rich Console of a given width."""

from __future__ import annotations

import io
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from flagpipe.cli.render import TEXT_MIN_WIDTH, Column, column_widths, one_line, print_line, print_table

COLUMNS = (Column("callback"), Column("delivered", "number"), Column("oldest pending"), Column("last error", "text"))
ERROR = "webhook answered 500:\n  upstream timed out while waiting for the on-call rota service to reply"


def console(width: int, *, color: bool = False) -> Console:
    return Console(
        file=io.StringIO(),
        width=width,
        highlight=False,
        soft_wrap=True,
        color_system="truecolor" if color else None,
        force_terminal=color,
    )


def printed(target: Console) -> list[str]:
    file = target.file
    assert isinstance(file, io.StringIO)
    return file.getvalue().splitlines()


def test_one_line_joins_every_whitespace_run() -> None:
    assert one_line(ERROR) == (
        "webhook answered 500: upstream timed out while waiting for the on-call rota service to reply"
    )
    assert one_line("  a\t\tb\r\n") == "a b"


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_a_table_fits_its_width_and_keeps_names_and_numbers(width: int) -> None:
    out = console(width)
    print_table(COLUMNS, [["slack_alerts", "12,345", "3.2h", ERROR], ["csv", "7", "", ""]], console=out)
    lines = printed(out)
    assert all(cell_len(line) <= width for line in lines)
    text = "\n".join(lines)
    assert "slack_alerts" in text
    assert "12,345" in text
    assert "3.2h" in text
    (error,) = [line for line in lines if "webhook answered 500" in line]
    assert error.endswith("…") == (width < 160)


def test_numbers_align_right_and_text_is_cut_with_an_ellipsis() -> None:
    out = console(80)
    print_table(COLUMNS, [["slack_alerts", "12,345", "3.2h", ERROR], ["csv", "7", "", ""]], console=out)
    assert printed(out) == [
        "callback      delivered  oldest pending  last error",
        "─" * 80,
        "slack_alerts     12,345  3.2h            webhook answered 500: upstream timed o…",
        "csv                   7",
    ]


def test_a_header_wraps_at_its_spaces_never_inside_a_word() -> None:
    out = console(60)  # free text gets the room first, the header "oldest pending" wraps
    print_table(COLUMNS, [["slack_alerts", "12,345", "3.2h", ERROR], ["csv", "7", "", ""]], console=out)
    assert printed(out) == [
        "callback      delivered  oldest   last error",
        "                         pending",
        "─" * 60,
        "slack_alerts     12,345  3.2h     webhook answered 500: ups…",
        "csv                   7",
    ]


def test_rows_that_cannot_fit_become_key_value_records() -> None:
    out = console(40)
    rows = [["slack_alerts_for_the_oncall_team", "3", "", ERROR], ["csv", "0", "1.0m", ""]]
    print_table(COLUMNS, rows, title="2 flags in /srv/app/flags", console=out)
    assert printed(out) == [
        "2 flags in /srv/app/flags",
        "callback:       slack_alerts_for_the_oncall_team",
        "delivered:      3",
        "last error:     webhook answered 500: u…",
        "",
        "callback:       csv",
        "delivered:      0",
        "oldest pending: 1.0m",
    ]


def test_column_widths_give_free_text_what_is_left() -> None:
    cells = [[Text("csv"), Text("7"), Text(""), Text("x" * 100)]]
    widths = column_widths(80, COLUMNS, cells)
    assert widths == [8, 9, 14, 43]
    assert sum(widths) + 2 * 3 == 80
    narrow = column_widths(8 + 9 + 7 + TEXT_MIN_WIDTH + 6, COLUMNS, cells)
    assert narrow == [8, 9, 7, TEXT_MIN_WIDTH]  # the header "oldest pending" wraps
    assert column_widths(8 + 9 + 7 + TEXT_MIN_WIDTH + 5, COLUMNS, cells) is None


def test_ids_are_shown_short_and_just_long_enough() -> None:
    out = console(80)
    ids = ["01a236ae-e5a7-7316-b661-4255c60860d2", "01a236ae-e83d-75b5-9716-4ddac3ffd911"]
    print_table((Column("option"), Column("id", "id")), [["other", ids[0]], ["other", ids[1]]], console=out)
    assert printed(out)[2:] == ["other   01a236ae-e5", "other   01a236ae-e8"]


def test_cells_are_never_read_as_markup_and_keep_their_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR")
    out = console(80, color=True)
    print_table((Column("user"), Column("note", "text")), [["[red]eve", Text("dead", style="red")]], console=out)
    raw = "\n".join(printed(out))
    assert "[red]eve" in raw
    assert "\x1b[31mdead" in raw
    plain = console(80)
    print_table((Column("user"), Column("note", "text")), [["[red]eve", Text("dead", style="red")]], console=plain)
    assert "\x1b" not in "\n".join(printed(plain))


def test_wide_characters_are_measured_in_cells() -> None:
    out = console(40)
    print_table((Column("user"), Column("comment", "text")), [["kenji", "日本語のコメント" * 5]], console=out)
    lines = printed(out)
    assert all(cell_len(line) <= 40 for line in lines)
    assert lines[2].startswith("kenji  日本語")
    assert lines[2].endswith("…")


def test_print_line_keeps_the_head_and_cuts_the_tail() -> None:
    out = console(40)
    print_line("  failed slack_alerts: ", ERROR, console=out)
    print_line("csv: 0 pending", console=out)
    assert printed(out) == ["  failed slack_alerts: webhook answered…", "csv: 0 pending"]


def test_control_characters_cannot_break_a_row_or_reach_the_terminal() -> None:
    out = console(60)
    print_table((Column("user"), Column("note", "text")), [["eve\nmallory", "a\x1b[2Jb\r\nc"]], console=out)
    assert printed(out)[2] == "eve\u240amallory  a\u241b[2Jb c"
    assert one_line("a\x1b[31mb\x07") == "a\u241b[31mb\u2407"


#: Payloads a flag could carry to an operator's terminal: clear screen, colour, an OSC 8 fake
#: hyperlink, an OSC window title, a C1 CSI, a bidirectional override, DEL and a bell.
PAYLOADS = [
    "\x1b[2J\x1b[H",
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
    "\x1b]0;owned\x1b\\",
    "\x9b31m",
    "abc\u202egnp.exe",
    "x\x7fy\x07",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_terminal_payloads_are_shown_not_obeyed(payload: str) -> None:
    from flagpipe.cli.common import _text, visible

    for shown in (one_line(payload), visible(payload), _text(payload)):
        assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u202e\u2066" for c in shown), shown
    assert (
        "\u241b" in one_line(payload)
        or "\\x9b" in one_line(payload)
        or "\\u202e" in one_line(payload)
        or "\u2421" in one_line(payload)
    )
    out = console(200)
    print_table((Column("user"), Column("note", "text")), [[payload, payload]], console=out)
    print_line(payload, payload, console=out)
    assert all(c >= " " for line in printed(out) for c in line)


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_no_control_character_survives_any_renderer(text: str) -> None:
    from flagpipe.cli.common import visible

    for shown in (one_line(text), visible(text)):
        assert not any(unicodedata.category(c) == "Cc" for c in shown)
        assert not any(
            c in "\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069" for c in shown
        )
