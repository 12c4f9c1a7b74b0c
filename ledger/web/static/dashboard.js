// Draws the dashboard's charts (Chart.js, served by the app) from the data the page carries;
// every chart has its numbers in the table beside it.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var colours = ["#154273", "#a8581f", "#39870c", "#8f1a4c"];
  var lang = document.documentElement.lang === "en" ? "en-GB" : "nl-NL";
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = data[canvas.dataset.chart];
    var percent = Boolean(spec.percent);
    new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d, i) {
          return { label: d.label, data: d.data, backgroundColor: colours[i % 4], borderColor: colours[i % 4] };
        })
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        locale: lang,
        scales: { y: { beginAtZero: true, ticks: percent ? { format: { style: "percent" } } : {} } }
      }
    });
  });
  performance.mark("charts-drawn"); // benchmarks/web.py reads it
})();
