"""cpsdiag: diagnose French health-professional smart cards (CPS3/CPS4) and the PC/SC stack around them."""

__version__ = "0.1.0"
