// One dataset: its state, its columns (inferred and effective types, nulls, notes) with
// preferred types to edit, a chart per column, its first rows with the values that
// failed their type highlighted, a card to read its file again with other settings (the
// CSV dialect, the encoding, missing values), and a card to rename, move or delete it.

import { ApiError, del, get, patch, post, put, seg } from "../api.js";
import { histogram, topValues } from "../charts.js";
import { DECIMALS, DELIMITERS, choice } from "./file_options.js";
import { badge, bytes, errorBox, fill, h, number, onSubmit, poll, progressBar, showError, table, when } from "../ui.js";

const TYPES = ["bool", "int8", "int16", "int32", "int64", "float32", "float64", "datetime", "timedelta", "category", "string"];
const ROWS = 50;

function summary(dataset) {
  return h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Status"), h("dd", { id: "status" }, badge(dataset.status)),
    h("dt", {}, "Folder"), h("dd", {}, `${dataset.path || ""}/`),
    h("dt", {}, "Rows"), h("dd", { id: "row-count" }, number(dataset.row_count)),
    h("dt", {}, "Columns"), h("dd", {}, number(dataset.column_count)),
    h("dt", {}, "Exceptions"), h("dd", {}, number(dataset.exception_count)),
    h("dt", {}, "Size"), h("dd", {}, bytes(dataset.size_bytes)),
    h("dt", {}, "Updated"), h("dd", {}, when(dataset.updated_at)),
  );
}

function typeChoice(column) {
  const select = h("select", { name: column.name, "aria-label": `preferred type of ${column.name}` },
    h("option", { value: "" }, "(inferred)"),
    TYPES.map((type) => h("option", { value: type, selected: column.preferred_type === type }, type)));
  return select;
}

function columnsForm(dataset, after) {
  const rows = dataset.columns.map((column) =>
    h(
      "tr",
      { "data-column": column.name },
      h("th", { scope: "row" }, column.name),
      h("td", { class: "inferred" }, column.inferred_type),
      h("td", { class: "effective" }, column.effective_type),
      h("td", {}, typeChoice(column)),
      h("td", { class: "num" }, number(column.null_count)),
      h("td", { class: "notes" }, (column.notes || []).join("; ")),
    ));
  const form = h(
    "form",
    { class: "card", id: "columns", "aria-label": "Columns" },
    table(["Column", "Inferred", "Effective", "Preferred", "Nulls", "Notes"], rows),
    h("button", { type: "submit" }, "Save preferred types"),
  );
  onSubmit(form, async (data) => {
    const types = {};
    for (const column of dataset.columns) {
      const chosen = data.get(column.name) || null;
      if (chosen !== (column.preferred_type || null)) types[column.name] = chosen;
    }
    if (Object.keys(types).length === 0) throw new Error("no preferred type changed");
    await put(`/datasets/${dataset.id}/preferred-types`, { types });
    after();
  });
  return form;
}

function reinferCard(dataset, after) {
  // The file stays the dataset's: it is read again with these settings (a file that
  // failed as not UTF-8, say, with its encoding declared).
  const settings = dataset.settings || {};
  const form = h(
    "form",
    { class: "card", id: "reinfer", "aria-label": "Read the file again" },
    h("h2", {}, "Read the file again"),
    choice("delimiter", "Delimiter", DELIMITERS, settings.delimiter),
    choice("decimal", "Decimal mark", DECIMALS, settings.decimal),
    h("label", {}, "Encoding", h("input", { name: "encoding", value: settings.encoding || "", placeholder: "UTF-8 (or cp1252, latin-1, utf-16-le ...)" })),
    h("label", {}, "Missing values (comma-separated)", h("input", { name: "na_values", value: (settings.na_values || []).join(", "), placeholder: "the defaults" })),
    h("button", { type: "submit" }, "Read again"),
  );
  onSubmit(form, async (data) => {
    const change = {
      delimiter: data.get("delimiter") || null,
      decimal: data.get("decimal") || null,
      encoding: data.get("encoding").trim() || null,
    };
    const na = data.get("na_values").split(",").map((v) => v.trim()).filter(Boolean);
    if (na.length) change.na_values = na;
    await post(`/datasets/${dataset.id}/inference`, { command: "start", settings: change });
    after();
  });
  return form;
}

