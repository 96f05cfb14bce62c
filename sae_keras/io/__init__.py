"""Files: parameters to and from JSON, the zip format and its safety checks, and the
registry of estimator classes a file may name (filled by the estimators; io imports none)."""
