"""Time: the one clock, the working-day calendar (with its administrators' overrides) and the case clock —
deadlines, pauses, extensions and warnings."""
