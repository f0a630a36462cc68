// panelslot: small enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Select the whole link on focus so it is easy to copy.
  document.querySelectorAll("input.copy").forEach(function (el) {
    el.addEventListener("focus", function () { el.select(); });
  });
  // Ask before destructive actions.
  document.querySelectorAll("button.danger").forEach(function (btn) {
    btn.addEventListener("click", function (ev) {
      if (!window.confirm("Really " + btn.textContent.trim().toLowerCase() + "?")) ev.preventDefault();
    });
  });
  // Fill the candidate zone field with the browser's zone as a hint (placeholder only).
  var tz = document.getElementById("candidate_tz");
  if (tz && !tz.value && window.Intl) {
    tz.placeholder = "e.g. " + Intl.DateTimeFormat().resolvedOptions().timeZone;
  }
});
