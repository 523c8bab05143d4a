/* The task page, enhanced (everything works without this file): a decision's conditional fields show only
   for the choice that needs them, and are required while shown. Without JavaScript every field shows,
   each saying which choice needs it. */
(function () {
  "use strict";
  function refresh(form) {
    var blocks = form.querySelectorAll(".conditional[data-when-field]");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      var chosen = form.querySelector("input[name='" + block.getAttribute("data-when-field") + "']:checked");
      var values = block.getAttribute("data-when").split("|");
      var show = chosen !== null && values.indexOf(chosen.value) !== -1;
      // A field with a server-side error stays visible, so its message is never hidden.
      block.hidden = !show && !block.querySelector(".has-error");
      block.classList.toggle("is-needed", show);
      // What the chosen action needs is required in the browser too (the server checks it either way).
      var controls = block.querySelectorAll("input[type=text], textarea:not([name$='__more']), select");
      for (var j = 0; j < controls.length; j++) { controls[j].required = show; }
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
