"""SCF entry point of the transcode function: one CI job per configured output of every video or audio upload."""

from ciflow.concerns.transcode import TranscodeSettings, plan
from ciflow.handlers import upload_handler

main_handler = upload_handler("transcode", TranscodeSettings, plan)
