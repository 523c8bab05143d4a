"""The applicant's use cases beside applying: following a case with its code, and accounts proven by phone."""
