// Small DOM helpers shared by the pages: elements, errors, progress, formatting, polling.

/** An element: h("a", {href: "#/x", class: "link"}, "text", child, [more]). Attributes
 * starting with "on" are listeners; null and false children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

/** Replace what ``element`` holds. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** An API error (or any) as the page shows it: a box with the API's own message. */
export function errorBox(error) {
  const status = error && error.status ? ` (HTTP ${error.status})` : "";
  return h("div", { class: "error", role: "alert" }, `${error?.message || error}${status}`);
}

/** Show ``error`` at the top of ``container``, replacing an earlier one. */
export function showError(container, error) {
  container.querySelector(":scope > .error")?.remove();
  container.prepend(errorBox(error));
}

/** Run ``action`` for a form's submit; its error is shown in the form, never lost. */
export function onSubmit(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    form.querySelector(":scope > .error")?.remove();
    if (button) button.disabled = true;
    try {
      await action(new FormData(form));
    } catch (error) {
      showError(form, error);
    } finally {
      if (button) button.disabled = false;
    }
  });
  return form;
}

/** A labelled progress bar; ``set(fraction, text)`` moves it. */
export function progressBar(label) {
  const bar = h("progress", { max: 1, value: 0, "aria-label": label });
  const text = h("span", { class: "progress-text" });
  const element = h("div", { class: "progress" }, bar, text);
  element.set = (fraction, words) => {
    bar.value = Math.max(0, Math.min(1, fraction));
    text.textContent = words ?? `${Math.round(bar.value * 100)}%`;
  };
  return element;
}

export function badge(status) {
  return h("span", { class: `badge status-${String(status).toLowerCase()}` }, status);
}

export function bytes(count) {
  if (count === null || count === undefined) return "";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = count;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

export function number(value) {
  return value === null || value === undefined ? "" : Number(value).toLocaleString("en");
}

export function when(iso) {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z?$/, "").replace(/Z$/, "") : "";
}

export function table(headers, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, rows),
  );
}

// Each page shown gets a number; a poll started by an earlier page stops by itself.
let shown = 0;
export function pageShown() {
  shown += 1;
}

/** Call ``probe`` every ``intervalMs`` until it returns true, throws (shown in
 * ``container``) or the user leaves the page. */
export function poll(probe, container, intervalMs = 700) {
  const mine = shown;
  const tick = async () => {
    if (mine !== shown) return;
    try {
      if (await probe()) return;
    } catch (error) {
      showError(container, error);
      return;
    }
    setTimeout(tick, intervalMs);
  };
  tick();
}
