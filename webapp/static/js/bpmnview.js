/* One way to draw a stored diagram: fetch the XML its container names (data-src), import it into a
   bpmn-js viewer, fit it, then let the page mark it. A failure leaves a message that says where the
   page tells the same story without the picture (`fallback`). */
(function () {
  "use strict";
  window.OnewindowDiagram = {
    draw: function (container, onDrawn, fallback) {
      var viewer = new window.BpmnJS({ container: container });
      return fetch(container.getAttribute("data-src"), { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (xml) { return viewer.importXML(xml); })
        .then(function () {
          viewer.get("canvas").zoom("fit-viewport", "auto");
          onDrawn(viewer);
          container.setAttribute("data-rendered", "1");
        })
        .catch(function (error) {
          container.textContent = "流程图加载失败（" + error.message + "）；" + fallback;
          container.classList.add("diagram-failed");
        });
    }
  };
}());
