"""The tables of limits in README.md and docs/SECURITY.md are sizekit.utils.limits' own table."""
import os

import pytest

from conftest import ROOT
from sizekit.utils import limits


@pytest.mark.parametrize("name", ["README.md", os.path.join("docs", "SECURITY.md")])
def test_the_limits_table_is_rendered_from_the_code(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        text = f.read()
    assert limits.BLOCK.search(text), f"{name} has no <!-- limits --> block"
    assert limits.fill(text) == text, (f"{name}'s table of limits differs from sizekit/utils/limits.py; run "
                                       f"python3 -m sizekit.utils.limits --write README.md docs/SECURITY.md")


def test_every_limit_is_in_the_table():
    table = limits.markdown_table()
    for limit in limits.ALL.values():
        assert f"| {limit.applies} | {limit.what} | {limits.value_text(limit)} |" in table
