"""The transformation and validation core behind POST /process (no HTTP in this package).

`engine.Processor.handle` turns a request body into the compact JSON of its result, on the event
loop or in a sandbox worker process (`sandbox`); the steps are in `core`; every refusal is an
`errors.ProcessingError` subclass. Import the modules themselves: this file imports nothing, so
that a sandbox worker (`sandbox_worker`) does not load the parent's side.
"""
