// The pages' only behaviour, kept out of the HTML so the Content-Security-Policy can forbid
// inline script (server/security_headers.py).  Everything works without it except "In" (print).
"use strict";
document.addEventListener("click", (event) => {
  const trigger = event.target.closest("[data-print]");
  if (trigger) {
    event.preventDefault();
    window.print();
  }
});
