"""Remote execution: steps run on render workers through Celery (Redis broker), sharing one content-addressed store.

- `config.py`: where the broker, the shared store and this machine's cache are (environment or arguments).
- `capabilities.py`: what this machine can run (cores, RAM, GPU, Chromium, ffmpeg, manim+LaTeX, voices, models).
- `registry.py`: the machine registry in Redis (capabilities with a heartbeat TTL) and the routing rule.
- `celeryapp.py`: the Celery app (acks_late, visibility timeout, namespaced keys) and the queue of a need-set.
- `worker.py`: the task a worker runs: fetch inputs by digest, `execute.run_action`, upload, return the manifest.
- `executor.py`: the coordinator's side, plugged into `Engine(executor=...)`.
"""
