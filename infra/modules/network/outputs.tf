output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets, one per zone (for the load balancer)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets, one per zone (for the tasks; no public IPs)."
  value       = aws_subnet.private[*].id
}

output "private_route_table_ids" {
  description = "Route tables of the private subnets."
  value       = aws_route_table.private[*].id
}

output "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint: allow HTTPS to it in a task security group so image layers can be pulled."
  value       = aws_vpc_endpoint.s3.prefix_list_id
}

output "nat_gateway_ids" {
  description = "NAT gateways (empty when nat_gateway = \"none\")."
  value       = aws_nat_gateway.this[*].id
}

output "interface_endpoint_ids" {
  description = "Interface endpoints by service name (empty when disabled)."
  value       = { for k, v in aws_vpc_endpoint.interface : k => v.id }
}

output "flow_log_group_name" {
  description = "CloudWatch Logs group of the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}
