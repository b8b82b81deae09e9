"""The web console as a user meets it, in a real headless Chromium: sign in, upload by
drag and drop and watch the ingest, read a dataset's types, charts and rows, prefer a
type, read a file again with its encoding declared, rename, move and delete a dataset,
run a task and download its result, run a session operation from its wizard, import a
Keras model as a graph."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PASSWORD, USERNAME, Api, folder, sign_in
from tests.model_files import MLP, save

SALES = (
    b"region,qty,price\neast,1,2.5\nwest,2,3.5\neast,3,1.25\nnorth,4,8.0\n"
    b"east,5,4.75\nwest,6,6.5\nwest,7,3.0\neast,8,5.25\n"
)


def drop_file(page: Page, selector: str, name: str, content: bytes) -> None:
    """Drop a file on an element as a user dragging it from their desktop would."""
    transfer = page.evaluate_handle(
        """([name, text]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], name, { type: "text/csv" }));
            return transfer;
        }""",
        [name, content.decode()],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def chart_data(page: Page, selector: str) -> Any:
    """What Chart.js draws on a canvas: its labels and each data set's values."""
    return page.eval_on_selector(
        selector,
        """canvas => {
            const chart = Chart.getChart(canvas);
            return { labels: chart.data.labels, data: chart.data.datasets.map(d => d.data) };
        }""",
    )


def test_signing_in_opens_the_folder_tree(page: Page, console: str) -> None:
    sign_in(page, console)
    expect(page.get_by_role("heading", name="Datasets")).to_be_visible()
    expect(page.get_by_text(f"signed in as {USERNAME}")).to_be_visible()
    assert page.url.endswith("#/datasets")
    assert json.loads(page.evaluate("sessionStorage.getItem('sluice.tokens')"))["id_token"]


def test_a_wrong_password_shows_the_apis_message(page: Page, console: str) -> None:
    sign_in(page, console, password=PASSWORD + "x")
    expect(page.get_by_role("alert")).to_have_text("wrong username or password (HTTP 401)")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_dropped_csv_is_uploaded_and_ingested_with_its_types_and_a_histogram(
    signed_in: Page,
) -> None:
    page, path = signed_in, folder()
    page.get_by_role("link", name="Upload", exact=True).click()
    drop_file(page, "#dropzone", "sales.csv", SALES)
    expect(page.locator(".picked")).to_have_text(f"sales.csv ({len(SALES)} B)")
    expect(page.get_by_label("Name")).to_have_value("sales")
    page.get_by_label("Folder").fill(path)
    page.get_by_role("button", name="Upload").click()

    expect(page.locator(".sent .progress-text")).to_have_text(f"uploaded {len(SALES)} B")
    expect(page.get_by_label("upload progress")).to_have_js_property("value", 1)
    ready = page.get_by_role("link", name="sales: 8 rows, 3 columns")
    expect(ready).to_be_visible()
    ready.click()

    columns = page.locator("#columns tbody tr")
    expect(columns).to_have_count(3)
    for name, inferred in (("region", "category"), ("qty", "int8"), ("price", "float32")):
        row = page.locator(f'#columns tr[data-column="{name}"]')
        expect(row.locator(".inferred")).to_have_text(inferred)
        expect(row.locator(".effective")).to_have_text(inferred)
    histogram = page.locator('[data-column="price"] canvas[data-chart="histogram"]')
    expect(histogram).to_have_attribute("aria-label", "histogram of price: 20 bins, 8 values")
    drawn = chart_data(page, '[data-column="price"] canvas')
    assert sum(drawn["data"][0]) == 8 and drawn["labels"][0] == "1.25"
    top = page.locator('[data-column="region"] canvas[data-chart="top-values"]')
    expect(top).to_have_attribute("aria-label", "top values of region: east 4, west 3, north 1")
    expect(page.locator("#rows tbody tr")).to_have_count(8)

    page.get_by_role("link", name="Datasets").click()
    tree = page.locator("#tree")
    expect(tree.get_by_text(f"{path.split('/')[1]}/")).to_be_visible()
    expect(tree.locator("li.dataset", has_text="sales")).to_contain_text("ready 8 rows")


