// panelslot "none of these work" grid: press on a box and drag across the row or the
// column to tick (or untick) every box passed over. A plain click still toggles one box;
// the grid works without this file.
(function () {
  "use strict";

  function boxOf(target) {
    if (!target || !target.closest) return null;
    var cell = target.closest("#range-grid td");
    return cell ? cell.querySelector("input[type=checkbox]") : null;
  }

  function setup() {
    var grid = document.getElementById("range-grid");
    if (!grid) return;
    var dragging = false;
    var mode = true;
    var first = null;
    var moved = false; // the last press dragged over other boxes

    grid.addEventListener("mousedown", function (ev) {
      var box = boxOf(ev.target);
      if (!box || ev.button !== 0) return;
      dragging = true;
      moved = false;
      first = box;
      mode = !box.checked; // the state the first box takes; the others follow it
      if (ev.target !== box) ev.preventDefault(); // no text selection while dragging
    });
    grid.addEventListener("mouseover", function (ev) {
      if (!dragging) return;
      var box = boxOf(ev.target);
      if (box && box !== first) { box.checked = mode; moved = true; }
      if (first && first.checked !== mode && box !== first) first.checked = mode;
    });
    document.addEventListener("mouseup", function () { dragging = false; first = null; });
    // a click on the box's cell (not the box itself) toggles the box
    grid.addEventListener("click", function (ev) {
      var box = boxOf(ev.target);
      if (moved && ev.target === box) { ev.preventDefault(); return; } // the drag set it
      if (box && ev.target !== box && ev.target.tagName === "TD") box.checked = !box.checked;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
