/* The case's own diagram version, drawn by the bpmn-js viewer served from /vendor (no CDN).
   Open tasks are outlined red, completed steps green. Without JavaScript the history table below
   tells the same story, so this is an enhancement only. */
(function () {
  "use strict";
  var container = document.getElementById("diagram");
  if (!container || !window.BpmnJS) { return; }
  function mark(canvas, ids, marker) {
    ids.split(" ").filter(Boolean).forEach(function (id) {
      try { canvas.addMarker(id, marker); } catch (ignored) { /* element lives in a called process */ }
    });
  }

  window.OnewindowDiagram.draw(container, function (viewer) {
    var canvas = viewer.get("canvas");
    mark(canvas, container.getAttribute("data-done") || "", "is-done");
    mark(canvas, container.getAttribute("data-open") || "", "is-open");
  }, "办理过程见下表。");
}());
