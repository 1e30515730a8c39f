package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"diffuser/state"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Object names under a workspace's prefix.
const (
	StateObject  = state.StateFile
	BackupObject = state.BackupFile
	LockObject   = state.LockFile
	journalDir   = "journal"
)

// requestTimeout bounds one S3 request made without a caller's context
// (Load, Save and Record take none, as state.Store's do).
const requestTimeout = 2 * time.Minute

// Options configure a Store.
type Options struct {
	// LockWait is how long Lock retries while another holder has the
	// lock; 0 fails at once.
	LockWait time.Duration
	// Key seals every object written and opens what is read; nil: none,
	// and sealed objects are refused.
	Key *state.Key
	// ClusterPrefix, when set, refuses a state whose cluster name is not
	// it and a piece of lineage (a *state.ForeignError), as
	// state.WithClusterPrefix.
	ClusterPrefix string
}

// Store is one workspace's state in a bucket: the objects under Prefix.
// It offers state.Store's methods with the same rules: reading needs no
// lock; Save and Record need the lock taken through this Store and a prior
// Load, and refuse (state.ErrChanged, *state.LineageError) when the
// objects are no longer the ones loaded. Its methods are safe for
// concurrent use; concurrent Records share one PUT.
type Store struct {
	client *s3.Client
	bucket string
	prefix string
	opts   Options

	probeMu sync.Mutex
	probed  error // the conditional-write probe's verdict, once made
	probeOK bool

	flushMu sync.Mutex // held by the goroutine writing a journal object, and by Load and Save
	mu      sync.Mutex // guards the fields below
	pending *batch
	held    *state.Holder // the lock this Store holds
	disk    view
}

// view is what this Store last read or wrote.
type view struct {
	loaded  bool
	lineage string
	serial  uint64
	etag    string // state.json's; "" when there is none
	live    bool   // the journal of serial continues it
	seq     int    // journal objects of serial that exist (the next one is seq)
	jerr    error  // a failed journal write: no more records until Save
	// renew, when set, is the first journal object of serial with this
	// version's header in place of an older diffuser's, and renewTag that
	// object's ETag: the next Record puts it back first (RenewJournalHeader).
	renew    []byte
	renewTag string
	sealed   bool // state.json is an encryption envelope
}

type batch struct {
	buf  []byte
	done bool
	err  error
}

// New returns the Store of the objects under prefix in bucket. It makes
// no request.
func New(client *s3.Client, bucket, prefix string, o Options) *Store {
	return &Store{client: client, bucket: bucket, prefix: strings.Trim(prefix, "/"), opts: o}
}

// Where names the store in messages: s3://bucket/prefix.
func (s *Store) Where() string { return "s3://" + s.bucket + "/" + s.prefix }

func (s *Store) key(name string) string {
	if s.prefix == "" {
		return name
	}
	return s.prefix + "/" + name
}

func (s *Store) url(name string) string { return "s3://" + s.bucket + "/" + s.key(name) }

func journalKey(serial uint64, seq int) string {
	return path.Join(journalDir, fmt.Sprintf("%020d", serial), fmt.Sprintf("%010d", seq))
}

func reqCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), requestTimeout)
}

// get returns an object's bytes and ETag; nil, "" when it does not exist.
func (s *Store) get(ctx context.Context, name string) ([]byte, string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(name))})
	if isNotFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("get %s: %w", s.url(name), err)
	}
	defer out.Body.Close()
	if err := state.CheckSize(s.url(name), aws.ToInt64(out.ContentLength)); err != nil {
		return nil, "", err
	}
	// A server that gives no length (or a wrong one) is held to the cap too.
	data, err := io.ReadAll(io.LimitReader(out.Body, state.MaxFileSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", s.url(name), err)
	}
	if err := state.CheckSize(s.url(name), int64(len(data))); err != nil {
		return nil, "", err
	}
	return data, aws.ToString(out.ETag), nil
}

// put writes an object. ifMatch "" and create false: unconditional;
// create: only if it does not exist (If-None-Match: *); ifMatch: only if
// its ETag is that. It returns the new ETag.
func (s *Store) put(ctx context.Context, name string, data []byte, create bool, ifMatch string) (string, error) {
	in := &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(name)), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("application/octet-stream")}
	if create {
		in.IfNoneMatch = aws.String("*")
	}
	if ifMatch != "" {
		in.IfMatch = aws.String(ifMatch)
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil && ifMatch != "" && isConditionFailed(err) {
		out, err = s.putUnquoted(ctx, name, in, data, ifMatch, err)
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// putUnquoted retries a PUT whose If-Match was refused when the object's
// ETag is in fact the one expected: Ceph's RADOS gateway (16.x) compares
// If-Match byte for byte with the ETag it stores, without the quotes S3
// puts around it and the SDK sends back, and so refuses every quoted
// ETag. Only when a HEAD shows the expected ETag is the PUT sent again,
// with the ETag unquoted; it stays conditional, so a writer that changed
// the object in between still makes it fail. Any other refusal (the
// object did change) is returned as it was.
func (s *Store) putUnquoted(ctx context.Context, name string, in *s3.PutObjectInput, data []byte, ifMatch string, refused error) (*s3.PutObjectOutput, error) {
	bare := strings.Trim(ifMatch, `"`)
	if bare == ifMatch {
		return nil, refused
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(name))})
	if err != nil || strings.Trim(aws.ToString(head.ETag), `"`) != bare {
		return nil, refused
	}
	in.IfMatch = aws.String(bare)
	in.Body = bytes.NewReader(data)
	return s.client.PutObject(ctx, in)
}

