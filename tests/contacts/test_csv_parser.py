"""Reading and checking CSV files: pure functions of the bytes, no database."""

import codecs

import pytest

from meetups.contacts.csv_import import (
    ENCODING_CP1252,
    ENCODING_UTF8,
    ENCODING_UTF16,
    MAX_FILE_BYTES,
    MAX_ROWS,
    Action,
    Column,
    CsvFileError,
    pack_upload,
    parse_contacts_csv,
    plan_rows,
    split_for_form,
    unpack_upload,
)
from meetups.contacts.models import Contact, Tag

HEADER = "name,email,blog,city,language,tags\n"


def parse(text: str, encoding: str = "utf-8"):
    return parse_contacts_csv(text.encode(encoding))


def test_bloggers_csv_has_40_valid_people_and_7_rejected_rows_with_their_reasons(
    bloggers_csv: bytes,
) -> None:
    parsed = parse_contacts_csv(bloggers_csv)

    assert parsed.encoding == ENCODING_UTF8
    assert parsed.delimiter == ","
    assert parsed.columns == {
        Column.name,
        Column.email,
        Column.blog_url,
        Column.city,
        Column.language,
        Column.tags,
    }
    assert len(parsed.rows) == 47
    assert len(parsed.valid_rows) == 40
    reasons = {row.number: row.problems for row in parsed.rejected_rows}
    assert reasons == {
        42: ("Same e-mail address as row 14.",),
        43: ("The e-mail address is missing.",),
        44: ("“kaputt@@example.org” is not a valid e-mail address.",),
        45: ("The name starts with “=” like a spreadsheet formula.",),
        46: ("“not a url” is not a web address.",),
        47: ("The language “fr” is not offered; use de or en.",),
        48: ("The name is longer than 200 characters.",),
    }
    # Row 14 is Katharina Klein; Laura Koch (row 42) wrote her address in other letter case.
    assert next(r for r in parsed.rows if r.number == 14).name == "Katharina Klein"
    assert next(r for r in parsed.rows if r.number == 42).name == "Laura Koch"


def test_bloggers_csv_values_are_normalized(bloggers_csv: bytes) -> None:
    rows = {row.email: row for row in parse_contacts_csv(bloggers_csv).valid_rows}

    max_ = rows["maximilian.becker@example.com"]  # written in capitals in the file
    assert max_.name == "Maximilian Becker"
    assert rows["anna.mueller@example.com"].tags == ("consumer", "telecom")
    assert rows["anna.mueller@example.com"].blog_url == "https://anna-mueller.blog.example.org/"
    assert rows["oezlem.yilmaz@example.org"].name == "Özlem Yılmaz"
    assert rows["paul.zimmermann@example.net"].language == "en"
    assert rows["lea.schneider@example.org"].city == "München"


def test_excel_file_is_read_as_windows_1252_with_semicolons(excel_csv: bytes) -> None:
    parsed = parse_contacts_csv(excel_csv)

    assert parsed.encoding == ENCODING_CP1252
    assert parsed.delimiter == ";"
    assert len(parsed.rows) == 40
    assert len(parsed.valid_rows) == 40
    rows = {row.email: row for row in parsed.rows}
    assert rows["juergen.gruenewald@example.net"].name == "Jürgen Grünewald"
    assert rows["francois.baumann@example.net"].name == "François Baumann"
    # Tags inside a cell are separated by the other sign: commas in a file with semicolons.
    assert rows["anna.mueller@example.com"].tags == ("consumer", "telecom")


def test_byte_order_mark_is_not_part_of_the_first_header(bloggers_csv: bytes) -> None:
    parsed = parse_contacts_csv(codecs.BOM_UTF8 + bloggers_csv)

    assert parsed.encoding == ENCODING_UTF8
    assert Column.name in parsed.columns
    assert len(parsed.valid_rows) == 40


def test_utf16_with_byte_order_mark_as_excel_saves_unicode_text() -> None:
    text = "Name\tE-Mail\tStadt\nZoë Keller\tzoe@example.org\tMainz\n"
    parsed = parse_contacts_csv(text.encode("utf-16"))

    assert parsed.encoding == ENCODING_UTF16
    assert parsed.delimiter == "\t"
    assert parsed.rows[0].name == "Zoë Keller"
    assert parsed.rows[0].city == "Mainz"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "Name;E-Mail;Website;Stadt;Sprache;Schlagworte",
            set(Column) - {Column.first_name, Column.last_name, Column.notes},
        ),
        (
            " NAME , Email-Adresse , Blog URL , Ort , Language , Tags ",
            {Column.name, Column.email, Column.blog_url, Column.city, Column.language, Column.tags},
        ),
        (
            "Vorname,Nachname,Mail,Notizen",
            {Column.first_name, Column.last_name, Column.email, Column.notes},
        ),
        (
            "name;e-mail;url;city;lang;schlagwörter",
            set(Column) - {Column.first_name, Column.last_name, Column.notes},
        ),
    ],
)
def test_header_names_are_matched_leniently(header: str, expected: set[Column]) -> None:
    delimiter = ";" if ";" in header else ","
    cells = ["Anna Müller", "anna@example.org", "https://anna.example.org", "Berlin", "de", "tech"]
    row = delimiter.join(cells[: header.count(delimiter) + 1])
    parsed = parse(f"{header}\n{row}\n")

    assert parsed.columns == expected


