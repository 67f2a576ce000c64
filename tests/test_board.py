"""`tfnn board` end to end: a short run served by real TensorBoard, read over HTTP and in Chromium.

The HTTP checks use the JSON routes TensorBoard's own frontend calls (see
tensorboard/plugins/*/ in the installed package). The browser check (marker
``browser``) opens each dashboard in headless Chromium and saves screenshots
to artifacts/browser/.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tfnn.configs.digits import DigitsConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT_DIR = REPO_ROOT / "artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
EMBEDDING_SAMPLES = 300
HIDDEN = DigitsConfig().hidden  # the projector tensor is the hidden layer's activations
# The plugins whose dashboards must show this project's data.
PLUGINS = ("scalars", "graphs", "histograms", "images", "hparams", "projector")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


@dataclass(frozen=True)
class Board:
    """A running `tfnn board` and the run it serves."""

    url: str  # e.g. http://127.0.0.1:PORT (no trailing slash)
    run: str  # TensorBoard's run name of the run root, e.g. digits/<timestamp>-<settings>


def tfnn_cli(*argv: str) -> list[str]:
    """The `tfnn` command line through this interpreter, so the venv needs no PATH entry."""
    return [sys.executable, "-m", "tfnn.cli", *argv]


def free_port() -> int:
    """A port that was free a moment ago (the OS picks it for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, body: dict | None = None) -> bytes:
    """GET ``url``, or POST ``body`` as JSON (what the hparams routes expect)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def poll_json(url: str, ready: Callable[[Any], bool], timeout: float = 60.0) -> Any:
    """JSON from ``url`` once ``ready`` accepts it, else the last answer.

    TensorBoard's data server reads event files in the background, so a route
    can answer empty for a while after the server is up.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = json.loads(fetch(url))
        except OSError:  # connection refused/reset while starting
            answer = None
        if (answer is not None and ready(answer)) or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def query(**params: str) -> str:
    return urllib.parse.urlencode(params)


def all_enabled(listing: dict[str, dict]) -> bool:
    """Whether /data/plugins_listing shows every plugin in PLUGINS as active."""
    return all(listing.get(name, {}).get("enabled") for name in PLUGINS)


