// The questionnaire for every reader: an item's history is loaded when it is opened, and the filters
// and the "collapse answered items" switch apply without a reload. Without this script each history
// links to the history page and the filters are links with a query string the server applies.
// questionnaire.js tells this one about saves through "answer-saved" events on the items.
(function () {
  "use strict";

  var root = document.getElementById("questionnaire");
  if (!root) return;
  var strings = JSON.parse(document.getElementById("questionnaire-strings").textContent);

  function openItem(article) {
    var fold = article.querySelector("details.item__fold");
    if (fold) fold.open = true;
  }

  function loadHistory(details) {
    var box = details.querySelector("[data-history]");
    details.dataset.loaded = "true";
    fetch(details.dataset.historyUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () {
        delete details.dataset.loaded;  // try again next time it is opened
        var note = document.createElement("p");
        note.className = "errorlist";
        note.textContent = strings.historyFailed;
        box.prepend(note);
      });
  }

  root.querySelectorAll("details.history[data-history-url]").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (details.open && !details.dataset.loaded) loadHistory(details);
    });
  });

  var items = Array.prototype.slice.call(root.querySelectorAll("article.item"));
  var FILTERS = {
    "": function () { return true; },
    unanswered: function (article) { return !("answered" in article.dataset); },
    carried: function (article) { return "carried" in article.dataset; },
    mine: function (article) { return "mine" in article.dataset; },
    assigned: function (article) { return "assigned" in article.dataset; },
    stale: function (article) { return "stale" in article.dataset; },
  };

  function countFilters() {
    root.querySelectorAll("[data-filter-count]").forEach(function (el) {
      var matches = FILTERS[el.dataset.filterCount];
      el.textContent = String(items.filter(function (article) { return matches(article); }).length);
    });
  }

  function setQuery(name, value) {
    var url = new URL(window.location.href);
    if (value) url.searchParams.set(name, value); else url.searchParams.delete(name);
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }

  root.querySelectorAll("a[data-filter]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var key = link.dataset.filter;
      var matches = FILTERS[key] || FILTERS[""];
      var shown = 0;
      items.forEach(function (article) {
        article.hidden = !matches(article);
        if (!article.hidden) shown += 1;
      });
      root.querySelectorAll("a[data-filter]").forEach(function (other) {
        if (other === link) other.setAttribute("aria-current", "true"); else other.removeAttribute("aria-current");
      });
      root.querySelector("[data-filter-empty]").hidden = shown > 0;
      setQuery("show", key);
    });
  });

  var collapse = root.querySelector("a[data-collapse]");
  if (collapse) {
    collapse.addEventListener("click", function (event) {
      event.preventDefault();
      var collapsing = !root.classList.contains("is-collapsed");
      root.classList.toggle("is-collapsed", collapsing);
      items.forEach(function (article) {
        var fold = article.querySelector("details.item__fold");
        if (fold) fold.open = !(collapsing && "answered" in article.dataset);
      });
      collapse.textContent = collapsing ? collapse.dataset.expandLabel : collapse.dataset.collapseLabel;
      setQuery("collapse", collapsing ? "answered" : "");
    });
  }

  // A link to an item (#item-…) opens it even when answered items are collapsed.
  function openTarget() {
    var target = window.location.hash && document.getElementById(window.location.hash.slice(1));
    if (target && target.matches("article.item")) openItem(target);
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  root.addEventListener("answer-saved", function (event) {
    var article = event.target;
    var data = event.detail;
    article.dataset.answered = "";
    article.dataset.mine = "";
    if (!data.answer.carried_over) delete article.dataset.carried;
    // A stale answer changed by hand is no longer tied to its evidence (the server says the same on reload).
    if ("stale" in article.dataset && data.answer.status !== article.dataset.serverStatus) {
      delete article.dataset.stale;
      var staleNote = article.querySelector("[data-stale-reason]");
      if (staleNote) staleNote.hidden = true;
    }
    var status = article.querySelector("[data-item-status]");
    if (status) status.textContent = data.answer.status_label;
    if (data.history_changed) {
      var count = article.querySelector("[data-history-count]");
      if (count) count.textContent = String(parseInt(count.textContent || "0", 10) + 1);
      var history = article.querySelector("details.history");
      if (history) {
        delete history.dataset.loaded;
        if (history.open) loadHistory(history);
      }
    }
    countFilters();
  });
  root.addEventListener("answer-restored", function (event) { openItem(event.target); });
})();
