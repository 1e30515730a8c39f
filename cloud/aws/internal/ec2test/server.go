package ec2test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"sync"
	"time"
)

// AccountID is the fake account that owns everything the server creates.
const AccountID = "123456789012"

// Default VPC and subnet every server starts with; RunInstances without a
// subnet uses them, like an account's default VPC.
const (
	DefaultVPC    = "vpc-default"
	DefaultSubnet = "subnet-default"
)

// Options configures timing and fault injection. The zero value is a fast,
// well-behaved endpoint: an instance is pending in RunInstances' answer and
// running in the first describe after it.
type Options struct {
	// PendingDelay is the minimum time an instance stays in a transitional
	// state (pending, stopping, shutting-down).
	PendingDelay time.Duration
	// PendingDescribes is how many DescribeInstances answers show an instance
	// in a transitional state before it moves on.
	PendingDescribes int
	// ThrottleFirst answers the first K requests (any action) with
	// RequestLimitExceeded, HTTP 503.
	ThrottleFirst int
	// RateLimit, if > 0, allows that many requests per second (bucket of one
	// second's worth); requests over it get RequestLimitExceeded, HTTP 503.
	RateLimit float64
	// NotFoundFor hides a new instance for this long after launch, as EC2's
	// eventual consistency does: InvalidInstanceID.NotFound when named by id,
	// absent from filtered describes. RunInstances replays still return it.
	NotFoundFor time.Duration
	// Latency is added to every request.
	Latency time.Duration
	// NoInstanceTypes makes DescribeInstanceTypes fail with InvalidAction,
	// like EC2-compatible clouds that lack it.
	NoInstanceTypes bool
	// PublicNet is the first octet of the public addresses this server
	// gives (54 when 0): two servers standing for two regions need
	// different ones, or their sequences can give two instances one address.
	PublicNet byte
}

// Server is the fake endpoint. All methods are safe for concurrent use; one
// mutex guards all state.
type Server struct {
	URL string

	opts Options
	http *httptest.Server

	mu        sync.Mutex
	seq       int
	calls     map[string]int
	throttled int
	requests  int
	bucket    float64
	refilled  time.Time
	hook      func(action string)
	killNext  int

	instances     map[string]*Instance
	reservations  map[string]string // client token → reservation id
	tokenParams   map[string]string // client token → parameter fingerprint
	reservationOf map[string][]string
	volumes       map[string]*Volume
	groups        map[string]*SecurityGroup
	keys          map[string]*KeyPair
	images        map[string]*Image
	subnets       map[string]*Subnet
	types         map[string]InstanceType
}

// New starts a server with the default images, subnet and instance types.
// Close it when done.
func New(opts Options) *Server {
	s := &Server{
		opts:          opts,
		calls:         map[string]int{},
		instances:     map[string]*Instance{},
		reservations:  map[string]string{},
		tokenParams:   map[string]string{},
		reservationOf: map[string][]string{},
		volumes:       map[string]*Volume{},
		groups:        map[string]*SecurityGroup{},
		keys:          map[string]*KeyPair{},
		images:        map[string]*Image{},
		subnets:       map[string]*Subnet{},
		types:         DefaultInstanceTypes(),
		bucket:        opts.RateLimit,
		refilled:      time.Now(),
	}
	s.subnets[DefaultSubnet] = &Subnet{ID: DefaultSubnet, VpcID: DefaultVPC, CIDR: "172.31.0.0/20", MapPublicIP: true}
	for _, img := range DefaultImages() {
		s.images[img.ID] = &img
	}
	s.http = httptest.NewServer(s)
	s.URL = s.http.URL
	return s
}

// Close shuts the HTTP server down.
func (s *Server) Close() { s.http.Close() }

// Calls returns how many requests each action received, throttled ones included.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Throttled returns how many requests were refused with RequestLimitExceeded.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// ResetCalls zeroes the call and throttle counters.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.throttled = 0
}

