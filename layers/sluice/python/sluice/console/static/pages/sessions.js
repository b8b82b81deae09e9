// Data sessions: list and create them; in one, add operations through forms built from
// their wizards, and see each operation's outputs (datasets, or data drawn as charts).

import { get, post } from "../api.js";
import { histogram, topValues } from "../charts.js";
import { badge, fill, h, number, onSubmit, poll, progressBar, table, when } from "../ui.js";
import { wizardFields } from "./wizard.js";

const OPEN = ["PENDING", "IN_PROGRESS"];

async function readyDatasets() {
  const listed = await get("/datasets?limit=100");
  return listed.items.filter((d) => d.status === "ready");
}

export async function sessionsPage(main) {
  const [sessions, datasets] = await Promise.all([get("/sessions?limit=50"), readyDatasets()]);
  const form = h(
    "form",
    { class: "card", "aria-label": "New session" },
    h("h2", {}, "New session"),
    h("label", {}, "Name", h("input", { name: "name", required: true })),
    h("label", {}, "Datasets", h("select", { name: "datasets", multiple: true, size: 5 },
      datasets.map((d) => h("option", { value: d.id }, `${d.path ? `${d.path}/` : ""}${d.name}`)))),
    h("button", { type: "submit" }, "Create"),
  );
  onSubmit(form, async (data) => {
    const input_data = data.getAll("datasets").map((id) => ({ type: "dataset", id }));
    const session = await post("/sessions", { name: data.get("name"), input_data });
    location.hash = `#/sessions/${session.id}`;
  });
  const rows = sessions.items.map((s) =>
    h("tr", {}, h("td", {}, h("a", { href: `#/sessions/${s.id}` }, s.name)), h("td", { class: "num" }, s.input_data.length), h("td", {}, when(s.created_at))));
  fill(main, h("h1", {}, "Sessions"),
    rows.length ? table(["Session", "Inputs", "Created"], rows, { id: "session-list" }) : h("p", { class: "muted" }, "No sessions yet."),
    form);
}

function describeOutput(parent, data) {
  const stats = ["count", "nulls", "min", "max", "mean", "std", "median"];
  const fmt = (v) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v ?? "");
  parent.append(table(["column", "type", ...stats], data.columns.map((c) =>
    h("tr", {}, h("th", { scope: "row" }, c.name), h("td", {}, c.type), stats.map((s) => h("td", { class: "num" }, fmt(c[s])))))));
  for (const column of data.columns.filter((c) => c.top)) topValues(parent, column.name, column.top);
}

/** The output of an operation: links to its datasets, its data as charts where it can. */
function output(parent, operation) {
  for (const id of operation.output.datasets) parent.append(h("p", {}, "Output dataset: ", h("a", { href: `#/datasets/${id}` }, id)));
  const data = operation.output.data;
  if (!data) return;
  if (data.kind === "bins") {
    histogram(parent, data.column, [...data.bins.map((b) => b.start), data.bins.at(-1)?.end], data.bins.map((b) => b.count));
  } else if (data.kind === "counts") {
    topValues(parent, data.column, data.values);
  } else if (operation.name === "describe" && Array.isArray(data.columns)) {
    describeOutput(parent, data);
  } else {
    parent.append(h("pre", { class: "json" }, JSON.stringify(data, null, 2)));
  }
}

/** An operation's inputs in words: datasets by name, lists joined, the rest as JSON. */
function describeInputs(inputData, names) {
  const word = (value) => {
    if (value && value.type === "dataset") return names[value.id] || value.id.slice(0, 8);
    if (Array.isArray(value)) return value.map(word).join(", ");
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  };
  return Object.entries(inputData).map(([name, value]) => `${name}: ${word(value)}`).join(" · ");
}

function operationCard(operation, names) {
  const bar = progressBar(`${operation.name} progress`);
  bar.set(operation.progress, `${Math.round(operation.progress * 100)}% ${operation.status}`);
  const card = h("article", { class: "card operation", "data-operation": operation.id },
    h("h3", {}, operation.name, " ", badge(operation.status), operation.cached ? h("span", { class: "muted" }, " (cached)") : null),
    h("p", { class: "muted small" }, `${when(operation.created_at)} · ${describeInputs(operation.input_data, names)}`),
    OPEN.includes(operation.status) ? bar : null,
    operation.message ? h("p", { class: operation.status === "FAILED" ? "error" : "muted", role: operation.status === "FAILED" ? "alert" : null }, operation.message) : null);
  return card;
}

async function operationsList(sessionId, holder, names) {
  const drawn = new Map(); // an operation's card is drawn again only when it changed
  poll(async () => {
    const page = await get(`/sessions/${sessionId}/operations?limit=50`);
    if (page.items.length === 0) fill(holder, h("p", { class: "muted" }, "No operations yet."));
    else holder.querySelector(":scope > p.muted")?.remove();
    for (const operation of page.items) {
      const key = `${operation.status}:${operation.progress}`;
      if (drawn.get(operation.id) === key) continue;
      drawn.set(operation.id, key);
      const card = operationCard(operation, names);
      const old = holder.querySelector(`[data-operation="${operation.id}"]`);
      if (old) old.replaceWith(card);
      else holder.append(card);
      // The list leaves the outputs' data out; the operation itself has it.
      if (operation.status === "COMPLETED") output(card, await get(`/sessions/${sessionId}/operations/${operation.id}`));
    }
    return !page.items.some((operation) => OPEN.includes(operation.status));
  }, holder);
}

export async function sessionPage(main, id) {
  const [session, catalogue, datasets] = await Promise.all([get(`/sessions/${id}`), get("/operations"), readyDatasets()]);
  const sessionDatasets = session.input_data.filter((item) => item.type === "dataset").map((item) => item.id);
  const operations = h("section", { id: "operations" });
  const chooser = h("select", { name: "operation", "aria-label": "operation" },
    h("option", { value: "" }, "choose an operation"),
    catalogue.items.map((w) => h("option", { value: w.name }, `${w.name} (${w.category})`)));
  const fields = h("div", { class: "wizard" });
  const form = h("form", { class: "card", "aria-label": "Add an operation" }, h("h2", {}, "Add an operation"), h("label", {}, "Operation", chooser), fields);
  let read = null;
  chooser.addEventListener("change", async () => {
    fill(fields);
    read = null;
    const wizard = catalogue.items.find((w) => w.name === chooser.value);
    if (!wizard) return;
    fields.append(h("p", { class: "muted" }, wizard.description));
    read = await wizardFields(fields, wizard, datasets, sessionDatasets);
    fields.append(h("button", { type: "submit" }, "Run"));
  });
  onSubmit(form, async (data) => {
    if (!read) throw new Error("choose an operation first");
    await post(`/sessions/${id}/operations`, { name: chooser.value, input_data: read(data) });
    operationsList(id, operations, names);
  });
  const inputs = sessionDatasets.map((datasetId) => {
    const known = datasets.find((d) => d.id === datasetId);
    return h("li", {}, h("a", { href: `#/datasets/${datasetId}` }, known ? known.name : datasetId));
  });
  const names = Object.fromEntries(datasets.map((d) => [d.id, d.name]));
  fill(main, h("h1", {}, `Session: ${session.name}`),
    h("p", {}, `${number(session.input_data.length)} input${session.input_data.length === 1 ? "" : "s"}`), h("ul", {}, inputs), form, h("h2", {}, "Operations"), operations);
  operationsList(id, operations, names);
}
