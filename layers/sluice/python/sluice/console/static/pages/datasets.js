// The folder tree of datasets (GET /datasets/tree): folders open and close, each dataset
// links to its page with its status, rows and columns.

import { get } from "../api.js";
import { badge, fill, h, number } from "../ui.js";

const DEPTH = 32;

function datasetItem(node) {
  return h(
    "li",
    { class: "dataset" },
    h("a", { href: `#/datasets/${node.id}` }, node.name),
    " ",
    badge(node.status),
    node.row_count !== null && node.row_count !== undefined ? h("span", { class: "muted" }, ` ${number(node.row_count)} rows`) : null,
    node.columns ? h("span", { class: "muted small" }, ` · ${node.columns.map((c) => `${c.name}: ${c.type}`).join(", ")}`) : null,
  );
}

function folderItem(node) {
  const count = `${node.dataset_count} dataset${node.dataset_count === 1 ? "" : "s"}`;
  return h(
    "li",
    { class: "folder" },
    h("details", { open: true }, h("summary", {}, `${node.name || "/"}/`, h("span", { class: "muted" }, ` ${count}`)), children(node)),
  );
}

function children(node) {
  const items = (node.children || []).map((child) => (child.kind === "folder" ? folderItem(child) : datasetItem(child)));
  return h("ul", { class: "tree" }, items);
}

export async function datasetsPage(main) {
  const tree = await get(`/datasets/tree?depth=${DEPTH}`);
  const empty = !tree.children || tree.children.length === 0;
  fill(
    main,
    h("div", { class: "page-head" }, h("h1", {}, "Datasets"), h("a", { class: "button", href: "#/upload" }, "Upload a CSV")),
    empty ? h("p", { class: "muted" }, "No datasets yet: upload a CSV.") : h("div", { class: "card", id: "tree" }, children(tree)),
  );
}
