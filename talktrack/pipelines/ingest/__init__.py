"""Batch ingest of recordings on Ray: decode → diarize ∥ transcribe → assemble → catalog."""
