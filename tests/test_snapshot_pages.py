"""Treemaps in the HTML report and the history page: content, escaping, and real rendering in
headless Chromium with screenshots checked for the treemap's colours."""
import json
import re

import pytest

from test_html import assert_offline, chromium
from test_snapshot import cell, snapshot, table

from sizekit.report import page as skhtml
from sizekit.report import publish
from sizekit.report.history import render_history, write_history
from sizekit.report.treemap_svg import GREW, SAME, SHRANK, squarify
from sizekit.results.snapshot_write import write_snapshot
from sizekit.results.history import history, load_series

EVIL = "<script>alert(1)</script>"


def syms(scale_app=1, scale_lib=1, extra=()):
    rows = [(f"_ZN3app{i}", f"app::function_{i}", "app", ".text", int((400 - i) * scale_app)) for i in range(60)]
    rows += [(f"_ZN3lib{i}", f"lib::thing_{i}", "lib", ".text", int((300 - i) * scale_lib)) for i in range(60)]
    rows += [(f"_ZN3std{i}", f"std::rt::{i}", "std", ".text", 200) for i in range(40)]
    return table(rows + list(extra), {".text": 500})


def pair():
    old = snapshot([cell("release", 60000)], [syms()])
    new = snapshot([cell("release", 70000)], [syms(2, 0.5, [("_ZN3app5addedE", "app::added", "app", ".text", 900)])],
                   rev="2222222")
    return old, new


def test_squarify_fills_the_box():
    rects = squarify([50, 30, 10, 6, 4], 0, 0, 300, 200)
    assert abs(sum(w * h for _, _, w, h in rects) - 300 * 200) < 1e-6
    for (x, y, w, h), v in zip(rects, [50, 30, 10, 6, 4]):
        assert x >= -1e-9 and y >= -1e-9 and x + w <= 300 + 1e-6 and y + h <= 200 + 1e-6
        assert abs(w * h - v * 600) < 1e-6


def test_report_treemap_is_offline_and_escaped():
    old, new = pair()
    new.tables[0].name[0] = EVIL
    new.tables[0].crate[1] = EVIL
    page = skhtml.render_html(new.results, charts={}, snapshot=new, base=old)
    assert "<script" not in page and "&lt;script&gt;" in page
    assert_offline(page)
    assert page.count('class="tm"') == 2            # one diff treemap, one of the build
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for ref in re.findall(r'href="#([^"]+)"', page):
        assert ref in ids, ref
    # Colours by change: app grew (red), lib shrank (green), std unchanged (grey).
    diff_part = page[page.index('id="tmd1"'):page.index('id="tm1"')]
    assert GREW[0] in diff_part and SHRANK[0] in diff_part and SAME in diff_part
    # No snapshot, no treemap: the page is what it always was.
    assert 'class="tm"' not in skhtml.render_html(new.results, charts={})


def test_unchanged_cells_get_no_diff_treemap():
    old, _ = pair()
    page = skhtml.render_html(old.results, charts={}, snapshot=old, base=old)
    assert 'id="tmd1"' not in page and "have the same symbols as the base" in page


