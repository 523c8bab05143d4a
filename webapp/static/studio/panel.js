/* The studio's properties panel: our modeling conventions (docs/modeling.md) as fields, written
   through bpmn-js's own modeling API (updateLabel / updateProperties / updateModdleProperties), so
   every edit is one undoable command and lands in the XML exactly as a hand-written diagram would
   have it. Plain DOM, no framework: the panel edits only what our engine reads — lane names,
   a user task's form files, timers, clock marks, step limits, notifications, case status,
   gateway conditions and default flows, scripts. Everything else is drawn on the canvas. */
(function () {
  "use strict";

  var SPIFF_PROPERTIES = "spiffworkflow:Properties";
  var TIMER_KINDS = [["timeDuration", "时长（timeDuration）"], ["timeDate", "时刻（timeDate）"],
                     ["timeCycle", "循环（timeCycle）"]];
  var TYPE_NAMES = {
    "bpmn:UserTask": "用户任务", "bpmn:ScriptTask": "脚本任务", "bpmn:CallActivity": "调用活动",
    "bpmn:ExclusiveGateway": "排他网关", "bpmn:ParallelGateway": "并行网关", "bpmn:InclusiveGateway": "包容网关",
    "bpmn:StartEvent": "开始事件", "bpmn:EndEvent": "结束事件", "bpmn:BoundaryEvent": "边界事件",
    "bpmn:IntermediateCatchEvent": "中间捕获事件", "bpmn:IntermediateThrowEvent": "中间抛出事件",
    "bpmn:SequenceFlow": "连线", "bpmn:Lane": "泳道", "bpmn:Participant": "池", "bpmn:Task": "无类型任务",
    "bpmn:ManualTask": "人工任务", "bpmn:BusinessRuleTask": "业务规则任务", "bpmn:ServiceTask": "服务任务", "bpmn:SubProcess": "子流程",
    "bpmn:Process": "流程", "bpmn:Collaboration": "协作图"
  };
  var HELP = {
    lane: "带【】的名称是相对办件的角色：【受理窗口】【镇中心】【区窗口】【承办】【审核】【批准】，" +
          "按办件受理地在组织架构中确定办理组；其他名称就是办理组的编码。",
    form: "forms/ 中的 JSON Schema 文件名；点“编辑表单”可修改并预览。",
    timer: "Python 表达式：工作日写 workdays(2)（不加引号）；ISO 值须加引号，" +
           "如 \"P3D\"、\"2026-06-30T17:00:00+08:00\"、\"R3/PT4H\"。",
    clock: "start：此环节完成时开始计时（受理）；pause：此环节办理期间暂停计时（补正、公示、听证等）。",
    stepLimitDays: "本环节自身的时限，工作日，整数。",
    notify: "此元素完成时通知谁，逗号分隔：group、chief、supervisor 或 group:<编码>。",
    caseStatus: "此元素完成时办件状态变为……（结果写在结束事件上）。",
    condition: "基于办件数据的 Python 表达式，如 acceptance == \"受理\"。",
    script: "受限 Python：只用办件数据，不能 import，不能用以“_”开头的名字。",
    instructions: "办理人在任务页上读到的说明：要核对或完成什么。人工任务没有表单，确认即完成。",
    decision: "DMN 决策的 id（事项文件夹中 .dmn 文件里的 decision id），其输出写入办件数据。"
  };

  function is(bo, type) { return Boolean(bo && bo.$instanceOf && bo.$instanceOf(type)); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else if (attrs[key] !== undefined) { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function Panel(modeler, root, options) {
    this.modeler = modeler;
    this.root = root;
    this.options = options || {};
    this.modeling = modeler.get("modeling");
    this.factory = modeler.get("bpmnFactory");
    this.registry = modeler.get("elementRegistry");
    this.current = null;
    var self = this;
    modeler.on("selection.changed", function (event) { self.show(event.newSelection[0] || null); });
    modeler.on("commandStack.changed", function () {
      if (self.current && !self.registry.get(self.current.id)) { self.current = null; }
      self.show(self.current);
    });
    this.datalist("lane-choices", this.options.lanes || []);
    this.datalist("form-choices", this.options.forms || []);
  }

  Panel.prototype.datalist = function (id, values) {
    var list = el("datalist", { id: id });
    values.forEach(function (v) { list.appendChild(el("option", { value: v })); });
    document.body.appendChild(list);
  };

  /* Render the fields of `element` (or a hint), keeping the focused field focused across re-renders. */
  Panel.prototype.show = function (element) {
    var focused = document.activeElement && this.root.contains(document.activeElement) ? document.activeElement.id : null;
    this.current = element;
    this.root.textContent = "";
    if (!element || !element.businessObject || element.type === "label") {
      if (element && element.labelTarget) { return this.show(element.labelTarget); }
      this.root.appendChild(el("p", { "class": "muted", text: "在图中选择一个元素以编辑其属性。" }));
      this.root.removeAttribute("data-element-id");
      return;
    }
    var bo = element.businessObject;
    this.root.setAttribute("data-element-id", bo.id);
    this.root.appendChild(el("h2", { text: TYPE_NAMES[bo.$type] || bo.$type }));
    this.root.appendChild(el("p", { "class": "mono muted prop-id", text: bo.id }));
    this.sections(element, bo).forEach(function (node) { if (node) { this.root.appendChild(node); } }, this);
    if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
  };

  Panel.prototype.sections = function (element, bo) {
    var out = [];
    if (!is(bo, "bpmn:Process") && !is(bo, "bpmn:Collaboration")) {
      out.push(this.nameField(element, bo));
    }
    if (is(bo, "bpmn:UserTask")) { out = out.concat(this.formFields(element)); }
    if (is(bo, "bpmn:UserTask") || is(bo, "bpmn:ManualTask")) {
      out.push(this.field("prop-instructions", "办理说明", this.textarea("prop-instructions",
        this.extensionText(bo, "spiffworkflow:InstructionsForEndUser"), function (v) {
          this.setExtensionText(element, "spiffworkflow:InstructionsForEndUser", v);
        }), HELP.instructions));
    }
    if (is(bo, "bpmn:BusinessRuleTask")) {
      out.push(this.field("prop-decision", "调用的决策（calledDecisionId）", this.input("prop-decision",
        this.extensionText(bo, "spiffworkflow:CalledDecisionId"), function (v) {
          this.setExtensionText(element, "spiffworkflow:CalledDecisionId", v);
        }), HELP.decision));
    }
    if (is(bo, "bpmn:ScriptTask")) {
      out.push(this.field("prop-script", "脚本", this.textarea("prop-script", bo.get("script") || "", function (v) {
        this.modeling.updateProperties(element, { script: v || undefined });
      }), HELP.script));
    }
    if (is(bo, "bpmn:CallActivity")) {
      out.push(this.field("prop-called", "调用的流程（calledElement）", this.input("prop-called", bo.get("calledElement") || "", function (v) {
        this.modeling.updateProperties(element, { calledElement: v || undefined });
      })));
    }
    var timer = this.timerDefinition(bo);
    if (timer) { out = out.concat(this.timerFields(element, bo, timer)); }
    if (is(bo, "bpmn:SequenceFlow") && this.isDecision(bo.sourceRef)) { out = out.concat(this.flowFields(element, bo)); }
    if (this.isDecision(bo)) { out.push(this.defaultFlowField(element, bo)); }
    if (is(bo, "bpmn:FlowNode") && !is(bo, "bpmn:Gateway")) { out = out.concat(this.timeMarks(element)); }
    return out;
  };

  Panel.prototype.isDecision = function (bo) {
    return is(bo, "bpmn:ExclusiveGateway") || is(bo, "bpmn:InclusiveGateway");
  };

  /* ---- controls ---- */

  Panel.prototype.field = function (id, label, control, help) {
    return el("div", { "class": "prop-field" }, [el("label", { "for": id, text: label }), control,
      help ? el("p", { "class": "help", text: help }) : null]);
  };

  Panel.prototype.commit = function (node, read, write) {
    var self = this;
    var last = read();
    function apply() {
      var value = read();
      if (value === last) { return; }
      last = value;
      write.call(self, value);
    }
    node.addEventListener("change", apply);
    node.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && node.tagName !== "TEXTAREA") { event.preventDefault(); apply(); }
    });
    return node;
  };

  Panel.prototype.input = function (id, value, write, attrs) {
    var node = el("input", Object.assign({ id: id, type: "text", value: value, autocomplete: "off" }, attrs || {}));
    return this.commit(node, function () { return node.value.trim(); }, write);
  };

  Panel.prototype.textarea = function (id, value, write) {
    var node = el("textarea", { id: id, rows: "4", spellcheck: "false", "class": "code" });
    node.value = value;
    return this.commit(node, function () { return node.value.trim(); }, write);
  };

  Panel.prototype.select = function (id, choices, value, write) {
    var node = el("select", { id: id });
    choices.forEach(function (choice) {
      var option = el("option", { value: choice[0], text: choice[1] });
      if (choice[0] === value) { option.selected = true; }
      node.appendChild(option);
    });
    return this.commit(node, function () { return node.value; }, write);
  };

  Panel.prototype.checkbox = function (id, label, checked, write) {
    var box = el("input", { id: id, type: "checkbox" });
    box.checked = checked;
    this.commit(box, function () { return box.checked; }, write);
    return el("div", { "class": "prop-field" }, [el("label", { "class": "choice", "for": id }, [box, document.createTextNode(" " + label)])]);
  };

  /* ---- the name (lanes: a role or a group) ---- */

  Panel.prototype.nameField = function (element, bo) {
    var lane = is(bo, "bpmn:Lane");
    var input = this.input("prop-name", bo.get("name") || "", function (v) {
      this.modeling.updateLabel(element, v);
    }, lane ? { list: "lane-choices" } : {});
    return this.field("prop-name", lane ? "泳道（办理组或【角色】）" : "名称", input, lane ? HELP.lane : null);
  };

  /* ---- spiffworkflow:property values ---- */

  Panel.prototype.spiffList = function (bo) {
    var ext = bo.get("extensionElements");
    if (!ext) { return null; }
    return (ext.get("values") || []).filter(function (v) { return is(v, SPIFF_PROPERTIES); })[0] || null;
  };

  Panel.prototype.spiff = function (bo, name) {
    var list = this.spiffList(bo);
    var hit = list ? (list.get("values") || []).filter(function (p) { return p.name === name; })[0] : null;
    return hit ? (hit.value || "") : "";
  };

  /* The element's bpmn:extensionElements, created (as one undoable command) on first use. */
  Panel.prototype.extensions = function (element) {
    var bo = element.businessObject;
    var ext = bo.get("extensionElements");
    if (!ext) {
      ext = this.factory.create("bpmn:ExtensionElements", { values: [] });
      ext.$parent = bo;
      this.modeling.updateProperties(element, { extensionElements: ext });
    }
    return ext;
  };

  /* Set (or, with "", remove) one spiffworkflow:property, creating the containers on first use. */
  Panel.prototype.setSpiff = function (element, name, value) {
    var bo = element.businessObject;
    if (!bo.get("extensionElements") && !value) { return; }
    var ext = this.extensions(element);
    var list = this.spiffList(bo);
    if (!list) {
      if (!value) { return; }
      list = this.factory.create(SPIFF_PROPERTIES, { values: [] });
      list.$parent = ext;
      this.modeling.updateModdleProperties(element, ext, { values: (ext.get("values") || []).concat([list]) });
    }
    var entries = list.get("values") || [];
    var existing = entries.filter(function (p) { return p.name === name; })[0];
    if (!value) {
      if (existing) {
        this.modeling.updateModdleProperties(element, list, { values: entries.filter(function (p) { return p !== existing; }) });
      }
    } else if (existing) {
      this.modeling.updateModdleProperties(element, existing, { value: value });
    } else {
      var property = this.factory.create("spiffworkflow:Property", { name: name, value: value });
      property.$parent = list;
      this.modeling.updateModdleProperties(element, list, { values: entries.concat([property]) });
    }
  };

  /* One spiffworkflow element whose body is the value (instructionsForEndUser, calledDecisionId). */
  Panel.prototype.extensionText = function (bo, type) {
    var ext = bo.get("extensionElements");
    var hit = ext ? (ext.get("values") || []).filter(function (v) { return is(v, type); })[0] : null;
    return hit ? (hit.value || "") : "";
  };

  Panel.prototype.setExtensionText = function (element, type, value) {
    if (!element.businessObject.get("extensionElements") && !value) { return; }
    var ext = this.extensions(element);
    var values = ext.get("values") || [];
    var hit = values.filter(function (v) { return is(v, type); })[0];
    if (!value) {
      if (hit) { this.modeling.updateModdleProperties(element, ext, { values: values.filter(function (v) { return v !== hit; }) }); }
    } else if (hit) {
      this.modeling.updateModdleProperties(element, hit, { value: value });
    } else {
      var node = this.factory.create(type, { value: value });
      node.$parent = ext;
      this.modeling.updateModdleProperties(element, ext, { values: values.concat([node]) });
    }
  };

  Panel.prototype.spiffInput = function (element, name, label, help, attrs) {
    var id = "prop-" + name;
    return this.field(id, label, this.input(id, this.spiff(element.businessObject, name), function (v) {
      this.setSpiff(element, name, v);
    }, attrs), help);
  };

  Panel.prototype.formFields = function (element) {
    var self = this;
    var bo = element.businessObject;
    var edit = el("button", { type: "button", "class": "small", id: "edit-form", text: "编辑表单" });
    edit.addEventListener("click", function () {
      var schema = self.spiff(bo, "formJsonSchemaFilename");
      if (!schema) { window.alert("请先填写表单文件名（formJsonSchemaFilename），例如 review.json。"); return; }
      if (self.options.onEditForm) { self.options.onEditForm(schema, self.spiff(bo, "formUiSchemaFilename")); }
    });
    return [
      this.spiffInput(element, "formJsonSchemaFilename", "表单（JSON Schema 文件）", HELP.form, { list: "form-choices" }),
      this.spiffInput(element, "formUiSchemaFilename", "界面配置（UI schema 文件，可选）", null, { list: "form-choices" }),
      el("div", { "class": "prop-field" }, [edit])
    ];
  };

  Panel.prototype.timeMarks = function (element) {
    var self = this;
    var statuses = [["", "（不改变）"]].concat(Object.keys(this.options.statuses || {}).map(function (key) {
      return [key, key + " " + self.options.statuses[key]];
    }));
    return [
      el("h3", { text: "时限与通知" }),
      this.field("prop-clock", "计时标记（clock）", this.select("prop-clock",
        [["", "（无）"], ["start", "start — 完成时开始计时"], ["pause", "pause — 办理期间暂停计时"]],
        this.spiff(element.businessObject, "clock"), function (v) { this.setSpiff(element, "clock", v); }), HELP.clock),
      this.spiffInput(element, "stepLimitDays", "环节时限（工作日，stepLimitDays）", HELP.stepLimitDays,
        { type: "number", min: "0", step: "1" }),
      this.spiffInput(element, "notify", "通知（notify）", HELP.notify, { placeholder: "group, chief" }),
      this.field("prop-caseStatus", "办件状态（caseStatus）", this.select("prop-caseStatus", statuses,
        this.spiff(element.businessObject, "caseStatus"), function (v) { this.setSpiff(element, "caseStatus", v); }),
        HELP.caseStatus)
    ];
  };

  /* ---- timers ---- */

  Panel.prototype.timerDefinition = function (bo) {
    return (bo.get && is(bo, "bpmn:Event") ? (bo.get("eventDefinitions") || []) : []).filter(function (d) {
      return is(d, "bpmn:TimerEventDefinition");
    })[0] || null;
  };

  Panel.prototype.timerFields = function (element, bo, timer) {
    var kind = TIMER_KINDS.map(function (k) { return k[0]; }).filter(function (k) { return timer.get(k); })[0] || "timeDuration";
    var value = timer.get(kind) ? (timer.get(kind).body || "") : "";
    var self = this;
    function write(newKind, newValue) {
      var props = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
      if (newValue) {
        var expression = self.factory.create("bpmn:FormalExpression", { body: newValue });
        expression.$parent = timer;
        props[newKind] = expression;
      }
      self.modeling.updateModdleProperties(element, timer, props);
    }
    var out = [el("h3", { text: "定时器" }),
      this.field("prop-timer-kind", "类型", this.select("prop-timer-kind", TIMER_KINDS, kind, function (v) { write(v, value); })),
      this.field("prop-timer-value", "表达式", this.input("prop-timer-value", value, function (v) { write(kind, v); },
        { placeholder: "workdays(2)" }), HELP.timer)];
    if (is(bo, "bpmn:BoundaryEvent")) {
      out.push(this.checkbox("prop-interrupting", "中断任务（超时后取消所附着的任务）", bo.get("cancelActivity") !== false,
        function (v) { this.modeling.updateProperties(element, { cancelActivity: v }); }));
    }
    return out;
  };

  /* ---- gateways and their flows ---- */

  Panel.prototype.flowFields = function (element, bo) {
    var gateway = this.registry.get(bo.sourceRef.id);
    var isDefault = bo.sourceRef.get("default") === bo;
    var condition = bo.get("conditionExpression");
    var out = [el("h3", { text: "条件" })];
    out.push(this.checkbox("prop-default", "默认流（其他条件都不成立时走这条）", isDefault, function (v) {
      if (v && condition) { this.modeling.updateProperties(element, { conditionExpression: undefined }); }
      this.modeling.updateProperties(gateway, { "default": v ? bo : undefined });
    }));
    if (!isDefault) {
      out.push(this.field("prop-condition", "条件表达式", this.textarea("prop-condition", condition ? (condition.body || "") : "", function (v) {
        var expression;
        if (v) { expression = this.factory.create("bpmn:FormalExpression", { body: v }); expression.$parent = bo; }
        this.modeling.updateProperties(element, { conditionExpression: expression });
      }), HELP.condition));
    }
    return out;
  };

  Panel.prototype.defaultFlowField = function (element, bo) {
    var flows = (bo.get("outgoing") || []).map(function (f) { return [f.id, (f.name || f.id)]; });
    var current = bo.get("default") ? bo.get("default").id : "";
    var self = this;
    return this.field("prop-gateway-default", "默认流", this.select("prop-gateway-default", [["", "（无）"]].concat(flows), current, function (v) {
      var flow = (bo.get("outgoing") || []).filter(function (f) { return f.id === v; })[0];
      if (flow && flow.conditionExpression) { self.modeling.updateProperties(self.registry.get(flow.id), { conditionExpression: undefined }); }
      self.modeling.updateProperties(element, { "default": flow || undefined });
    }), "其余连线都须写条件。");
  };

  window.OnewindowPanel = Panel;
}());
