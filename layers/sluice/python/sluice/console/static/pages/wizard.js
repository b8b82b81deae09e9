// A form built from an operation's wizard (GET /operations): one field per input, by its
// type, and the values read back as the operation's input_data.

import { get } from "../api.js";
import { fill, h } from "../ui.js";

function label(name, input, field) {
  const required = input.required ? h("span", { class: "required", title: "required" }, " *") : null;
  return h("label", { class: "wizard-field", "data-input": name }, h("span", {}, input.name), required, field, h("small", { class: "muted" }, input.description));
}

function datasetOptions(datasets, selected) {
  return datasets.map((d) => h("option", { value: d.id, selected: selected.includes(d.id) }, `${d.path ? `${d.path}/` : ""}${d.name}`));
}

// Column fields follow the dataset input they are "of": its columns, of the allowed types.
async function columnsOf(datasetId, input) {
  if (!datasetId) return [];
  const dataset = await get(`/datasets/${datasetId}`);
  return (dataset.columns || []).filter((c) => !input.column_types || input.column_types.includes(c.effective_type));
}

function columnField(name, input, columns) {
  if (input.type === "column") {
    return h("select", { name, required: input.required },
      input.required ? null : h("option", { value: "" }, "(none)"),
      columns.map((c) => h("option", { value: c.name, selected: input.default === c.name }, `${c.name} (${c.effective_type})`)));
  }
  const chosen = Array.isArray(input.default) ? input.default : [];
  return h("div", { class: "checks" }, columns.map((c) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name, value: c.name, checked: chosen.includes(c.name) }), ` ${c.name}`)));
}

function plainField(name, input, datasets, sessionDatasets) {
  const value = input.default ?? "";
  switch (input.type) {
    case "dataset":
      return h("select", { name, required: input.required }, h("option", { value: "" }, "choose a dataset"), datasetOptions(datasets, sessionDatasets.slice(0, 1)));
    case "datasets":
      return h("select", { name, multiple: true, size: 4 }, datasetOptions(datasets, sessionDatasets));
    case "select":
      return h("select", { name }, (input.options || []).map((option) => h("option", { value: option, selected: option === value }, option)));
    case "bool":
      return h("input", { type: "checkbox", name, checked: Boolean(input.default) });
    case "int":
    case "float":
      return h("input", { type: "number", name, value, step: input.type === "int" ? 1 : "any", min: input.minimum ?? undefined, max: input.maximum ?? undefined, required: input.required });
    case "filter":
    case "aggregations":
      // Lists of objects (the tasks' predicates and aggregations): JSON, as the API takes it.
      return h("textarea", { name, rows: 3, placeholder: input.type === "filter" ? '[{"column": "a", "op": ">", "value": 1}]' : '[{"column": "a", "op": "sum"}]' }, JSON.stringify(input.default ?? []));
    default:
      return h("input", { name, value, required: input.required });
  }
}

/** The fields of ``wizard`` in ``holder`` (inside a form); resolves with a function that
 * reads the operation's input_data from the form's FormData. */
export async function wizardFields(holder, wizard, datasets, sessionDatasets) {
  const form = holder;
  const entries = Object.entries(wizard.inputs);
  const holders = {};
  for (const [name, input] of entries) {
    if (["column", "columns"].includes(input.type)) {
      holders[name] = h("div", { class: "columns-holder" }, h("span", { class: "muted" }, "choose the dataset first"));
      form.append(label(name, input, holders[name]));
    } else {
      form.append(label(name, input, plainField(name, input, datasets, sessionDatasets)));
    }
  }
  // Refill a column field whenever the dataset it is of changes.
  for (const [name, input] of entries) {
    if (!holders[name]) continue;
    const source = form.querySelector(`[name="${input.of}"]`);
    const refresh = async () => fill(holders[name], columnField(name, input, await columnsOf(source?.value, input)));
    source?.addEventListener("change", refresh);
    await refresh();
  }
  return (data) => {
    const values = {};
    for (const [name, input] of entries) {
      const raw = data.get(name);
      if (input.type === "dataset") {
        if (raw) values[name] = { type: "dataset", id: raw };
      } else if (input.type === "datasets") {
        values[name] = data.getAll(name).map((id) => ({ type: "dataset", id }));
      } else if (input.type === "columns") {
        values[name] = data.getAll(name);
      } else if (input.type === "bool") {
        values[name] = raw !== null;
      } else if (input.type === "int" || input.type === "float") {
        if (raw !== "" && raw !== null) values[name] = Number(raw);
      } else if (input.type === "filter" || input.type === "aggregations") {
        try {
          values[name] = JSON.parse(raw || "[]");
        } catch {
          throw new Error(`${input.name}: not JSON`);
        }
      } else if (raw !== "" && raw !== null) {
        values[name] = raw;
      }
    }
    return values;
  };
}
