"""Issue 16, low: the password policy refuses common and trivial passwords (``weak_password``)."""
from __future__ import annotations

import pytest

from frontdesk.actions.errors import ActionError
from frontdesk.actions.validate import check_password, common_passwords


@pytest.mark.parametrize("password", [
    "12345678", "password", "Password", " PASSWORD1 ", "        ", "aaaaaaaa", "abababab", "aabbccaa",
    "qwertyuiop", "87654321", "abcdefghij", "gfhjkm123", "йцукенгш", "1q2w3e4r", "iloveyou", "01234567",
])
def test_common_and_trivial_passwords_are_refused(password):
    with pytest.raises(ActionError) as refused:
        check_password(password)
    assert refused.value.code == "weak_password", password


@pytest.mark.parametrize("password", [
    "correct horse battery", "long enough 1", "Пароль-для-Анны-42", "x7#Kq9!m", "another long password",
])
def test_ordinary_passwords_pass(password):
    assert check_password(password) == password


def test_short_and_long_passwords_stay_invalid_input():
    for password in ("short", "x" * 257, 12345678):
        with pytest.raises(ActionError) as refused:
            check_password(password)
        assert refused.value.code == "invalid_input"


def test_the_list_is_loaded_lower_case():
    words = common_passwords()
    assert len(words) > 150 and "123456" in words and all(w == w.lower() for w in words)
