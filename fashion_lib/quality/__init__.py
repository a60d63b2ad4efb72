"""The data-quality circuit breaker: does a new data version look like the last good one?

The format circuit breaker (:mod:`fashion_lib.validate`) stops broken files; this one
stops broken *data*: test images leaked into training, duplicates, a shrunken class,
drifted images, blank or inverted images, shifted labels. One concern a module:

* :mod:`.thresholds` - every threshold, in one place
* :mod:`.stats` - per-image statistics and their per-class histograms
* :mod:`.leakage` - exact and near duplicates (within and across files)
* :mod:`.profile` - the compact profile a version is compared with (the official one ships)
* :mod:`.measure` - measure a candidate (both files) once: the expensive part
* :mod:`.checks` - each check of a measured candidate against a reference profile
* :mod:`.report` - the deterministic report (``quality.json``) and its text table
* :mod:`.gate` - where the pipeline asks: before publishing, and before training
* :mod:`.blas` - numpy's matrix products on one thread while the check runs
"""

from .checks import run_checks
from .measure import measure
from .profile import Profile, official
from .report import REPORT_FILE, Check, QualityReport

__all__ = ["Check", "Profile", "QualityReport", "REPORT_FILE", "measure", "official", "run_checks"]
