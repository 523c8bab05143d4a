"""Supervision (电子监察, S-15): the dashboard, warnings and the supervisor's acts, performance, ratings and
rectification, the reports and their spreadsheet cells."""
