// Convene's check-in desk. Without this file the desk still works: every
// form posts and the server renders the result. With it, scans and searches
// answer in place, the scan field keeps the focus, the counts refresh every
// few seconds and, where the browser offers BarcodeDetector, the camera scans.
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk || !window.fetch) return;
  var slug = desk.getAttribute("data-slug");
  var scanForm = document.getElementById("scan-form");
  var scan = document.getElementById("scan-code");
  var result = document.getElementById("result");
  var matches = document.getElementById("matches");
  var searchForm = document.getElementById("search-form");
  var search = document.getElementById("search-q");
  var label = function (name) { return desk.getAttribute("data-l-" + name) || ""; };

  function nonce() {
    var b = new Uint8Array(12);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  function refocus() {
    scan.focus();
    scan.select();
  }

  // Results arrive in any order; only the newest request's is shown.
  var sent = 0, shown = 0;

  function showError(msg) {
    var div = document.createElement("div");
    div.className = "result tone-bad";
    div.setAttribute("data-result", "error");
    var p = document.createElement("p");
    p.className = "result-headline";
    p.textContent = msg;
    div.appendChild(p);
    result.replaceChildren(div);
  }

  // post sends a desk form; a network failure is retried with the same
  // nonce, so the server answers a retry the same and never counts twice.
  function post(form, body, tries) {
    var seq = ++sent;
    var url = form.getAttribute("action") + "?partial=result";
    var attempt = function (left) {
      return fetch(url, { method: "POST", body: body, credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" } })
        .catch(function (err) {
          if (left > 0) return new Promise(function (ok) { setTimeout(ok, 400); }).then(function () { return attempt(left - 1); });
          throw err;
        });
    };
    return attempt(tries).then(function (res) {
      if (res.redirected) { window.location.reload(); return; } // signed out: the page goes to sign-in
      return res.text().then(function (html) {
        if (seq < shown) return;
        shown = seq;
        if (!res.ok) { showError(label("failed")); return; }
        result.innerHTML = html;
      });
    }).catch(function () {
      if (seq >= shown) { shown = seq; showError(label("offline")); }
    }).then(function () {
      refocus();
      refreshCounts();
      if (form !== scanForm && search.value.trim() !== "") runSearch();
    });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.hasAttribute("data-desk")) return;
    e.preventDefault();
    var data = new URLSearchParams(new FormData(form));
    if (data.has("nonce")) data.set("nonce", nonce());
    if (form === scanForm) {
      if (scan.value.trim() === "") { refocus(); return; }
      scan.value = ""; // ready for the next badge while this one is answered
    }
    post(form, data, 2);
  });

  // The scan field keeps the focus: clicks on nothing in particular and keys
  // typed outside any field (a wedge scanner's, say) go back to it.
  function interactive(el) {
    return el && el.closest && el.closest("input, textarea, select, button, a, label, video, summary");
  }
  document.addEventListener("click", function (e) {
    if (!interactive(e.target) && !window.getSelection().toString()) refocus();
  });
  document.addEventListener("keydown", function (e) {
    var el = document.activeElement;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (el && el !== document.body && interactive(el)) return;
    if (e.key.length === 1) {
      e.preventDefault();
      scan.focus();
      scan.value += e.key;
    }
  });
  window.addEventListener("focus", function () {
    if (!interactive(document.activeElement)) refocus();
  });

  // Live counts.
  function rows(tbody, list, key) {
    var trs = list.map(function (row) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = key === "local" ? (row.local || label("no-local")) : row.name;
      tr.appendChild(th);
      [row.checked_in, row.expected].forEach(function (n) {
        var td = document.createElement("td");
        td.className = "num";
        td.textContent = n;
        tr.appendChild(td);
      });
      return tr;
    });
    tbody.replaceChildren.apply(tbody, trs);
  }
  var counting = false;
  function refreshCounts() {
    if (counting) return;
    counting = true;
    fetch("/api/v1/conferences/" + encodeURIComponent(slug) + "/checkins/counts", { credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (c) {
        if (!c) return;
        document.getElementById("count-in").textContent = c.checked_in;
        document.getElementById("count-expected").textContent = c.expected;
        rows(document.getElementById("count-locals"), c.by_local, "local");
        rows(document.getElementById("count-categories"), c.by_category, "category");
      })
      .catch(function () {})
      .then(function () { counting = false; });
  }
  setInterval(function () { if (!document.hidden) refreshCounts(); }, 5000);

  // Search as you type.
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
  function matchItem(m) {
    var li = el("li", "match tone-" + m.tone);
    var who = el("div", "match-who");
    who.appendChild(el("strong", "", m.first_name + " " + m.last_name));
    var meta = [];
    if (m.local) meta.push(label("local").replace("%s", m.local) + (m.local_name ? " — " + m.local_name : ""));
    meta.push(m.category_name);
    if (m.member_number) meta.push("#" + m.member_number);
    who.appendChild(el("span", "match-meta", meta.join(" · ")));
    who.appendChild(el("span", "match-state", m.headline + (m.detail ? " — " + m.detail : "")));
    li.appendChild(who);
    var actions = el("div", "match-actions");
    if (m.can_check_in) {
      var f = el("form", "inline");
      f.method = "post";
      f.action = scanForm.getAttribute("action");
      f.setAttribute("data-desk", "");
      [["code", m.code], ["nonce", ""]].forEach(function (kv) {
        var i = document.createElement("input");
        i.type = "hidden";
        i.name = kv[0];
        i.value = kv[1];
        f.appendChild(i);
      });
      var b = el("button", "primary", label("check-in"));
      b.type = "submit";
      f.appendChild(b);
      actions.appendChild(f);
    }
    if (m.can_print) {
      var a = el("a", "button", label("print"));
      a.href = "/registrations/" + m.id + "/badge.pdf";
      a.target = "_blank";
      a.rel = "noopener";
      actions.appendChild(a);
    }
    li.appendChild(actions);
    return li;
  }
  var searchSeq = 0, timer = 0;
  function runSearch() {
    var q = search.value.trim();
    var seq = ++searchSeq;
    if (q === "") { matches.replaceChildren(); return; }
    fetch("/api/v1/conferences/" + encodeURIComponent(slug) + "/attendees?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (body) {
        if (!body || seq !== searchSeq) return;
        var items = body.attendees.map(matchItem);
        if (items.length === 0) items = [el("li", "match", label("none"))];
        matches.replaceChildren.apply(matches, items);
      })
      .catch(function () {});
  }
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(runSearch, 200);
  });
  searchForm.addEventListener("submit", function (e) {
    e.preventDefault();
    clearTimeout(timer);
    runSearch();
  });

  // Camera scanning where the browser can read QR codes itself.
  var toggle = document.getElementById("camera-toggle");
  var video = document.getElementById("camera");
  if ("BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    toggle.hidden = false;
    var stream = null, loop = 0, last = "", lastAt = 0;
    var detector = null;
    var stop = function () {
      clearInterval(loop);
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      video.hidden = true;
      toggle.textContent = label("camera-on");
    };
    toggle.addEventListener("click", function () {
      if (stream) { stop(); refocus(); return; }
      detector = detector || new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        video.play();
        toggle.textContent = label("camera-off");
        loop = setInterval(function () {
          if (video.readyState < 2) return;
          detector.detect(video).then(function (codes) {
            if (!codes.length) return;
            var code = codes[0].rawValue;
            // The same badge stays in view for a while: read it once.
            if (code === last && Date.now() - lastAt < 4000) return;
            last = code;
            lastAt = Date.now();
            scan.value = code;
            scanForm.requestSubmit();
          }).catch(function () {});
        }, 250);
      }).catch(function () { stop(); showError(label("no-camera")); });
    });
  }

  refocus();
})();
