# The service (service/): run, serve, its tests. The service issue completes this.
.PHONY: run serve test-service

run: install ## Start the service on http://127.0.0.1:8000 (development, reload on change)
	$(RUN) uvicorn app.main:create_app --factory --reload --host 127.0.0.1 --port 8000

serve: install ## Run the production server command (the image's), honouring PORT
	$(RUN) app-serve

test-service: install
	$(RUN) pytest service/tests

test: test-service
