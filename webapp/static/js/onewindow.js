/* Progressive enhancement only: every page works without this file.
   A form marked data-once disables its submit buttons after the first submit, so a double click
   sends one request (the engine's stale-task check answers any second one that slips through). */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-once")) { return; }
    if (form.getAttribute("data-submitted") === "1") { event.preventDefault(); return; }
    form.setAttribute("data-submitted", "1");
    // Disable after this event finishes, so the browser still sends the clicked button's value.
    window.setTimeout(function () {
      var buttons = form.querySelectorAll("button[type=submit], input[type=submit]");
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].disabled = true;
        buttons[i].classList.add("is-busy");
      }
    }, 0);
  }, false);
  // A page restored from the back/forward cache must be usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    var forms = document.querySelectorAll("form[data-submitted]");
    for (var i = 0; i < forms.length; i++) {
      forms[i].removeAttribute("data-submitted");
      var buttons = forms[i].querySelectorAll("button[disabled].is-busy");
      for (var j = 0; j < buttons.length; j++) { buttons[j].disabled = false; buttons[j].classList.remove("is-busy"); }
    }
  });
}());
