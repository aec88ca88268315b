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

  // The same reading as connection_string.py's read_pasted: key=value; as Flow Service reads it,
  // libpq's key=value pairs, or a URI, the last two under libpq's key names.
  var LIBPQ_KEYWORDS = ["host", "hostaddr", "port", "dbname", "user", "password", "passfile", "connect_timeout",
    "client_encoding", "options", "application_name", "sslmode", "sslcert", "sslkey", "sslrootcert",
    "sslpassword", "target_session_attrs", "service", "gssencmode", "require_auth", "channel_binding"];
  var URI = /^(jdbc:)?[A-Za-z][A-Za-z0-9+.-]*:\/\//;
  var LIBPQ_PAIR = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*/y;
  var LIBPQ_START = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s;']*)\s+[A-Za-z_][A-Za-z0-9_]*\s*=/;

  function unquote(text) {
    try { return decodeURIComponent(text); } catch (e) { return text; }
  }

  function hasKey(pairs, key) {
    return Object.keys(pairs).some(function (k) { return k.toLowerCase() === key.toLowerCase(); });
  }

  function readUri(text) {
    var rest = /^jdbc:/i.test(text) ? text.slice(5) : text;
    rest = rest.slice(rest.indexOf("://") + 3);
    var query = "", at, cut = rest.search(/[\/?#]/), netloc = cut === -1 ? rest : rest.slice(0, cut);
    var after = cut === -1 ? "" : rest.slice(cut);
    var hash = after.indexOf("#");
    if (hash !== -1) after = after.slice(0, hash);
    var q = after.indexOf("?");
    if (q !== -1) { query = after.slice(q + 1); after = after.slice(0, q); }
    at = netloc.lastIndexOf("@");
    var userinfo = at === -1 ? null : netloc.slice(0, at), host = netloc.slice(at + 1), port = "";
    if (host[0] === "[") {
      var close = host.indexOf("]");
      port = host.slice(close + 1).replace(/^:/, "");
      host = host.slice(1, close);
    } else if (host.indexOf(":") !== -1) {
      port = host.slice(host.indexOf(":") + 1);
      host = host.slice(0, host.indexOf(":"));
    }
    if (host.indexOf(",") !== -1 || port.indexOf(",") !== -1) throw new Error("several hosts");
    var user = "", password = "";
    if (userinfo !== null) {
      var colon = userinfo.indexOf(":");
      user = unquote(colon === -1 ? userinfo : userinfo.slice(0, colon));
      password = colon === -1 ? "" : unquote(userinfo.slice(colon + 1));
    }
    var pairs = {};
    [["host", unquote(host)], ["port", port], ["dbname", unquote(after.replace(/^\/+/, ""))],
     ["user", user], ["password", password]].forEach(function (p) { if (p[1]) pairs[p[0]] = p[1]; });
    if (query) {
      query.split("&").forEach(function (part) {
        if (!part) return;
        var eq = part.indexOf("="), key = unquote((eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, " "));
        var value = eq === -1 ? "" : unquote(part.slice(eq + 1).replace(/\+/g, " "));
        if (hasKey(pairs, key)) throw new Error("given twice");
        pairs[key] = value;
      });
    }
    if (!pairs.host) throw new Error("no host");
    return pairs;
  }

  function readLibpq(text) {
    var pairs = {}, i = 0, n = text.length, match;
    while (i < n) {
      if (/\s/.test(text[i])) { i++; continue; }
      LIBPQ_PAIR.lastIndex = i;
      match = LIBPQ_PAIR.exec(text);
      if (!match) throw new Error("not a key=value pair");
      var key = match[1], chars = [];
      i = LIBPQ_PAIR.lastIndex;
      if (text[i] === "'") {
        i++;
        for (;;) {
          if (i >= n) throw new Error("unterminated quote");
          if (text[i] === "\\" && i + 1 < n) { chars.push(text[i + 1]); i += 2; continue; }
          if (text[i] === "'") { i++; break; }
          chars.push(text[i++]);
        }
      } else {
        while (i < n && !/\s/.test(text[i])) {
          if (text[i] === "\\" && i + 1 < n) i++;
          chars.push(text[i++]);
        }
      }
      if (hasKey(pairs, key)) throw new Error("given twice");
      pairs[key] = chars.join("");
    }
    return pairs;
  }

  function readPasted(text) {
    text = text.trim();
    if (URI.test(text)) return readUri(text);
    var start = LIBPQ_START.exec(text);
    if (start && LIBPQ_KEYWORDS.indexOf(start[1].toLowerCase()) !== -1) return readLibpq(text);
    return parseConnectionString(text);
  }
  window.readPasted = readPasted;

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
      try { return Object.keys(readPasted(input.value)).length > 0; } catch (e) { return false; }
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
      try { pairs = readPasted(input.value); } catch (e) { return; } // the server explains
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

  // The picker narrows its cards as you type; the Search button (and the server) does the same without JavaScript.
  function filterAsYouType(search) {
    var input = search.querySelector("#q"), status = document.getElementById("q-status");
    var lists = document.querySelectorAll("[data-filterable]");
    var none = document.getElementById("no-match");
    if (!none) {
      none = document.createElement("p");
      none.id = "no-match";
      none.hidden = true;
      status.parentNode.insertBefore(none, status.nextSibling);
    }
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
      lists.forEach(function (list) {
        var visible = 0;
        list.querySelectorAll("li").forEach(function (item) {
          var text = item.textContent.toLowerCase();
          item.hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
          if (!item.hidden) visible++;
        });
        list.hidden = visible === 0;
        var heading = list.getAttribute("aria-labelledby") && document.getElementById(list.getAttribute("aria-labelledby"));
        if (heading) heading.hidden = visible === 0;
        if (heading && heading.nextElementSibling && heading.nextElementSibling.tagName === "P") heading.nextElementSibling.hidden = visible === 0;
        shown += visible;
      });
      var query = input.value.trim();
      status.textContent = query ? (shown || "No") + " source" + (shown === 1 ? " matches" : "s match") + " “" + query + "”." : "";
      none.hidden = !(query && shown === 0);
      if (!none.hidden) {
        none.textContent = "No source matches “" + query + "”. Check the spelling, or try a shorter word such as “sql”.";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var search = document.getElementById("source-search");
    if (search && search.querySelector("#q")) filterAsYouType(search);
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
