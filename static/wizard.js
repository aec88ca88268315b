// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Show only the field groups that belong to the chosen way of entering the connection.
  function showMethodGroups(form) {
    var chosen = form.querySelector("input[name=method]:checked");
    if (!chosen) return;
    form.querySelectorAll("fieldset[data-methods]").forEach(function (group) {
      group.hidden = group.getAttribute("data-methods").split(" ").indexOf(chosen.value) === -1;
    });
  }

  // A show/hide toggle beside each secret field.
  function addSecretToggle(input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "toggle";
    button.textContent = "Show";
    button.setAttribute("aria-controls", input.id);
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", "Show " + (document.querySelector("label[for='" + input.id + "']") || {}).textContent);
    button.addEventListener("click", function () {
      var showing = input.type === "text";
      input.type = showing ? "password" : "text";
      button.textContent = showing ? "Show" : "Hide";
      button.setAttribute("aria-pressed", String(!showing));
    });
    input.parentNode.appendChild(button);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.wizard-form");
    if (form) {
      showMethodGroups(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "method") showMethodGroups(form);
      });
      form.querySelectorAll(".control--secret input").forEach(addSecretToggle);
      form.addEventListener("submit", function (event) {
        var button = form.querySelector("button[type=submit]");
        if (form.dataset.submitting) { event.preventDefault(); return; }
        form.dataset.submitting = "1";
        // Secrets typed while shown go back to hidden before the page changes.
        form.querySelectorAll(".control--secret input").forEach(function (i) { i.type = "password"; });
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
        button.textContent = button.getAttribute("data-busy-text");
      });
    }
    // After a failed submit, take the keyboard to the list of what to fix.
    var summary = document.getElementById("error-summary") || document.getElementById("adobe-error");
    if (summary) summary.focus();

    document.querySelectorAll("button.copy").forEach(function (button) {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      button.hidden = false;
      var label = button.textContent;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
  });
})();