def test_a_file_that_is_not_csv_fails_with_the_reason_shown(signed_in: Page) -> None:
    page = signed_in
    page.goto(page.url.split("#")[0] + "#/upload")
    page.locator("input[type=file]").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + bytes(64)}
    )
    page.get_by_label("Folder").fill(folder())
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#ingest .badge")).to_have_text("failed")
    expect(page.locator("#ingest").get_by_role("alert")).to_have_text(
        "the file is not CSV text: it looks like a PNG image"
    )


def test_a_preferred_type_turns_failing_values_into_highlighted_exceptions(
    signed_in: Page, api: Api
) -> None:
    page = signed_in
    codes = api.ready_dataset("codes", folder(), b"code,label\n1,a\n2,b\nx3,c\n4,d\n")
    page.goto(page.url.split("#")[0] + f"#/datasets/{codes['id']}")
    row = page.locator('#columns tr[data-column="code"]')
    expect(row.locator(".inferred")).to_have_text("string")
    row.get_by_label("preferred type of code").select_option("int8")
    page.get_by_role("button", name="Save preferred types").click()

    expect(row.locator(".effective")).to_have_text("int8")
    expect(row.get_by_label("preferred type of code")).to_have_value("int8")
    exception = page.locator("#rows td.exception")
    expect(exception).to_have_count(1)
    expect(exception).to_have_text("x3")
    expect(page.locator("#rows tbody tr").nth(2).locator("td").nth(1)).to_have_text("c")


def test_a_task_started_from_its_form_is_followed_and_its_result_downloaded(
    signed_in: Page, api: Api
) -> None:
    page = signed_in
    sales = api.ready_dataset("sales", folder(), SALES)
    page.goto(page.url.split("#")[0] + f"#/datasets/{sales['id']}")
    page.get_by_role("link", name="Start a task").click()
    expect(page.get_by_label("dataset", exact=True)).to_have_value(sales["id"])
    page.get_by_label("region").check()
    page.get_by_label("aggregation 1 column").select_option("qty")
    page.get_by_label("aggregation 1 operation").select_option("sum")
    page.get_by_label("aggregation 1 name").fill("total")
    page.get_by_role("button", name="Start").click()

    expect(page.locator("#task-status .badge")).to_have_text("succeeded")
    expect(page.get_by_role("heading", name="Result: 3 rows in 1 file")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="part-00000.csv").click()
    saved = download.value
    assert saved.suggested_filename == "part-00000.csv"
    content = open(saved.path(), encoding="utf-8").read()  # noqa: SIM115 - read at once
    lines = content.splitlines()
    assert lines[0] == '"region","total"'
    assert sorted(lines[1:]) == ['"east",17', '"north",4', '"west",15']


def test_a_session_operation_runs_from_its_wizard_form_and_draws_its_output(
    signed_in: Page, api: Api
) -> None:
    page = signed_in
    sales = api.ready_dataset("sales", folder(), SALES)
    page.get_by_role("link", name="Sessions").click()
    page.get_by_label("Name").fill("prices")
    page.get_by_label("Datasets").select_option(sales["id"])
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Session: prices")).to_be_visible()

    page.get_by_label("operation", exact=True).select_option("histogram")
    wizard = page.locator(".wizard")
    expect(wizard.locator('[data-input="dataset"] select')).to_have_value(sales["id"])
    wizard.locator('[data-input="column"] select').select_option("price")
    wizard.locator('[data-input="bins"] input').fill("4")
    page.get_by_role("button", name="Run").click()

    card = page.locator("article.operation", has_text="histogram")
    expect(card.locator(".badge")).to_have_text("COMPLETED")
    expect(card.locator('canvas[data-chart="histogram"]')).to_have_attribute(
        "aria-label", "histogram of price: 4 bins, 8 values"
    )
    drawn = chart_data(page, 'article.operation canvas[data-chart="histogram"]')
    assert drawn["data"] == [[2, 2, 2, 2]]


