// Networks: the stored graphs, a Keras model imported as one, a form to train one on a
// dataset, the training jobs, and a job's loss and metric curves per epoch, live while
// it trains.

import { get, post } from "../api.js";
import { curves } from "../charts.js";
import { badge, fill, h, number, onSubmit, poll, progressBar, table, when } from "../ui.js";
import { postFile } from "../upload.js";

const OPEN = ["queued", "running"];

function trainForm(graphs, datasets) {
  const datasetSelect = h("select", { name: "dataset_id", required: true, "aria-label": "dataset" },
    h("option", { value: "" }, "choose a dataset"), datasets.map((d) => h("option", { value: d.id }, d.name)));
  const columns = h("div", { class: "train-columns" });
  datasetSelect.addEventListener("change", async () => {
    fill(columns);
    if (!datasetSelect.value) return;
    const dataset = await get(`/datasets/${datasetSelect.value}`);
    fill(columns,
      h("fieldset", {}, h("legend", {}, "Inputs (x)"), dataset.columns.map((c) =>
        h("label", { class: "check" }, h("input", { type: "checkbox", name: "x_columns", value: c.name }), ` ${c.name}`))),
      h("label", {}, "Target (y)", h("select", { name: "y_column" }, dataset.columns.map((c) => h("option", { value: c.name }, c.name)))));
  });
  const form = h("form", { class: "card", "aria-label": "Train a graph" },
    h("h2", {}, "Train a graph"),
    h("label", {}, "Graph", h("select", { name: "graph", required: true }, graphs.map((g) => h("option", { value: g.id }, g.name)))),
    h("label", {}, "Dataset", datasetSelect),
    columns,
    h("label", {}, "Epochs", h("input", { type: "number", name: "epochs", value: 20, min: 1, max: 10000 })),
    h("label", {}, "Loss", h("input", { name: "loss", value: "mse" })),
    h("label", {}, "Metrics (comma-separated)", h("input", { name: "metrics", value: "mae" })),
    h("button", { type: "submit" }, "Train"));
  onSubmit(form, async (data) => {
    const body = {
      dataset_id: data.get("dataset_id"),
      x_columns: data.getAll("x_columns"),
      y_column: data.get("y_column"),
      epochs: Number(data.get("epochs")),
      loss: data.get("loss"),
      metrics: data.get("metrics").split(",").map((m) => m.trim()).filter(Boolean),
    };
    const job = await post(`/networks/graphs/${data.get("graph")}/train`, body);
    location.hash = `#/training/${job.id}`;
  });
  return form;
}

const IMPORT_ENDED = ["succeeded", "failed", "cancelled"];

function importForm(again) {
  const bar = progressBar("model upload");
  bar.hidden = true;
  const outcome = h("p", { id: "import-outcome", role: "status" });
  const form = h("form", { class: "card", id: "import", "aria-label": "Import a Keras model" },
    h("h2", {}, "Import a Keras model"),
    h("p", { class: "muted" }, "A .keras or .h5 file (or a .zip holding one) becomes a graph to train."),
    h("label", {}, "Model file", h("input", { type: "file", name: "model", accept: ".keras,.h5,.zip", required: true })),
    h("label", {}, "Graph name", h("input", { name: "graph_name", placeholder: "(the model's own)" })),
    h("button", { type: "submit" }, "Import"),
    bar, outcome);
  onSubmit(form, async (data) => {
    const file = data.get("model");
    const body = { filename: file.name, bytes: file.size, create_graph: true };
    if (data.get("graph_name")) body.graph_name = data.get("graph_name");
    const created = await post("/networks/import-jobs", body);
    bar.hidden = false;
    await postFile(created.upload, file, (sent, total) => bar.set(sent / total, `${Math.round((100 * sent) / total)}% sent`));
    fill(outcome, "importing…");
    // Followed as every page follows a run: the poll stops if the user leaves the page,
    // and an import that failed is its error in the form.
    poll(async () => {
      const job = await get(`/networks/import-jobs/${created.job.id}`);
      if (!IMPORT_ENDED.includes(job.status)) return false;
      if (job.status !== "succeeded") {
        throw new Error(`the import ${job.status}: ${job.error?.message || ""} (${job.error?.code || job.status})`);
      }
      await again(); // the graph listed
      const shown = document.getElementById("import-outcome");
      if (shown) fill(shown, `imported ${file.name}: ${number(job.parameter_count)} parameters, graph "${job.graph_payload.name}"`);
      return true;
    }, form, 500);
  });
  return form;
}

