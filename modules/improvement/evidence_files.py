"""Where the evidence spine keeps uploaded files (standards' step photos are attachments of the standard)."""
from shopfloor.evidence.context import upload_dir  # noqa: F401