func (s *Store) del(ctx context.Context, name string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(name))})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", s.url(name), err)
	}
	return nil
}

// journals lists the journal objects by serial, each serial's sequence
// numbers sorted.
func (s *Store) journals(ctx context.Context) (map[uint64][]int, error) {
	out := map[uint64][]int{}
	dir := s.key(journalDir) + "/"
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(dir)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", "s3://"+s.bucket+"/"+dir, err)
		}
		for _, o := range page.Contents {
			rest := strings.TrimPrefix(aws.ToString(o.Key), dir)
			ser, seq, ok := strings.Cut(rest, "/")
			serial, err1 := strconv.ParseUint(ser, 10, 64)
			n, err2 := strconv.Atoi(seq)
			if !ok || err1 != nil || err2 != nil || n < 0 {
				continue // not ours
			}
			out[serial] = append(out[serial], n)
		}
	}
	for k := range out {
		sort.Ints(out[k])
	}
	return out, nil
}

// Load reads the state: state.json with the journal objects of its serial
// replayed over it, or a new state (serial 0, random lineage) when the
// prefix holds none. It writes nothing. Errors are state's: a damaged
// object is a *state.CorruptError, a journal of another lineage a
// *state.LineageError; while this Store holds the lock, a state with
// fields this build does not know is a *state.UnknownFieldsError.
func (s *Store) Load() (*state.State, error) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	var err error
	for range 3 {
		var st *state.State
		var v view
		st, v, err = s.read()
		if err == nil {
			s.mu.Lock()
			locked := s.held != nil
			if werr := st.Writable(); locked && werr != nil {
				s.mu.Unlock()
				// The lock is taken to write: refuse before any work is
				// done that could not be saved.
				return nil, fmt.Errorf("load state from %s: %w", s.Where(), werr)
			}
			s.disk = v
			s.mu.Unlock()
			return st, nil
		}
		if !errors.Is(err, errVanished) {
			break
		}
	}
	return nil, fmt.Errorf("load state from %s: %w", s.Where(), err)
}

var errVanished = errors.New("a journal object vanished while reading: a save ran at the same time")

func (s *Store) read() (*state.State, view, error) {
	ctx, cancel := reqCtx()
	defer cancel()
	// The journal list first, as state.Store reads its journal first: a
	// Save between the two reads leaves a list older than state.json,
	// which decoding ignores.
	js, err := s.journals(ctx)
	if err != nil {
		return nil, view{}, err
	}
	data, etag, err := s.get(ctx, StateObject)
	if err != nil {
		return nil, view{}, err
	}
	serial, err := s.peekSerial(data)
	if err != nil {
		return nil, view{}, s.hintBackup(ctx, err)
	}
	// The journal that matters is the one of state.json's serial; a
	// newer one (state.json restored from a backup) is an error that
	// Decode words, so hand it the newest.
	jser, seqs := newestJournal(js)
	if jser < serial {
		seqs = nil
	} else if jser > serial {
		serial = jser
	}
	var jdata, renew []byte
	var renewTag string
	for i, n := range seqs {
		if n != i {
			return nil, view{}, &state.CorruptError{File: s.url(journalKey(serial, i)),
				Err:  fmt.Errorf("journal object %d of serial %d is missing but %d exists", i, serial, n),
				Hint: "the journal objects must be consecutive: something deleted one; remove the journal objects of this serial to drop the recorded progress (the steps they recorded will run again)"}
		}
		b, etag, err := s.get(ctx, journalKey(serial, n))
		if err != nil {
			return nil, view{}, err
		}
		if b == nil {
			return nil, view{}, errVanished
		}
		if n == 0 {
			r, older, err := state.RenewJournalHeader(s.url(journalKey(serial, n)), b, s.opts.Key)
			if err != nil {
				return nil, view{}, s.hintBackup(ctx, err)
			}
			if older {
				renew, renewTag = r, etag
			}
		}
		jdata = append(jdata, b...)
	}
	jname := s.url(path.Join(journalDir, fmt.Sprintf("%020d", serial))) + "/"
	st, live, err := state.Decode(s.url(StateObject), data, jname, jdata, s.opts.Key)
	if err != nil {
		return nil, view{}, s.hintBackup(ctx, err)
	}
	if p := s.opts.ClusterPrefix; p != "" && st.Cluster != "" && state.ForeignCluster(p, st.Cluster) {
		return nil, view{}, &state.ForeignError{File: s.url(StateObject), Cluster: st.Cluster, Prefix: p}
	}
	v := view{loaded: true, lineage: st.Lineage, serial: st.Serial, etag: etag, live: live && len(seqs) > 0, sealed: state.IsSealed(data)}
	if v.live {
		v.seq, v.renew, v.renewTag = len(seqs), renew, renewTag
	}
	return st, v, nil
}

