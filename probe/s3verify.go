package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"diffuser/lang"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// s3Target is an evaluated s3 verify block.
type s3Target struct {
	endpoints              []string
	access, secret, region string
	bucket                 string // "": make one for the check
}

// evalS3 evaluates an s3 block against the applied state (sensitive marks
// dropped: the values go to the SDK, never to the report).
func evalS3(scope *lang.Scope, v *lang.Verify) (s3Target, error) {
	s := v.S3
	ctx := scope.VerifyCtx(v)
	str := func(e hcl.Expression, what string) (string, error) {
		if e == nil {
			return "", nil
		}
		v, d := e.Value(ctx)
		if d.HasErrors() {
			return "", fmt.Errorf("%s: %s", what, lang.DiagText(d))
		}
		v, _ = v.UnmarkDeep()
		if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
			return "", fmt.Errorf("%s must be a known string: apply first", what)
		}
		return v.AsString(), nil
	}
	var t s3Target
	ev, d := s.Endpoints.Value(ctx)
	if d.HasErrors() {
		return t, fmt.Errorf("endpoints: %s", lang.DiagText(d))
	}
	ev, _ = ev.UnmarkDeep()
	if !ev.IsWhollyKnown() || ev.IsNull() || !(ev.Type().IsListType() || ev.Type().IsTupleType()) {
		return t, fmt.Errorf("endpoints must be a known list of URLs: apply first")
	}
	for it := ev.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.Type() != cty.String {
			return t, fmt.Errorf("endpoints must be a list of URLs")
		}
		t.endpoints = append(t.endpoints, e.AsString())
	}
	if len(t.endpoints) == 0 {
		return t, nil
	}
	var err error
	if t.access, err = str(s.AccessKey, "access_key"); err != nil {
		return t, err
	}
	if t.secret, err = str(s.SecretKey, "secret_key"); err != nil {
		return t, err
	}
	if t.region, err = str(s.Region, "region"); err != nil {
		return t, err
	}
	if t.region == "" {
		t.region = "us-east-1"
	}
	t.bucket, err = str(s.Bucket, "bucket")
	return t, err
}

// s3Client is a path-style client of one endpoint with static keys.
func s3Client(t s3Target, endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       t.region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(t.access, t.secret, ""),
		// Gateways such as Ceph 16's radosgw predate the SDK's default
		// CRC32 checksums on every request.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// verifyS3 puts an object of random bytes through the first endpoint,
// reads it back through every endpoint and compares SHA-256 sums. Without
// a bucket in the block it makes one for the check; what it made is
// removed at the end, whatever happened (the deferred checks append to the
// named result).
func verifyS3(ctx context.Context, scope *lang.Scope, v *lang.Verify, opt VerifyOptions) (out []Check) {
	t, err := evalS3(scope, v)
	if err != nil {
		return []Check{{Verify: v.Name, Name: "s3", Detail: err.Error()}}
	}
	if len(t.endpoints) == 0 {
		return []Check{{Verify: v.Name, Name: "s3", OK: true, Detail: "no S3 endpoints deployed: nothing to check"}}
	}
	step := func(name, endpoint string, f func(ctx context.Context) (string, error)) bool {
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, opt.Timeout)
		defer cancel()
		detail, err := f(cctx)
		c := Check{Verify: v.Name, Name: name, Host: endpoint, OK: err == nil, Detail: detail, Duration: time.Since(start)}
		if err != nil {
			c.Detail = err.Error()
		}
		out = append(out, c)
		return err == nil
	}
	first := s3Client(t, t.endpoints[0])
	bucket := t.bucket
	if bucket == "" {
		bucket = strings.TrimPrefix(randomName(), ".")
		if !step("create bucket", t.endpoints[0], func(ctx context.Context) (string, error) {
			_, err := first.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
			return bucket, err
		}) {
			return out
		}
		defer step("remove bucket", t.endpoints[0], func(ctx context.Context) (string, error) {
			_, err := first.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket})
			return bucket, err
		})
	}
	data := make([]byte, opt.SizeMiB<<20)
	_, _ = rand.Read(data)
	sum := sha256.Sum256(data)
	key := strings.TrimPrefix(randomName(), ".")
	if !step("put", t.endpoints[0], func(ctx context.Context) (string, error) {
		_, err := first.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
		return fmt.Sprintf("%d MiB to %s/%s, sha256 %s…", opt.SizeMiB, bucket, key, short(hex.EncodeToString(sum[:]))), err
	}) {
		return out
	}
	defer step("delete object", t.endpoints[0], func(ctx context.Context) (string, error) {
		_, err := first.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
		return key, err
	})
	for _, ep := range t.endpoints {
		c := s3Client(t, ep)
		step("get", ep, func(ctx context.Context) (string, error) {
			res, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
			if err != nil {
				return "", err
			}
			defer res.Body.Close()
			h := sha256.New()
			if _, err := io.Copy(h, res.Body); err != nil {
				return "", fmt.Errorf("reading %s/%s: %w", bucket, key, err)
			}
			if got := h.Sum(nil); !bytes.Equal(got, sum[:]) {
				return "", fmt.Errorf("checksum mismatch: put %s…, got %s…", short(hex.EncodeToString(sum[:])), short(hex.EncodeToString(got)))
			}
			return "sha256 matches", nil
		})
	}
	return out
}
