"""``llmbench dashboard``: a web page over a project (its config, keys and results), with
pytest as the engine. :mod:`.project` is what it reads, :mod:`.env_file` the keys' file,
:mod:`.guard` what every request passes, :mod:`.site` the pages and the API, :mod:`.console`
the console command. Needs the ``[dashboard]`` extra (FastAPI, uvicorn)."""
