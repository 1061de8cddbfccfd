"""The simulated world (sample stock generator and maintenance-history simulator)."""
