// Accepting MLflow evidence that lowers an answer: ask first, in the page.
// Without JavaScript the form shows a confirmation checkbox instead, and the server refuses a lowering
// that was not confirmed either way (confirm_lower).
(function () {
  "use strict";
  // Included once per item that needs it; one set of listeners serves every form.
  if (window.mlauditAcceptConfirm) return;
  window.mlauditAcceptConfirm = true;

  function setUp(form) {
    var field = form.querySelector("[data-confirm-lower-field]");
    if (field) field.hidden = true;
  }

  function ready() {
    document.querySelectorAll("form[data-accept-form][data-lowers]").forEach(setUp);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-accept-form][data-lowers]")) return;
    var box = form.querySelector("input[name=confirm_lower]");
    if (box && box.checked) return; // confirmed: let it go to the server
    event.preventDefault();
    var step = form.querySelector("[data-confirm-step]");
    step.hidden = false;
    form.querySelector("[data-accept]").hidden = true;
    step.querySelector("[data-confirm-yes]").focus();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm-yes], [data-confirm-no]");
    if (!button) return;
    var form = button.closest("form[data-accept-form]");
    var step = form.querySelector("[data-confirm-step]");
    var accept = form.querySelector("[data-accept]");
    if (button.hasAttribute("data-confirm-yes")) {
      form.querySelector("input[name=confirm_lower]").checked = true;
      button.disabled = true;
      form.submit();
      return;
    }
    step.hidden = true;
    accept.hidden = false;
    accept.focus();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("form[data-accept-form] [data-confirm-step]:not([hidden])");
    if (open) open.querySelector("[data-confirm-no]").click();
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
