output "key_arn" {
  description = "ARN of the key: pass it to the other modules' kms_key_arn."
  value       = aws_kms_key.this.arn
}

output "alias_name" {
  description = "The key's alias (alias/<name>)."
  value       = aws_kms_alias.this.name
}
