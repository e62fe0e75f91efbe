"""Desktop Uploader: safe, small images published to S3-compatible storage behind a CDN."""

__version__ = "0.1.0"
