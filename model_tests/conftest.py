from __future__ import annotations

import os

from hypothesis import settings

from asyncspec.model_tests import stateful  # noqa: F401  (registers the profiles)

# Hypothesis profiles: "asyncspec-ci" (the default, for CI) and "asyncspec-deep" (long runs);
# choose with HYPOTHESIS_PROFILE or pytest --hypothesis-profile.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "asyncspec-ci"))