// peekSerial reads the serial of a state.json's bytes without checking the
// rest (Decode does that); 0 when there are none or they cannot be read.
func (s *Store) peekSerial(data []byte) (uint64, error) {
	if data == nil {
		return 0, nil
	}
	st, _, err := state.Decode(s.url(StateObject), data, "", nil, s.opts.Key)
	if err != nil {
		return 0, err
	}
	return st.Serial, nil
}

func newestJournal(js map[uint64][]int) (uint64, []int) {
	var best uint64
	var seqs []int
	for k, v := range js {
		if seqs == nil || k > best {
			best, seqs = k, v
		}
	}
	return best, seqs
}

// Sealed says whether the state.json last loaded or written is an
// encryption envelope (false before the first Load, and when there was
// none).
func (s *Store) Sealed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disk.sealed
}

// Current says whether state.json and the journal are still the objects
// this Store last loaded or wrote.
func (s *Store) Current() bool {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	ctx, cancel := reqCtx()
	defer cancel()
	s.mu.Lock()
	d := s.disk
	s.mu.Unlock()
	return d.loaded && s.checkUnchanged(ctx, d) == nil
}

// checkUnchanged verifies that state.json has the ETag loaded and the
// journal of its serial the objects loaded.
func (s *Store) checkUnchanged(ctx context.Context, d view) error {
	data, etag, err := s.get(ctx, StateObject)
	if err != nil {
		return err
	}
	if etag != d.etag {
		if data != nil {
			if other, _, err := state.Decode(s.url(StateObject), data, "", nil, s.opts.Key); err == nil && other.Lineage != d.lineage {
				return &state.LineageError{File: s.url(StateObject), Disk: other.Lineage, Have: d.lineage}
			}
		}
		return fmt.Errorf("%w: %s is not the object loaded (serial %d); load again", state.ErrChanged, s.url(StateObject), d.serial)
	}
	js, err := s.journals(ctx)
	if err != nil {
		return err
	}
	if n := len(js[d.serial]); n != d.seq {
		return fmt.Errorf("%w: the journal of serial %d has %d object(s), not the %d loaded; load again", state.ErrChanged, d.serial, n, d.seq)
	}
	return nil
}

// Save writes st as the new state.json with the next serial, keeps the
// one it replaces as state.json.backup, and deletes the journal objects it
// folds in. st must be the state Load returned (same lineage and serial).
// The PUT of state.json is conditional on the ETag loaded, so a state
// written by anyone else in between is never overwritten.
func (s *Store) Save(st *state.State) error {
	if st == nil {
		return errors.New("save state: nil state")
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if err := s.save(st); err != nil {
		return fmt.Errorf("save state to %s: %w", s.Where(), err)
	}
	return nil
}

func (s *Store) save(st *state.State) error {
	s.mu.Lock()
	d, locked := s.disk, s.held != nil
	s.mu.Unlock()
	switch {
	case !locked:
		return state.ErrNotLocked
	case !d.loaded:
		return errors.New("nothing loaded: Save continues the state Load returned")
	case st.Lineage != d.lineage:
		return &state.LineageError{File: s.url(StateObject), Disk: d.lineage, Have: st.Lineage}
	case st.Serial != d.serial:
		return fmt.Errorf("the state to save has serial %d but the one loaded has serial %d: save the state Load returned", st.Serial, d.serial)
	}
	ctx, cancel := reqCtx()
	defer cancel()
	if err := s.checkUnchanged(ctx, d); err != nil {
		return err
	}
	serial, err := state.NextSerial(d.serial)
	if err != nil {
		return fmt.Errorf("%s: %w", s.url(StateObject), err)
	}
	next := *st
	next.Version = state.SchemaVersion
	next.Serial = serial
	data, err := state.EncodeState(&next, s.opts.Key)
	if err != nil {
		return err
	}
	if err := s.writeState(ctx, d, data); err != nil {
		return err
	}
	st.Version, st.Serial = next.Version, next.Serial
	s.mu.Lock()
	s.disk = view{loaded: true, lineage: d.lineage, serial: next.Serial, etag: s.disk.etag, sealed: s.opts.Key != nil}
	s.mu.Unlock()
	// Folded in: a failed delete leaves objects Load ignores (their
	// serial is behind).
	s.dropJournals(ctx, next.Serial)
	return nil
}

// writeState keeps the current state.json as the backup and puts data in
// its place, conditional on the ETag d loaded; it records the new ETag.
func (s *Store) writeState(ctx context.Context, d view, data []byte) error {
	if d.etag != "" {
		_, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(BackupObject)),
			CopySource: aws.String(s.bucket + "/" + s.key(StateObject))})
		if err != nil {
			return fmt.Errorf("back up %s: %w", s.url(StateObject), err)
		}
	}
	etag, err := s.put(ctx, StateObject, data, d.etag == "", d.etag)
	if isConditionFailed(err) {
		return fmt.Errorf("%w: %s was written by someone else meanwhile; load again", state.ErrChanged, s.url(StateObject))
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", s.url(StateObject), err)
	}
	s.mu.Lock()
	s.disk.etag = etag
	s.mu.Unlock()
	return nil
}

