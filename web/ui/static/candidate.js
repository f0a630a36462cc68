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

  // "long": "Pacific Standard Time" at one instant; "longGeneric": "Pacific Time", for
  // days on both sides of a clock change.
  function longName(zone, at, style) {
    try {
      var parts = new Intl.DateTimeFormat("en", { timeZone: zone, timeZoneName: style })
        .formatToParts(at);
      for (var i = 0; i < parts.length; i++) {
        if (parts[i].type === "timeZoneName") return parts[i].value;
      }
    } catch (e) { /* unknown zone: keep the server's label */ }
    return "";
  }

  // The browser's locale decides the clock ("9:30 AM" for en-US) and the date order
  // ("Wednesday, March 3, 2027"); 24-hour, day-first locales keep the server's text.
  // Every <time> keeps its UTC instant in its datetime attribute.
  function hour12() {
    try {
      var cycle = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" })
        .resolvedOptions().hourCycle || "";
      return cycle === "h12" || cycle === "h11";
    } catch (e) { return false; }
  }

  function monthFirst() {
    try {
      var parts = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long" })
        .formatToParts(new Date(Date.UTC(2027, 0, 15, 12)));
      for (var i = 0; i < parts.length; i++) {
        if (parts[i].type === "day") return false;
        if (parts[i].type === "month") return true;
      }
    } catch (e) { /* keep the server's order */ }
    return false;
  }

  var LONG_DATE = { weekday: "long", year: "numeric", month: "long", day: "numeric" };

  function localTimes(zone) {
    var h12 = hour12();
    var mf = monthFirst();
    if (!h12 && !mf) return;
    var clock = { timeZone: zone, hour: "2-digit", minute: "2-digit", hour12: h12 };
    document.querySelectorAll(".range[data-end] > time[datetime]").forEach(function (el) {
      var range = el.parentNode;
      var start = new Date(el.getAttribute("datetime"));
      var end = new Date(range.getAttribute("data-end"));
      var text = start.toLocaleTimeString(undefined, clock) + "–" +
        end.toLocaleTimeString(undefined, clock);
      if (range.hasAttribute("data-dated")) {
        text = start.toLocaleDateString(undefined,
          Object.assign({ timeZone: zone }, LONG_DATE)) + ", " + text;
      }
      el.textContent = text;
    });
    if (!mf) return;
    document.querySelectorAll(".date[data-date]").forEach(function (el) {
      var d = el.getAttribute("data-date").split("-");
      var at = new Date(Date.UTC(+d[0], +d[1] - 1, +d[2], 12));
      el.textContent = at.toLocaleDateString(undefined,
        Object.assign({ timeZone: "UTC" }, LONG_DATE));
    });
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
      var offset = label.getAttribute("data-offset") || "";
      var name = longName(shown, at, offset ? "long" : "longGeneric");
      var target = document.getElementById("zone-name");
      if (name && target && name !== shown) {
        target.textContent = name + (offset ? ", " + offset : "") + " (" + shown + ")";
      }
      localTimes(shown);
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
