# The docs (docs/): the repository explains itself, and its docs name what the code names.
.PHONY: test-docs

test-docs: install ## Check the docs: nothing refers outside the repository; the contracts match the code
	$(RUN) pytest docs/tests

TEST_SUITES += test-docs