def wait_for_url_line(process: subprocess.Popen, stdout: Path, stderr: Path, timeout: float) -> str:
    """The URL from `tfnn board`'s "... at http://..." line; fails if it exits or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in stdout.read_text().splitlines():
            if " at http://" in line:
                return line.split(" at ", 1)[1].split()[0].rstrip("/")
        if process.poll() is not None:
            pytest.fail(f"tfnn board exited {process.returncode}: {stderr.read_text()[-2000:]}")
        time.sleep(0.2)
    pytest.fail(f"tfnn board printed no URL in {timeout:.0f} s: {stderr.read_text()[-2000:]}")


def start_board(logdir: Path, out_dir: Path) -> tuple[subprocess.Popen, str]:
    """`tfnn board` on ``logdir`` and a free port, once it has printed its URL."""
    # Output goes to files, not pipes: a pipe nobody drains could block TensorBoard.
    stdout, stderr = out_dir / "stdout.txt", out_dir / "stderr.txt"
    port = free_port()
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            tfnn_cli("board", "--logdir", str(logdir), "--port", str(port)),
            stdout=out,
            stderr=err,
            env=ENV,
        )
    try:
        url = wait_for_url_line(process, stdout, stderr, timeout=120)
    except BaseException:
        stop(process)
        raise
    assert url == f"http://127.0.0.1:{port}"
    return process, url


def stop(process: subprocess.Popen) -> int:
    """Ctrl-C for `tfnn board` (its data server dies with it); kill if it hangs."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=60)  # a loaded CI machine tears TensorFlow down slowly
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    """A 2-epoch digits run and a short MNIST dense run (with a validation set) under a
    fresh log root, served by `tfnn board` on a free port."""
    logroot = tmp_path_factory.mktemp("board-logs")
    mnist = subprocess.run(
        tfnn_cli(
            "train",
            "mnist-dnn",
            "--epochs=1",
            "--train-samples=2000",
            "--validation-samples=200",
            "--embedding-samples=0",
            f"--logdir={logroot}",
        ),
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    assert mnist.returncode == 0, mnist.stderr[-2000:]
    train = subprocess.run(
        tfnn_cli(
            "train",
            "digits",
            "--epochs",
            "2",
            "--logdir",
            str(logroot),
            "--embedding-samples",
            str(EMBEDDING_SAMPLES),
        ),
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    assert train.returncode == 0, train.stderr[-2000:]
    (run_dir,) = (logroot / "digits").iterdir()

    process, url = start_board(logroot, tmp_path_factory.mktemp("board-out"))
    try:
        run = f"digits/{run_dir.name}"
        # Ready once the data server has read every event directory of the run and the
        # projector has decided (in a background thread, on the first ask) it is active;
        # the frontend hides a dashboard's tab when its plugin is inactive at page load.
        runs = poll_json(f"{url}/data/runs", lambda runs: len(runs) >= 8, timeout=60)
        assert runs is not None, f"no answer from {url}/data/runs"
        poll_json(f"{url}/data/plugins_listing", all_enabled, timeout=60)
        yield Board(url=url, run=run)
    finally:
        stop(process)


# --- the HTTP data API: what each dashboard is fed ---------------------------------------


def test_runs_and_active_plugins(board: Board):
    runs = poll_json(f"{board.url}/data/runs", lambda runs: len(runs) >= 8)
    # The run's root (HParams, text, figures), its curves' sub-runs and the Projector's.
    subdirs = ["", "/train", "/test", "/projector"]
    ours = [run for run in runs if run.split("/")[:2] == board.run.split("/")]
    assert sorted(ours) == sorted(board.run + sub for sub in subdirs)
    # Short names a person tells apart; the settings live in HParams and the Text tab.
    assert all(len(run.split("/")[1]) <= 40 for run in runs)
    listing = json.loads(fetch(f"{board.url}/data/plugins_listing"))
    assert {name: listing[name]["enabled"] for name in PLUGINS} == dict.fromkeys(PLUGINS, True)


def test_scalars_per_run(board: Board):
    tags = poll_json(f"{board.url}/data/plugin/scalars/tags", lambda t: len(t) >= 3)
    train = set(tags[f"{board.run}/train"])
    assert {"step_loss", "epoch_loss", "epoch_accuracy", "learning_rate"} <= train
    statistics = {"hidden1/weights/mean", "hidden1/weights/std", "output/biases/max"}
    assert {f"statistics/{tag}" for tag in statistics} <= train
    assert {"epoch_loss", "epoch_accuracy"} == set(tags[f"{board.run}/test"])
    points = json.loads(
        fetch(
            f"{board.url}/data/plugin/scalars/scalars?"
            + query(run=f"{board.run}/train", tag="epoch_accuracy")
        )
    )
    # [wall_time, step, value] per epoch.
    assert [step for _, step, _ in points] == [1, 2]
    assert all(0.0 <= value <= 1.0 for _, _, value in points)


def test_graph_of_the_training_step(board: Board):
    info = poll_json(f"{board.url}/data/plugin/graphs/info", lambda i: len(i) >= 1)
    assert info[f"{board.run}/train"]["run_graph"] is True
    graph = fetch(f"{board.url}/data/plugin/graphs/graph?" + query(run=f"{board.run}/train"))
    assert graph.decode().count("node {") > 10  # a GraphDef in text format


def test_histograms_per_layer(board: Board):
    tags = poll_json(f"{board.url}/data/plugin/histograms/tags", lambda t: len(t) >= 1)
    expected = {
        f"statistics/{layer}/{part}"
        for layer in ("hidden1", "output")
        for part in ("weights", "biases", "weights_gradient")
    }
    assert expected <= set(tags[f"{board.run}/train"])
    histograms = json.loads(
        fetch(
            f"{board.url}/data/plugin/histograms/histograms?"
            + query(run=f"{board.run}/train", tag="statistics/hidden1/weights")
        )
    )
    # [wall_time, step, [[left, right, count], ...]]; the 64x256 kernel has 16384 weights.
    _, _, buckets = histograms[-1]
    assert sum(count for _, _, count in buckets) == pytest.approx(64 * HIDDEN)


def test_images_are_served_as_png(board: Board):
    tags = poll_json(f"{board.url}/data/plugin/images/tags", lambda t: len(t) >= 2)
    figures = set(tags[board.run])
    assert {"figures/confusion_matrix", "figures/misclassified"} <= figures
    assert any(tag.startswith("figures/tsne_") for tag in figures)
    samples = json.loads(
        fetch(
            f"{board.url}/data/plugin/images/images?"
            + query(run=board.run, tag="figures/confusion_matrix")
        )
    )
    png = fetch(f"{board.url}/data/plugin/images/individualImage?{samples[-1]['query']}")
    assert png.startswith(b"\x89PNG")


def test_hparams_session_with_our_settings(board: Board):
    experiment = json.loads(
        fetch(
            f"{board.url}/data/plugin/hparams/experiment",
            {"experimentName": "", "includeMetrics": True},
        )
    )
    hparams = {info["name"] for info in experiment["hparamInfos"]}
    assert {"hidden", "activation", "learning_rate", "epochs"} <= hparams
    metrics = {(m["name"].get("group", ""), m["name"]["tag"]) for m in experiment["metricInfos"]}
    assert {("test", "epoch_accuracy"), ("train", "epoch_loss")} <= metrics
    # Only the declared metrics: no layer statistic becomes a column.
    assert not any(tag.startswith("statistics/") for _, tag in metrics)

    groups = json.loads(
        fetch(
            f"{board.url}/data/plugin/hparams/session_groups",
            {
                "experimentName": "",
                "allowedStatuses": [
                    "STATUS_UNKNOWN",
                    "STATUS_SUCCESS",
                    "STATUS_FAILURE",
                    "STATUS_RUNNING",
                ],
                "startIndex": 0,
                "sliceSize": 100,
                "includeMetrics": True,
            },
        )
    )
    by_name = {group["name"]: group for group in groups["sessionGroups"]}
    group = next(group for group in by_name.values() if group["sessions"][0]["name"] == board.run)
    assert group["hparams"]["hidden"] == HIDDEN
    assert group["hparams"]["epochs"] == 2
    assert [session["name"] for session in group["sessions"]] == [board.run]
    assert any(
        value["name"] == {"group": "test", "tag": "epoch_accuracy"}
        for value in group["metricValues"]
    )


def test_hparams_compares_every_run(board: Board):
    """The table's metric columns are a short declared list; every run (digits without a
    validation set, MNIST with one) has a value in each column TensorBoard shows first
    (the first five hyperparameters and metrics by name), so parallel coordinates draw
    every run, coloured by test accuracy (the first metric)."""
    experiment = json.loads(
        fetch(
            f"{board.url}/data/plugin/hparams/experiment",
            {"experimentName": "", "includeMetrics": True},
        )
    )
    hparams = sorted(info["name"] for info in experiment["hparamInfos"])
    assert {"hidden", "activation", "optimizer", "learning_rate", "arch"} <= set(hparams)
    metrics = sorted(
        (m["name"].get("group", ""), m["name"]["tag"]) for m in experiment["metricInfos"]
    )
    assert len(metrics) <= 12
    assert metrics[0] == ("test", "epoch_accuracy")
    groups = json.loads(
        fetch(
            f"{board.url}/data/plugin/hparams/session_groups",
            {
                "experimentName": "",
                "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS"],
                "startIndex": 0,
                "sliceSize": 100,
                "includeMetrics": True,
            },
        )
    )["sessionGroups"]
    assert {group["sessions"][0]["name"].split("/")[0] for group in groups} == {
        "digits",
        "mnist-dnn",
    }
    for group in groups:
        assert set(hparams[:5]) <= set(group["hparams"]), group["name"]
        shown = {(v["name"].get("group", ""), v["name"]["tag"]) for v in group["metricValues"]}
        assert set(metrics[:5]) <= shown, group["name"]


def test_projector_embedding_of_the_hidden_layer(board: Board):
    runs = poll_json(f"{board.url}/data/plugin/projector/runs", lambda r: len(r) >= 1)
    assert runs == [f"{board.run}/projector"]
    info = json.loads(fetch(f"{board.url}/data/plugin/projector/info?" + query(run=runs[0])))
    (embedding,) = info["embeddings"]
    assert embedding["tensorShape"] == [EMBEDDING_SAMPLES, HIDDEN]
    name = embedding["tensorName"].split("/")[0]
    assert name == "hidden1"  # the hidden1_act layer's activations
    assert embedding["metadataPath"] == f"{name}/metadata.tsv"
    assert embedding["sprite"]["imagePath"] == f"{name}/sprite.png"
    assert Path(info["modelCheckpointPath"]).name.startswith("embeddings")
    metadata = fetch(
        f"{board.url}/data/plugin/projector/metadata?"
        + query(run=runs[0], name=embedding["tensorName"])
    )
    assert len(metadata.decode().splitlines()) == EMBEDDING_SAMPLES  # one label per point


# --- stopping and one-line errors (no training needed) ---------------------------------


def run_board(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        tfnn_cli("board", *argv), capture_output=True, text=True, timeout=120, env=ENV
    )


def test_board_stops_on_ctrl_c_with_exit_0(tmp_path: Path):
    process, _ = start_board(tmp_path, tmp_path)
    assert stop(process) == 0
    assert (tmp_path / "stdout.txt").read_text().splitlines()[-1] == "TensorBoard stopped"


def test_board_on_a_taken_port_is_one_line_exit_2(tmp_path: Path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_board("--logdir", str(tmp_path), "--port", str(port))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("tfnn: error:") and f"--port {port}" in line and "in use" in line
    assert result.stdout == ""


def test_board_on_a_missing_logdir_is_one_line_exit_2(tmp_path: Path):
    missing = tmp_path / "no-such-dir"
    result = run_board("--logdir", str(missing), "--port", str(free_port()))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("tfnn: error:") and str(missing) in line


def test_board_port_out_of_range_is_one_line_exit_2(tmp_path: Path):
    result = run_board("--logdir", str(tmp_path), "--port", "70000")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("tfnn: error:") and "--port 70000" in line


# --- the dashboards in headless Chromium ---------------------------------------------------

# All visible text (and input values) across shadow roots and same-origin iframes (the
# projector is an iframe), plus how many visible elements match a CSS selector and are drawn.
# Style/script text and hidden (inactive) dashboards are skipped: a user sees neither.
DEEP_TEXT_JS = """
const selector = arguments[0];
const texts = [];
let matches = 0;
// Images count once decoded, SVG paths once they have a shape (Plottable creates
// the line paths before the data arrives).
const drawn = (el) => {
  if (el.tagName === 'IMG') return el.naturalWidth > 0;
  if (el.tagName === 'path') { const box = el.getBBox(); return box.width > 0 || box.height > 0; }
  return true;
};
const walk = (node) => {
  if (node.nodeType === Node.TEXT_NODE) { texts.push(node.nodeValue); return; }
  if (node.nodeType === Node.ELEMENT_NODE) {
    if (['STYLE', 'SCRIPT', 'TEMPLATE'].includes(node.tagName)) return;
    if (!node.checkVisibility()) return;
    if (selector && node.matches(selector) && drawn(node)) matches += 1;
    // Dropdowns show their choice (e.g. the graph's run) as an <input> value.
    if (node.tagName === 'INPUT' && node.value) texts.push(node.value);
    if (node.shadowRoot) walk(node.shadowRoot);
    if (node.tagName === 'IFRAME' && node.contentDocument) walk(node.contentDocument);
  }
  for (const child of node.childNodes) walk(child);
};
walk(document);
return {text: texts.join(' ').replace(/\\s+/g, ' '), matches: matches};
"""


@dataclass(frozen=True)
class Dashboard:
    """What one dashboard must show: texts (``{run}``/``{stamp}`` filled in), selector
    matches, and texts that must be gone (progress messages)."""

    texts: tuple[str, ...]
    selector: str = ""
    min_matches: int = 0
    absent: tuple[str, ...] = ()
    # Texts whose first appearances come in this order (what the page shows first).
    order: tuple[str, ...] = ()


DASHBOARDS: dict[str, Dashboard] = {
    # TensorBoard's default view: accuracy and loss (train and test overlaid) open first,
    # the layer statistics after them.
    "timeseries": Dashboard(
        ("epoch_accuracy", "epoch_loss", "statistics"),
        selector="canvas",  # the line charts are drawn with WebGL
        min_matches=2,
        order=("epoch_accuracy", "epoch_loss", "learning_rate", "statistics"),
    ),
    # Chart cards ("tag: <name>" is a card's title) with the train and test lines drawn.
    "scalars": Dashboard(
        ("tag: epoch_accuracy", "tag: epoch_loss", "{run}/train"),
        selector="path.line",
        min_matches=4,
    ),
    # The op graph drawn as SVG nodes for the train run's step function.
    "graphs": Dashboard(("Main Graph", "{run}/train"), selector="g.node", min_matches=10),
    # A drawn histogram (one per logged step) in each of the 8 layer/part cards at least.
    "histograms": Dashboard(
        ("tag: statistics/hidden1/activations", "tag: statistics/hidden1/biases_gradient"),
        selector="g.histogram",
        min_matches=8,
    ),
    # Three decoded images: confusion matrix, misclassified grid, t-SNE.
    "images": Dashboard(
        ("tag: figures/confusion_matrix", "tag: figures/misclassified", "tag: figures/tsne_"),
        selector="img",
        min_matches=3,
    ),
    # The table view's session row and our hparams/metrics.
    "hparams": Dashboard(("hidden", "learning_rate", "test accuracy", "{stamp}")),
    # The 3-D scatter (a WebGL canvas) of the hidden layer's activations, once its
    # PCA has finished (before that the canvas shows only the axes).
    "projector": Dashboard(
        (
            "1 tensor found",
            f"Points: {EMBEDDING_SAMPLES}",
            f"Dimension: {HIDDEN}",
            "Total variance described",
            "Component #1",
        ),
        selector="canvas",
        min_matches=1,
        absent=("Computing PCA",),
    ),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium through chromedriver; skips without them, except under CI."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        reason = f"{' and '.join(missing)} missing: run scripts/install-browser"
        # CI must exercise the browser, so a missing browser there is a failure.
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.TemporaryDirectory(prefix="tfnn-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",  # running as root in a container
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",  # small /dev/shm in containers crashes tabs
        "--window-size=1400,1000",
        f"--user-data-dir={profile.name}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


@pytest.mark.browser
@pytest.mark.parametrize("name", list(DASHBOARDS))
def test_dashboard_shows_our_data_in_chromium(board: Board, browser: Any, name: str):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    dashboard = DASHBOARDS[name]
    stamp = board.run.split("/", 1)[1]
    texts = [text.format(run=board.run, stamp=stamp) for text in dashboard.texts]
    # A real page load per dashboard: changing only the #fragment would keep the
    # previous dashboards' DOM (and its state) around.
    browser.get("about:blank")
    browser.get(f"{board.url}/#{name}")
    seen: dict[str, Any] = {"text": "", "matches": 0}

    def shows_our_data(driver: Any) -> bool:
        seen.update(driver.execute_script(DEEP_TEXT_JS, dashboard.selector))
        return (
            all(text in seen["text"] for text in texts)
            and not any(text in seen["text"] for text in dashboard.absent)
            and seen["matches"] >= dashboard.min_matches
        )

    try:
        WebDriverWait(browser, timeout=60, poll_frequency=0.5).until(shows_our_data)
    except TimeoutException:
        pass  # reported below, after the screenshot that shows what was there instead
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    screenshot = SCREENSHOT_DIR / f"{name}.png"
    browser.save_screenshot(str(screenshot))

    missing = [text for text in texts if text not in seen["text"]]
    assert not missing, f"#{name} lacks {missing}; page text: {seen['text'][:1500]}"
    positions = [seen["text"].find(text) for text in dashboard.order]
    assert positions == sorted(positions) and -1 not in positions, (
        f"#{name} shows {dashboard.order} at {positions}"
    )
    still = [text for text in dashboard.absent if text in seen["text"]]
    assert not still, f"#{name} still shows {still} after 60 s"
    assert seen["matches"] >= dashboard.min_matches, (
        f"#{name}: {seen['matches']} visible {dashboard.selector!r}, "
        f"want >= {dashboard.min_matches}"
    )
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    # A blank or header-only page compresses to far less than a dashboard with data.
    assert screenshot.stat().st_size > 30_000, f"{screenshot} looks blank"
