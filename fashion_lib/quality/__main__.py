"""``python -m fashion_lib.quality``: rebuild the committed official profile from the upstream files."""

from .checks import build_official
from .profile import OFFICIAL_PROFILE, save

save(build_official(), OFFICIAL_PROFILE)
print(f"wrote {OFFICIAL_PROFILE}")
