"""The README's screenshots of the web console (``make screenshots``): an in-process local
system with the sample dataset, a task, a session with two operations and a small training
job, each page shot by the same headless Chromium the browser tests drive.

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import numpy as np
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.conftest import Api, launch
from tests.support import wait_for

OUT = Path("docs/screenshots")
VIEWPORT = {"width": 1280, "height": 860}


def training_csv(rows: int = 600) -> bytes:
    """Three numbers and a label a tiny network learns (as the training tests use)."""
    rng = np.random.default_rng(7)
    values = rng.normal(size=(rows, 3)) * [1.0, 10.0, 100.0] + [5.0, 0.0, 3.0]
    label = (values[:, 0] + values[:, 1] / 10 > values[:, 2] / 100 + 5).astype(int)
    out = io.StringIO()
    out.write("a,b,c,label\n")
    for (a, b, c), y in zip(values, label, strict=True):
        out.write(f"{a:.4f},{b:.4f},{c:.4f},{y}\n")
    return out.getvalue().encode()


def graph() -> dict[str, Any]:
    def node(node_id: str, layer: str, **params: Any) -> dict[str, Any]:
        return {"id": node_id, "type": layer, "params": params, "position": {"x": 0, "y": 0}}

    return {
        "name": "label classifier",
        "framework": "keras",
        "nodes": [
            node("in", "Input", shape=[3]),
            node("hidden", "Dense", units=16, activation="relu"),
            node("out", "Dense", units=1, activation="sigmoid"),
        ],
        "edges": [{"source": "in", "target": "hidden"}, {"source": "hidden", "target": "out"}],
    }


def prepare(api: Api, sample_id: str) -> dict[str, str]:
    """What the pages show: the sample ready, a task, operations, a finished training job."""
    api.settled(sample_id)
    task = api.call(
        "POST",
        f"/datasets/{sample_id}/tasks",
        {
            "group_by": ["region"],
            "aggregations": [
                {"column": "quantity", "op": "sum", "name": "units"},
                {"column": "*", "op": "count", "name": "orders"},
            ],
        },
    )
    session = api.call(
        "POST",
        "/sessions",
        {"name": "sales review", "input_data": [{"type": "dataset", "id": sample_id}]},
    )
    reference = {"type": "dataset", "id": sample_id}
    for name, inputs in (
        ("histogram", {"dataset": reference, "column": "unit_price", "bins": 12}),
        ("histogram", {"dataset": reference, "column": "product"}),
    ):
        api.call(
            "POST", f"/sessions/{session['id']}/operations", {"name": name, "input_data": inputs}
        )
    features = api.ready_dataset("features", "models", training_csv())
    stored = api.call("POST", "/networks/graphs", graph())
    job = api.call(
        "POST",
        f"/networks/graphs/{stored['id']}/train",
        {
            "dataset_id": features["id"],
            "x_columns": ["a", "b", "c"],
            "y_column": "label",
            "loss": "binary_crossentropy",
            "metrics": ["accuracy"],
            "epochs": 12,
            "batch_size": 32,
            "early_stopping": False,
        },
    )

    def ended() -> dict[str, Any] | None:
        now: dict[str, Any] = api.call("GET", f"/networks/training-jobs/{job['id']}")
        return now if now["status"] in ("succeeded", "failed", "cancelled") else None

    wait_for(ended, 300, "the training job to end", every_s=1)
    return {"task": task["id"], "session": session["id"], "job": job["id"]}


def shoot(page: Page, out: Path, name: str, full_page: bool = False) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(out / f"{name}.png"), full_page=full_page)
    print(f"wrote {out / name}.png")


def take(out: Path) -> None:
    from sluice.local.system import DEMO_PASSWORD, DEMO_USER, LocalOptions, LocalSystem

    out.mkdir(parents=True, exist_ok=True)
    system = LocalSystem(LocalOptions(port=0, demo=True)).start()
    try:
        sample_id = system.upload_sample()
        base = f"{system.api_url}/"
        ids = prepare(Api(base, DEMO_USER, DEMO_PASSWORD), sample_id)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(base)
            page.get_by_label("User name").fill(DEMO_USER)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("#tree")).to_contain_text("sales")
            shoot(page, out, "datasets")
            page.goto(f"{base}#/datasets/{sample_id}")
            expect(page.locator("canvas[data-chart]")).to_have_count(7)
            expect(page.locator("#rows")).to_be_visible()
            page.set_viewport_size({"width": 1280, "height": 1900})
            shoot(page, out, "dataset")
            page.set_viewport_size(VIEWPORT)
            page.goto(f"{base}#/tasks/{ids['task']}")
            expect(page.locator("#files")).to_be_visible()
            shoot(page, out, "task")
            page.goto(f"{base}#/sessions/{ids['session']}")
            expect(page.locator("article.operation canvas")).to_have_count(2)
            page.get_by_label("operation", exact=True).select_option("describe")
            columns = page.locator('.wizard [data-input="columns"] input[type=checkbox]')
            expect(columns).to_have_count(7)
            page.set_viewport_size({"width": 1280, "height": 1400})
            shoot(page, out, "session")
            page.set_viewport_size(VIEWPORT)
            page.goto(f"{base}#/training/{ids['job']}")
            expect(page.locator("#evaluation table")).to_be_visible()
            shoot(page, out, "training")
            browser.close()
    finally:
        system.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    take(parser.parse_args().out)


if __name__ == "__main__":
    main()