function manageCard(dataset, after) {
  // Delete asks twice on the page itself: the first button shows the second.
  const confirmDelete = h("button", { type: "button", class: "danger", hidden: true }, `Delete ${dataset.name} for good`);
  const askDelete = h("button", { type: "button", class: "secondary" }, "Delete dataset…");
  const form = h(
    "form",
    { class: "card", id: "manage", "aria-label": "Rename, move or delete" },
    h("h2", {}, "Rename, move or delete"),
    h("label", {}, "Name", h("input", { name: "name", value: dataset.name, required: true, maxlength: 200 })),
    h("label", {}, "Folder", h("input", { name: "path", value: dataset.path || "", placeholder: "sales/2024 (empty: the top)" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save name and folder"), askDelete, confirmDelete),
  );
  onSubmit(form, async (data) => {
    await patch(`/datasets/${dataset.id}`, { name: data.get("name"), path: data.get("path") });
    after();
  });
  askDelete.addEventListener("click", () => {
    askDelete.hidden = true;
    confirmDelete.hidden = false;
  });
  confirmDelete.addEventListener("click", async () => {
    confirmDelete.disabled = true;
    try {
      await del(`/datasets/${dataset.id}`);
      location.hash = "#/datasets";
    } catch (error) {
      confirmDelete.disabled = false;
      showError(form, error);
    }
  });
  return form;
}

async function charts(dataset, section) {
  // GET .../profile of every column at once; a column whose profile fails is left out,
  // and with no profile at all (an API without the route) the section stays hidden.
  const profiles = await Promise.all(
    dataset.columns.map((column) => get(`/datasets/${dataset.id}/columns/${seg(column.name)}/profile`).catch(() => null)),
  );
  const drawn = profiles.filter(Boolean);
  if (drawn.length === 0) return;
  section.hidden = false;
  for (const profile of drawn) {
    const card = h("figure", { class: "card chart-card", "data-column": profile.column },
      h("figcaption", {}, h("strong", {}, profile.column), ` ${profile.type}`,
        h("span", { class: "muted" }, ` · ${number(profile.nulls)} nulls${profile.sampled ? " · sampled" : ""}`)));
    section.append(card);
    if (profile.histogram) histogram(card, profile.column, profile.histogram.edges, profile.histogram.counts);
    else if (profile.top_values) topValues(card, profile.column, profile.top_values);
    else card.append(h("p", { class: "muted" }, "no chart for this type"));
  }
}

function cell(row, name) {
  const raw = row._exceptions && Object.hasOwn(row._exceptions, name) ? row._exceptions[name] : undefined;
  if (raw !== undefined) {
    // The value failed the column's type: null in the data, its text kept aside.
    return h("td", { class: "exception", title: `not a valid value of this column's type: ${raw}` }, raw);
  }
  const value = row[name];
  return h("td", { class: value === null ? "null" : "" }, value === null ? "null" : String(value));
}

async function rows(dataset, section) {
  const page = await get(`/datasets/${dataset.id}/rows?num_rows=${ROWS}`);
  const names = page.columns.filter((name) => name !== "_exceptions");
  fill(
    section,
    h("h2", {}, `First rows (${page.num_rows} of ${number(page.row_count)})`),
    h("div", { class: "grid-wrap" }, table(names, page.rows.map((row) => h("tr", {}, names.map((name) => cell(row, name)))), { id: "rows", class: "grid" })),
  );
}

export async function datasetPage(main, id) {
  const dataset = await get(`/datasets/${id}`);
  const again = () => datasetPage(main, id);
  fill(
    main,
    h("div", { class: "page-head" },
      h("h1", {}, dataset.name),
      dataset.status === "ready" ? h("a", { class: "button", href: `#/tasks?dataset=${id}` }, "Start a task") : null),
    dataset.description ? h("p", {}, dataset.description) : null,
    summary(dataset),
    manageCard(dataset, again),
  );
  if (dataset.status === "failed") {
    main.append(errorBox(new ApiError(0, dataset.error?.code, `the ingest failed: ${dataset.error?.message}`)));
  }
  if (["ready", "failed", "stopped"].includes(dataset.status)) main.append(reinferCard(dataset, again));
  if (!["ready", "failed"].includes(dataset.status)) {
    // Inferring or re-converting: follow it, then show the page again.
    const bar = progressBar("ingest progress");
    main.append(bar);
    poll(async () => {
      const now = await get(`/datasets/${id}`);
      bar.set(now.progress, `${Math.round(now.progress * 100)}% ${now.status}`);
      if (["ready", "failed"].includes(now.status)) {
        await again();
        return true;
      }
      return false;
    }, main);
  }
  if (!dataset.columns || dataset.status !== "ready") return;
  const chartSection = h("section", { id: "charts", class: "charts", hidden: true }, h("h2", {}, "Columns at a glance"));
  const rowSection = h("section", { id: "rows-section" });
  main.append(h("h2", {}, "Columns"), columnsForm(dataset, again), chartSection, rowSection);
  await Promise.all([charts(dataset, chartSection), rows(dataset, rowSection).catch((error) => rowSection.append(errorBox(error)))]);
}
