/* The form editor (also the item.json editor, which has no preview): JSON Schema and UI schema as
   text, checked and previewed by the server a moment after each keystroke. The preview is rendered
   by the desk's own renderer (webapp/formrender.py and the _form.html macros), so it is exactly what
   the clerk will see. Saving sends each file to the draft, where the server checks it again. */
(function () {
  "use strict";
  var root = document.getElementById("form-editor");
  if (!root) { return; }
  var schemaText = document.getElementById("schema-text");
  var uiText = document.getElementById("ui-text");
  var preview = document.getElementById("form-preview");
  var problem = document.getElementById("form-problem");
  var status = document.getElementById("form-status");
  var csrf = root.getAttribute("data-csrf");
  var timer = null;
  var sequence = 0;

  function post(url, body) { return window.OnewindowStudio.postJson(url, body, csrf); }

  function showProblem(message) {
    problem.hidden = !message;
    problem.textContent = message || "";
  }

  function refresh() {
    if (!preview) { return; }  /* item.json: checked when saved, nothing to preview */
    var mine = ++sequence;
    post(root.getAttribute("data-preview-url"), { schema: schemaText.value, ui_schema: uiText ? uiText.value : "" })
      .then(function (answer) {
        if (mine !== sequence) { return; }
        if (answer.error) { showProblem(answer.message); return; }
        showProblem("");
        preview.innerHTML = answer.html;  /* server-rendered by our own templates, autoescaped */
      });
  }

  function changed() {
    status.textContent = "有未保存的修改";
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  }

  function save() {
    status.textContent = "正在保存……";
    var saves = [post(root.getAttribute("data-save-url"), { text: schemaText.value })];
    if (uiText && root.getAttribute("data-ui-save-url")) {
      saves.push(post(root.getAttribute("data-ui-save-url"), { text: uiText.value }));
    }
    Promise.all(saves).then(function (answers) {
      var failed = answers.filter(function (a) { return a.error; })[0];
      if (failed) { showProblem("未保存：" + failed.message); status.textContent = "未保存"; return; }
      showProblem("");
      status.textContent = "已保存";
    });
  }

  schemaText.addEventListener("input", changed);
  if (uiText) { uiText.addEventListener("input", changed); }
  document.getElementById("save-form").addEventListener("click", save);
  refresh();
}());
