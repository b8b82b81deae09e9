// The console's router: one page per hash route (#/datasets, #/datasets/ID, ...), the
// sign-in page while no one is signed in, and an error box rather than a blank page.

import { tokens, userName } from "./api.js";
import { errorBox, fill, h, pageShown } from "./ui.js";
import { datasetPage } from "./pages/dataset.js";
import { datasetsPage } from "./pages/datasets.js";
import { networksPage, trainingJobPage } from "./pages/networks.js";
import { sessionPage, sessionsPage } from "./pages/sessions.js";
import { signInPage } from "./pages/signin.js";
import { taskPage, tasksPage } from "./pages/tasks.js";
import { uploadPage } from "./pages/upload.js";

// [pattern, page]: a page is called with the main element and the pattern's groups.
const ROUTES = [
  [/^#\/signin$/, signInPage],
  [/^#\/datasets$/, datasetsPage],
  [/^#\/datasets\/([0-9a-f]+)$/, datasetPage],
  [/^#\/upload$/, uploadPage],
  [/^#\/tasks(?:\?dataset=([0-9a-f]+))?$/, tasksPage],
  [/^#\/tasks\/([0-9a-f]+)$/, taskPage],
  [/^#\/sessions$/, sessionsPage],
  [/^#\/sessions\/([0-9a-f]+)$/, sessionPage],
  [/^#\/networks$/, networksPage],
  [/^#\/training\/([0-9a-f]+)$/, trainingJobPage],
];

const main = document.getElementById("main");

function header() {
  const signedIn = Boolean(tokens.get());
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("sign-out").hidden = !signedIn;
  document.getElementById("who").textContent = signedIn ? `signed in as ${userName()}` : "";
  for (const link of document.querySelectorAll("#nav a")) {
    const current = location.hash.startsWith(link.getAttribute("href"));
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function show() {
  pageShown();
  const hash = location.hash || "#/datasets";
  if (!tokens.get() && hash !== "#/signin") {
    sessionStorage.setItem("sluice.after-signin", hash);
    location.hash = "#/signin";
    return;
  }
  header();
  const found = ROUTES.map(([pattern, page]) => [pattern.exec(hash), page]).find(([match]) => match);
  if (!found) {
    fill(main, h("h1", {}, "Not found"), errorBox(`no page ${hash}`), h("a", { href: "#/datasets" }, "Datasets"));
    return;
  }
  const [match, page] = found;
  // Each page draws into a view of its own: one the user has left while it was still
  // loading goes on drawing into a view no longer in the document, never over the next.
  const view = h("div", { class: "view" }, h("p", { class: "muted" }, "Loading..."));
  fill(main, view);
  try {
    await page(view, ...match.slice(1));
  } catch (error) {
    // An API refusal or a bug: the page says what went wrong, it never stays blank.
    fill(view, h("h1", {}, "Something went wrong"), errorBox(error));
  }
}

document.getElementById("sign-out").addEventListener("click", () => {
  tokens.clear();
  location.hash = "#/signin";
});
window.addEventListener("hashchange", show);
window.addEventListener("unhandledrejection", (event) => (main.firstElementChild || main).prepend(errorBox(event.reason)));
show();
