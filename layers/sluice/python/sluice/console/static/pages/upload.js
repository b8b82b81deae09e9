// Upload: drop a CSV (or pick one), name it and its folder, watch the bytes go to S3,
// then the ingest's progress until the dataset is ready, or the reason it failed.

import { get } from "../api.js";
import { uploadFile } from "../upload.js";
import { DECIMALS, DELIMITERS, choice } from "./file_options.js";
import { badge, bytes, fill, h, onSubmit, poll, progressBar } from "../ui.js";

function watchIngest(datasetId, status) {
  const bar = progressBar("ingest progress");
  const line = h("p", { class: "ingest-status" });
  fill(status, h("h2", {}, "Ingest"), bar, line);
  poll(async () => {
    const dataset = await get(`/datasets/${datasetId}`);
    bar.set(dataset.progress, `${Math.round(dataset.progress * 100)}% ${dataset.status}`);
    fill(line, badge(dataset.status));
    if (dataset.status === "ready") {
      line.append(" ", h("a", { href: `#/datasets/${datasetId}` }, `${dataset.name}: ${dataset.row_count} rows, ${dataset.column_count} columns`));
      return true;
    }
    if (dataset.status === "failed") {
      line.append(" ", h("span", { class: "error", role: "alert" }, dataset.error ? dataset.error.message : "the ingest failed"));
      return true;
    }
    return false;
  }, status);
}

export async function uploadPage(main) {
  let chosen = null;
  const fileInput = h("input", { type: "file", name: "file", accept: ".csv,.tsv,.txt,.gz,.bz2,.zst,.zip,text/csv" });
  const picked = h("span", { class: "picked muted" }, "no file yet");
  const nameInput = h("input", { name: "name", required: true });
  const choose = (file) => {
    chosen = file;
    picked.textContent = `${file.name} (${bytes(file.size)})`;
    if (!nameInput.value) nameInput.value = file.name.replace(/\.[^.]*$/, "");
  };
  const zone = h(
    "div",
    { class: "dropzone", id: "dropzone", tabindex: 0 },
    h("p", {}, "Drop a CSV file here, or ", h("label", { class: "link" }, "choose one", fileInput)),
    picked,
  );
  fileInput.addEventListener("change", () => fileInput.files[0] && choose(fileInput.files[0]));
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files[0]) choose(event.dataTransfer.files[0]);
  });

  const sent = progressBar("upload progress");
  const status = h("div", { id: "ingest" });
  const form = h(
    "form",
    { class: "card", "aria-label": "Upload a CSV" },
    zone,
    h("label", {}, "Name", nameInput),
    h("label", {}, "Folder", h("input", { name: "path", placeholder: "sales/2024" })),
    h("label", {}, "Missing values (comma-separated, optional)", h("input", { name: "na_values", placeholder: "NA, -" })),
    h("details", { class: "file-options" },
      h("summary", {}, "File options (detected when left as they are)"),
      choice("delimiter", "Delimiter", DELIMITERS),
      choice("decimal", "Decimal mark", DECIMALS),
      h("label", {}, "Encoding", h("input", { name: "encoding", placeholder: "UTF-8 (or cp1252, latin-1, utf-16-le ...)" }))),
    h("button", { type: "submit" }, "Upload"),
    h("div", { class: "sent" }, sent),
  );
  onSubmit(form, async (data) => {
    if (!chosen) throw new Error("choose or drop a file first");
    const settings = { name: data.get("name"), path: data.get("path") || "" };
    const na = data.get("na_values").split(",").map((v) => v.trim()).filter(Boolean);
    if (na.length) settings.na_values = na;
    for (const name of ["delimiter", "decimal", "encoding"]) {
      const value = name === "encoding" ? data.get(name).trim() : data.get(name);
      if (value) settings[name] = value;
    }
    sent.set(0, "starting");
    const id = await uploadFile(chosen, settings, (done, total) => sent.set(done / total, `${bytes(done)} of ${bytes(total)}`));
    sent.set(1, `uploaded ${bytes(chosen.size)}`);
    watchIngest(id, status);
  });
  fill(main, h("h1", {}, "Upload a CSV"), form, status);
}
