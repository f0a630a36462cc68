// panelslot: the preview's send bar says how many options are ticked. Without this file
// the bar is a plain "Send ticked options" button.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("offer-form");
  var out = document.getElementById("ticked-count");
  if (!form || !out) return;
  function update() {
    var n = form.querySelectorAll('input[name="options"]:checked').length;
    out.textContent = n + " option(s) ticked";
    out.hidden = false;
  }
  form.addEventListener("change", update);
  update();
});
