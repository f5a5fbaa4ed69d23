"""Settings of the test suite and its server children: marketplace.settings, with a fast hash.

Django's default password hash (PBKDF2, a million rounds) costs about 0.25 s of CPU each time a
user is created or signs in, and the suite does that thousands of times. MD5 is no protection
for a real password and appears only here, never in marketplace.settings; tests that check the
deployed settings start a child on marketplace.settings itself.
"""

from marketplace.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
