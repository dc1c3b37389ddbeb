"""`wagate doctor`'s probes: adapters that ask the outside world, without changing or sending
anything, whether what going live needs is there and works — the database, the encryption keys,
the providers' credentials, the AI endpoint and the public URL. Each probe answers findings
(`wagate.domain.readiness`); `wagate.pipeline.readiness.Doctor` runs them, `wagate.wiring`
builds them from the settings."""
