"""The HTML report: content and escaping from golden results, then real rendering in headless Chromium."""
import copy
import html
import json
import os
import re
import subprocess
import time

import pytest

from conftest import skip_no_file

from sizekit.report import charts as skcharts, page as skhtml, publish, tables

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "golden")
REAL_RESULTS = os.path.join(ROOT, "out", "results.json")
DOCS_SHOT = os.path.join(ROOT, "docs", "report.png")
CHROMIUM = "/usr/bin/chromium"
EVIL = "<script>alert(1)</script>"


def golden(name):
    with open(os.path.join(GOLDEN, name), encoding="utf-8") as f:
        return json.load(f)


def table_rows(page, cls):
    """The <tr> bodies of the first table whose class list includes cls."""
    m = re.search(r'<table class="[^"]*\b%s\b[^"]*">(.*?)</table>' % re.escape(cls), page, re.S)
    assert m, f"no table.{cls}"
    return re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(1), re.S)


def text(fragment):
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip())


def assert_offline(page):
    """No network asset: no remote src/href, no scripts, no stylesheets or fonts fetched."""
    assert not re.search(r"""\b(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", page, re.I)


# ---------------------------------------------------------------- unit: render from golden results

@pytest.fixture(scope="module")
def small_page():
    return skhtml.render_html(golden("results_small.json"))


def test_seed_table_rows(small_page):
    rows = [text(r) for r in table_rows(small_page, "seed")]
    assert rows[0] == "build modifications size (bytes) size (human) % change UPX (est.) runs"
    assert rows[1] == "dev none 6,400,000 6.1M +500.7% 1.8M ok"
    assert rows[2] == "release none 1,065,432 1.0M 0% 391K ok"
    assert rows[3] == "release-stripped stripped 898,944 878K -15.6% 354K -"
    assert rows[4] == "upx stripped + upx --best 363,716 355K -65.9% 354K SIGSEGV"
    # The unavailable row gives its reason instead of a size.
    assert rows[5].startswith("bstd build-std unavailable rust-src is not installed for toolchain 'nightly'")
    assert len(rows) == 6
    # The baseline row is marked.
    assert re.search(r'<tr class="baseline"><td class="variant">release</td>', small_page)


def test_failed_cell_shows_reason_and_log(small_page):
    armv7 = small_page[small_page.index("armv7-unknown-linux-gnueabihf</span></h3>"):]
    rows = [text(r) for r in table_rows(armv7, "seed")]
    assert rows[1] == "release none failed cargo build failed (exit status 101) log: out/logs/build-1234abcd.log -"
    assert "nothing to chart" in armv7.split("</table>")[1]


def test_chart_is_inline_svg(small_page):
    charts = skcharts.make_charts(golden("results_small.json"))
    # One chart: the armv7 target has no sized row.
    assert list(charts) == [("app", "x86_64-unknown-linux-gnu")]
    svg = charts[("app", "x86_64-unknown-linux-gnu")]
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert small_page.count("<svg") == 1
    # A bar per row, labelled with the variant, annotated with size and % change.
    for label in ("dev", "release-stripped", "bstd", "355K  (-65.9%)", "1.0M  (baseline)", "unavailable"):
        assert f">{label}<" in svg, label
    assert "<metadata" not in svg and "<?xml" not in svg and "DOCTYPE" not in svg
    # The baseline bar has its own colour.
    assert svg.count(skcharts.BASELINE_COLOR) == 1


def test_upx_estimate_against_real(small_page):
    cell = next(c for c in golden("results_small.json")["cells"] if c["variant"] == "upx")
    assert tables.is_upx_row(cell)
    assert tables.upx_error_pct(cell) == round((363000 - 363716) * 100 / 363716, 1) == -0.2
    upx = small_page[small_page.index("UPX: estimate against the real size"):]
    rows = [text(r) for r in table_rows(upx, "grid")]
    assert rows[1:] == ["upx 363,716 (355K) 363,000 (354K) -0.2%"]
    # Stages decide when present: a stripped row whose label mentions upx is not packed.
    assert not tables.is_upx_row({"label": "upx", "stages": [{"step": "build"}, {"step": "strip"}]})
    assert tables.is_upx_row({"label": "x", "stages": [{"step": "strip"}, {"step": "upx"}]})


def test_crate_attribution_of_baseline(small_page):
    rows = [text(r) for r in table_rows(small_page, "attribution")]
    assert rows[0] == "crate bytes size share"
    assert rows[1] == "std 400,000 391K 59.0%"
    assert rows[-1] == "total 678,300 662K 100%"
    assert "Biggest crates of the baseline row <code>release</code>" in small_page


def test_attribution_absent_and_references():
    results = golden("results_crates.json")
    page = skhtml.render_html(results)
    assert "<table class=\"grid attribution\"" not in page
    assert "No per-crate attribution in these results" in page
    # The reference overhead for http-ureq: the stripped baseline row against the stripped C build.
    ureq = page[page.index('id="s-http-ureq"'):page.index('id="s-http-reqwest"')]
    assert "Size overhead against the reference" in ureq
    rows = [text(r) for r in table_rows(ureq[ureq.index("Size overhead"):], "grid")]
    assert rows[0] == "target Rust Rust, stripped C C, stripped overhead (bytes) ratio"
    assert rows[1] == ("x86_64-unknown-linux-gnu 1,500,000 (1.4M) release 1,100,000 (1.0M) release-stripped "
                       "16,000 (16K) 14,400 (14K) +1,085,600 76.4x")
    assert rows[2].startswith("armv7-unknown-linux-gnueabihf - - C: unavailable (cannot build the C reference")
    reqwest = page[page.index('id="s-http-reqwest"'):]
    assert "Size overhead against the reference" not in reqwest
    assert "Targets compared" in reqwest
    assert_offline(page)


def test_everything_from_user_files_is_escaped():
    results = golden("results_small.json")
    for c in results["cells"]:
        c["crate"] = EVIL
        c["label"] = EVIL
        c["variant"] = c["variant"] + EVIL
        c["reason"] = c["reason"] and EVIL + c["reason"]
        if c.get("log"):
            c["log"] = EVIL
            c["tail"] = EVIL + "\n" + EVIL
        if c.get("crates"):
            c["crates"][EVIL] = 10 ** 6
    results["cells"][-1]["status"] = 'failed"><img src=x onerror=alert(1)>'
    results["matrix"] = EVIL
    results["baseline"] = "release" + EVIL
    results["references"] = [{"crate": EVIL, "target": EVIL, "name": EVIL, "status": "ok", "bytes": 10,
                               "stripped_bytes": 8}]
    page = skhtml.render_html(results)
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'onerror=alert(1)&gt;' in page
    # Chart labels are escaped in the SVG too.
    assert "&lt;script&gt;" in skcharts.make_charts(results)[(EVIL, "x86_64-unknown-linux-gnu")]
    assert_offline(page)


def test_offline_and_unique_ids():
    results = golden("results_small.json")
    arm = copy.deepcopy([c for c in results["cells"] if c["target"].startswith("x86_64")])
    for c in arm:
        c["target"] = "aarch64-unknown-linux-gnu"
    results["cells"] += arm
    page = skhtml.render_html(results)
    assert page.count("<svg") == 2
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "two charts share an id"
    # Every in-page reference points at an id of the page.
    for ref in re.findall(r'(?:href="#|url\(#)([^")]+)', page):
        assert ref in ids, ref
    assert_offline(page)


def test_image_charts_are_relative(tmp_path):
    page = skhtml.render_html(golden("results_small.json"), {("app", "x86_64-unknown-linux-gnu"): "app x86.png"})
    assert '<img src="app x86.png" alt="sizes of app on x86_64-unknown-linux-gnu">' in page
    assert "<svg" not in page


def test_write_html(tmp_path):
    start = time.monotonic()
    path = publish.write_html(str(tmp_path), golden("results_small.json"))
    assert path == os.path.join(str(tmp_path), "reports", "index.html")
    with open(path, encoding="utf-8") as f:
        page = f.read()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert_offline(page)
    assert os.listdir(os.path.dirname(path)) == ["index.html"]
    assert time.monotonic() - start < 5


def test_render_speed():
    """~25 cells (a 12-row crate on two targets) render in well under 2 s once matplotlib is loaded."""
    skcharts.make_charts(golden("results_small.json"))  # import matplotlib outside the timing
    base = golden("results_small.json")["cells"][:4]
    cells = []
    for target in ("x86_64-unknown-linux-gnu", "armv7-unknown-linux-gnueabihf"):
        for i in range(12):
            c = dict(base[i % 4], target=target, variant=f"row-{i}")
            cells.append(c)
    results = {"version": 1, "matrix": "m.yaml", "baseline": "row-1", "cells": cells}
    start = time.monotonic()
    page = skhtml.render_html(results)
    assert time.monotonic() - start < 2
    assert page.count("<svg") == 2


# ---------------------------------------------------------------- headless Chromium

def chromium(tmp_path, *args):
    if not os.path.exists(CHROMIUM):
        skip_no_file(CHROMIUM, "apt-get install chromium")
    profile = tmp_path / f"chromium-profile-{len(os.listdir(tmp_path))}"
    profile.mkdir()
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def screenshot(tmp_path, page_path, png, height=2000):
    chromium(tmp_path, f"--screenshot={png}", f"--window-size=1280,{height}", "file://" + page_path)
    assert os.path.getsize(png) > 20_000
    import matplotlib.image
    img = matplotlib.image.imread(png)
    assert img.shape[:2] == (height, 1280)
    return img


@pytest.mark.slow
def test_chromium_renders_report(tmp_path):
    path = publish.write_html(str(tmp_path / "out"), golden("results_small.json"))
    img = screenshot(tmp_path, path, str(tmp_path / "shot.png"))
    rgb = img[..., :3]
    assert rgb.reshape(-1, 3).std(axis=0).max() > 0.05, "the screenshot is a single colour"
    # The chart's baseline bar is drawn in its orange somewhere on the page.
    orange = (abs(rgb[..., 0] - 0xd9 / 255) < 0.03) & (abs(rgb[..., 1] - 0x82 / 255) < 0.03) & \
             (abs(rgb[..., 2] - 0x2b / 255) < 0.03)
    assert orange.sum() > 500

    dom = chromium(tmp_path, "--dump-dom", "file://" + path)
    assert '<table class="grid seed">' in dom
    assert "<svg" in dom and "<rect" in dom
    assert "rust-src is not installed" in dom
    assert "out/logs/build-1234abcd.log" in dom


def _crop_to_content(img, margin=24):
    """Rows of the screenshot down to the last non-white one, plus a margin."""
    ink = (img[..., :3] < 0.98).any(axis=(1, 2))
    last = int(ink.nonzero()[0].max()) if ink.any() else img.shape[0] - 1
    return img[:min(img.shape[0], last + margin)]


@pytest.mark.slow
def test_real_results_screenshot(tmp_path):
    """The report of the example matrix's real results.json, screenshotted; with SIZEKIT_UPDATE_DOCS=1
    it becomes docs/report.png."""
    from sizekit.results.results_file import load_results
    results_path = REAL_RESULTS
    if not os.path.exists(results_path):
        # No demo run here: build a small real matrix instead.
        import subprocess
        import sys
        from conftest import tiny_project
        tiny_project(tmp_path / "proj", """
            version: 1
            crates:
              tiny: {path: tiny, smoke: {args: [--version], expect: "tiny 0.1.0"}}
            variants:
              - {name: dev, profile: dev}
              - {name: release}
              - {name: release-stripped, from: release, post: [strip]}
              - {name: small, from: release-stripped, cargo: {opt-level: z, lto: fat, panic: abort}}
        """)
        subprocess.run([sys.executable, "-m", "doit"], cwd=tmp_path / "proj", check=True, capture_output=True)
        results_path = str(tmp_path / "proj" / "out" / "results.json")
    path = publish.write_html(str(tmp_path / "out"), load_results(results_path))
    height = 20000   # the example matrix's page (92 cells) runs past 12,000 px
    img = screenshot(tmp_path, path, str(tmp_path / "real.png"), height=height)
    img = _crop_to_content(img)
    assert 1000 < img.shape[0] < height, "the page is empty or longer than the screenshot"
    if os.environ.get("SIZEKIT_UPDATE_DOCS") == "1":
        from PIL import Image  # matplotlib depends on Pillow
        os.makedirs(os.path.dirname(DOCS_SHOT), exist_ok=True)
        pixels = (img[..., :3] * 255).round().astype("uint8")
        Image.fromarray(pixels).quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(DOCS_SHOT, optimize=True)
        assert os.path.getsize(DOCS_SHOT) > 20_000