def test_a_training_jobs_curves_grow_epoch_by_epoch_while_it_trains(signed_in: Page) -> None:
    # The job's record as GET /networks/training-jobs/{id} answers it, epoch after epoch,
    # served to the page in place of a real TensorFlow run (the training tests run those):
    # what is checked here is that the page follows the record live.
    page = signed_in
    job_id = "0123456789abcdef0123456789abcdef"
    states: list[dict[str, Any]] = []
    for epoch in range(1, 4):
        history = {
            "loss": [1.0, 0.6, 0.4][:epoch],
            "val_loss": [1.1, 0.7, 0.5][:epoch],
            "learning_rate": [0.001] * epoch,
        }
        states.append(
            {
                "id": job_id,
                "graph_id": "f" * 32,
                "dataset_id": "e" * 32,
                "params": {"epochs": 3},
                "status": "running" if epoch < 3 else "succeeded",
                "progress": epoch / 3,
                "epoch": {"epoch": epoch, "loss": history["loss"][-1]},
                "history": history,
                "evaluation": {"loss": 0.45} if epoch == 3 else None,
                "rows": None,
                "error": None,
            }
        )
    served = iter(states)
    last = states[-1]

    def answer(route: Any) -> None:
        route.fulfill(json=next(served, last))

    page.route(f"**/networks/training-jobs/{job_id}", answer)
    page.goto(page.url.split("#")[0] + f"#/training/{job_id}")
    curves = page.locator('#curves canvas[data-chart="curves"]')
    expect(curves).to_have_attribute("aria-label", "training curves: loss, val_loss over 1 epochs")
    expect(curves).to_have_attribute("aria-label", "training curves: loss, val_loss over 3 epochs")
    expect(page.locator("#job-status")).to_have_text(
        "succeeded 3 of 3 epochs · learning rate 0.001"
    )
    assert chart_data(page, "#curves canvas") == {
        "labels": [1, 2, 3],
        "data": [[1.0, 0.6, 0.4], [1.1, 0.7, 0.5]],
    }
    expect(page.locator("#evaluation td.num")).to_have_text("0.45")


def test_a_file_sent_in_parts_from_the_page_lands_whole_and_is_ingested(
    signed_in: Page, api: Api
) -> None:
    # The console's own upload module, in the page, told to send even this small file in
    # parts (the in-process system's upload limit is below S3's 5 MiB part): each part is
    # PUT by XHR to its presigned URL, its ETag read through the bucket's CORS, and the
    # upload completed through the API.
    page, path = signed_in, folder()
    sent = page.evaluate(
        """async ([text, path]) => {
            const { uploadFile } = await import("./console/upload.js");
            const file = new File([text], "parts.csv", { type: "text/csv" });
            const progress = [];
            const settings = { name: "parts", path, allow_duplicate: true };
            const id = await uploadFile(file, settings, (done, total) =>
                progress.push([done, total]), { partsAbove: 1 });
            return { id, last: progress.at(-1) };
        }""",
        [SALES.decode(), path],
    )
    assert sent["last"] == [len(SALES), len(SALES)]
    dataset = api.settled(sent["id"])
    assert (dataset["status"], dataset["row_count"], dataset["size_bytes"]) == (
        "ready",
        8,
        len(SALES),
    )


def manage_card(page: Page, api: Api, name: str) -> tuple[dict[str, Any], str, Locator]:
    """A ready dataset of its own folder, its page open: (dataset, folder, its manage card)."""
    path = folder()
    dataset = api.ready_dataset(name, path, SALES)
    page.goto(page.url.split("#")[0] + f"#/datasets/{dataset['id']}")
    return dataset, path, page.locator("#manage")


def test_a_dataset_is_renamed_and_moved_from_its_page(signed_in: Page, api: Api) -> None:
    page = signed_in
    dataset, path, card = manage_card(page, api, "draft")
    card.get_by_label("Name").fill("sales 2026")
    card.get_by_label("Folder").fill(f"{path}/archive")
    card.get_by_role("button", name="Save name and folder").click()
    expect(page.get_by_role("heading", name="sales 2026")).to_be_visible()
    stored = api.call("GET", f"/datasets/{dataset['id']}")
    assert (stored["name"], stored["path"]) == ("sales 2026", f"{path}/archive")


def test_a_folder_the_api_refuses_is_its_message_in_the_card(signed_in: Page, api: Api) -> None:
    dataset, path, card = manage_card(signed_in, api, "kept")
    card.get_by_label("Folder").fill("a/../b")
    card.get_by_role("button", name="Save name and folder").click()
    expect(card.get_by_role("alert")).to_contain_text("folder segment '..'")
    assert api.call("GET", f"/datasets/{dataset['id']}")["path"] == path


def test_a_dataset_deleted_from_its_page_asks_twice_and_is_gone(signed_in: Page, api: Api) -> None:
    page = signed_in
    dataset, _, card = manage_card(page, api, "doomed")
    final = card.get_by_role("button", name="Delete doomed for good")
    expect(final).to_be_hidden()
    card.get_by_role("button", name="Delete dataset…").click()
    final.click()
    expect(page.get_by_role("heading", name="Datasets")).to_be_visible()
    assert page.url.endswith("#/datasets")
    gone = requests.get(f"{api.base}/datasets/{dataset['id']}", headers=api.headers, timeout=30)
    assert gone.status_code == 404


