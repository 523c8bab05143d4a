/* The lint findings list the studio's pages share (the diagram and the decision table): a summary line
   and one list item per finding; a finding whose element the page can show is a button (inside its list
   item, so the list stays a list) that selects it. */
(function () {
  "use strict";

  function text(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    node.textContent = content;
    return node;
  }

  window.OnewindowFindings = {
    /* Show `findings` in `list` and `summary`; `selectable(finding)` gives a function that shows the
       finding's element, or null. Returns the numbers of errors and warnings. */
    show: function (findings, list, summary, selectable) {
      list.textContent = "";
      var errors = findings.filter(function (f) { return f.severity === "error"; }).length;
      var warnings = findings.length - errors;
      summary.textContent = findings.length ? (errors + " 个错误，" + warnings + " 个警告") : "没有发现问题";
      summary.className = errors ? "lint-bad" : (warnings ? "lint-warn" : "lint-ok");
      findings.forEach(function (finding) {
        var select = selectable ? selectable(finding) : null;
        var item = document.createElement("li");
        item.className = "finding finding-" + finding.severity + (select ? " finding-linked" : "");
        item.setAttribute("data-element-id", finding.element_id || "");
        var body = item;
        if (select) {
          body = document.createElement("button");
          body.type = "button";
          body.className = "finding-link";
          body.addEventListener("click", select);
          item.appendChild(body);
        }
        body.appendChild(text("strong", "", finding.severity === "error" ? "错误" : "警告"));
        var where = [finding.file, finding.element_id].filter(Boolean).join(":");
        if (where) { body.appendChild(text("span", "mono", " " + where + " ")); }
        body.appendChild(document.createTextNode(finding.message + (finding.fix ? " — " + finding.fix : "")));
        list.appendChild(item);
      });
      return { errors: errors, warnings: warnings };
    }
  };
}());
