"""The semantic layer: utterance index, moments, talk-track mining, SOP compliance, evidence authenticity."""
