/* The case's own diagram version, drawn by the bpmn-js viewer served from /vendor (no CDN).
   Open tasks are outlined red, completed steps green. Without JavaScript the history table below
   tells the same story, so this is an enhancement only. */
(function () {
  "use strict";
  var container = document.getElementById("diagram");
  if (!container || !window.BpmnJS) { return; }
  var viewer = new window.BpmnJS({ container: container });

  function mark(canvas, ids, marker) {
    ids.split(" ").filter(Boolean).forEach(function (id) {
      try { canvas.addMarker(id, marker); } catch (ignored) { /* element lives in a called process */ }
    });
  }

  fetch(container.getAttribute("data-src"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      canvas.zoom("fit-viewport", "auto");
      mark(canvas, container.getAttribute("data-done") || "", "is-done");
      mark(canvas, container.getAttribute("data-open") || "", "is-open");
      container.setAttribute("data-rendered", "1");
    })
    .catch(function (error) {
      container.textContent = "流程图加载失败（" + error.message + "）；办理过程见下表。";
      container.classList.add("diagram-failed");
    });
}());
