/* 版本差异: draw a version's diagram with bpmn-js (from /vendor) and mark what changed — added green,
   changed amber, removed red (on the older version's diagram). The ids come from the server in data
   attributes; clicking a marked element picks its row in the table of changes. Without JavaScript
   the table alone says everything. No inline script: the CSP allows scripts from this site only. */
(function () {
  "use strict";
  var MARKERS = { added: "sv-added", changed: "sv-changed", removed: "sv-removed" };

  function ids(container, name) {
    return (container.getAttribute("data-" + name) || "").split(" ").filter(Boolean);
  }

  function pick(id) {
    var row = document.getElementById("el-" + id);
    if (!row) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("tr.is-picked"), function (r) { r.classList.remove("is-picked"); });
    row.classList.add("is-picked");
    row.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  function draw(container) {
    window.OnewindowDiagram.draw(container, function (viewer) {
      var canvas = viewer.get("canvas");
      var marked = 0;
      Object.keys(MARKERS).forEach(function (name) {
        ids(container, name).forEach(function (id) {
          try { canvas.addMarker(id, MARKERS[name]); marked += 1; } catch (ignored) { /* not drawn here */ }
        });
      });
      viewer.get("eventBus").on("element.click", function (event) { pick(event.element.id); });
      container.setAttribute("data-marked", String(marked));
    }, "变更见下方表格。");
  }

  if (!window.BpmnJS) { return; }
  Array.prototype.forEach.call(document.querySelectorAll(".sv-diagram[data-src]"), draw);
}());
