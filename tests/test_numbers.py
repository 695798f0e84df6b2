"""Job-seeker numbers (SPEC §2 Words): what the form accepts and the one form we store."""

import pytest

from madoguchi.errors import BookingError
from madoguchi.seekers.numbers import normalize_job_seeker_number, office_code_of

CANONICAL = "01040-12345678"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("01040-12345678", id="canonical"),
        pytest.param("0104012345678", id="missing-hyphen"),
        pytest.param("０１０４０－１２３４５６７８", id="full-width-digits-and-dash"),
        pytest.param("０１０４０１２３４５６７８", id="full-width-no-dash"),
        pytest.param("01040 12345678", id="space-for-hyphen"),
        pytest.param("  01040-12345678  ", id="surrounding-spaces"),
        pytest.param("01040 - 12345678", id="spaces-around-hyphen"),
        pytest.param("0104 0123 4567 8", id="spaces-anywhere"),
        pytest.param("01040\u300012345678", id="full-width-space"),
        pytest.param("\u300001040-12345678\u3000", id="surrounding-full-width-spaces"),
        pytest.param("01040\t12345678\n", id="tab-and-newline"),
        pytest.param("01040ー12345678", id="katakana-long-vowel-mark"),
        pytest.param("01040ｰ12345678", id="half-width-long-vowel-mark"),
        pytest.param("01040−12345678", id="minus-sign"),
        pytest.param("01040‐12345678", id="hyphen-u2010"),
        pytest.param("01040‑12345678", id="non-breaking-hyphen"),
        pytest.param("01040–12345678", id="en-dash"),
        pytest.param("01040—12345678", id="em-dash"),
        pytest.param("01040―12345678", id="horizontal-bar"),
        pytest.param("01040─12345678", id="box-drawing-line"),
        pytest.param("０１０４０ー１２３４５６７８", id="full-width-with-long-vowel-mark"),
    ],
)
def test_normalize_job_seeker_number_gives_canonical_form(raw):
    assert normalize_job_seeker_number(raw) == CANONICAL


def test_normalize_job_seeker_number_keeps_leading_zeros():
    assert normalize_job_seeker_number("00000 00000001") == "00000-00000001"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("01040-1234567", id="12-digits"),
        pytest.param("010401234567", id="12-digits-no-hyphen"),
        pytest.param("01040-123456789", id="14-digits"),
        pytest.param("01040123456789", id="14-digits-no-hyphen"),
        pytest.param("01040-1234567A", id="trailing-letter"),
        pytest.param("ABCDE-12345678", id="letters-for-office"),
        pytest.param("01040-l2345678", id="lowercase-l-for-one"),
        pytest.param("01040-O2345678", id="capital-o-for-zero"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="spaces-only"),
        pytest.param("\u3000", id="full-width-space-only"),
        pytest.param("-", id="hyphen-only"),
        pytest.param(None, id="none"),
        pytest.param("٠١٠٤٠-١٢٣٤٥٦٧٨", id="arabic-indic-digits"),
        pytest.param("۰۱۰۴۰-۱۲۳۴۵۶۷۸", id="extended-arabic-indic-digits"),
        pytest.param("०१०४०-१२३४५६७८", id="devanagari-digits"),
        pytest.param("01040-1234567٨", id="one-arabic-indic-digit"),
        pytest.param("01040-1234567😀", id="emoji-for-digit"),
        pytest.param("01040-12345678😀", id="emoji-appended"),
        pytest.param("01040-1234567 8️⃣", id="keycap-emoji-digit"),
        pytest.param("01040.12345678", id="dot-separator"),
        pytest.param("01040/12345678", id="slash-separator"),
        pytest.param("01040_12345678", id="underscore-separator"),
        pytest.param("番号01040-12345678", id="label-prefix"),
        pytest.param("+01040-12345678", id="plus-sign"),
    ],
)
def test_normalize_job_seeker_number_rejects_malformed(raw):
    with pytest.raises(BookingError) as caught:
        normalize_job_seeker_number(raw)

    assert caught.value.code == "invalid_job_seeker_number"
    assert caught.value.field == "job_seeker_number"
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("number", "office_code"),
    [
        pytest.param("01040-12345678", "01040", id="kushiro"),
        pytest.param("01010-11112222", "01010", id="sapporo"),
        pytest.param("00000-00000000", "00000", id="all-zero"),
    ],
)
def test_office_code_of_gives_first_five_digits(number, office_code):
    assert office_code_of(number) == office_code


def test_office_code_of_matches_normalized_input():
    number = normalize_job_seeker_number("０１０４０－１２３４５６７８")

    assert office_code_of(number) == "01040"


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("", id="empty"),
        pytest.param("01040-1234567", id="12-digits"),
        pytest.param("01040-123456789", id="14-digits"),
        pytest.param("０１０４０－１２３４５６７８", id="full-width"),
        pytest.param(" 01040-12345678", id="leading-space"),
        pytest.param("0104-012345678", id="hyphen-misplaced"),
        pytest.param("ABCDE-12345678", id="letters"),
    ],
)
def test_office_code_of_rejects_non_canonical(number):
    with pytest.raises(ValueError, match="not a canonical job-seeker number"):
        office_code_of(number)


def test_office_code_of_rejects_arabic_indic_digits():
    with pytest.raises(ValueError, match="not a canonical job-seeker number"):
        office_code_of("٠١٠٤٠-١٢٣٤٥٦٧٨")


def test_office_code_of_rejects_trailing_newline():
    with pytest.raises(ValueError, match="not a canonical job-seeker number"):
        office_code_of("01040-12345678\n")
