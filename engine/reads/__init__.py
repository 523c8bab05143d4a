"""The read models the pages list from: task lists, case details and histories, read from the index tables
without loading a workflow."""
