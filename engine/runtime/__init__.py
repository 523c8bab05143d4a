"""The runtime: the one function every change to a case goes through (change), its serialized state,
the read model it keeps (task and timer indexes), the case clock, what it keeps on a task (taskdata — the
only user of SpiffWorkflow's task internals), the audit chain, receipts, where an application comes in,
who may handle a task, the scheduler and the incidents it records."""
