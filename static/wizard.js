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
      if (eq === -1 || (semi !== -1 && semi < eq)) {
        var keys = Object.keys(result);
        throw new Error("Part " + (keys.length + 1) + (keys.length ? " (after " + keys[keys.length - 1] + ")" : "") +
          " is not a key=value pair. Separate pairs with “;”, and wrap a value that holds “;” in braces: PWD={…}.");
      }
      var key = text.slice(i, eq).trim(), value;
      if (!key) throw new Error("A pair is missing its key before “=”.");
      i = eq + 1;
      if (text[i] === "{") {
        var chars = [];
        i++;
        for (;;) {
          if (i >= n) throw new Error("The value of " + key + " opens “{” but never closes it; end it with “}”.");
          if (text[i] === "}") {
            if (text[i + 1] === "}") { chars.push("}"); i += 2; continue; }
            i++;
            break;
          }
          chars.push(text[i++]);
        }
        value = chars.join("");
        while (i < n && text[i] === " ") i++;
        if (i < n && text[i] !== ";") throw new Error("Expected “;” after the braced value of " + key + ".");
      } else {
        semi = text.indexOf(";", i);
        var end = semi === -1 ? n : semi;
        value = text.slice(i, end);
        i = end;
      }
      if (seen[key.toLowerCase()]) throw new Error(key + " is given twice; keep one.");
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

  // ---- Checks that mirror the server's (app/sources/fields.py, base.py, generic.py) with the same messages.
  // tests/test_browser_checks.py compares the two on the same inputs. The server checks everything again.
  var PORT_MESSAGE = "Enter the port as a whole number from 1 to 65535.";
  var DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}$/;
  var CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

  function portError(value) {
    var text = value.trim();
    return /^[0-9]+$/.test(text) && +text >= 1 && +text <= 65535 ? null : PORT_MESSAGE;
  }

  function isIPv4(text) {
    var parts = text.split(".");
    return parts.length === 4 && parts.every(function (p) {
      return /^(0|[1-9][0-9]{0,2})$/.test(p) && +p <= 255;
    });
  }

  function isIPv6(text) {
    if (!/^[0-9A-Fa-f:.]+$/.test(text) || text.indexOf(":") === -1) return false;
    try { new URL("http://[" + text + "]/"); return true; } catch (e) { return false; }
  }

  // urlsplit("//" + authority): the host in lower case (brackets off) and the port, as Python reads them.
  function authority(value) {
    var rest = value.slice(value.indexOf("://") + 3).split("/")[0];
    var info = rest.slice(rest.lastIndexOf("@") + 1), host, port = "";
    if (info.indexOf("[") !== -1) {
      var bracketed = info.slice(info.indexOf("[") + 1), close = bracketed.indexOf("]");
      host = close === -1 ? bracketed : bracketed.slice(0, close);
      var after = close === -1 ? "" : bracketed.slice(close + 1);
      port = after.indexOf(":") === -1 ? "" : after.slice(after.indexOf(":") + 1);
    } else {
      var colon = info.indexOf(":");
      host = colon === -1 ? info : info.slice(0, colon);
      port = colon === -1 ? "" : info.slice(colon + 1);
    }
    var number = /^[0-9]+$/.test(port) && +port <= 65535 ? +port : null;
    return {host: host.toLowerCase() || null, port: number};
  }

  function hostNameError(value) {
    if (value.indexOf("://") !== -1) {
      var parts = authority(value);
      return "Enter only the host name, not a URL: type " + (parts.host || "the host name") + " here" +
        (parts.port ? " and " + parts.port + " as the port" : "") + ".";
    }
    if (value[0] === "[" && value[value.length - 1] === "]") {
      return "Enter the IPv6 address without brackets: " + value.slice(1, -1) + ".";
    }
    if (isIPv4(value) || isIPv6(value)) return null;
    if (value.indexOf("@") !== -1) return "Enter only the host name; the user name goes in its own field.";
    if (value.split(":").length === 2) {
      var pair = value.split(":");
      return "Enter the host without the port: type " + pair[0] + " here and " + pair[1] + " as the port.";
    }
    if (value.indexOf("/") !== -1) return "Enter only the host name, without a path: " + value.split("/")[0] + ".";
    var name = value[value.length - 1] === "." ? value.slice(0, -1) : value;
    if (name.length > 253 || !name.split(".").every(function (l) { return DNS_LABEL.test(l) && l[l.length - 1] !== "-"; })) {
      return "Enter a host name such as db.example.com, an IPv4 address such as 10.0.0.5, " +
        "or an IPv6 address such as 2001:db8::5.";
    }
    return null;
  }

  function looksLikeConnectionString(value) {
    if (value.indexOf("=") !== -1) return true;
    var at = value.indexOf("://");
    return at !== -1 && value.slice(at + 3).split("/")[0].indexOf("@") !== -1;
  }

  var WHOLE_STRING = "This looks like a whole connection string, which may hold a password, so it was " +
    "not kept. Type only the host name here; paste a connection string into “Connection string”, where the " +
    "form has one, and use “Split into separate fields”.";

  function kindOf(text) {
    if (URI.test(text)) return "URI";
    var start = LIBPQ_START.exec(text);
    return start && LIBPQ_KEYWORDS.indexOf(start[1].toLowerCase()) !== -1 ? "libpq" : "key=value;";
  }

  function connectionStringError(value, keys, shape) {
    var text = value.trim(), pairs;
    if (!text) return "Paste the connection string.";
    var kind = kindOf(text);
    if (kind !== "key=value;") {
      return "This is a " + kind + " connection string; Flow Service reads only key=value; strings. " +
        (shape ? "Write it as " + shape + "." : "Use “Split into separate fields” to fill the fields from it.");
    }
    try { pairs = parseConnectionString(text); } catch (e) { return e.message; }
    var missing = keys.filter(function (k) { return !lookup(pairs, k[1]); }).map(function (k) { return k[1][0]; });
    if (missing.length) {
      return "The connection string has no value for " + missing.join(", ") + "; add " +
        missing.map(function (k) { return k + "=…"; }).join("; ") + ".";
    }
    for (var j = 0; j < keys.length; j++) {
      var found = lookup(pairs, keys[j][1]), name = keys[j][0];
      var problem = name === "server" || name === "host" ? hostNameError(found) : name === "port" ? portError(found) : null;
      if (problem) return keys[j][1][0] + ": " + problem;
    }
    return null;
  }

  // What the server would say about one control, or null.
  function problemWith(input) {
    var value = input.value, check = input.getAttribute("data-check");
    if (input.type === "checkbox" || input.type === "radio") return null;
    if (input.type === "password" ? !value : !value.trim()) {
      // The database owner types the secrets (and the user name, when asked) through a link.
      var form = input.form, owner = form && form.querySelector('input[name="typed_by"][value="owner"]:checked');
      var user = form && form.querySelector('input[name="owner_types_user"]:checked');
      if (owner && (input.type === "password" || (user && /^(user(name)?|uid|login)$/i.test(input.name)))) return null;
      return input.hasAttribute("data-required") ? input.getAttribute("data-required") : null;
    }
    if (CONTROL.test(value) && check !== "connection-string") {
      return "Remove the tab, line break or other control character from this value.";
    }
    var text = value.trim();
    if (check === "port") return portError(text);
    if (check === "host") return looksLikeConnectionString(text) ? WHOLE_STRING : hostNameError(text);
    if (check === "host-port") {
      var split = text.split(":").length === 2 && text.indexOf("/") === -1;
      var host = split ? text.slice(0, text.lastIndexOf(":")) : text, port = split ? text.slice(text.lastIndexOf(":") + 1) : "";
      return hostNameError(host) || (port ? portError(port) : null);
    }
    if (check === "path") return value[0] === "/" ? null : "Start the path with “/”, for example /" + value + ".";
    if (check === "connection-string") {
      return connectionStringError(value, JSON.parse(input.getAttribute("data-keys")), input.getAttribute("data-shape"));
    }
    return null;
  }
  window.wizardChecks = {portError: portError, hostNameError: hostNameError, connectionStringError: connectionStringError};

  // The one-click fix for a host typed as a URL, with a port, with brackets or with a path: {host, port}.
  function hostFix(value) {
    var text = value.trim();
    if (!text || looksLikeConnectionString(text)) return null;
    if (text.indexOf("://") !== -1) {
      var parts = authority(text);
      return parts.host ? {host: parts.host, port: parts.port ? String(parts.port) : ""} : null;
    }
    if (text[0] === "[" && text[text.length - 1] === "]") return {host: text.slice(1, -1), port: ""};
    if (isIPv4(text) || isIPv6(text)) return null;
    if (text.split(":").length === 2) {
      var pair = text.split(":");
      return pair[0] && !portError(pair[1]) ? {host: pair[0], port: pair[1]} : null;
    }
    if (text.indexOf("/") !== -1 && text.indexOf("@") === -1) return {host: text.split("/")[0], port: ""};
    return null;
  }

  function labelOf(input) {
    var label = document.querySelector("label[for='" + input.id + "']");
    return label ? label.textContent.trim() : input.name;
  }

  function clearProblem(input) {
    var field = input.closest(".field"), error = document.getElementById(input.id + "-error");
    if (error) error.parentNode.removeChild(error);
    var fix = document.getElementById(input.id + "-fix");
    if (fix) fix.parentNode.removeChild(fix);
    if (field) field.classList.remove("field--error");
    input.removeAttribute("aria-invalid");
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== input.id + "-error" && id !== input.id + "-fix";
    });
    input.setAttribute("aria-describedby", described.join(" "));
  }

  function showProblem(form, input, message) {
    clearProblem(input);
    var field = input.closest(".field"), control = input.closest(".control") || input;
    var error = document.createElement("p");
    error.className = "error";
    error.id = input.id + "-error";
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = "Error: ";
    error.appendChild(hidden);
    error.appendChild(document.createTextNode(message));
    control.parentNode.insertBefore(error, control);
    if (field) field.classList.add("field--error");
    input.setAttribute("aria-invalid", "true");
    var described = [input.getAttribute("aria-describedby") || "", error.id];
    var check = input.getAttribute("data-check");
    var fix = (check === "host" || check === "host-port") ? hostFix(input.value) : null;
    var portInput = form.querySelector("#port");
    if (fix) {
      var offer = document.createElement("p");
      offer.className = "fix";
      offer.id = input.id + "-fix";
      var button = document.createElement("button");
      button.type = "button";
      var both = fix.port && (portInput || check === "host-port");
      button.textContent = check === "host-port" && fix.port ? "Use " + fix.host + ":" + fix.port
        : "Use " + fix.host + (both ? " and port " + fix.port : "");
      button.addEventListener("click", function () {
        input.value = check === "host-port" && fix.port ? fix.host + ":" + fix.port : fix.host;
        if (fix.port && portInput && check === "host") { portInput.value = fix.port; clearProblem(portInput); }
        clearProblem(input);
        refreshSummary(form);
        input.focus();
        announce(form, labelOf(input) + " set to " + input.value + (fix.port && portInput && check === "host" ?
          " and Port to " + fix.port : "") + ".");
      });
      offer.appendChild(button);
      control.parentNode.insertBefore(offer, control.nextSibling);
      described.push(offer.id);
    }
    input.setAttribute("aria-describedby", described.join(" ").trim());
  }

  function shownControls(form) {
    return Array.prototype.filter.call(form.querySelectorAll("input, select, textarea"), function (input) {
      var group = input.closest("fieldset.group");
      return input.type !== "hidden" && !(group && group.hidden) && input.id;
    });
  }

  function refreshSummary(form) {
    var old = document.getElementById("error-summary");
    var failed = shownControls(form).filter(function (i) { return i.getAttribute("aria-invalid") === "true"; });
    if (!failed.length) {
      if (old) old.parentNode.removeChild(old);
      document.title = document.title.replace(/^Error: /, "");
      return null;
    }
    var summary = document.createElement("div");
    summary.className = "summary";
    summary.id = "error-summary";
    summary.setAttribute("role", "alert");
    summary.setAttribute("tabindex", "-1");
    summary.setAttribute("aria-labelledby", "error-summary-title");
    var heading = document.createElement("h2");
    heading.id = "error-summary-title";
    heading.textContent = failed.length + (failed.length === 1 ? " thing needs" : " things need") + " fixing";
    var list = document.createElement("ul");
    failed.forEach(function (input) {
      var item = document.createElement("li"), link = document.createElement("a");
      var error = document.getElementById(input.id + "-error");
      link.href = "#" + input.id;
      link.textContent = labelOf(input) + ": " + (error ? error.textContent.replace(/^Error: /, "") : "");
      link.addEventListener("click", function (event) { event.preventDefault(); input.focus(); });
      item.appendChild(link);
      list.appendChild(item);
    });
    summary.appendChild(heading);
    summary.appendChild(list);
    if (old) old.parentNode.replaceChild(summary, old);
    else form.parentNode.insertBefore(summary, form);
    if (document.title.indexOf("Error: ") !== 0) document.title = "Error: " + document.title;
    return failed[0];
  }

  // Check as you go (when a value changes) and everything on submit; nothing is sent while a check fails.
  function checkBeforeSending(form) {
    // On leaving a changed field; not when the pointer is on its way to a submit button, whose click a
    // message appearing above it would move away (the submit check shows everything anyway).
    var before = {};
    form.addEventListener("focusin", function (event) { before[event.target.id] = event.target.value; });
    form.addEventListener("focusout", function (event) {
      var input = event.target, next = event.relatedTarget;
      if (!input.id || input.type === "radio" || input.type === "checkbox" || before[input.id] === input.value) return;
      if (next && next.type === "submit") return;
      var message = problemWith(input);
      if (message) showProblem(form, input, message); else clearProblem(input);
      if (document.getElementById("error-summary")) refreshSummary(form);
    });
    form.addEventListener("change", function (event) {
      if (event.target.tagName === "SELECT" && event.target.id) {
        var message = problemWith(event.target);
        if (message) showProblem(form, event.target, message); else clearProblem(event.target);
      }
    });
    form.addEventListener("submit", function (event) {
      if (event.submitter && event.submitter.name === "action") return;
      shownControls(form).forEach(function (input) {
        var message = problemWith(input);
        if (message) showProblem(form, input, message); else clearProblem(input);
      });
      var first = refreshSummary(form);
      if (first) {
        event.preventDefault();
        first.focus();
      }
    });
  }

  // One of the portal's small JSON answers, or null when it has none to give.
  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; });
  }

  // Look for connections of the same name when the name field is left, so the submit need not ask Flow
  // Service first. Without JavaScript (or when this cannot ask), the server looks at submit instead.
  function lookForNamesakes(form) {
    var marker = form.querySelector("input[name=namesakes_checked]");
    var name = form.querySelector("#name"), sandbox = form.querySelector("#sandbox");
    if (!marker || !name || !sandbox || !window.fetch) return;
    var asked = "";
    function show(answer) {
      var old = document.getElementById("name-namesakes");
      if (old) old.parentNode.removeChild(old);
      var described = (name.getAttribute("aria-describedby") || "").replace(/\s*name-namesakes/, "");
      name.setAttribute("aria-describedby", described);
      if (!answer.namesakes.length) return;
      var note = document.createElement("div");
      note.className = "notice";
      note.id = "name-namesakes";
      note.setAttribute("role", "status");
      note.appendChild(document.createTextNode((answer.namesakes.length === 1 ? "A connection" :
        answer.namesakes.length + " connections") + " in " + answer.sandbox + " already " +
        (answer.namesakes.length === 1 ? "has" : "have") + " this name: "));
      answer.namesakes.forEach(function (c, i) {
        var link = document.createElement("a");
        link.href = c.url;
        link.textContent = c.name + (c.created ? " (created " + new Date(c.created).toISOString().slice(0, 16)
          .replace("T", " ") + " UTC)" : "");
        if (i) note.appendChild(document.createTextNode(", "));
        note.appendChild(link);
      });
      note.appendChild(document.createTextNode(". Use it, change the name, or submit to create another."));
      var control = name.closest(".control") || name;
      control.parentNode.insertBefore(note, control.nextSibling);
      name.setAttribute("aria-describedby", (described + " name-namesakes").trim());
    }
    function check() {
      var value = name.value.trim(), where = sandbox.value, key = where + ":" + value;
      if (key === asked) return;
      marker.value = "";
      asked = key;
      if (!value) { show({namesakes: []}); return; }
      getJSON(marker.getAttribute("data-url") + "?sandbox=" + encodeURIComponent(where) + "&name=" +
              encodeURIComponent(value))
        .then(function (answer) {
          if (!answer || name.value.trim() !== value || sandbox.value !== where) { asked = ""; return; }
          show(answer);
          marker.value = key;
        })
        .catch(function () { asked = ""; });
    }
    name.addEventListener("blur", check);
    sandbox.addEventListener("change", check);
    name.addEventListener("input", function () { marker.value = ""; asked = ""; });
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
        // [field, accepted keys] or, for a key of another vocabulary (sslmode), [field, keys, {its value: ours}].
        var name = entry[0], accepted = entry[1], values = entry[2];
        var value = lookup(pairs, accepted), target = form.querySelector("#" + name);
        if (values) value = value === undefined ? undefined : values[value.trim().toLowerCase()];
        if (!values || value !== undefined) accepted.forEach(function (k) { used[k.toLowerCase()] = true; });
        if (value === undefined || !target) return;
        target.value = value;
        filled.push(form.querySelector("label[for='" + name + "']").textContent.trim());
      });
      var leftover = Object.keys(pairs).filter(function (k) { return !used[k.toLowerCase()]; });
      var fields = form.querySelector("input[name=method][value=fields]");
      fields.checked = true;
      showMethodGroups(form);
      input.value = "";
      // The string was read: what was said against it (by the server, before) no longer stands.
      clearProblem(input);
      if (document.getElementById("error-summary")) refreshSummary(form);
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
      if (event.defaultPrevented || (event.submitter && event.submitter.name === "action")) return;
      if (form.dataset.submitting) { event.preventDefault(); return; }
      form.dataset.submitting = "1";
      var submitter = event.submitter;
      if (submitter && submitter.name) {
        // A disabled button is left out of what is sent: carry its choice (such as overwrite=1) in its place.
        var carried = document.createElement("input");
        carried.type = "hidden";
        carried.name = submitter.name;
        carried.value = submitter.value;
        form.appendChild(carried);
      }
      var key = form.querySelector("input[name=submission_id]");
      try {
        if (key) sessionStorage.setItem("wizard-sent:" + location.pathname + location.search, key.value);
      } catch (e) { /* storage refused: Back shows the form, and resubmitting still finds the connection */ }
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

  // Back after creating: the form comes back from the server with a new key, so ask where the key this
  // tab last sent from here led, and go to that connection rather than offer to create it again.
  function backToWhatWasCreated(form) {
    var entry = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (!entry || entry.type !== "back_forward" || !window.fetch) return;
    var sent;
    try { sent = sessionStorage.getItem("wizard-sent:" + location.pathname + location.search); } catch (e) { return; }
    if (!sent) return;
    getJSON(form.getAttribute("data-submissions").replace("KEY", encodeURIComponent(sent)))
      .then(function (answer) { if (answer && answer.result) location.replace(answer.result); })
      .catch(function () { /* stay on the form */ });
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
      checkBeforeSending(form);
      lookForNamesakes(form);
      if (form.hasAttribute("data-submissions")) backToWhatWasCreated(form);
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

    // A new dataflow's schedule: start in the browser's own time zone, when the person has not chosen one.
    document.querySelectorAll("select[data-guess-zone]").forEach(function (select) {
      var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone && Array.prototype.some.call(select.options, function (o) { return o.value === zone; })) {
        select.value = zone;
      }
    });

    document.querySelectorAll("button.copy").forEach(function (button) {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      button.classList.add("ready");  // its place was kept from the first paint (style.css): nothing moves
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