def _colour_pixels(img, hex_color, tol=0.03):
    r, g, b = (int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    rgb = img[..., :3]
    return int(((abs(rgb[..., 0] - r) < tol) & (abs(rgb[..., 1] - g) < tol) & (abs(rgb[..., 2] - b) < tol)).sum())


def _shot(tmp_path, url, name, height):
    import matplotlib.image
    png = str(tmp_path / name)
    chromium(tmp_path, f"--screenshot={png}", f"--window-size=1280,{height}", url)
    return matplotlib.image.imread(png)


@pytest.mark.slow
def test_chromium_renders_treemaps_and_zoom(tmp_path):
    old, new = pair()
    path = publish.write_html(str(tmp_path / "out"), new.results, snapshot=new, base=old)
    img = _shot(tmp_path, "file://" + path, "page.png", 3000)
    assert _colour_pixels(img, GREW[0]) > 5000, "no red (grew) boxes on the page"
    assert _colour_pixels(img, SHRANK[1]) + _colour_pixels(img, SHRANK[0]) > 5000, "no green (shrank) boxes"
    assert _colour_pixels(img, SAME) > 2000, "no grey (unchanged) boxes"
    # Zoom: the fragment of app's box shows only app's symbols, all grown: the view fills with red.
    app = re.search(r'<a href="#(tmd1-z\d+)"><rect class="crate"[^>]*><title>app\n', open(path).read())
    assert app, "app's crate box links to its zoomed view"
    # (The window holds the whole page: headless Chromium paints nothing when it scrolls to a fragment.)
    before = _colour_pixels(img, GREW[0])
    zoomed = _shot(tmp_path, f"file://{path}#{app.group(1)}", "zoom.png", 3000)
    assert _colour_pixels(zoomed, GREW[0]) > before + 100_000
    dom = chromium(tmp_path, "--dump-dom", "file://" + path)
    assert "app::function_0" in dom and "← all crates" in dom


def test_history_page(tmp_path):
    files = []
    for k, (final, scale) in enumerate([(60000, 1), (65000, 1.5), (64000, 1.4), (80000, 3)]):
        s = snapshot([cell("release", final), cell("dev", 500000 - 1000 * k)], [syms(scale)], rev=f"{k}" * 7)
        s.git["date"] = f"2026-01-0{k + 1}T00:00:00+00:00"
        s.cell_artifacts = [0, None]
        files.append(str(tmp_path / f"r{k}.sksnap.zst"))
        write_snapshot(files[-1], s)
    hist = history(load_series([str(tmp_path)]))            # a folder of snapshots, in date order
    assert [r["label"] for r in hist["revisions"]] == ["0000000", "1111111", "2222222", "3333333"]
    rows = {r["name"]: r["values"] for r in hist["rows"]}
    assert rows["app/x86_64-unknown-linux-gnu/release"] == [60000, 65000, 64000, 80000]
    last = hist["steps"][-1]["movers"][0]
    assert last["row"] == "app/x86_64-unknown-linux-gnu/release" and last["delta"] == 16000
    assert last["crates"][0]["crate"] == "app"
    page = render_history(hist)
    assert_offline(page)
    assert page.count('<svg class="spark"') == 2 and "app +" in page


@pytest.mark.slow
def test_chromium_renders_history(tmp_path):
    snaps = []
    for k, final in enumerate([60000, 65000, 64000, 80000]):
        s = snapshot([cell("release", final), cell("small", 40000 - 3000 * k)], [syms(1 + k)], rev=f"{k}" * 7)
        s.git["date"] = f"2026-01-0{k + 1}T00:00:00+00:00"
        s.cell_artifacts = [0, None]
        snaps.append(s)
    path = write_history(str(tmp_path / "history.html"), history(snaps))
    img = _shot(tmp_path, "file://" + path, "history.png", 1200)
    assert _colour_pixels(img, GREW[0]) > 150, "the growing row's red sparkline"
    assert _colour_pixels(img, SHRANK[0]) > 150, "the shrinking row's green sparkline"
    dom = chromium(tmp_path, "--dump-dom", "file://" + path)
    assert "app/x86_64-unknown-linux-gnu/release" in dom and "biggest movers" in dom


def test_report_command_with_base(tmp_path):
    """`sizekit report --base OLD` reads the snapshot beside results.json and draws the diff treemap."""
    from test_snapshot import run
    old, new = pair()
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(new.results))
    write_snapshot(str(out / "snapshot.sksnap.zst"), new)
    write_snapshot(str(tmp_path / "base.bin"), old)
    r = run("report", out / "results.json", "--base", tmp_path / "base.bin")
    assert r.returncode == 0, r.stderr
    page = (out / "reports" / "index.html").read_text()
    assert 'id="tmd1"' in page and 'id="tm1"' in page and "app::added" in page
    assert_offline(page)
    (tmp_path / "base.bin").write_bytes(b"\x28\xb5\x2f\xfd" + b"junk" * 10)
    r = run("report", out / "results.json", "--base", tmp_path / "base.bin")
    assert r.returncode == 2 and r.stderr.startswith(f"sizekit: {tmp_path / 'base.bin'}: not a sizekit snapshot")


def test_history_command(tmp_path):
    from test_snapshot import run
    for k in range(3):
        s = snapshot([cell("release", 60000 + 1000 * k)], [syms(1 + k)], rev=f"{k}" * 7)
        s.git["date"] = f"2026-01-0{k + 1}T00:00:00+00:00"
        write_snapshot(str(tmp_path / f"s{k}.zst"), s)
    r = run("history", tmp_path, "-o", tmp_path / "h.html")
    assert r.returncode == 0, r.stderr
    assert "2222222" in (tmp_path / "h.html").read_text()
    (tmp_path / "s1.zst").write_bytes(b"not a snapshot")
    r = run("history", tmp_path, "-o", tmp_path / "h.html")
    assert r.returncode == 2 and r.stderr.startswith(f"sizekit: {tmp_path / 's1.zst'}: not valid JSON")
