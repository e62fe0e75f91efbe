"""The local upload server's token: one per install, private, the same for every caller."""

from __future__ import annotations

import os
import threading

from desktop_uploader.integrations.token import (
    load_or_create_token,
    regenerate_token,
    token_matches,
    token_path,
)
from desktop_uploader.paths import AppPaths


def test_callers_racing_to_make_it_all_get_the_same_private_token(tmp_path):
    for round_ in range(10):
        paths = AppPaths(tmp_path / f"c{round_}", tmp_path / "d", tmp_path / "x")
        got: list[str] = []
        start = threading.Barrier(8)

        def make(paths=paths, got=got, start=start) -> None:
            start.wait()
            got.append(load_or_create_token(paths))

        threads = [threading.Thread(target=make) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(got) == 8 and len(set(got)) == 1, got
        assert len(got[0]) >= 40  # 32 random bytes, URL-safe base64
        assert [p.name for p in paths.config_dir.iterdir()] == ["integrations-token"]
        assert os.stat(token_path(paths)).st_mode & 0o777 == 0o600


def test_a_token_file_others_can_read_is_tightened_and_kept(tmp_path):
    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "x")
    token = load_or_create_token(paths)
    os.chmod(token_path(paths), 0o644)
    assert load_or_create_token(paths) == token
    assert os.stat(token_path(paths)).st_mode & 0o777 == 0o600


def test_regenerate_replaces_it(tmp_path):
    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "x")
    old = load_or_create_token(paths)
    new = regenerate_token(paths)
    assert new != old and load_or_create_token(paths) == new
    assert token_matches(new, new) and not token_matches(old, new)
    assert not token_matches(None, new) and not token_matches(new[:-1], new)