def test_first_and_last_name_are_joined() -> None:
    parsed = parse("Vorname;Nachname;E-Mail\nAnna;Müller;anna@example.org\n")

    assert parsed.rows[0].name == "Anna Müller"


def test_unknown_columns_are_ignored_and_reported() -> None:
    parsed = parse("name,email,Telefon,Geburtstag\nAnna,anna@example.org,0123,1.1.1990\n")

    assert parsed.ignored_columns == ["Telefon", "Geburtstag"]
    assert parsed.rows[0].is_valid


def test_semicolons_in_utf8_with_quoted_cells_and_blank_lines() -> None:
    text = (
        'name;email;tags;city\n\n"Müller; Anna";anna@example.org;"a,b";"Frankfurt\nam Main"\n'
        ";;;\nJonas;jonas@example.org;x;\n"
    )
    parsed = parse(text)

    assert parsed.delimiter == ";"
    assert [row.number for row in parsed.rows] == [
        3,
        5,
    ]  # blank rows are skipped but keep their numbers
    assert parsed.rows[0].name == "Müller; Anna"
    assert parsed.rows[0].tags == ("a", "b")
    assert parsed.rows[0].city == "Frankfurt am Main"


def test_excel_separator_line_is_understood() -> None:
    parsed = parse("sep=;\nname;email\nAnna;anna@example.org\n")

    assert parsed.delimiter == ";"
    assert parsed.rows[0].email == "anna@example.org"
    assert parsed.rows[0].number == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("DE", "de"),
        ("Deutsch", "de"),
        ("english", "en"),
        ("en-GB", "en"),
        ("de_AT", "de"),
        ("", None),
    ],
)
def test_language_is_understood_in_common_spellings(value: str, expected: str | None) -> None:
    parsed = parse(f"name,email,language\nAnna,anna@example.org,{value}\n")

    assert parsed.rows[0].is_valid
    assert parsed.rows[0].language == expected


def test_tags_are_trimmed_lowercased_and_deduplicated() -> None:
    parsed = parse('name,email,tags\nAnna,anna@example.org," Tech ; PODCAST;tech;; "\n')

    assert parsed.rows[0].tags == ("tech", "podcast")


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",anna@example.org,,,,", "The name is missing."),
        ("+49 Anna,anna@example.org,,,,", "The name starts with “+” like a spreadsheet formula."),
        ("@Anna,anna@example.org,,,,", "The name starts with “@” like a spreadsheet formula."),
        ("-Anna,anna@example.org,,,,", "The name starts with “-” like a spreadsheet formula."),
        ("Anna,anna@example,,,,", "“anna@example” is not a valid e-mail address."),
        (
            "Anna," + "a" * 250 + "@example.org,,,,",
            "The e-mail address is longer than 254 characters.",
        ),
        (
            "Anna,anna@example.org,javascript:alert(1),,,",
            "“javascript:alert(1)” is not a web address.",
        ),
        (
            "Anna,anna@example.org,,{},,".format("C" * 101),
            "The city is longer than 100 characters.",
        ),
        ("Anna,anna@example.org,,,,{}".format("t" * 51), "is longer than 50 characters."),
        (
            "Anna,anna@example.org,,,,{}".format(";".join(f"t{i}" for i in range(21))),
            "More than 20 tags.",
        ),
    ],
)
def test_rows_are_rejected_with_a_specific_reason(row: str, reason: str) -> None:
    parsed = parse(HEADER + row + "\n")

    assert not parsed.rows[0].is_valid
    assert any(reason in problem for problem in parsed.rows[0].problems), parsed.rows[0].problems


def test_a_row_with_several_problems_names_them_all() -> None:
    parsed = parse(HEADER + "=cmd,not-an-address,no url,,xx,\n")

    problems = parsed.rows[0].problems
    assert len(problems) == 4


def test_html_and_control_characters_in_cells_are_kept_as_text_without_controls() -> None:
    parsed = parse(HEADER + '"<script>alert(1)</script>\u202e",x@example.org,,"Köln\u200b",,\n')

    assert parsed.rows[0].name == "<script>alert(1)</script>"
    assert parsed.rows[0].city == "Köln"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \r\n\r\n  ", "The file is empty."),
        (codecs.BOM_UTF8, "The file is empty."),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), "Excel workbook"),
        (b"%PDF-1.7\n" + bytes(range(256)), "PDF document"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image"),
        (bytes(range(256)) * 10, "not a CSV file"),
        (b"name,email\x00\x00\x00\x01\x02", "not a CSV file"),
        (b"name,city\nAnna,Berlin\n", "no e-mail column"),
        (b"email,city\nanna@example.org,Berlin\n", "no name column"),
        (b"Anna,anna@example.org\n", "no e-mail column"),
        (b"name,email\n", "no people in it"),
        (b"name,email\n,\n , \n\n", "no people in it"),
        ('name,email\nAnna,"{}"\n'.format("x" * 200_000).encode(), "could not be read as CSV"),
    ],
)
def test_files_that_are_not_importable_get_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(CsvFileError) as caught:
        parse_contacts_csv(data)

    assert message in caught.value.message


