// panelslot candidate page: the browser's zone, readable zone names, one submit.
// Every page works without this file (times then show in the zone the recruiter gave).
(function () {
  "use strict";

  function browserZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }

  function knownZone(zone) {
    var list = document.getElementById("zone-list");
    if (!list || !zone) return false;
    for (var i = 0; i < list.options.length; i++) {
      if (list.options[i].value === zone) return true;
    }
    return false;
  }

  function longName(zone, at) {
    try {
      var parts = new Intl.DateTimeFormat("en", { timeZone: zone, timeZoneName: "long" })
        .formatToParts(at);
      for (var i = 0; i < parts.length; i++) {
        if (parts[i].type === "timeZoneName") return parts[i].value;
      }
    } catch (e) { /* unknown zone: keep the server's label */ }
    return "";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var label = document.getElementById("zone-label");
    var shown = label ? label.getAttribute("data-tz") : "";

    // First visit without ?tz=: show the times in the browser's own zone.
    var auto = document.querySelector("[data-auto-tz]");
    var mine = browserZone();
    if (auto && label && mine && mine !== shown && knownZone(mine)) {
      var url = new URL(window.location.href);
      if (!url.searchParams.has("tz")) {
        url.searchParams.set("tz", mine);
        window.location.replace(url.toString());
        return;
      }
    }

    // "India Standard Time, UTC+05:30 (Asia/Kolkata)".
    if (label && shown) {
      var first = document.querySelector(".when[data-start]");
      var at = first ? new Date(first.getAttribute("data-start")) : new Date();
      var name = longName(shown, at);
      var offset = label.getAttribute("data-offset") || "";
      var target = document.getElementById("zone-name");
      if (name && target && name !== shown) {
        target.textContent = name + ", " + offset + " (" + shown + ")";
      }
    }

    // One click books once (the server also refuses a second booking for the same form).
    document.querySelectorAll("form.pick-form").forEach(function (form) {
      form.addEventListener("submit", function () {
        var btn = form.querySelector("button[type=submit]");
        if (btn) {
          window.setTimeout(function () { btn.disabled = true; btn.textContent = "Booking…"; }, 0);
        }
      });
    });

    document.querySelectorAll("form.cancel-form").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm("Cancel your interview? Everyone will be told.")) ev.preventDefault();
      });
    });

    var err = document.getElementById("error");
    if (err) err.focus && err.setAttribute("tabindex", "-1");
    if (err) err.focus();
  });
})();