export async function networksPage(main) {
  const [graphs, jobs, datasets] = await Promise.all([
    get("/networks/graphs?limit=100"),
    get("/networks/training-jobs?limit=50"),
    get("/datasets?limit=100"),
  ]);
  const graphRows = graphs.items.map((g) =>
    h("tr", {}, h("td", {}, g.name), h("td", {}, g.framework), h("td", { class: "num" }, g.nodes.length), h("td", { class: "num" }, g.edges.length), h("td", {}, when(g.updated_at))));
  const graphName = Object.fromEntries(graphs.items.map((g) => [g.id, g.name]));
  const jobRows = jobs.items.map((j) =>
    h("tr", {}, h("td", {}, h("a", { href: `#/training/${j.id}` }, j.id.slice(0, 8))), h("td", {}, graphName[j.graph_id] || j.graph_id.slice(0, 8)),
      h("td", {}, badge(j.status)), h("td", { class: "num" }, `${Math.round(j.progress * 100)}%`), h("td", {}, when(j.created_at))));
  fill(main, h("h1", {}, "Networks"),
    h("h2", {}, "Graphs"),
    graphRows.length ? table(["Graph", "Framework", "Nodes", "Edges", "Updated"], graphRows, { id: "graph-list" }) : h("p", { class: "muted" }, "No graphs yet: import a model below (or POST /networks/graphs)."),
    importForm(() => networksPage(main)),
    h("h2", {}, "Training jobs"),
    jobRows.length ? table(["Job", "Graph", "Status", "Progress", "Created"], jobRows, { id: "job-list" }) : h("p", { class: "muted" }, "No training jobs yet."),
    graphs.items.length ? trainForm(graphs.items, datasets.items.filter((d) => d.status === "ready")) : null);
}

// The learning rate is a schedule, not a measure of fit: on the loss's axis it is a flat
// line at zero, so it is said in words instead.
const NOT_DRAWN = ["learning_rate", "lr"];

/** The history so far, with the live epoch's values added while it is not in it yet. */
function series(job) {
  const history = Object.fromEntries(Object.entries(job.history).filter(([name]) => !NOT_DRAWN.includes(name)));
  const done = Math.max(0, ...Object.values(history).map((values) => values.length));
  if (job.epoch && typeof job.epoch.epoch === "number" && job.epoch.epoch > done) {
    for (const [name, value] of Object.entries(job.epoch)) {
      if (name !== "epoch" && !NOT_DRAWN.includes(name) && typeof value === "number") history[name] = [...(history[name] || []), value];
    }
  }
  return history;
}

export async function trainingJobPage(main, id) {
  const bar = progressBar("training progress");
  const state = h("p", { id: "job-status" });
  const chart = h("div", { id: "curves" });
  const evaluation = h("section", { id: "evaluation" });
  fill(main, h("h1", {}, `Training job ${id.slice(0, 8)}`), bar, state, chart, evaluation);
  let drawnEpochs = -1;
  poll(async () => {
    const job = await get(`/networks/training-jobs/${id}`);
    bar.set(job.progress, `${Math.round(job.progress * 100)}% ${job.status}`);
    const history = series(job);
    const epochs = Math.max(0, ...Object.values(history).map((values) => values.length));
    const rate = job.history.learning_rate?.at(-1) ?? job.epoch?.learning_rate;
    fill(state, badge(job.status), ` ${epochs} of ${job.params.epochs} epochs`,
      typeof rate === "number" ? ` · learning rate ${Number(rate.toPrecision(3))}` : "",
      job.rows ? ` · rows: ${Object.entries(job.rows).map(([k, v]) => `${k} ${number(v)}`).join(", ")}` : "");
    if (epochs !== drawnEpochs && epochs > 0) {
      drawnEpochs = epochs;
      fill(chart);
      curves(chart, "training curves", history);
    }
    if (OPEN.includes(job.status)) return false;
    if (job.error) state.append(" ", h("span", { class: "error", role: "alert" }, job.error.message));
    if (job.evaluation) {
      fill(evaluation, h("h2", {}, "Evaluation on the test split"),
        table(["metric", "value"], Object.entries(job.evaluation).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", { class: "num" }, v === null ? "" : Number(v.toPrecision(6)))))));
    }
    return true;
  }, main, 1000);
}
