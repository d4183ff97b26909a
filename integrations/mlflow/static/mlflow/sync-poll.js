// Live state of running MLflow syncs: poll the JSON endpoint while a sync is queued or running.
(function () {
  "use strict";
  var table = document.querySelector("[data-sync-poll-url]");
  if (!table) return;
  var url = table.getAttribute("data-sync-poll-url");
  var wasActive = table.getAttribute("data-active") === "true";
  if (!wasActive) return;

  function update(sync) {
    var row = table.querySelector('[data-sync-id="' + sync.id + '"]');
    if (!row) return false;
    var set = function (name, value) {
      var cell = row.querySelector('[data-field="' + name + '"]');
      if (cell) cell.textContent = value === null || value === undefined ? "" : String(value);
    };
    set("state", sync.state);
    set("runs_read", sync.runs_read);
    set("versions_read", sync.versions_read);
    set("attempts", sync.attempts);
    set("duration", sync.duration_seconds === null ? "" : sync.duration_seconds.toFixed(1) + " s");
    set("error", sync.error || "");
    row.setAttribute("data-state", sync.state);
    return true;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var known = data.syncs.every(update);
        if (!data.active || !known) {
          window.location.reload();  // show the new findings (or a sync queued elsewhere)
          return;
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
