"""Datasets: the bundled Beijing PM2.5 series and a synthetic generator."""

from ._beijing import load_beijing_pm25
from ._synthetic import make_synthetic

__all__ = ["load_beijing_pm25", "make_synthetic"]
