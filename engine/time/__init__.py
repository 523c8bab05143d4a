"""Time: the one clock (and the district's local day), the working-day calendar and its administrators'
overrides. The case clock, which works on a change's context, lives with the runtime (`runtime.caseclock`)."""
