// Tasks: start an aggregation (group-by columns, aggregations column:op) on a ready
// dataset, list the tasks, and follow one to its result files.

import { get, post } from "../api.js";
import { badge, bytes, fill, h, number, onSubmit, poll, progressBar, table, when } from "../ui.js";

const OPS = ["sum", "count", "mean", "min", "max", "count_distinct"];

function aggregationRow(columns, index) {
  return h(
    "div",
    { class: "agg-row" },
    h("select", { name: `agg-column-${index}`, "aria-label": `aggregation ${index + 1} column` },
      h("option", { value: "*" }, "* (rows)"), columns.map((c) => h("option", { value: c.name }, c.name))),
    h("select", { name: `agg-op-${index}`, "aria-label": `aggregation ${index + 1} operation` }, OPS.map((op) => h("option", { value: op }, op))),
    h("input", { name: `agg-name-${index}`, placeholder: "output name (optional)", "aria-label": `aggregation ${index + 1} name` }),
  );
}

function columnsPart(dataset) {
  let count = 0;
  const aggregations = h("div", { class: "aggs" }, aggregationRow(dataset.columns, count++));
  const more = h("button", { type: "button", class: "secondary", onclick: () => aggregations.append(aggregationRow(dataset.columns, count++)) }, "Add an aggregation");
  return h(
    "div",
    {},
    h("fieldset", {}, h("legend", {}, "Group by"),
      dataset.columns.map((c) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "group_by", value: c.name }), ` ${c.name}`))),
    h("fieldset", {}, h("legend", {}, "Aggregations"), aggregations, more),
  );
}

function taskBody(data) {
  const aggregations = [];
  for (const [key, column] of data.entries()) {
    const index = /^agg-column-(\d+)$/.exec(key)?.[1];
    if (index === undefined) continue;
    const aggregation = { column, op: data.get(`agg-op-${index}`) };
    const name = data.get(`agg-name-${index}`).trim();
    if (name) aggregation.name = name;
    aggregations.push(aggregation);
  }
  return { group_by: data.getAll("group_by"), aggregations, output: { format: data.get("format") } };
}

async function startForm(preselected) {
  const listed = await get("/datasets?limit=100");
  const ready = listed.items.filter((d) => d.status === "ready");
  const select = h("select", { name: "dataset", required: true, "aria-label": "dataset" },
    h("option", { value: "" }, "choose a dataset"),
    ready.map((d) => h("option", { value: d.id, selected: d.id === preselected }, `${d.path ? `${d.path}/` : ""}${d.name}`)));
  const columns = h("div", { id: "task-columns" });
  const form = h(
    "form",
    { class: "card", "aria-label": "Start a task" },
    h("h2", {}, "Start an aggregation"),
    h("label", {}, "Dataset", select),
    columns,
    h("label", {}, "Format", h("select", { name: "format" }, h("option", { value: "csv" }, "csv"), h("option", { value: "parquet" }, "parquet"))),
    h("button", { type: "submit" }, "Start"),
  );
  const chosen = async () => {
    fill(columns);
    if (select.value) fill(columns, columnsPart(await get(`/datasets/${select.value}`)));
  };
  select.addEventListener("change", chosen);
  if (preselected) await chosen();
  onSubmit(form, async (data) => {
    const task = await post(`/datasets/${data.get("dataset")}/tasks`, taskBody(data));
    location.hash = `#/tasks/${task.id}`;
  });
  return form;
}

export async function tasksPage(main, preselected) {
  const [form, tasks] = await Promise.all([startForm(preselected), get("/tasks?limit=50")]);
  const rows = tasks.items.map((task) =>
    h("tr", {},
      h("td", {}, h("a", { href: `#/tasks/${task.id}` }, task.id.slice(0, 8))),
      h("td", {}, h("a", { href: `#/datasets/${task.dataset_id}` }, task.dataset_id.slice(0, 8))),
      h("td", {}, badge(task.status)),
      h("td", { class: "num" }, `${Math.round(task.progress * 100)}%`),
      h("td", {}, when(task.created_at))));
  fill(main, h("h1", {}, "Tasks"), form, h("h2", {}, "Recent tasks"),
    rows.length ? table(["Task", "Dataset", "Status", "Progress", "Created"], rows, { id: "task-list" }) : h("p", { class: "muted" }, "No tasks yet."));
}

function describeSpec(spec) {
  const aggs = spec.aggregations.map((a) => `${a.op}(${a.column})${a.name ? ` as ${a.name}` : ""}`).join(", ");
  return `${aggs}${spec.group_by.length ? ` by ${spec.group_by.join(", ")}` : ""}`;
}

export async function taskPage(main, id) {
  const bar = progressBar("task progress");
  const state = h("p", { id: "task-status" });
  const result = h("section", { id: "result" });
  const task = await get(`/tasks/${id}`);
  fill(main, h("h1", {}, `Task ${id.slice(0, 8)}`),
    h("p", {}, describeSpec(task.spec), " on ", h("a", { href: `#/datasets/${task.dataset_id}` }, "its dataset")),
    bar, state, result);
  poll(async () => {
    const now = await get(`/tasks/${id}`);
    bar.set(now.progress, `${Math.round(now.progress * 100)}% ${now.status}`);
    fill(state, badge(now.status), now.timings?.total_s ? ` in ${now.timings.total_s.toFixed(1)} s` : "");
    if (now.status === "failed" || now.status === "cancelled") {
      state.append(" ", h("span", { class: "error", role: "alert" }, now.error ? now.error.message : now.status));
      return true;
    }
    if (now.status !== "succeeded") return false;
    const answer = await get(`/tasks/${id}/result`);
    const files = answer.output_files.map((file) =>
      h("tr", {}, h("td", {}, h("a", { href: file.url, download: file.name }, file.name)), h("td", { class: "num" }, number(file.rows)), h("td", { class: "num" }, bytes(file.bytes))));
    const count = answer.output_files.length;
    fill(result, h("h2", {}, `Result: ${number(answer.rows)} rows in ${count} file${count === 1 ? "" : "s"}`),
      table(["File", "Rows", "Size"], files, { id: "files" }));
    return true;
  }, main);
}
