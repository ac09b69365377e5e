"""Container images as the emulated ECR keeps them: the registry format (:mod:`.oci`, no I/O)
and the service's image records pushed over the ECR API (:mod:`.records`)."""
