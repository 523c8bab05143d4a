// Print buttons (a receipt, a notice): no inline script, since the CSP allows scripts from this site only.
// Without this file the button does nothing; the browser's own print (Ctrl+P) prints the same page.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });
  // "打印" beside a notice on the case page opens it with #print: the print dialog comes at once
  if (window.location.hash === "#print" && document.querySelector("[data-print]")) window.print();
});
