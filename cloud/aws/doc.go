// Package aws is the diffuser host provider for EC2 and EC2-compatible
// clouds (Eucalyptus, OpenStack's EC2 API: set endpoint), built on
// aws-sdk-go-v2. NewFactory returns its cloud.Factory; the site file's
// `provider "aws" { ... }` block is decoded with Factory.Spec.
//
// # Settings (all optional)
//
//	region              SDK chain (AWS_REGION, profile); us-east-1 if only endpoint is set
//	endpoint            EC2-compatible endpoint URL (BaseEndpoint)
//	profile             shared config profile; credentials come from the SDK's
//	                    default chain: environment, shared files, SSO, instance role
//	image               "debian-12" (default), "debian-11", "ubuntu-22.04",
//	                    "ubuntu-24.04" — the newest image of the official owner
//	                    (Debian 136693071363, Canonical 099720109477) for the
//	                    instance type's architecture — or an AMI id "ami-..."
//	instance_type       "t3.medium"
//	subnet_id           default subnet of the default VPC
//	ssh_user            admin (Debian), ubuntu (Ubuntu), else from the AMI's
//	                    name, else ec2-user
//	ssh_cidr            who may reach port 22; "0.0.0.0/0" with a warning,
//	                    since diffuser cannot learn the operator's address offline
//	key_name            an existing key pair; else the workspace public key is
//	                    imported as "diffuser-<cluster>" (and deleted by Cleanup)
//	associate_public_ip unset: the subnet decides; true/false: explicit
//	use_private_ip      false: dial the public address (the private one if
//	                    there is none); true: always the private one
//	volume_type         "gp3", for volumes whose recipe names no type
//	device_naming       "auto" (DescribeInstanceTypes: Nitro or Xen), "nitro", "xen"
//	tags                map, added to everything diffuser creates
//	ports               list of strings in the recipe's ports format, e.g.
//	                    ["6789/tcp ceph-mon"], written into
//	                    the description of the intra-cluster firewall rule
//	groups              per host group overrides, e.g.
//	                    groups = { server = { instance_type = "m5.large" } };
//	                    keys: image, instance_type, subnet_id, ssh_user,
//	                    volume_type, associate_public_ip, use_private_ip
//
// HostSpec.Settings, when set, is overlaid on the provider block before the
// `groups` entry of the host's group.
//
// # What it makes
//
// Per cluster: a security group diffuser-<cluster> (all traffic between its
// members, SSH from ssh_cidr: exactly these two rules, every launch
// revokes any other, so narrowing ssh_cidr closes the old range) and,
// without key_name, a key pair diffuser-<cluster>. Per host group: one
// RunInstances (see launch.go) requiring IMDSv2 (HttpTokens=required),
// with EBS volumes at /dev/sdf, /dev/sdg, ... (encrypted with the
// account's default EBS key, delete on termination; the root volume is as
// the AMI and the account's encryption-by-default make it). All
// of it tagged diffuser:cluster (and diffuser:group on instances and
// volumes); Destroy and Cleanup only touch what carries the tag. See
// device.go for the device path rule on Nitro and Xen instances.
//
// # Calls
//
// API calls grow with host groups and waiter polls, not with hosts: Launch
// calls of a group share one RunInstances and one waiter; Status, Start and
// Destroy calls arriving within a short window share one round. Retries use
// the SDK's adaptive mode (client-side rate limiting on RequestLimitExceeded)
// and, right after a launch, also retry InvalidInstanceID.NotFound.
//
// internal/ec2test is the in-memory EC2 endpoint the tests run against.
// This package imports cloud and the AWS SDK only; never engine, lang or steps.
package aws
