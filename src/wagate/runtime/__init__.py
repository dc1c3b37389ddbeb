"""How wagate runs as processes: `serve` (web, optionally with a worker), `worker`, and the
sandbox that stands in for WhatsApp and the AI when nothing is configured."""
