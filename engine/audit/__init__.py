"""Audit (S-14): the append-only trail's integrity (triggers, checkpoints, verification), the auditor's search
and dossier, and re-execution of a case from its recorded inputs."""
