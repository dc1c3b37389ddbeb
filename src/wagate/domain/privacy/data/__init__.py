"""Generated data the privacy recognisers read (see tests/data/pii/make_words.py)."""
