"""The counterfactual stage: test each suspect by intervention. For the top patterns of an analysis and
each of their top suspects, the pattern's member runs are re-executed with that one suspect changed
(everything else identical), and a suspect whose change makes the symptoms go away is a verified cause.

Public entry: `verify(batch_dir, analysis_dir, ...)`, which `evswarm verify` calls."""

from evswarm.counterfactual.stage import VerifyReport, verify

__all__ = ["VerifyReport", "verify"]
