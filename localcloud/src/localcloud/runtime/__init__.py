"""Task runtimes: what runs the container of a task the ECS simulator launches.

Both implement :class:`localcloud.ecs.taskruntime.TaskRuntime`:

* :mod:`.scripted` (tests): each image behaves as scripted (healthy, crashes at start, listens
  on the wrong port, never healthy, slow start, hangs, image missing), as a small HTTP server in
  this process.
* :mod:`.processes` (the local cloud): each task is a real ``app-serve`` process of this
  checkout, started from the image record's configuration and the task definition, on a free
  loopback port, its output in the task's CloudWatch Logs stream. :mod:`.procs` keeps the
  records that let ``localcloud down`` find every such process, even after a crash.
"""
