"""The conversation run's steps, in the order `Converse` runs them: who is writing, consent,
triage, context, assistant, review, compose (presence and record are shared by them)."""
