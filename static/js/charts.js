// Draws every <canvas data-chart="ID"> from the JSON element ID (Django's json_script) with
// the vendored Chart.js. The data shape is core/charts.py's; amounts arrive as exact decimal
// text with their dashboard label, so tooltips show the server's formatting.
// Reusable: window.SwitchyardCharts.render(canvas, data) returns the Chart instance.
(function () {
  "use strict";

  const PALETTE = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#64748b"];

  function dataset(series, index, stacked) {
    const color = PALETTE[index % PALETTE.length];
    const line = series.kind === "line";
    return {
      type: line ? "line" : "bar",
      label: series.label,
      data: series.values.map(Number),
      display: series.display,
      yAxisID: series.axis === "count" ? "count" : "usd",
      backgroundColor: color,
      borderColor: color,
      borderWidth: line ? 2 : 0,
      pointRadius: line ? 2 : 0,
      stack: stacked && !line ? "spend" : undefined,
      order: line ? 0 : 1,
    };
  }

  function scales(data) {
    const axes = new Set(data.series.map((s) => s.axis));
    const result = {
      x: { stacked: data.stacked, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
    };
    if (axes.has("usd") || axes.size === 0) {
      result.usd = {
        type: "linear", position: "left", beginAtZero: true, stacked: data.stacked,
        title: { display: true, text: "USD" },
      };
    }
    if (axes.has("count")) {
      result.count = {
        type: "linear", position: axes.has("usd") ? "right" : "left", beginAtZero: true,
        grid: { drawOnChartArea: !axes.has("usd") }, ticks: { precision: 0 },
        title: { display: true, text: data.count_title || "Requests" },
      };
    }
    return result;
  }

  function shortDay(iso) {
    // "2026-11-05" -> "Nov 5", in UTC like the server's days; other labels show as given.
    if (!/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
    const day = new Date(iso + "T00:00:00Z");
    return day.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
  }

  function render(canvas, data) {
    if (!window.Chart) return null;
    const existing = window.Chart.getChart(canvas);
    if (existing) existing.destroy();
    return new window.Chart(canvas, {
      data: {
        labels: data.labels.map(shortDay),
        datasets: data.series.map((s, i) => dataset(s, i, data.stacked)),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: scales(data),
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              label: (item) => `${item.dataset.label}: ${item.dataset.display[item.dataIndex]}`,
            },
          },
        },
      },
    });
  }

  function renderAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const source = document.getElementById(canvas.dataset.chart);
      if (source) render(canvas, JSON.parse(source.textContent));
    });
  }

  window.SwitchyardCharts = { render, renderAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => renderAll());
  } else {
    renderAll();
  }
})();
