"""The local cloud: the whole platform on one machine, offline (``make local-cloud``).

The ``localcloud`` command (:mod:`.cli`) starts a background daemon (:mod:`.daemon`: the
emulator, the ECS simulator with real task processes, the listeners playing the load
balancers), applies ``infra/envs/dev`` to it with Terraform (:mod:`.terraform`), records the
service's image and deploys it with opsctl (:mod:`.provision`); :mod:`.control` is what ``up``,
``down`` and ``status`` do, :mod:`.state` where a running local cloud keeps its files and
:mod:`.model` what ``cloud.json`` records.
"""
