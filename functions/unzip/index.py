"""SCF entry point of the unzip function: every archive upload extracted by CI under the output prefix."""

from ciflow.concerns.unzip import UnzipSettings, plan
from ciflow.handlers import upload_handler

main_handler = upload_handler("unzip", UnzipSettings, plan)