// dropJournals deletes the journal objects of serials below before.
func (s *Store) dropJournals(ctx context.Context, before uint64) {
	js, err := s.journals(ctx)
	if err != nil {
		return
	}
	for ser, seqs := range js {
		if ser >= before {
			continue
		}
		for _, n := range seqs {
			_ = s.del(ctx, journalKey(ser, n))
		}
	}
}

// Replace writes st as the state keeping its lineage and serial, for
// moving a state between backends (diffuser state push and pull). Like
// Save it needs the lock and a prior Load, refuses when the objects
// changed since, keeps the state.json it replaces as the backup and
// deletes the journal objects. Whether st may replace what was loaded is
// the caller's decision.
func (s *Store) Replace(st *state.State) error {
	if st == nil || st.Lineage == "" {
		return errors.New("replace state: no state, or one without a lineage")
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	d, locked := s.disk, s.held != nil
	s.mu.Unlock()
	switch {
	case !locked:
		return fmt.Errorf("replace state: %w", state.ErrNotLocked)
	case !d.loaded:
		return errors.New("replace state: nothing loaded: Load first")
	}
	ctx, cancel := reqCtx()
	defer cancel()
	if err := s.checkUnchanged(ctx, d); err != nil {
		return fmt.Errorf("replace state in %s: %w", s.Where(), err)
	}
	next := *st
	next.Version = state.SchemaVersion
	data, err := state.EncodeState(&next, s.opts.Key)
	if err != nil {
		return err
	}
	if err := s.writeState(ctx, d, data); err != nil {
		return fmt.Errorf("replace state in %s: %w", s.Where(), err)
	}
	s.mu.Lock()
	s.disk = view{loaded: true, lineage: next.Lineage, serial: next.Serial, etag: s.disk.etag, sealed: s.opts.Key != nil}
	s.mu.Unlock()
	s.dropJournals(ctx, ^uint64(0))
	return nil
}

// hintBackup gives err, when it is the state object's damage, the hint
// backupHint words.
func (s *Store) hintBackup(ctx context.Context, err error) error {
	var ce *state.CorruptError
	if errors.As(err, &ce) && ce.File == s.url(StateObject) {
		ce.Hint = s.backupHint(ctx)
	}
	return err
}

// backupHint says what the backup object of a damaged state.json holds
// and how to put it back. No diffuser command reads a damaged state.json
// (state pull neither), so the copy is one made with an S3 client, while
// no diffuser command runs on the workspace.
func (s *Store) backupHint(ctx context.Context) string {
	bp, sp := s.url(BackupObject), s.url(StateObject)
	data, _, err := s.get(ctx, BackupObject)
	if err == nil && data == nil {
		err = errors.New("no such object")
	}
	if err != nil {
		return fmt.Sprintf("the object is damaged and there is no readable backup %s (%v): download it with an S3 client (aws s3 cp %s state.json), "+
			"repair it by hand and upload it back (aws s3 cp state.json %s) while no diffuser command runs on this workspace", bp, err, sp, sp)
	}
	b, _, err := state.Decode(bp, data, "", nil, s.opts.Key)
	if err != nil {
		return fmt.Sprintf("the object is damaged and so is its backup %s (%v): repair one by hand", bp, err)
	}
	return fmt.Sprintf("the object is damaged: its previous copy %s (serial %d) is readable. No diffuser command reads a damaged state "+
		"(diffuser state pull neither): to go back one save, while no diffuser command runs on this workspace, copy the backup over it "+
		"with an S3 client (aws s3 cp %s %s; add --endpoint-url for a server other than AWS), then check it with diffuser state list",
		bp, b.Serial, bp, sp)
}
