// Draws the server-built Plotly figures (plotly.js comes from our own static files, never a CDN).
(function () {
  "use strict";

  function draw(element) {
    var source = document.getElementById(element.dataset.plotlySpec);
    if (!source || !window.Plotly) {
      return;
    }
    var spec = JSON.parse(source.textContent);
    window.Plotly.newPlot(element, spec.figure.data, spec.figure.layout, spec.config).then(function () {
      element.dataset.drawn = "true";
    });
    // Points whose customdata starts with a URL (trend chart: the audit's result page) open it on click.
    element.on("plotly_click", function (event) {
      var point = event && event.points && event.points[0];
      var url = point && point.customdata && point.customdata[0];
      if (typeof url === "string" && url.charAt(0) === "/") {
        window.location.assign(url);
      }
    });
  }

  function resizeAll() {
    document.querySelectorAll("[data-plotly-spec]").forEach(function (element) {
      if (element.dataset.drawn) {
        window.Plotly.Plots.resize(element);
      }
    });
  }

  document.querySelectorAll("[data-plotly-spec]").forEach(draw);
  // Paper is narrower than most screens: fit the charts to the page before printing, and back after.
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
})();
