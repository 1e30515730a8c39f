package distribute

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// artifact is where a distribute step's bytes come from: a file on the
// operator's machine or an http(s) URL the operator fetches.
type artifact interface {
	// open returns the content from byte off to the end.
	open(ctx context.Context, off int64) (io.ReadCloser, error)
	// size is the length in bytes, or -1 when it is only known at the end.
	size() int64
	// id names this content (path or URL with what identifies its version):
	// part files and the digest cache are keyed by it.
	id() string
	// changed reports whether the content may differ from when it was opened.
	changed() error
	String() string
}

// openArtifact stats a local file or asks an http(s) server about a URL.
func openArtifact(ctx context.Context, source string, client *http.Client) (artifact, error) {
	if strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://") {
		if client == nil {
			client = http.DefaultClient
		}
		return openURL(ctx, source, client)
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", source, err)
	}
	f := &fileArtifact{path: abs}
	if f.fi, err = os.Stat(abs); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	if !f.fi.Mode().IsRegular() {
		return nil, fmt.Errorf("source %s is not a regular file", abs)
	}
	return f, nil
}

// fileArtifact is a regular file on the operator's machine.
type fileArtifact struct {
	path string
	fi   os.FileInfo
}

func (f *fileArtifact) open(_ context.Context, off int64) (io.ReadCloser, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	if _, err := fh.Seek(off, io.SeekStart); err != nil {
		_ = fh.Close()
		return nil, fmt.Errorf("source %s: seeking to %d: %w", f.path, off, err)
	}
	return fh, nil
}

func (f *fileArtifact) size() int64 { return f.fi.Size() }

func (f *fileArtifact) id() string {
	ino := uint64(0)
	if st, ok := f.fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	return fmt.Sprintf("file:%s:%d:%d:%d", f.path, f.fi.Size(), f.fi.ModTime().UnixNano(), ino)
}

func (f *fileArtifact) changed() error {
	fi, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	if fi.Size() != f.fi.Size() || !fi.ModTime().Equal(f.fi.ModTime()) || !os.SameFile(fi, f.fi) {
		return fmt.Errorf("source %s changed during the transfer", f.path)
	}
	return nil
}

func (f *fileArtifact) String() string { return f.path }

// urlArtifact is an http(s) URL. Its version is what HEAD says (length,
// ETag, Last-Modified); a server without HEAD gives an unknown length.
type urlArtifact struct {
	url     string
	client  *http.Client
	length  int64
	version string
}

func openURL(ctx context.Context, u string, client *http.Client) (*urlArtifact, error) {
	a := &urlArtifact{url: u, client: client, length: -1}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		a.length = resp.ContentLength
		a.version = fmt.Sprintf("%d:%s:%s", resp.ContentLength, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
	case resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented:
	default:
		return nil, fmt.Errorf("source %s: HEAD: %s", u, resp.Status)
	}
	return a, nil
}

func (a *urlArtifact) open(ctx context.Context, off int64) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url, nil)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if off > 0 { // no range support: skip what is not wanted
			if _, err := io.CopyN(io.Discard, resp.Body, off); err != nil {
				_ = resp.Body.Close()
				return nil, fmt.Errorf("source %s: skipping to %d: %w", a.url, off, err)
			}
		}
		return resp.Body, nil
	case http.StatusPartialContent:
		var first int64
		if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-", &first); err != nil || first != off {
			_ = resp.Body.Close()
			return nil, fmt.Errorf("source %s: asked for bytes from %d, got %q", a.url, off, resp.Header.Get("Content-Range"))
		}
		return resp.Body, nil
	case http.StatusRequestedRangeNotSatisfiable:
		_ = resp.Body.Close()
		if off == a.length {
			return io.NopCloser(strings.NewReader("")), nil
		}
	}
	_ = resp.Body.Close()
	return nil, fmt.Errorf("source %s: GET: %s", a.url, resp.Status)
}

func (a *urlArtifact) size() int64 { return a.length }

func (a *urlArtifact) id() string { return "url:" + a.url + ":" + a.version }

func (a *urlArtifact) changed() error {
	if a.version == "" {
		return nil
	}
	b, err := openURL(context.Background(), a.url, a.client)
	if err != nil {
		return err
	}
	if b.version != a.version {
		return fmt.Errorf("source %s changed during the transfer", a.url)
	}
	return nil
}

func (a *urlArtifact) String() string { return a.url }

