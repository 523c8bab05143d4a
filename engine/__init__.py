"""The domain core of onewindow: catalogue, deployment, runtime, clock, audit, assignment, scheduler.

It never imports Flask or the web app: the web layer, the command line and the scheduler all call
into this package, and every change to a case goes through `engine.runtime.change_case`.
"""
