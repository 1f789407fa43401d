from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

# argon2id with OWASP's minimum (19 MiB, t=2, p=1) raised a little.
_hasher = PasswordHash(
    (Argon2Hasher(memory_cost=19 * 1024 + 5 * 1024, time_cost=2, parallelism=1),)
)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
# Checked against when the e-mail is unknown, so that a miss costs as long as a hit.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)
