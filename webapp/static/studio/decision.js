/* The studio's decision-table page: dmn-js (served from /vendor, never a CDN) opens one .dmn file of the
   draft at its decision table; the analyst adds rows and changes cells, saves (the server checks the file
   as DMN and answers with the draft's lint report, the same rules as `onewindow lint`), and goes back to
   the diagram to deploy. */
(function () {
  "use strict";
  var container = document.getElementById("dmn-canvas");
  if (!container || !window.DmnJS) { return; }
  var data = function (name) { return container.getAttribute("data-" + name); };
  var csrf = data("csrf");
  var saveStatus = document.getElementById("save-status");
  var findingsList = document.getElementById("findings");
  var summary = document.getElementById("lint-summary");
  var dirty = false;

  var chinese = window.OnewindowDmnTranslate ? [window.OnewindowDmnTranslate] : [];
  var modeler = new window.DmnJS({ container: container, decisionTable: { additionalModules: chinese },
                                   drd: { additionalModules: chinese } });

  function setStatus(text, kind) { saveStatus.textContent = text; saveStatus.className = kind || "muted"; }

  function showFindings(list) {
    window.OnewindowFindings.show(list || [], findingsList, summary, null);
  }

  function save() {
    return window.OnewindowStudio.saveXml(modeler, data("save-url"), csrf, setStatus).then(function (answer) {
      dirty = false;
      showFindings(answer.findings);
      return answer;
    });
  }

  function listenForChanges() {
    var viewer = modeler.getActiveViewer();
    if (!viewer || viewer.__onewindowListening) { return; }
    viewer.__onewindowListening = true;
    viewer.on("commandStack.changed", function () { dirty = true; setStatus("有未保存的修改", "lint-warn"); });
  }

  /* Open the decision the page names (else the first decision table): the table is what analysts edit. */
  function openTable() {
    var wanted = data("decision");
    var tables = modeler.getViews().filter(function (view) { return view.type === "decisionTable"; });
    var view = tables.filter(function (v) { return v.element.id === wanted; })[0] || tables[0];
    return view ? modeler.open(view) : Promise.resolve();
  }

  document.getElementById("save-decision").addEventListener("click", function () { save().catch(function () {}); });
  Array.prototype.forEach.call(document.querySelectorAll("a[data-saves-first]"), function (link) {
    link.addEventListener("click", function (event) {
      if (!dirty) { return; }
      event.preventDefault();
      save().then(function () { window.location.assign(link.href); }).catch(function () {});
    });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
  modeler.on("views.changed", listenForChanges);

  fetch(data("src"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(openTable)
    .then(function () {
      listenForChanges();
      showFindings(JSON.parse(data("findings") || "[]"));
      container.setAttribute("data-rendered", "1");
      setStatus("已保存", "muted");
    })
    .catch(function (error) {
      container.textContent = "决策表加载失败（" + error.message + "）；可下载 XML 检查。";
      container.classList.add("diagram-failed");
    });
}());
