// Charts drawn by Chart.js (vendored from npm; a global `Chart`). Each chart's canvas
// carries data-chart (its kind) and an aria-label that says what it shows, in words.

const BLUE = "#1f5f8b";
const PALETTE = ["#1f5f8b", "#d1495b", "#2e933c", "#edae49", "#6f4a8e", "#00798c"];

function draw(canvas, config) {
  if (!window.Chart) throw new Error("the chart library did not load (console/vendor)");
  window.Chart.getChart(canvas)?.destroy();
  // No animation: a chart is final as soon as it is drawn (screenshots, tests).
  config.options = { animation: false, responsive: true, maintainAspectRatio: false, ...config.options };
  return new window.Chart(canvas, config);
}

// The canvas is put in the page before drawing, so that Chart.js sizes it to its box.
function figure(parent, kind, label, height = 220) {
  const canvas = document.createElement("canvas");
  canvas.dataset.chart = kind;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  const box = document.createElement("div");
  box.className = "chart";
  box.style.height = `${height}px`;
  box.append(canvas);
  parent.append(box);
  return { box, canvas };
}

const DAY_MS = 86400000;

// A bin's label is its left edge: a number with 4 significant digits, or for times the
// day alone when the bins are a day or wider, else the day and the minute.
function edgeLabeller(edges, bins) {
  if (typeof edges[0] !== "string") return (edge) => (Number.isInteger(edge) ? String(edge) : String(Number(edge.toPrecision(4))));
  const span = Date.parse(edges[edges.length - 1]) - Date.parse(edges[0]);
  const days = span >= bins * DAY_MS;
  return (edge) => (days ? edge.slice(0, 10) : edge.replace("T", " ").slice(0, 16));
}

/** A histogram in ``parent``: ``counts[i]`` values in [edges[i], edges[i+1]). */
export function histogram(parent, title, edges, counts) {
  const total = counts.reduce((sum, count) => sum + count, 0);
  const { box, canvas } = figure(parent, "histogram", `histogram of ${title}: ${counts.length} bins, ${total} values`);
  const label = edgeLabeller(edges, counts.length);
  const labels = counts.map((_, i) => label(edges[i]));
  const range = (i) => `${label(edges[i])} – ${label(edges[i + 1])}`;
  draw(canvas, {
    type: "bar",
    data: { labels, datasets: [{ label: title, data: counts, backgroundColor: BLUE, categoryPercentage: 1, barPercentage: 1 }] },
    options: {
      plugins: { legend: { display: false }, tooltip: { callbacks: { title: (items) => range(items[0].dataIndex) } } },
      scales: { x: { ticks: { maxRotation: 50, autoSkip: true } }, y: { beginAtZero: true, title: { display: true, text: "rows" } } },
    },
  });
  return box;
}

/** The most frequent values of a column as horizontal bars, in ``parent``. */
export function topValues(parent, title, values) {
  const { box, canvas } = figure(parent, "top-values", `top values of ${title}: ${values.map((v) => `${v.value} ${v.count}`).join(", ")}`,
    Math.max(120, 28 * values.length + 50));
  draw(canvas, {
    type: "bar",
    data: {
      labels: values.map((v) => (v.value === null ? "(null)" : String(v.value))),
      datasets: [{ label: title, data: values.map((v) => v.count), backgroundColor: PALETTE[3] }],
    },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } },
  });
  return box;
}

/** Lines over epochs in ``parent``: one per series of ``history`` ({"loss": [...]}). */
export function curves(parent, title, history) {
  const names = Object.keys(history);
  const epochs = Math.max(0, ...names.map((name) => history[name].length));
  const { box, canvas } = figure(parent, "curves", `${title}: ${names.join(", ")} over ${epochs} epochs`, 260);
  draw(canvas, {
    type: "line",
    data: {
      labels: Array.from({ length: epochs }, (_, i) => i + 1),
      datasets: names.map((name, i) => ({
        label: name,
        data: history[name],
        borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: PALETTE[i % PALETTE.length],
        tension: 0.2,
      })),
    },
    options: { scales: { x: { title: { display: true, text: "epoch" } } } },
  });
  return box;
}
