// Package ec2test is an in-memory EC2 endpoint for tests: an httptest
// server speaking the EC2 Query protocol (form-encoded POST with Action=...,
// XML answers in the 2016-11-15 namespace) for exactly the calls the aws
// provider makes, so the real aws-sdk-go-v2 client can be pointed at it with
// BaseEndpoint and static credentials.
//
// It keeps instances, volumes, security groups, key pairs, images and subnets
// in memory behind one mutex, honours RunInstances client tokens, moves
// instances pending → running (and stopping → stopped, shutting-down →
// terminated) after a delay and a number of describes, counts calls per
// action, and injects faults: throttling of the first K calls, a request
// rate limit, InvalidInstanceID.NotFound (eventual consistency) for new
// instances, and instances that die while pending.
//
// It is a test fixture: it checks no signatures and implements only the
// request fields and filters the provider uses; an unknown filter is an
// error, so a provider change that needs more fails loudly here. It must not
// import the provider.
package ec2test
