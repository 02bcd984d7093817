"""Input checks decided once: ids, paging, names."""
import pytest

from frontdesk.actions.errors import ActionError
from frontdesk.actions.validate import check_id, check_name, check_page_args, check_visitor_name


@pytest.mark.parametrize("value", ["abc", -1, 0, 1.5, None, True, {}, [], "1 OR 1=1", "99999999999999999999999",
                                   "٣", "²", "１２", " 12", "+12", 2**63])
def test_malformed_ids_are_not_found(value):
    with pytest.raises(ActionError) as caught:
        check_id(value)
    assert caught.value.code == "not_found" and caught.value.status == 404


def test_ids_in_range_pass():
    assert check_id(1) == 1 and check_id("42") == 42 and check_id(2**63 - 1) == 2**63 - 1


def test_paging_is_ascii_integers_capped_at_200():
    assert check_page_args("0", "500") == (0, 200)
    for bad in [("-1", "10"), ("1", "0"), ("²", "1"), ("1", "x"), (1.5, 1)]:
        with pytest.raises(ActionError) as caught:
            check_page_args(*bad)
        assert caught.value.code == "invalid_input"


@pytest.mark.parametrize("name", ["Ann\r\nBcc: x@y", "Ann\u2028B", "Ann\u0085B", "A\x00", "\ud800x", "", "   ",
                                  "x" * 101])
def test_one_line_names_refuse_separators_and_controls(name):
    with pytest.raises(ActionError) as caught:
        check_visitor_name(name)
    assert caught.value.code == "invalid_name"


def test_names_are_one_line_with_single_spaces():
    assert check_name("  Анна   Петрова ") == "Анна Петрова"
    assert check_visitor_name("👨‍👩‍👧 Семья") == "👨‍👩‍👧 Семья"  # a ZWJ emoji is not a control character
