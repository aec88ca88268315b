// Progressive enhancement only: every page works without this file, and the
// server does everything this does (the connection-string splitting included).
(function () {
  "use strict";

  // The same reading as app/sources/connection_string.py's parse_connection_string;
  // tests/test_browser_quality.py checks the two agree on awkward values.
  function parseConnectionString(text) {
    var result = {}, seen = {}, i = 0, n = text.length;
    while (i < n) {
      while (i < n && (text[i] === ";" || text[i] === " ")) i++;
      if (i >= n) break;
      var eq = text.indexOf("=", i), semi = text.indexOf(";", i);
      if (eq === -1 || (semi !== -1 && semi < eq)) throw new Error("not a key=value pair");
      var key = text.slice(i, eq).trim(), value;
      if (!key) throw new Error("missing key");
      i = eq + 1;
      if (text[i] === "{") {
        var chars = [];
        i++;
        for (;;) {
          if (i >= n) throw new Error("unterminated brace");
          if (text[i] === "}") {
            if (text[i + 1] === "}") { chars.push("}"); i += 2; continue; }
            i++;
            break;
          }
          chars.push(text[i++]);
        }
        value = chars.join("");
        while (i < n && text[i] === " ") i++;
        if (i < n && text[i] !== ";") throw new Error("expected ;");
      } else {
        semi = text.indexOf(";", i);
        var end = semi === -1 ? n : semi;
        value = text.slice(i, end);
        i = end;
      }
      if (seen[key.toLowerCase()]) throw new Error("key given twice");
      seen[key.toLowerCase()] = true;
      result[key] = value;
    }
    return result;
  }
  window.parseConnectionString = parseConnectionString;

  function lookup(pairs, names) {
    var lowered = {};
    Object.keys(pairs).forEach(function (k) { lowered[k.toLowerCase()] = pairs[k]; });
    for (var j = 0; j < names.length; j++) {
      if (Object.prototype.hasOwnProperty.call(lowered, names[j].toLowerCase())) return lowered[names[j].toLowerCase()];
    }
    return undefined;
  }

  function showMethodGroups(form) {
    var chosen = form.querySelector("input[name=method]:checked");
    if (!chosen) return;
    form.querySelectorAll("fieldset[data-methods]").forEach(function (group) {
      group.hidden = group.getAttribute("data-methods").split(" ").indexOf(chosen.value) === -1;
    });
  }

  function announce(form, text) {
    var status = form.querySelector(".js-status");
    if (!status) {
      status = document.createElement("p");
      status.className = "js-status notice";
      status.setAttribute("role", "status");
      form.insertBefore(status, form.firstChild);
    }
    status.textContent = text;
  }

  // Paste-to-fill: offer to split a pasted string; split it here, keeping the password in the page.
  function enhanceSplitting(form) {
    var input = form.querySelector("#connectionString");
    var button = form.querySelector(".split-button");
    if (!input || !button) return;
    var keys = JSON.parse(form.getAttribute("data-split-keys"));
    var offer = button.parentNode;
    function readable() {
      try { return Object.keys(parseConnectionString(input.value.trim())).length > 0; } catch (e) { return false; }
    }
    offer.hidden = !readable();
    input.addEventListener("input", function () { offer.hidden = !readable(); });
    input.addEventListener("paste", function () {
      setTimeout(function () {
        offer.hidden = !readable();
        if (!offer.hidden) announce(form, "Connection string pasted. Use “Split into separate fields” to check it field by field.");
      }, 0);
    });
    button.addEventListener("click", function (event) {
      var pairs;
      try { pairs = parseConnectionString(input.value.trim()); } catch (e) { return; } // the server explains
      event.preventDefault();
      var used = {}, filled = [];
      keys.forEach(function (entry) {
        var name = entry[0], accepted = entry[1];
        accepted.forEach(function (k) { used[k.toLowerCase()] = true; });
        var value = lookup(pairs, accepted), target = form.querySelector("#" + name);
        if (value === undefined || !target) return;
        target.value = value;
        filled.push(form.querySelector("label[for='" + name + "']").textContent.trim());
      });
      var leftover = Object.keys(pairs).filter(function (k) { return !used[k.toLowerCase()]; });
      var fields = form.querySelector("input[name=method][value=fields]");
      fields.checked = true;
      showMethodGroups(form);
      input.value = "";
      offer.hidden = true;
      announce(form, "Filled " + filled.join(", ") + " from the connection string." +
        (leftover.length ? " Left out, no field for: " + leftover.join(", ") + "." : ""));
      form.querySelector("#server").focus();
    });
  }

  function addSecretToggle(input) {
    var button = document.createElement("button");
    var label = document.querySelector("label[for='" + input.id + "']");
    button.type = "button";
    button.className = "toggle";
    button.textContent = "Show";
    button.setAttribute("aria-controls", input.id);
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", "Show " + (label ? label.textContent.trim() : "value"));
    button.addEventListener("click", function () {
      var showing = input.type === "text";
      input.type = showing ? "password" : "text";
      button.textContent = showing ? "Show" : "Hide";
      button.setAttribute("aria-pressed", String(!showing));
    });
    input.parentNode.appendChild(button);
  }

  function guardSubmit(form) {
    var button = form.querySelector("button[type=submit].primary");
    var label = button.textContent;
    form.addEventListener("submit", function (event) {
      if (event.submitter && event.submitter.name === "action") return;
      if (form.dataset.submitting) { event.preventDefault(); return; }
      form.dataset.submitting = "1";
      form.querySelectorAll(".control--secret input").forEach(function (i) { i.type = "password"; });
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = button.getAttribute("data-busy-text");
    });
    // Coming back with the browser's Back button must not leave the form locked.
    window.addEventListener("pageshow", function () {
      delete form.dataset.submitting;
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = label;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.wizard-form");
    if (form) {
      showMethodGroups(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "method") showMethodGroups(form);
      });
      form.querySelectorAll(".control--secret input").forEach(addSecretToggle);
      enhanceSplitting(form);
      guardSubmit(form);
    }
    // After a failed submit, put the keyboard on the first field to fix; the summary is announced.
    var invalid = document.querySelector("[aria-invalid=true]");
    var problem = document.getElementById("adobe-error");
    if (invalid) invalid.focus();
    else if (problem) problem.focus();
    document.querySelectorAll(".summary a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (target) { event.preventDefault(); target.focus(); }
      });
    });

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