// Launches returns how many reservations RunInstances really created
// (client-token replays are not counted).
func (s *Server) Launches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reservationOf)
}

// OnCall installs fn, called (without the lock held) after each request
// that was handled, throttled requests excluded.
func (s *Server) OnCall(fn func(action string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = fn
}

// ServeHTTP handles one EC2 Query request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
	requestID := "req-unknown"
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost {
		writeError(w, requestID, apiError{400, "InvalidRequest", "expected a form-encoded POST"})
		return
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, requestID, apiError{400, "InvalidRequest", err.Error()})
		return
	}
	f := form(values)
	action := f.get("Action")

	s.mu.Lock()
	s.seq++
	requestID = fmt.Sprintf("req-%08d", s.seq)
	s.calls[action]++
	s.requests++
	if s.throttle() {
		s.throttled++
		s.mu.Unlock()
		writeError(w, requestID, apiError{503, "RequestLimitExceeded", "Request limit exceeded."})
		return
	}
	resp, err := s.dispatch(action, f)
	hook := s.hook
	s.mu.Unlock()

	if hook != nil {
		defer hook(action)
	}
	var ae apiError
	switch {
	case errors.As(err, &ae):
		writeError(w, requestID, ae)
	case err != nil:
		writeError(w, requestID, apiError{500, "InternalError", err.Error()})
	default:
		if err := writeResponse(w, action, requestID, resp); err != nil {
			writeError(w, requestID, apiError{500, "InternalError", err.Error()})
		}
	}
}

// throttle reports whether this request must be refused. Caller holds s.mu.
func (s *Server) throttle() bool {
	if s.requests <= s.opts.ThrottleFirst {
		return true
	}
	if s.opts.RateLimit <= 0 {
		return false
	}
	now := time.Now()
	s.bucket += now.Sub(s.refilled).Seconds() * s.opts.RateLimit
	s.refilled = now
	if burst := max(1, s.opts.RateLimit); s.bucket > burst {
		s.bucket = burst
	}
	if s.bucket < 1 {
		return true
	}
	s.bucket--
	return false
}

// dispatch runs one action. Caller holds s.mu.
func (s *Server) dispatch(action string, f form) (any, error) {
	switch action {
	case "RunInstances":
		return s.runInstances(f)
	case "DescribeInstances":
		return s.describeInstances(f)
	case "CreateTags":
		return s.createTags(f)
	case "DeleteTags":
		return s.deleteTags(f)
	case "TerminateInstances":
		return s.terminateInstances(f)
	case "StartInstances":
		return s.startInstances(f)
	case "ModifyInstanceAttribute":
		return s.modifyInstanceAttribute(f)
	case "DescribeImages":
		return s.describeImages(f)
	case "DescribeInstanceTypes":
		return s.describeInstanceTypes(f)
	case "DescribeSubnets":
		return s.describeSubnets(f)
	case "CreateSecurityGroup":
		return s.createSecurityGroup(f)
	case "DescribeSecurityGroups":
		return s.describeSecurityGroups(f)
	case "AuthorizeSecurityGroupIngress":
		return s.authorizeIngress(f)
	case "RevokeSecurityGroupIngress":
		return s.revokeIngress(f)
	case "DeleteSecurityGroup":
		return s.deleteSecurityGroup(f)
	case "ImportKeyPair":
		return s.importKeyPair(f)
	case "DescribeKeyPairs":
		return s.describeKeyPairs(f)
	case "DeleteKeyPair":
		return s.deleteKeyPair(f)
	case "DescribeVolumes":
		return s.describeVolumes(f)
	case "DeleteVolume":
		return s.deleteVolume(f)
	}
	return nil, apiError{400, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service (ec2test).", action)}
}

// newID returns prefix-<17 hex digits>, unique within the server. Caller holds s.mu.
func (s *Server) newID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s-%017x", prefix, s.seq)
}

func copyTags(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type xEmpty struct{}

type xReturn struct {
	Return bool `xml:"return"`
}
