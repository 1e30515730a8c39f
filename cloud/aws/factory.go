package aws

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
)

// Name is the provider's name in site files: provider "aws" { ... }.
const Name = "aws"

var (
	_ cloud.Factory  = (*Factory)(nil)
	_ cloud.Provider = (*Provider)(nil)
)

// Factory builds aws providers. The zero value is not usable: call NewFactory.
type Factory struct {
	opts options
}

// options are the knobs that are not site settings: timings, and SDK
// configuration for tests.
type options struct {
	loadOptions    []func(*config.LoadOptions) error
	pollMin        time.Duration // waiter delays
	pollMax        time.Duration
	maxWait        time.Duration // per waiter
	maxAttempts    int           // per API call, throttling included
	maxBackoff     time.Duration
	batchWindow    time.Duration // how long Status/Start/Destroy calls gather
	cleanupTimeout time.Duration // how long Cleanup retries DependencyViolation
}

// Option changes a Factory's defaults.
type Option func(*options)

// NewFactory returns the aws provider factory. Defaults: waiters poll every
// 5 s growing to 30 s and give up after 15 min; API calls are attempted up
// to 10 times with adaptive backoff capped at 20 s; Status, Start and
// Destroy calls arriving within 100 ms share one API round.
func NewFactory(opts ...Option) *Factory {
	o := options{
		pollMin: 5 * time.Second, pollMax: 30 * time.Second, maxWait: 15 * time.Minute,
		maxAttempts: 10, maxBackoff: 20 * time.Second,
		batchWindow: 100 * time.Millisecond, cleanupTimeout: 10 * time.Minute,
	}
	for _, fn := range opts {
		fn(&o)
	}
	return &Factory{opts: o}
}

// WithLoadOptions adds aws-sdk-go-v2 config options, after diffuser's own
// (region, profile, retryer): tests pass static credentials here.
func WithLoadOptions(fns ...func(*config.LoadOptions) error) Option {
	return func(o *options) { o.loadOptions = append(o.loadOptions, fns...) }
}

// WithPolling sets the waiters' first and largest delay between describes.
func WithPolling(minDelay, maxDelay time.Duration) Option {
	return func(o *options) { o.pollMin, o.pollMax = minDelay, maxDelay }
}

// WithRetry sets the attempts per API call and the largest backoff.
func WithRetry(maxAttempts int, maxBackoff time.Duration) Option {
	return func(o *options) { o.maxAttempts, o.maxBackoff = maxAttempts, maxBackoff }
}

// WithTimeouts sets how long a waiter waits and how long Cleanup retries a
// security group that instances still use.
func WithTimeouts(maxWait, cleanup time.Duration) Option {
	return func(o *options) { o.maxWait, o.cleanupTimeout = maxWait, cleanup }
}

// WithBatchWindow sets how long Status, Start and Destroy calls gather
// before one API round serves them all.
func WithBatchWindow(d time.Duration) Option {
	return func(o *options) { o.batchWindow = d }
}

// Spec describes the provider block; every attribute is optional.
func (f *Factory) Spec() hcldec.ObjectSpec { return spec() }

// New validates the settings and builds the EC2 client. Credentials come
// from the SDK's default chain (environment, shared config and the named
// profile, SSO, instance role) and are resolved on the first call, so New
// makes no API call.
func (f *Factory) New(ctx context.Context, v cty.Value, env cloud.Env) (cloud.Provider, error) {
	logf := env.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	s, err := decodeSettings(v)
	if err != nil {
		return nil, fmt.Errorf("aws provider: %w", err)
	}
	if err := s.validate(logf); err != nil {
		return nil, fmt.Errorf("aws provider: %w", err)
	}
	if s.KeyName == "" && env.Keys.PublicKey == "" {
		return nil, fmt.Errorf("aws provider: no key_name set and no workspace public key to import")
	}

	load := []func(*config.LoadOptions) error{
		config.WithRetryMode(aws.RetryModeAdaptive),
		config.WithRetryer(func() aws.Retryer { return newRetryer(f.opts) }),
	}
	if s.Region != "" {
		load = append(load, config.WithRegion(s.Region))
	}
	if s.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(s.Profile))
	}
	load = append(load, f.opts.loadOptions...)
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("aws provider: load SDK configuration (profile %q): %w", s.Profile, err)
	}
	if cfg.Region == "" {
		if s.Endpoint == "" {
			return nil, fmt.Errorf("aws provider: no region: set region in provider \"aws\", AWS_REGION, or the profile's region")
		}
		cfg.Region = DefaultRegion
	}
	client := ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		if s.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.Endpoint)
		}
	})
	return newProvider(client, cfg.Region, s, env.Keys, logf, f.opts), nil
}
