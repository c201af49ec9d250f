"""SCF entry point of the previews function: thumbnails, video frames and covers, document pages for every upload."""

from ciflow.concerns.previews import PreviewsSettings, plan
from ciflow.handlers import upload_handler

main_handler = upload_handler("previews", PreviewsSettings, plan)
