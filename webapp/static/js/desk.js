/* The task page, enhanced (everything works without this file): a decision's conditional fields show only
   for the choice they belong to, are required while shown when that choice requires them, and are disabled
   while hidden, so the browser does not send them (the engine drops them anyway: engine/diagrams/branches.py).
   Without JavaScript every field shows, each saying which choice it belongs to. */
(function () {
  "use strict";
  var CONTROLS = "input, textarea, select";
  var REQUIRED = "input[type=text], textarea:not([name$='__more']), select";

  function setEnabled(block, on) {
    var controls = block.querySelectorAll(CONTROLS);
    for (var j = 0; j < controls.length; j++) {
      var control = controls[j];
      if (!on && !control.disabled) {
        control.disabled = true;
        control.setAttribute("data-hidden-off", "");
      } else if (on && control.hasAttribute("data-hidden-off")) {
        control.disabled = false;  // only what this script turned off: a locked form stays locked
        control.removeAttribute("data-hidden-off");
      }
    }
  }

  function refresh(form) {
    var blocks = form.querySelectorAll(".conditional[data-when-field]");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      var chosen = form.querySelector("input[name='" + block.getAttribute("data-when-field") + "']:checked");
      var values = block.getAttribute("data-when").split("|");
      var show = chosen !== null && values.indexOf(chosen.value) !== -1;
      block.hidden = !show;
      block.classList.toggle("is-needed", show);
      setEnabled(block, show);
      // What the chosen action requires is required in the browser too (the server checks it either way).
      var needed = show && block.getAttribute("data-required") === "true";
      var controls = block.querySelectorAll(REQUIRED);
      for (var j = 0; j < controls.length; j++) { controls[j].required = needed; }
    }
  }

  var forms = document.querySelectorAll("form.task-form");
  for (var i = 0; i < forms.length; i++) {
    (function (form) {
      form.addEventListener("change", function (event) {
        if (event.target && event.target.type === "radio") { refresh(form); }
      });
      form.classList.add("js-conditional");
      refresh(form);
    }(forms[i]));
  }
}());
