"""Diagrams as data: untrusted XML read safely, item packages (BPMN, forms, guide) loaded and linted,
SpiffWorkflow specs built once per version, the restricted evaluator for scripts and conditions, the procedure
drawn from a diagram and the difference between two versions. Nothing here touches a running case."""