def test_a_keras_model_imported_from_the_page_becomes_a_listed_graph(
    signed_in: Page, tmp_path: Path
) -> None:
    page = signed_in
    model = tmp_path / "mlp.keras"
    parameters = save(MLP, model)
    name = f"imported {uuid.uuid4().hex[:6]}"
    page.goto(page.url.split("#")[0] + "#/networks")
    form = page.locator("#import")
    form.get_by_label("Model file").set_input_files(str(model))
    form.get_by_label("Graph name").fill(name)
    form.get_by_role("button", name="Import").click()
    expect(page.locator("#import-outcome")).to_have_text(
        f'imported mlp.keras: {parameters:,} parameters, graph "{name}"', timeout=90_000
    )
    expect(page.locator("#graph-list").get_by_role("cell", name=name)).to_be_visible()


def test_a_file_that_is_no_model_shows_the_imports_reason(signed_in: Page) -> None:
    page = signed_in
    page.goto(page.url.split("#")[0] + "#/networks")
    form = page.locator("#import")
    form.get_by_label("Model file").set_input_files(
        {"name": "notes.keras", "mimeType": "application/octet-stream", "buffer": b"no model"}
    )
    form.get_by_role("button", name="Import").click()
    expect(form.get_by_role("alert")).to_contain_text("(not_a_model)", timeout=90_000)


LATIN1 = "Ort;Preis\nZürich;3,5\nGenève;12,25\n".encode("latin-1")


def test_a_file_that_failed_as_not_utf8_is_read_again_with_its_encoding(
    signed_in: Page, api: Api
) -> None:
    page = signed_in
    created = api.call("POST", "/datasets", {"name": "legacy", "path": folder()})
    ticket = created["upload"]
    file = {"file": ("legacy.csv", LATIN1 + uuid.uuid4().hex.encode() + b";1\n")}
    assert requests.post(ticket["url"], data=ticket["fields"], files=file, timeout=30).ok
    dataset_id = created["dataset"]["id"]
    assert api.settled(dataset_id)["status"] == "failed"
    page.goto(page.url.split("#")[0] + f"#/datasets/{dataset_id}")
    expect(page.get_by_role("alert")).to_contain_text("is not valid UTF-8")
    card = page.locator("#reinfer")
    card.get_by_label("Encoding").fill("latin-1")
    card.get_by_label("Decimal mark").select_option(",")
    card.get_by_role("button", name="Read again").click()

    expect(page.locator("#status .badge")).to_have_text("ready")
    expect(page.locator('#columns tr[data-column="Preis"] .effective')).to_have_text("float32")
    expect(page.locator("#rows tbody tr").first.locator("td").first).to_have_text("Zürich")
    stored = api.call("GET", f"/datasets/{dataset_id}")
    assert (stored["settings"]["encoding"], stored["dialect"]["decimal"]) == ("iso8859-1", ",")


def test_an_upload_with_its_file_options_is_read_with_them(signed_in: Page, api: Api) -> None:
    page, path = signed_in, folder()
    page.goto(page.url.split("#")[0] + "#/upload")
    # Its own content: the demo user holds every test's files, and a copy is a duplicate.
    unique = LATIN1.replace("Genève".encode("latin-1"), f"Genève {uuid.uuid4().hex}".encode())
    page.locator("input[type=file]").set_input_files(
        {"name": "prices.csv", "mimeType": "text/csv", "buffer": unique}
    )
    page.get_by_label("Folder").fill(path)
    page.get_by_text("File options").click()
    page.get_by_label("Delimiter").select_option(";")
    page.get_by_label("Encoding").fill("latin-1")
    page.get_by_role("button", name="Upload").click()
    ready = page.get_by_role("link", name="prices: 2 rows, 2 columns")
    expect(ready).to_be_visible()
    listed = api.call("GET", f"/datasets/tree?path={path}")
    (dataset,) = listed["children"]
    stored = api.call("GET", f"/datasets/{dataset['id']}")
    assert (stored["dialect"]["delimiter"], stored["settings"]["encoding"]) == (";", "iso8859-1")
