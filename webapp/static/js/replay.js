/* The auditor's replay: step through a case's re-execution on its own diagram (bpmn-js, served from
   /vendor). The server renders every step's panel (all but the selected one hidden) with the ids to
   highlight in data attributes; this script shows one step at a time without reloading, marks the
   diagram (tokens, just completed, done before), and keeps ?step=N in the address bar. Without
   JavaScript the page works the same through ?step=N links, except for the diagram.
   No inline script: the CSP allows scripts from this site only. */
(function () {
  "use strict";
  var root = document.getElementById("replay");
  if (!root) { return; }
  var panels = Array.prototype.slice.call(root.querySelectorAll(".replay-step"));
  var total = panels.length;
  if (!total) { return; }
  var rows = Array.prototype.slice.call(root.querySelectorAll("#timeline li"));
  var prev = document.getElementById("replay-prev");
  var next = document.getElementById("replay-next");
  var position = root.querySelector("[data-position]");
  var navTitle = document.getElementById("replay-nav-title");
  var timeline = document.getElementById("timeline");
  var container = document.getElementById("replay-diagram");
  var MARKERS = { active: "replay-token", completed: "replay-just-completed", done: "replay-done" };
  var current = parseInt(root.getAttribute("data-current"), 10) || 1;
  var canvas = null;
  var overlays = null;
  var marked = [];  // [id, marker] pairs currently on the diagram

  function ids(panel, name) {
    return (panel.getAttribute("data-" + name) || "").split(" ").filter(Boolean);
  }

  function setLink(link, step) {
    if (!link) { return; }
    var enabled = step >= 1 && step <= total;
    link.classList.toggle("is-disabled", !enabled);
    if (enabled) {
      link.setAttribute("href", "?step=" + step);
      link.removeAttribute("aria-disabled");
    } else {
      link.removeAttribute("href");
      link.setAttribute("aria-disabled", "true");
    }
  }

  function mark() {
    if (!canvas) { return; }
    marked.forEach(function (pair) { canvas.removeMarker(pair[0], pair[1]); });
    marked = [];
    overlays.remove({ type: "replay-token" });
    var panel = panels[current - 1];
    ["done", "completed", "active"].forEach(function (name) {
      ids(panel, name).forEach(function (id) {
        try {
          canvas.addMarker(id, MARKERS[name]);
        } catch (ignored) { return; }  // an element of a called process: not on this diagram
        marked.push([id, MARKERS[name]]);
        if (name === "active") {
          var badge = document.createElement("span");
          badge.className = "replay-token-badge";
          badge.setAttribute("title", "令牌");
          overlays.add(id, "replay-token", { position: { top: -8, left: -8 }, html: badge });
        }
      });
    });
    container.setAttribute("data-step", String(current));
  }

  function show(step, remember) {
    step = Math.min(Math.max(step, 1), total);
    current = step;
    panels.forEach(function (panel, index) { panel.hidden = index !== step - 1; });
    rows.forEach(function (row, index) {
      var on = index === step - 1;
      row.classList.toggle("is-current", on);
      var link = row.querySelector("a");
      if (on) { link.setAttribute("aria-current", "step"); } else { link.removeAttribute("aria-current"); }
    });
    var row = rows[step - 1];
    if (row && timeline) {  // keep the current row in view inside the timeline's own scroll box
      var top = row.offsetTop - timeline.offsetTop;
      if (top < timeline.scrollTop || top + row.offsetHeight > timeline.scrollTop + timeline.clientHeight) {
        timeline.scrollTop = top - timeline.clientHeight / 3;
      }
    }
    setLink(prev, step - 1);
    setLink(next, step + 1);
    if (position) { position.textContent = String(step); }
    if (navTitle) { navTitle.textContent = panels[step - 1].getAttribute("data-title"); }
    root.setAttribute("data-current", String(step));
    if (remember && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "?step=" + step);
    }
    mark();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-step-link], #replay-prev, #replay-next") : null;
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    event.preventDefault();
    if (link === prev) { show(current - 1, true); } else if (link === next) { show(current + 1, true); } else {
      show(parseInt(link.getAttribute("data-step-link"), 10), true);
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) { return; }
    if (event.key === "ArrowLeft") { show(current - 1, true); event.preventDefault(); }
    if (event.key === "ArrowRight") { show(current + 1, true); event.preventDefault(); }
  });

  show(current, false);

  if (!container || !window.BpmnJS) { return; }
  window.OnewindowDiagram.draw(container, function (viewer) {
    canvas = viewer.get("canvas");
    overlays = viewer.get("overlays");
    mark();
  }, "各步骤高亮的环节见“流程图标记”。");
}());
