"""Workstation diagnosis: PC/SC service, readers and drivers, middleware, browsers (issue: environment)."""
