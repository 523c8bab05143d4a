"""The clerk's use cases: start, claim and complete (casework), the task operations (transfer, delegate,
return, withdraw, copy, urge), materials, attachments, comments and the clerk's inbox."""