def test_too_large_file_is_refused() -> None:
    data = HEADER.encode() + b"Anna,anna@example.org,,,,\n" * (MAX_FILE_BYTES // 20)

    with pytest.raises(CsvFileError, match="larger than 2 MB"):
        parse_contacts_csv(data)


def test_too_many_rows_are_refused_but_the_limit_itself_is_fine() -> None:
    rows = "".join(f"P{i},p{i}@example.org\n" for i in range(MAX_ROWS))
    assert len(parse(f"name,email\n{rows}").rows) == MAX_ROWS

    with pytest.raises(CsvFileError, match="more than 5,000 rows"):
        parse(f"name,email\n{rows}Extra,extra@example.org\n")


def _contact(**fields: object) -> Contact:
    tags = [Tag(name=name) for name in fields.pop("tags", [])]  # type: ignore[attr-defined]
    values = {
        "id": 1,
        "name": "Anna Müller",
        "email": "anna@example.org",
        "language": "de",
        **fields,
    }
    return Contact(**values, tags=tags)


def test_plan_classifies_new_changed_unchanged_and_rejected_rows() -> None:
    parsed = parse(
        HEADER
        + "Anna Müller,anna@example.org,,Berlin,de,tech\n"
        + "Jonas,JONAS@example.org,,Hamburg,en,podcast\n"
        + "Lea,lea@example.org,,,,\n"
        + ",broken,,,,\n"
    )
    existing = {
        "anna@example.org": _contact(city="Berlin", tags=["tech"]),
        "jonas@example.org": _contact(
            id=2, name="Jonas", email="jonas@example.org", city="Köln", tags=["tech"]
        ),
    }

    planned = plan_rows(parsed, existing)

    assert [p.action for p in planned] == [
        Action.unchanged,
        Action.update,
        Action.create,
        Action.rejected,
    ]
    changes = {c.label: (c.old, c.new) for c in planned[1].changes}
    assert changes == {
        "City": ("Köln", "Hamburg"),
        "Language": ("German", "English"),
        "Tags": ("tech", "tech, podcast"),
    }
    assert planned[1].updates == {"city": "Hamburg", "language": "en", "tags": ["podcast"]}


def test_plan_keeps_what_the_file_leaves_empty_and_never_removes_tags() -> None:
    parsed = parse(HEADER + "Anna Müller,anna@example.org,,,,\n")
    existing = {
        "anna@example.org": _contact(
            city="Berlin", blog_url="https://anna.example.org", tags=["tech"]
        )
    }

    assert plan_rows(parsed, existing)[0].action == Action.unchanged


def test_plan_ignores_names_that_windows_1252_could_not_write() -> None:
    parsed = parse_contacts_csv("name;email\nÖzlem Y?lmaz;oezlem@example.org\n".encode("cp1252"))
    existing = {"oezlem@example.org": _contact(name="Özlem Yılmaz", email="oezlem@example.org")}

    [planned] = plan_rows(parsed, existing)
    assert planned.action == Action.unchanged
    assert planned.kept == [
        "Keeps “Özlem Yılmaz”: the file has “Özlem Y?lmaz”, "
        "as Windows-1252 cannot write some of its letters."
    ]


def test_plan_takes_a_real_question_mark_change_seriously() -> None:
    parsed = parse_contacts_csv("name;email\nAnna?;anna@example.org\n".encode("cp1252"))
    existing = {"anna@example.org": _contact(name="Annas")}

    assert plan_rows(parsed, existing)[0].action == Action.update


def test_plan_marks_people_on_the_guest_list_already() -> None:
    parsed = parse(HEADER + "Anna Müller,anna@example.org,,,,\n")

    planned = plan_rows(parsed, {"anna@example.org": _contact(id=7)}, listed={7})

    assert planned[0].on_guest_list


def test_upload_survives_the_trip_through_the_preview_form() -> None:
    data = (
        "name,email\n" + "".join(f"Pérson {i},p{i}@example.org\n" for i in range(3000))
    ).encode()
    token = pack_upload(data, b"s" * 32)

    parts = split_for_form(token, size=1000)
    assert len(parts) > 1
    assert unpack_upload("".join(parts), b"s" * 32) == data


@pytest.mark.parametrize("token", ["", "abc", "deadbeef.AAAA", "." * 10, "x" * 5000])
def test_a_changed_or_foreign_preview_is_refused(token: str) -> None:
    with pytest.raises(CsvFileError, match="upload the file again"):
        unpack_upload(token, b"s" * 32)


def test_a_preview_signed_with_another_secret_is_refused() -> None:
    token = pack_upload(b"name,email\nA,a@example.org\n", b"a" * 32)

    with pytest.raises(CsvFileError):
        unpack_upload(token, b"b" * 32)
