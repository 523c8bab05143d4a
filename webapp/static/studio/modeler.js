/* The studio's modeler page: bpmn-js (served from /vendor, never a CDN) with our properties panel,
   live lint, save, and deploy. Every change is linted on the server a moment after it is made
   (the same rules as `onewindow lint`), without saving; the findings are listed beside the diagram,
   erroneous elements are outlined, and clicking a finding selects its element. */
(function () {
  "use strict";
  var container = document.getElementById("canvas");
  if (!container || !window.BpmnJS) { return; }
  var data = function (name) { return container.getAttribute("data-" + name); };
  var csrf = data("csrf");
  var diagramName = data("diagram");

  var modeler = new window.BpmnJS({
    container: container,
    moddleExtensions: { spiffworkflow: window.OnewindowSpiffModdle }
  });
  var saveStatus = document.getElementById("save-status");
  var findingsList = document.getElementById("findings");
  var summary = document.getElementById("lint-summary");
  var deployButton = document.getElementById("deploy");
  var ackRow = document.getElementById("ack-row");
  var ack = document.getElementById("ack-warnings");
  var deployResult = document.getElementById("deploy-result");
  var dirty = false;
  var marked = [];
  var lintTimer = null;
  var lintSequence = 0;
  var findings = [];

  function post(url, body) { return window.OnewindowStudio.postJson(url, body, csrf); }

  function setStatus(text, kind) {
    saveStatus.textContent = text;
    saveStatus.className = kind || "muted";
  }

  /* Fit the diagram to the canvas, leaving the palette's strip on the left free so the pool's and
     lanes' names stay readable. */
  function fitBesidePalette(canvas) {
    canvas.zoom("fit-viewport", "auto");
    var box = canvas.viewbox();
    var palette = 130 / box.scale;
    canvas.viewbox({ x: box.x - palette, y: box.y - 10 / box.scale, width: box.width + palette,
                     height: box.height + 20 / box.scale });
  }

  /* ---- lint findings, on the diagram and in the list ---- */

  function showFindings(list) {
    findings = list || [];
    var canvas = modeler.get("canvas");
    var registry = modeler.get("elementRegistry");
    marked.forEach(function (m) { canvas.removeMarker(m[0], m[1]); });
    marked = [];
    var onDiagram = function (finding) {
      var element = finding.element_id ? registry.get(finding.element_id) : null;
      return element && (!finding.file || finding.file === diagramName) ? element : null;
    };
    findings.forEach(function (finding) {
      var element = onDiagram(finding);
      if (element) {
        var marker = finding.severity === "error" ? "lint-error" : "lint-warning";
        canvas.addMarker(element, marker);
        marked.push([element, marker]);
      }
    });
    var counts = window.OnewindowFindings.show(findings, findingsList, summary, function (finding) {
      var element = finding.element_id ? registry.get(finding.element_id) : null;
      return element ? function () { modeler.get("selection").select(element); canvas.scrollToElement(element); } : null;
    });
    deployButton.disabled = counts.errors > 0;
    deployButton.title = counts.errors ? "有错误，不能部署；请先按检查结果修正。" : "";
    ackRow.hidden = !(counts.warnings && !counts.errors);
  }

  function lintNow() {
    var sequence = ++lintSequence;
    return modeler.saveXML({ format: true }).then(function (result) {
      return post(data("lint-url"), { name: diagramName, text: result.xml });
    }).then(function (answer) {
      if (sequence !== lintSequence) { return; }  /* a newer edit is being checked */
      if (answer.findings) { showFindings(answer.findings); } else {
        showFindings([{ severity: "error", message: answer.message || "检查失败", fix: "", element_id: null }]);
      }
    });
  }

  /* ---- save and deploy ---- */

  function save() {
    return window.OnewindowStudio.saveXml(modeler, data("save-url"), csrf, setStatus).then(function (answer) {
      dirty = false;
      showFindings(answer.findings);
      return answer;
    });
  }

  function deploy() {
    deployResult.textContent = "";
    deployResult.className = "";
    deployButton.disabled = true;
    (dirty ? save() : Promise.resolve()).then(function () {
      return post(data("deploy-url"), { acknowledge_warnings: ack.checked,
                                        approval: document.getElementById("approval").value });
    }).then(function (answer) {
      if (answer.error) {
        deployResult.className = "notice notice-error deploy-refused";
        deployResult.textContent = "未部署：" + answer.message;
        if (answer.findings) { showFindings(answer.findings); }
        deployButton.disabled = false;
        return;
      }
      deployResult.className = "notice notice-success";
      deployResult.textContent = answer.message;
      window.location.assign(answer.next);
    }).catch(function (error) {
      deployResult.className = "notice notice-error deploy-refused";
      deployResult.textContent = "未部署：" + error.message;
      deployButton.disabled = false;
    });
  }

  document.getElementById("save-draft").addEventListener("click", function () { save().catch(function () {}); });
  deployButton.addEventListener("click", deploy);
  /* Links that leave for (or download) the saved draft save the diagram first, so nothing is lost or stale. */
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

  modeler.on("commandStack.changed", function () {
    dirty = true;
    setStatus("有未保存的修改", "lint-warn");
    window.clearTimeout(lintTimer);
    lintTimer = window.setTimeout(function () { lintNow().catch(function () {}); }, 500);
  });

  var panel = new window.OnewindowPanel(modeler, document.getElementById("properties"), {
    lanes: JSON.parse(data("lanes") || "[]"),
    forms: JSON.parse(data("forms") || "[]"),
    statuses: JSON.parse(data("statuses") || "{}"),
    onEditForm: function (schema, ui) {
      var url = data("form-url").replace("__NAME__", encodeURIComponent(schema)) + (ui ? "?ui=" + encodeURIComponent(ui) : "");
      (dirty ? save() : Promise.resolve()).then(function () { window.location.assign(url); }).catch(function () {});
    }
  });

  fetch(data("src"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      fitBesidePalette(modeler.get("canvas"));
      showFindings(JSON.parse(data("findings") || "[]"));
      panel.show(null);
      container.setAttribute("data-rendered", "1");
      dirty = false;
      setStatus("已保存", "muted");
    })
    .catch(function (error) {
      container.textContent = "流程图加载失败（" + error.message + "）；可下载 XML 检查，或上传一个 .bpmn 文件替换。";
      container.classList.add("diagram-failed");
    });
}());
