"""Files replaced whole: the old content survives a failed write."""

from __future__ import annotations

import pytest

from tfnn.files import replaced_whole


def test_replaced_whole_keeps_the_old_content_until_the_new_is_complete(tmp_path):
    path = tmp_path / "state.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), replaced_whole(path) as file:
        file.write(b"half of the new")
        raise RuntimeError("disk full")
    assert path.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [path]  # the partial file is gone

    with replaced_whole(path) as file:
        file.write(b"new")
    assert path.read_bytes() == b"new"
    assert list(tmp_path.iterdir()) == [path]