// digester computes the source's sha256 from whatever the operator reads,
// wherever it starts: bytes at the offset hashed so far extend the hash,
// bytes before it are ignored, a reader that starts beyond it cannot help
// (complete reads the gap). Safe for concurrent use.
type digester struct {
	mu   sync.Mutex
	h    hash.Hash
	n    int64 // bytes hashed
	sum  string
	size int64 // -1 until the end was reached at n
}

func newDigester() *digester { return &digester{h: sha256.New(), size: -1} }

// feed offers p, which starts at byte off of the source.
func (d *digester) feed(off int64, p []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.size >= 0 || off > d.n || off+int64(len(p)) <= d.n {
		return
	}
	p = p[d.n-off:]
	_, _ = d.h.Write(p)
	d.n += int64(len(p))
}

// eof says a reader found the end of the source at off.
func (d *digester) eof(off int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.size < 0 && off == d.n {
		d.size = d.n
		d.sum = hex.EncodeToString(d.h.Sum(nil))
	}
}

// result is the digest and size once the whole source was hashed.
func (d *digester) result() (sum string, size int64, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sum, d.size, d.size >= 0
}

// complete reads the part of the source not hashed yet and returns the
// digest and size. Reading happens outside the lock: other readers may
// extend the hash meanwhile.
func (d *digester) complete(ctx context.Context, a artifact) (string, int64, error) {
	for {
		if sum, size, ok := d.result(); ok {
			return sum, size, nil
		}
		d.mu.Lock()
		n := d.n
		d.mu.Unlock()
		rc, err := a.open(ctx, n)
		if err != nil {
			return "", 0, err
		}
		_, err = io.Copy(io.Discard, &trackingReader{r: rc, off: n, dig: d})
		_ = rc.Close()
		if err != nil {
			return "", 0, fmt.Errorf("source %s: %w", a, err)
		}
	}
}

// trackingReader feeds what it reads to a digester and counts it.
type trackingReader struct {
	r     io.Reader
	off   int64
	dig   *digester
	count *atomic.Int64 // may be nil
}

func (t *trackingReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.dig.feed(t.off, p[:n])
		t.off += int64(n)
		if t.count != nil {
			t.count.Add(int64(n))
		}
	}
	if err == io.EOF {
		t.dig.eof(t.off)
	}
	return n, err
}

// digestCache remembers source digests by artifact id for the life of the
// process, so that checking N hosts reads the source once.
var digestCache struct {
	mu    sync.Mutex
	sums  map[string]string
	sizes map[string]int64
	busy  map[string]*sync.Mutex
}

// sourceDigest returns the sha256 and size of a, reading it only if this
// process has not seen its id yet.
func sourceDigest(ctx context.Context, a artifact) (string, int64, error) {
	digestCache.mu.Lock()
	if digestCache.busy == nil {
		digestCache.sums, digestCache.sizes, digestCache.busy = map[string]string{}, map[string]int64{}, map[string]*sync.Mutex{}
	}
	id := a.id()
	one := digestCache.busy[id]
	if one == nil {
		one = &sync.Mutex{}
		digestCache.busy[id] = one
	}
	digestCache.mu.Unlock()
	one.Lock() // one reader per source; the others wait for its answer
	defer one.Unlock()
	if sum, size, ok := cachedDigest(id); ok {
		return sum, size, nil
	}
	sum, size, err := newDigester().complete(ctx, a)
	if err != nil {
		return "", 0, err
	}
	rememberDigest(id, sum, size)
	return sum, size, nil
}

func cachedDigest(id string) (string, int64, bool) {
	digestCache.mu.Lock()
	defer digestCache.mu.Unlock()
	sum, ok := digestCache.sums[id]
	return sum, digestCache.sizes[id], ok
}

func rememberDigest(id, sum string, size int64) {
	if strings.HasPrefix(id, "url:") && strings.HasSuffix(id, ":") {
		return // no version to tell a changed URL by
	}
	digestCache.mu.Lock()
	defer digestCache.mu.Unlock()
	if digestCache.sums == nil {
		digestCache.sums, digestCache.sizes, digestCache.busy = map[string]string{}, map[string]int64{}, map[string]*sync.Mutex{}
	}
	digestCache.sums[id], digestCache.sizes[id] = sum, size
}

// partKey is the part file's tag for a: a different source version never
// appends to another version's part.
func partKey(a artifact, want string) string {
	s := a.id()
	if want != "" {
		s = "sha256:" + want
	}
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}
