"""TalkTrack: self-hosted conversation intelligence for sales teams."""

__version__ = "0.1.0"
