"""iamsim: offline evaluation of the IAM policies this repository's Terraform writes.

One implementation of IAM's authorization logic for every test that must know what a role may
do: the attack tests of infra/tests (can a role get past a boundary it should not cross?) and
opsctl's tests (ops/tests/support/iam_guard.py authorizes every AWS call opsctl makes against
the deploy role's policy). Both read the policies as Terraform renders them
(infra/bootstrap/iam.golden.json), never a hand-written copy.

- :mod:`iamsim.policy`: policy documents as IAM receives them, parsed into frozen dataclasses.
- :mod:`iamsim.conditions`: the condition operators.
- :mod:`iamsim.evaluate`: one request against identity policies, a permissions boundary and a
  resource-based policy (bucket, key, trust or VPC endpoint policy), with the reason.
- :mod:`iamsim.account`: the bootstrap's roles from the golden file, AWS managed policies from
  moto's copy, and the roles an attacker creates while a test runs.
- :mod:`iamsim.wire`: an HTTP request to the emulated AWS turned into the IAM action it needs.

What it does not model (and refuses, rather than guess, where a policy uses it): service control
policies, session policies, policy variables, Numeric/Date/IpAddress operators, cross-account
access. Sources: the IAM policy evaluation logic,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""
