"""What the test suites and the drills use: the shared emulator and simulator (:mod:`.harness`),
small platforms built over the API (:mod:`.stacks`), the drills' operator (:mod:`.drills`) and
the pytest plugin that offers them (:mod:`.plugin`). Nothing in the local cloud imports this
package."""
