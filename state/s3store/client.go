package s3store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Config says which bucket and prefix hold the state, and how to reach
// them. Credentials come from the SDK's default chain: the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the
// shared files (~/.aws/credentials and config, Profile), SSO, the
// instance's role.
type Config struct {
	Bucket   string
	Key      string // prefix under which workspaces live (may be empty)
	Endpoint string // e.g. http://rgw.lab:7480; empty: AWS
	Region   string // empty: the SDK's (AWS_REGION, profile), else us-east-1 with an Endpoint
	Profile  string // shared config profile; empty: the default chain's
	// PathStyle addresses http://endpoint/bucket/key instead of
	// http://bucket.endpoint/key: what on-premises gateways need. It is
	// on whenever Endpoint is set.
	PathStyle bool
}

var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// CheckBucket says why name is not a valid S3 bucket name, or nil.
func CheckBucket(name string) error {
	switch {
	case name == "":
		return errors.New("no bucket given")
	case !bucketRE.MatchString(name):
		return fmt.Errorf("bucket name %q is not valid: 3 to 63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit", name)
	case strings.Contains(name, ".."):
		return fmt.Errorf("bucket name %q is not valid: it has two dots in a row", name)
	}
	return nil
}

// CheckKey says why prefix is not a usable key prefix, or nil.
func CheckKey(prefix string) error {
	switch {
	case strings.HasPrefix(prefix, "/"):
		return fmt.Errorf("key %q starts with '/': give a relative prefix such as \"diffuser/team\"", prefix)
	case strings.Contains(prefix, "//"):
		return fmt.Errorf("key %q has an empty path segment (//)", prefix)
	case len(prefix) > 512:
		return fmt.Errorf("key is %d bytes long: keep it under 512", len(prefix))
	}
	for _, seg := range strings.Split(prefix, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("key %q has a %q segment", prefix, seg)
		}
	}
	for _, r := range prefix {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("key %q holds a control character", prefix)
		}
	}
	return nil
}

// NewClient makes the S3 client for c with the SDK's default credential
// chain.
func NewClient(ctx context.Context, c Config) (*s3.Client, error) {
	var opts []func(*config.LoadOptions) error
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	region := c.Region
	if region == "" && c.Endpoint != "" {
		region = "us-east-1" // on-premises gateways accept any; the signer needs one
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	opts = append(opts, config.WithRetryMaxAttempts(5))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 backend: AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("s3 backend: no region: set region in the backend block, AWS_REGION, or the profile's region")
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
			o.UsePathStyle = true
			// Older gateways (Ceph 16's radosgw) reject the streaming
			// CRC32 trailers the SDK sends by default.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
		if c.PathStyle {
			o.UsePathStyle = true
		}
	}), nil
}

// errorCode returns the S3 error code of err ("" if none) and its HTTP
// status (0 if none).
func errorCode(err error) (string, int) {
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// isNotFound: the object (or, for HEAD, anything) is not there.
func isNotFound(err error) bool {
	code, status := errorCode(err)
	return code == "NoSuchKey" || code == "NotFound" || status == 404 && code != "NoSuchBucket"
}

// isConditionFailed: a conditional write lost (412, or 409 when two
// conditional writes of one key raced).
func isConditionFailed(err error) bool {
	code, status := errorCode(err)
	return code == "PreconditionFailed" || code == "ConditionalRequestConflict" || status == 412 || status == 409
}
