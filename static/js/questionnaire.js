// The questionnaire's live saving. Each item saves itself as JSON as soon as it changes; the score
// shown comes from the server's answer (it is never computed here). Typed text stays in the
// fields and in localStorage until the server has it, so a failed save or a closed tab loses nothing.
// Without this script every item is a plain form that posts and redirects back.
// Histories, filters and folding are questionnaire-guide.js (for every reader, not only editors).
(function () {
  "use strict";

  var root = document.getElementById("questionnaire");
  if (!root) return;
  var strings = JSON.parse(document.getElementById("questionnaire-strings").textContent);
  var auditId = root.dataset.audit;
  var editable = root.dataset.editable === "true";
  var savers = [];
  var TYPING_PAUSE_MS = 700;
  var MAX_RETRY_MS = 30000;

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match;
    });
  }

  function readLocal(key) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null;
    }
  }

  function writeLocal(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      // Storage full or disabled: the text is still in the field and the save is still retried.
    }
  }

  function removeLocal(key) {
    try {
      window.localStorage.removeItem(key);
    } catch (error) {
      /* see writeLocal */
    }
  }

  function sameAnswer(a, b) {
    return (
      a.status === b.status &&
      a.notes === b.notes &&
      a.evidence.join("\n") === b.evidence.join("\n") &&
      (a.expires_on || "") === (b.expires_on || "")
    );
  }

  function showScore(score) {
    // Sums, progress and the lowest section, from the server's score after a save.
    root.querySelectorAll("[data-final]").forEach(function (el) { el.textContent = score.final; });
    root.querySelectorAll("[data-final-strict]").forEach(function (el) { el.textContent = score.final_strict; });
    root.querySelectorAll("[data-exempted]").forEach(function (el) { el.textContent = score.exempted; });
    root.querySelectorAll("[data-score-exemptions]").forEach(function (el) { el.hidden = !score.exempted; });
    root.querySelectorAll("[data-band]").forEach(function (el) {
      el.textContent = score.band;
      el.hidden = !score.band;
    });
    root.querySelectorAll("[data-progress-bar]").forEach(function (el) { el.style.width = score.percent + "%"; });
    root.querySelectorAll("[data-progress]").forEach(function (el) {
      el.textContent = format(strings.progress, { answered: score.answered, total: score.total });
    });
    Object.keys(score.sections).forEach(function (key) {
      var section = score.sections[key];
      var weakest = (score.weakest || []).indexOf(key) >= 0;
      document.querySelectorAll('[data-section-sum="' + key + '"]').forEach(function (el) {
        el.textContent = section.score + " / " + section.max;
      });
      document.querySelectorAll('[data-section-progress="' + key + '"]').forEach(function (el) {
        el.textContent = section.answered + "/" + section.total;
      });
      document.querySelectorAll('[data-section-nav="' + key + '"], [data-section="' + key + '"]').forEach(function (el) {
        el.classList.toggle("is-weakest", weakest);
        el.querySelectorAll("[data-weakest-tag]").forEach(function (tag) { tag.hidden = !weakest; });
      });
    });
    document.querySelectorAll("[data-unanswered]").forEach(function (el) { el.textContent = score.unanswered; });
    // The next steps come rendered by the server (the same include as the page's).
    if (typeof score.next_steps === "string") {
      root.querySelectorAll("[data-next-steps]").forEach(function (el) { el.outerHTML = score.next_steps; });
    }
    document.querySelectorAll("[data-unanswered-warning]").forEach(function (el) { el.hidden = score.unanswered === 0; });
  }

  function ItemSaver(article) {
    this.article = article;
    this.form = article.querySelector("form.answer-form");
    this.code = article.dataset.item;
    this.url = article.dataset.saveUrl;
    this.version = parseInt(article.dataset.version || "0", 10);
    this.storageKey = "mlaudit:audit:" + auditId + ":item:" + this.code;
    this.state = "idle";
    this.dirty = false;
    this.inFlight = false;
    this.waitingForUser = false;
    this.theirs = null;
    this.typingTimer = null;
    this.retryTimer = null;
    this.countdownTimer = null;
    this.retryDelay = 0;
    this.stateEl = article.querySelector("[data-save-state]");
    this.errorsEl = article.querySelector("[data-errors]");
    this.conflictEl = article.querySelector("[data-conflict]");  // rendered by the server, or made on demand
    this.bind();
    this.restoreLocal();
  }

  ItemSaver.prototype.values = function () {
    var checked = this.form.querySelector('input[name="status"]:checked');
    var expires = this.form.elements.expires_on;
    return {
      status: checked ? checked.value : null,
      // The exemption's expiry, asked for only while "Not applicable" is chosen.
      expires_on: expires && checked && checked.value === "not_applicable" ? expires.value : "",
      notes: this.form.elements.notes.value,
      evidence: this.form.elements.evidence.value
        .split(/\r?\n/)
        .map(function (line) { return line.trim(); })
        .filter(function (line) { return line.length > 0; }),
    };
  };

  ItemSaver.prototype.fill = function (answer) {
    this.form.querySelectorAll('input[name="status"]').forEach(function (radio) {
      radio.checked = radio.value === answer.status;
    });
    this.form.elements.notes.value = answer.notes || "";
    this.form.elements.evidence.value = (answer.evidence || []).join("\n");
    if (this.form.elements.expires_on) this.form.elements.expires_on.value = answer.expires_on || "";
  };

  ItemSaver.prototype.setState = function (state, text) {
    this.state = state;
    this.stateEl.dataset.state = state;
    this.stateEl.textContent = text || "";
    if (state === "conflict") {
      this.article.dataset.state = "conflict";
    } else {
      delete this.article.dataset.state;
    }
  };

  ItemSaver.prototype.showErrors = function (errors) {
    var list = this.errorsEl;
    list.innerHTML = "";
    (errors || []).forEach(function (message) {
      var li = document.createElement("li");
      li.textContent = message;
      list.appendChild(li);
    });
  };

  ItemSaver.prototype.isPending = function () {
    return this.dirty || this.inFlight || this.state === "failed" || this.state === "conflict";
  };

  ItemSaver.prototype.bind = function () {
    var self = this;
    this.form.addEventListener("input", function (event) {
      if (event.target.name === "notes" || event.target.name === "evidence") {
        self.remember();
        self.schedule(TYPING_PAUSE_MS);
      }
    });
    this.form.addEventListener("change", function (event) {
      if (event.target.name === "status" || event.target.name === "expires_on") {
        self.remember();
        self.schedule(0);
      }
    });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (event.submitter && event.submitter.hasAttribute("data-overwrite")) {
        self.overwrite();
      } else {
        self.schedule(0);
      }
    });
    if (this.conflictEl) this.bindConflict();
  };

  ItemSaver.prototype.bindConflict = function () {
    var self = this;
    this.conflictEl.querySelector("[data-take-theirs]").addEventListener("click", function (event) {
      event.preventDefault();
      self.takeTheirs();
    });
  };

  ItemSaver.prototype.conflictBox = function () {
    // One empty box per page, in a <template>; an item gets its own copy on its first conflict.
    if (!this.conflictEl) {
      var template = document.getElementById("conflict-template");
      this.conflictEl = template.content.firstElementChild.cloneNode(true);
      this.conflictEl.hidden = true;
      this.form.insertBefore(this.conflictEl, this.form.querySelector("[data-foot]"));
      this.bindConflict();
    }
    return this.conflictEl;
  };

  ItemSaver.prototype.remember = function () {
    var values = this.values();
    values.base_version = this.version;
    writeLocal(this.storageKey, values);
  };

  ItemSaver.prototype.restoreLocal = function () {
    var stored = readLocal(this.storageKey);
    if (!stored) return;
    var current = this.values();
    if (sameAnswer(stored, current)) {
      removeLocal(this.storageKey);
      return;
    }
    // Unsaved text from an earlier visit. Save it based on the version it was typed against,
    // so a change someone made since then shows up as a conflict instead of being overwritten.
    this.fill(stored);
    this.article.dispatchEvent(new CustomEvent("answer-restored", { bubbles: true }));
    this.version = stored.base_version || 0;
    this.setState("restored", strings.restored);
    this.schedule(0);
  };

  ItemSaver.prototype.schedule = function (delay) {
    var self = this;
    this.dirty = true;
    window.clearTimeout(this.typingTimer);
    this.typingTimer = window.setTimeout(function () { self.flush(); }, delay);
  };

  ItemSaver.prototype.flush = function () {
    var self = this;
    if (this.inFlight || this.waitingForUser) return;
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.countdownTimer);
    var values = this.values();
    if (!values.status) {
      this.dirty = false;
      this.setState("idle", values.notes || values.evidence.length ? strings.needStatus : "");
      return;
    }
    this.dirty = false;
    this.inFlight = true;
    this.setState("saving", strings.saving);
    var sent = values;
    var body = JSON.stringify({
      status: values.status,
      notes: values.notes,
      evidence: values.evidence,
      expires_on: values.expires_on || null,
      base_version: this.version,
    });
    fetch(this.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": this.form.elements.csrfmiddlewaretoken.value,
      },
      body: body,
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () { return {}; })
          .then(function (data) { return { response: response, data: data }; });
      })
      .then(function (result) {
        self.inFlight = false;
        self.handle(result.response.status, result.data, sent);
      })
      .catch(function () {
        self.inFlight = false;
        self.retry();
      });
  };

  ItemSaver.prototype.handle = function (status, data, sent) {
    if (status === 200 && data.answer) {
      this.saved(data, sent);
    } else if (status === 409 && data.conflict && sameAnswer(data.conflict, sent)) {
      // The newer answer already says exactly this (typically our own save from before a reload):
      // nothing to decide, just catch up with its version.
      this.version = data.conflict.version;
      this.schedule(0);
    } else if (status === 409 && data.conflict) {
      this.conflict(data.conflict);
    } else if (status === 409 && data.locked) {
      this.waitingForUser = true;
      this.setState("failed", strings.locked);
    } else if (status === 200) {
      // Redirected to the sign-in page: the session ended. Keep the text and keep trying, so the
      // save goes through once the user signs in again (in another tab).
      this.retry(strings.signedOut);
    } else if (status === 400 || status === 403) {
      // Retrying cannot help; the text stays in the field and in this browser until corrected.
      this.showErrors(data.errors);
      this.setState("failed", format(strings.failed, { error: (data.errors || []).join(" ") }));
    } else {
      this.retry();
    }
  };

  ItemSaver.prototype.saved = function (data, sent) {
    this.version = data.answer.version;
    this.article.dataset.version = String(this.version);
    this.retryDelay = 0;
    this.showErrors([]);
    showScore(data.score);
    var article = this.article;
    this.showExemption(data.answer);
    // Sent without an expiry, the exemption got the default one, now in the field: that is what was meant.
    if (sent.status === "not_applicable" && !sent.expires_on) sent.expires_on = data.answer.expires_on || "";
    if (!data.answer.carried_over) {
      article.querySelectorAll("[data-carried-tag], [data-confirm-answer]").forEach(function (el) { el.remove(); });
    }
    // questionnaire-guide.js keeps the item's flags, filter counts and open history up to date.
    article.dispatchEvent(new CustomEvent("answer-saved", { bubbles: true, detail: data }));
    var by = this.article.querySelector("[data-answered-by]");
    if (by) by.textContent = format(strings.answeredBy, { who: data.answer.answered_by, when: data.answer.answered_at });
    if (this.dirty || !sameAnswer(sent, this.values())) {
      // Typed on while this save was in flight: send the newer text too.
      this.schedule(TYPING_PAUSE_MS);
      return;
    }
    removeLocal(this.storageKey);
    this.setState("saved", strings.saved);
  };

  ItemSaver.prototype.showExemption = function (answer) {
    // The exemption's state beside the item's status; a decision form appears once the page reloads.
    var tag = this.article.querySelector("[data-exemption-state]");
    if (!answer.exemption_state) {
      if (tag) tag.remove();
      return;
    }
    if (!tag) {
      tag = document.createElement("span");
      tag.setAttribute("data-exemption-state", "");
      var status = this.article.querySelector("[data-item-status]");
      status.parentNode.insertBefore(tag, status.nextSibling);
    }
    tag.className = "tag tag--exemption tag--exemption-" + answer.exemption_state;
    tag.textContent = answer.exemption_state_label;
    if (this.form.elements.expires_on && answer.expires_on) this.form.elements.expires_on.value = answer.expires_on;
  };

  ItemSaver.prototype.retry = function (template) {
    var self = this;
    var message = template || strings.retrying;
    this.dirty = true;
    this.retryDelay = Math.min(Math.max(1000, this.retryDelay * 2), MAX_RETRY_MS);
    var remaining = Math.round(this.retryDelay / 1000);
    this.setState("failed", format(message, { seconds: remaining }));
    window.clearInterval(this.countdownTimer);
    this.countdownTimer = window.setInterval(function () {
      remaining -= 1;
      if (remaining > 0) self.setState("failed", format(message, { seconds: remaining }));
    }, 1000);
    this.retryTimer = window.setTimeout(function () {
      window.clearInterval(self.countdownTimer);
      self.flush();
    }, this.retryDelay);
  };

  ItemSaver.prototype.conflict = function (theirs) {
    this.theirs = theirs;
    this.waitingForUser = true;
    var box = this.conflictBox();
    box.querySelectorAll("[data-their]").forEach(function (el) {
      var value = theirs[el.dataset.their];
      el.textContent = Array.isArray(value) ? value.join("\n") : value || "—";
    });
    box.hidden = false;
    this.setState("conflict", strings.conflict);
  };

  ItemSaver.prototype.closeConflict = function () {
    this.conflictEl.hidden = true;
    this.waitingForUser = false;
    if (this.theirs) {
      this.version = this.theirs.version;
      this.article.dataset.version = String(this.version);
    }
  };

  ItemSaver.prototype.takeTheirs = function () {
    var theirs = this.theirs;
    this.closeConflict();
    if (theirs) this.fill(theirs);
    this.dirty = false;
    removeLocal(this.storageKey);
    this.setState("saved", strings.saved);
  };

  ItemSaver.prototype.overwrite = function () {
    // Knowingly replace their answer: save again, based on the version we have now seen.
    this.closeConflict();
    this.remember();
    this.schedule(0);
  };

  function pendingSaves() {
    return savers.filter(function (saver) { return saver.isPending(); }).length;
  }

  if (editable) {
    root.querySelectorAll("article.item").forEach(function (article) {
      if (article.querySelector("form.answer-form")) savers.push(new ItemSaver(article));
    });
  }

  window.addEventListener("beforeunload", function (event) {
    if (pendingSaves() > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  var dialog = document.getElementById("submit-dialog");
  if (dialog && typeof dialog.showModal === "function") {
    document.querySelectorAll("[data-open-submit]").forEach(function (opener) {
      opener.addEventListener("click", function (event) {
        event.preventDefault();
        var pending = pendingSaves() > 0;
        dialog.querySelector("[data-pending-warning]").hidden = !pending;
        dialog.querySelector("[data-submit-confirm]").disabled = pending;
        dialog.showModal();
      });
    });
    dialog.querySelector("[data-close-dialog]").addEventListener("click", function () { dialog.close(); });
  }
})();
