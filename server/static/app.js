// The pages' only behaviour, kept out of the HTML so the Content-Security-Policy can forbid
// inline script (server/security_headers.py).  Everything works without it except "In" (print)
// and the header checkbox that ticks every row of a list (the list then offers a button
// acting on the whole page instead).
"use strict";
document.addEventListener("click", (event) => {
  const trigger = event.target.closest("[data-print]");
  if (trigger) {
    event.preventDefault();
    window.print();
  }
});

// <input type="checkbox" data-select-all="NAME" hidden>: shown only when this script runs;
// ticks or clears every checkbox called NAME in its form, and reflects them (all, some, none).
function rowBoxes(master) {
  const scope = master.form || document;
  return Array.from(scope.querySelectorAll('input[type="checkbox"]')).filter(
    (box) => box.name === master.dataset.selectAll,
  );
}

function reflect(master) {
  const boxes = rowBoxes(master);
  const ticked = boxes.filter((box) => box.checked).length;
  master.checked = boxes.length > 0 && ticked === boxes.length;
  master.indeterminate = ticked > 0 && ticked < boxes.length;
}

function masters() {
  return Array.from(document.querySelectorAll("input[data-select-all]"));
}

document.addEventListener("DOMContentLoaded", () => {
  for (const master of masters()) {
    master.hidden = false;
    reflect(master);
  }
});

document.addEventListener("change", (event) => {
  const target = event.target;
  if (!(target instanceof HTMLInputElement) || target.type !== "checkbox") {
    return;
  }
  if (target.dataset.selectAll) {
    for (const box of rowBoxes(target)) {
      box.checked = target.checked;
    }
    target.indeterminate = false;
    return;
  }
  for (const master of masters()) {
    if (master.dataset.selectAll === target.name) {
      reflect(master);
    }
  }
});
