/* The moddle extension for SpiffWorkflow's namespace, so bpmn-js reads and writes
   <spiffworkflow:properties>/<spiffworkflow:property name value> (and pre/post scripts, a manual task's
   instructionsForEndUser, a business rule task's calledDecisionId) as typed
   elements the properties panel can edit, and they round-trip unchanged. Tag names are lower-camel
   in the XML ("properties", "property", "preScript"), hence tagAlias lowerCase. */
(function () {
  "use strict";
  window.OnewindowSpiffModdle = {
    name: "SpiffWorkflow",
    uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [
      { name: "Properties", superClass: ["Element"],
        properties: [{ name: "values", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"],
        properties: [{ name: "name", type: "String", isAttr: true },
                     { name: "value", type: "String", isAttr: true }] },
      { name: "PreScript", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
      { name: "PostScript", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
      { name: "InstructionsForEndUser", superClass: ["Element"],
        properties: [{ name: "value", type: "String", isBody: true }] },
      { name: "CalledDecisionId", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] }
    ]
  };
}());
