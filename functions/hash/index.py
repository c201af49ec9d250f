"""SCF entry point of the hash function: MD5/SHA1/SHA256 of every upload, by CI job or the synchronous API."""

from ciflow.concerns.hash import HashSettings, plan
from ciflow.handlers import upload_handler

main_handler = upload_handler("hash", HashSettings, plan)
