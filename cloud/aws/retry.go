package aws

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
)

// EC2 error codes the provider acts on.
const (
	codeInstanceNotFound   = "InvalidInstanceID.NotFound"
	codeGroupNotFound      = "InvalidGroup.NotFound"
	codeGroupDuplicate     = "InvalidGroup.Duplicate"
	codePermissionDup      = "InvalidPermission.Duplicate"
	codePermissionNotFound = "InvalidPermission.NotFound"
	codeKeyNotFound        = "InvalidKeyPair.NotFound"
	codeKeyDuplicate       = "InvalidKeyPair.Duplicate"
	codeDependency         = "DependencyViolation"
	codeParameterMismatch  = "IdempotentParameterMismatch"
	codeVolumeNotFound     = "InvalidVolume.NotFound"
	codeIncorrectInstState = "IncorrectInstanceState"
)

// newRetryer is the client's retryer: the SDK's adaptive mode (a client-side
// rate limiter that slows down when EC2 answers RequestLimitExceeded, on top
// of exponential backoff with jitter) with more attempts than the default 3,
// since a 1,000-host launch shares the account's request budget.
func newRetryer(o options) aws.Retryer {
	return retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
		ao.StandardOptions = append(ao.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = o.maxAttempts
			so.MaxBackoff = o.maxBackoff
		})
	})
}

// retryNotFound is a per-call option for calls naming instances that were
// just launched: EC2 is eventually consistent and may answer
// InvalidInstanceID.NotFound for a while. The wrapped retryer shares the
// client's adaptive rate limiter and retry quota.
func retryNotFound(o *ec2.Options) {
	o.Retryer = retry.AddWithErrorCodes(o.Retryer, codeInstanceNotFound)
}

// errorCode returns the EC2 error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// retryWhile calls fn until it succeeds, fails with an error whose code is
// not in codes, or timeout passes; delays double from delay up to 15 s.
func retryWhile(ctx context.Context, delay, timeout time.Duration, fn func(context.Context) error, codes ...string) error {
	deadline := time.Now().Add(timeout)
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		retryable := false
		for _, c := range codes {
			if errorCode(err) == c {
				retryable = true
			}
		}
		if !retryable || time.Now().Add(delay).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 15*time.Second)
	}
}
