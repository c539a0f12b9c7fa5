"""The credential rules of lockgen.secrets that write or compare URLs (not the masking ones)."""

from __future__ import annotations

from lockgen.secrets import public_vcs_url, without_login


def test_credentials_in_a_vcs_url_never_reach_the_lock() -> None:
    # a file:// URL cannot carry a login: the function that writes VCS lines, alone
    assert public_vcs_url("git+https://user:tok3n@example.com/o/r.git@abc") == "git+https://example.com/o/r.git@abc"
    assert public_vcs_url("git+ssh://git@github.com/o/r.git@abc") == "git+ssh://git@github.com/o/r.git@abc"
    assert public_vcs_url("git+https://ghp_x@github.com/o/r@abc") == "git+https://github.com/o/r@abc"
    assert public_vcs_url("git+file:///srv/repo@abc") == "git+file:///srv/repo@abc"


def test_a_login_is_left_out_of_keys_and_messages() -> None:
    assert without_login("pkg @ git+https://user:pw@example.com/o/r.git") == "pkg @ git+https://example.com/o/r.git"
    assert without_login("`git+ssh://git@host/r.git` and https://tok@h/x") == "`git+ssh://host/r.git` and https://h/x"
    assert without_login("git+file:///srv/repo@abc") == "git+file:///srv/repo@abc"
