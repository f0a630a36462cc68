// panelslot zone picker: suggestions as one types, for every input[data-zone-suggest].
// Without this file the same field still works: the server matches what was typed.
(function () {
  "use strict";

  function localTime(m) {
    try {
      return new Date(m.now).toLocaleTimeString(undefined,
        { timeZone: m.zone, hour: "2-digit", minute: "2-digit" });
    } catch (e) { return m.local; }
  }

  function choose(input, zone) {
    input.value = zone;
    input.setAttribute("data-zone-exact", zone);
    var form = input.form;
    if (form && form.hasAttribute("data-zone-autosubmit")) form.submit();
  }

  function render(input, box, matches) {
    box.textContent = "";
    matches.forEach(function (m) {
      var li = document.createElement("li");
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "secondary zone-choice";
      btn.setAttribute("data-zone", m.zone);
      btn.textContent = m.place + " · " + m.name + " · " + m.zone + " · now " + localTime(m);
      btn.addEventListener("click", function () { choose(input, m.zone); });
      li.appendChild(btn);
      box.appendChild(li);
    });
  }

  function setup(input) {
    var url = input.getAttribute("data-zone-suggest");
    var box = document.createElement("ul");
    box.className = "zone-suggest";
    box.setAttribute("aria-live", "polite");
    box.id = (input.id || "zone") + "-suggestions";
    (input.closest(".zone-row") || input).insertAdjacentElement("afterend", box);
    var timer = null;
    var asked = "";

    function ask() {
      var q = input.value.trim();
      if (q.length < 2 || q === asked) return;
      asked = q;
      fetch(url + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || input.value.trim() !== q) return;
          input.setAttribute("data-zone-exact", data.exact || "");
          render(input, box, data.matches || []);
        })
        .catch(function () { /* the server still matches on submit */ });
    }

    input.addEventListener("input", function () {
      input.removeAttribute("data-zone-exact");
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 150);
    });
    if (input.form) {
      input.form.addEventListener("submit", function () {
        var exact = input.getAttribute("data-zone-exact");
        if (exact) input.value = exact;
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-zone-suggest]").forEach(setup);
  });
})();
