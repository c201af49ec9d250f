"""SCF entry point of the moderate function: every upload to CI's image, video, audio, text or document moderation."""

from ciflow.concerns.moderate import ModerateSettings, plan
from ciflow.handlers import upload_handler

main_handler = upload_handler("moderate", ModerateSettings, plan)
