// Convene's progressive enhancement: every page works without this file.
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) e.preventDefault();
});

// A file input with data-max-bytes refuses a file that is too large before
// uploading it; the server refuses it too.
document.addEventListener("change", function (e) {
  var max = e.target.getAttribute && e.target.getAttribute("data-max-bytes");
  if (!max || !e.target.files || !e.target.files[0]) return;
  e.target.setCustomValidity(e.target.files[0].size > Number(max) ? e.target.getAttribute("data-too-large") : "");
  e.target.reportValidity();
});

// A form with data-once sends once: a second click does nothing.
document.addEventListener("submit", function (e) {
  if (!e.target.hasAttribute("data-once") || e.defaultPrevented) return;
  if (e.target.getAttribute("data-sent")) { e.preventDefault(); return; }
  e.target.setAttribute("data-sent", "1");
});
