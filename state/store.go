package state

import (
	"bytes"
	"crypto/rand"
	"diffuser/internal/shell"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"diffuser/internal/regfile"

	"github.com/dustin/go-humanize"
)

// Files of a workspace directory.
const (
	StateFile   = "state.json"        // the state, replaced atomically by Save
	BackupFile  = "state.json.backup" // the state.json that Save last replaced
	JournalFile = "state.journal"     // records since the last Save, one JSON line each
	LockFile    = "state.lock"        // flock(2)ed while a process holds the lock

	backupSuffix = ".backup"
	tmpInfix     = ".tmp-"
)

// MaxFileSize is the largest state.json or journal diffuser reads: a file
// past it is refused, naming its size, before a byte of it is read. Reading
// is all in memory (and decoding takes about twice the file again), so an
// unbounded file (a runaway log, a disk image, /dev/zero copied by
// mistake) used to take the whole machine's memory. 1 GiB is generous: a
// state is ~1 KiB per step instance plus the arguments kept for destroy,
// which hold the content of file steps; 100,000 instances each carrying a
// 4 KiB file are ~500 MiB. The journal is compacted once it is as large as
// state.json (NeedsCompact), so the same cap holds for it.
const MaxFileSize = 1 << 30

// defaultCompactMin is the journal size below which NeedsCompact stays
// false however small state.json is.
const defaultCompactMin = 1 << 20

// Option configures a Store.
type Option func(*options)

type options struct {
	lockWait   time.Duration
	compactMin int64
	noFlock    bool // tests: behave as on a filesystem without flock(2)
	key        *Key // encryption at rest (WithKey); nil: none
	// clusterPrefix, when set, is how this workspace's cluster names
	// start (WithClusterPrefix).
	clusterPrefix string
	// clusterCheck, when set, is asked about the cluster a loaded state
	// records (WithClusterCheck).
	clusterCheck func(cluster string) error
}

// WithClusterPrefix makes Load refuse a state whose cluster name is not p
// and a piece of lineage (a *ForeignError, see ForeignCluster): the
// directory holds another workspace's state, copied in by hand, and every
// command here would change or destroy that workspace's machines.
func WithClusterPrefix(p string) Option { return func(o *options) { o.clusterPrefix = p } }

// WithClusterCheck makes Load refuse a state whose cluster check refuses
// (returns an error for): the workspace layer's test that no other
// workspace records the same cluster, which the prefix cannot tell when
// two workspace names give the same prefix.
func WithClusterCheck(check func(cluster string) error) Option {
	return func(o *options) { o.clusterCheck = check }
}

// ForeignCluster reports whether cluster is not a name the workspace
// whose cluster names start with prefix gives its cluster: the prefix
// (the workspace's name and "-") and the first characters of its
// lineage, which hold no "-". Starting with the prefix is not enough:
// workspace w-b's cluster, w-b-1a2b3c, starts with w's prefix, w-, too.
func ForeignCluster(prefix, cluster string) bool {
	rest, ok := strings.CutPrefix(cluster, prefix)
	return !ok || strings.Contains(rest, "-")
}

// WithLockWait makes Lock retry for up to d while another process holds the
// lock, instead of failing at once.
func WithLockWait(d time.Duration) Option { return func(o *options) { o.lockWait = d } }

// WithCompactMin sets the journal size in bytes below which NeedsCompact
// is false (default 1 MiB). Above it, NeedsCompact is true once the
// journal is as large as state.json, which keeps the total cost of
// compaction linear in the number of records.
func WithCompactMin(n int64) Option { return func(o *options) { o.compactMin = n } }

// Store is the state of one workspace directory (.diffuser/<workspace>/).
//
// Reading needs no lock. Writing (Save, Record) needs the workspace lock
// held through this Store (Lock) and a prior Load, whose lineage and
// serial the writes continue; a write also checks that the files on disk
// are still the ones loaded, and fails with ErrChanged otherwise.
//
// All methods are safe for concurrent use. Record calls from many
// goroutines are batched into one journal write and fsync. Load, Save and
// the function returned by Lock wait for journal writes in flight and hold
// new ones back until they are done.
type Store struct {
	dir  string
	opts options

	mu        sync.Mutex
	cond      sync.Cond // on mu; signalled when busy clears and acquirers wait
	acquirers int       // goroutines waiting in acquire
	busy      bool      // one goroutine owns the files and the fields below "owned"
	pending   *batch    // records waiting for the next journal write
	held      *heldLock // the workspace lock, while this Store holds it
	sizes     fileSizes // for NeedsCompact
	flushes   int       // journal writes so far (tests, benchmarks)

	// owned by whoever set busy
	disk  diskView
	jf    *os.File // the journal, open once the first record after Load or Save is written
	jsize int64    // bytes of complete lines in jf
	jerr  error    // a failed journal write: no more appends until Save
}

type fileSizes struct {
	state, journal int64
}

// diskView is what this Store last read or wrote.
type diskView struct {
	loaded  bool
	lineage string
	serial  uint64
	state   os.FileInfo // nil if there was no state.json
	journal os.FileInfo // nil if there was no journal
	jview   journalView
	sealed  bool // state.json is an encryption envelope
}

// batch is the records of one journal write. Its waiters sleep on lead
// while it is pending and on fin once a leader took it. Fields are guarded
// by Store.mu.
type batch struct {
	buf  []byte
	done bool
	err  error
	fin  chan struct{} // closed when done
	lead chan struct{} // closed when the files are free: a waiter may write the batch
}

func newBatch() *batch {
	return &batch{fin: make(chan struct{}), lead: make(chan struct{})}
}

// wakeLeader wakes b's waiters to elect a leader, once per lead channel.
func (b *batch) wakeLeader() {
	select {
	case <-b.lead:
	default:
		close(b.lead)
	}
}

// Open returns the Store for the workspace directory dir. It touches
// nothing on disk: the directory is created (0700) by the first Lock.
func Open(dir string, opts ...Option) *Store {
	s := &Store{dir: dir, opts: options{compactMin: defaultCompactMin}}
	for _, o := range opts {
		o(&s.opts)
	}
	s.cond.L = &s.mu
	return s
}

// Dir is the workspace directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(name string) string { return filepath.Join(s.dir, name) }

// acquire waits until no other goroutine owns the files, then owns them.
func (s *Store) acquire() {
	s.mu.Lock()
	s.acquirers++
	for s.busy {
		s.cond.Wait()
	}
	s.acquirers--
	s.busy = true
	s.mu.Unlock()
}

func (s *Store) release() {
	s.mu.Lock()
	s.busy = false
	s.freed()
	s.mu.Unlock()
}

// freed tells whoever waits that the files are free: goroutines in acquire,
// and the waiters of the pending batch, one of which will write it. Waiters
// of other batches sleep on: waking every Record caller on every fsync was
// most of the journal's cost with 64 concurrent writers. Needs mu.
func (s *Store) freed() {
	if s.pending != nil {
		s.pending.wakeLeader()
	}
	if s.acquirers > 0 {
		s.cond.Broadcast()
	}
}

// Load reads the state: state.json with the journal replayed over it. With
// no state.json (and no journal) it returns a fresh New state with a random
// lineage, serial 0. It never modifies a file.
//
// A damaged file gives a *CorruptError with its line and column, a file of
// a newer schema a *VersionError, a journal of another lineage a
// *LineageError. A state with fields this build does not know loads
// (see State.Writable) except while this Store holds the lock, which is
// taken to write it: then it is an *UnknownFieldsError. A journal whose last line was torn by a crash loses only
// that line.
func (s *Store) Load() (*State, error) {
	s.acquire()
	defer s.release()
	st, d, err := s.read()
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	s.mu.Lock()
	locked := s.held != nil
	s.mu.Unlock()
	if err := st.Writable(); locked && err != nil {
		// The lock is taken to write: refuse before any work is done
		// that could not be saved.
		return nil, fmt.Errorf("load state: %w", err)
	}
	s.closeJournal()
	s.disk = d
	s.jsize = 0
	s.jerr = nil
	s.mu.Lock()
	s.sizes = fileSizes{state: size(d.state), journal: size(d.journal)}
	s.mu.Unlock()
	return st, nil
}

// Sealed says whether the state.json last loaded or saved is an
// encryption envelope (false before the first Load, and when there was
// none).
func (s *Store) Sealed() bool {
	s.acquire()
	defer s.release()
	return s.disk.sealed
}

func (s *Store) read() (*State, diskView, error) {
	sp, jp := s.path(StateFile), s.path(JournalFile)
	// The journal first: if a Save replaces state.json and removes the
	// journal between the two reads, the journal read is older than the
	// state.json read and is ignored, so the pair is always consistent.
	jdata, jfi, err := readFile(jp)
	if err != nil {
		return nil, diskView{}, err
	}
	data, sfi, err := readFile(sp)
	if err != nil {
		return nil, diskView{}, err
	}
	sealed := IsSealed(data)
	if data, err = open(s.opts.key, sp, 0, data, purposeState); err != nil {
		return nil, diskView{}, err
	}
	st, jv, err := decode(sp, data, sfi != nil, jp, jdata, newLineage, s.opts.key)
	if err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) && ce.File == sp {
			ce.Hint = backupHint(sp, s.opts.key)
		}
		return nil, diskView{}, err
	}
	if p := s.opts.clusterPrefix; p != "" && st.Cluster != "" && ForeignCluster(p, st.Cluster) {
		return nil, diskView{}, &ForeignError{File: sp, Cluster: st.Cluster, Prefix: p}
	}
	if check := s.opts.clusterCheck; check != nil && st.Cluster != "" {
		if err := check(st.Cluster); err != nil {
			return nil, diskView{}, err
		}
	}
	return st, diskView{loaded: true, lineage: st.Lineage, serial: st.Serial, state: sfi, journal: jfi, jview: jv, sealed: sealed}, nil
}

// backupHint says what the backup of a damaged state.json holds.
func backupHint(sp string, k *Key) string {
	bp := sp + backupSuffix
	data, _, err := readFile(bp)
	if err == nil && data == nil {
		err = &fs.PathError{Op: "open", Path: bp, Err: syscall.ENOENT}
	}
	if err == nil {
		data, err = open(k, bp, 0, data, purposeState)
	}
	if err != nil {
		return fmt.Sprintf("the file is damaged and there is no readable backup (%v): repair it by hand or restore it from elsewhere", err)
	}
	b, err := decodeState(bp, data)
	if err != nil {
		return fmt.Sprintf("the file is damaged and so is its backup %s (%v): repair it by hand", bp, err)
	}
	hint := fmt.Sprintf("the file is damaged: its previous copy %s is readable (serial %d; hosts: %d, step instances: %d; what the last save recorded is not in it); "+
		"check it and copy it over %s to go back one save", bp, b.Serial, len(b.Hosts), len(b.Steps), sp)
	if len(b.Hosts) == 0 {
		hint += "; it holds no hosts: copied back, it forgets every host the damaged file recorded, which keep running " +
			"until they are removed with the provider's own tools (docker ps, the cloud's console)"
	}
	return hint
}

// readFile returns the content of path and its FileInfo, taken from the
// same open file; both nil if it does not exist.
//
// A symbolic link is refused: every save replaces the file with a new one,
// which would replace the link and leave the file it points to behind,
// stale, without a word.
func readFile(path string) ([]byte, os.FileInfo, error) {
	f, err := openNoWait(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if fi, lerr := os.Lstat(path); err != nil && lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		to, _ := os.Readlink(path)
		return nil, nil, fmt.Errorf("%s is a symbolic link (to %s): diffuser replaces this file on every save, which would replace the link "+
			"and leave %s behind, stale; put the file itself there instead (mv %s %s)", path, to, to, shell.Quote(to), shell.Quote(path))
	}
	if err != nil {
		return nil, nil, err // a *PathError: "open PATH: why"
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file (%s): diffuser keeps state in files it writes; remove it (rm %s), or put the file itself there", path, regfile.Kind(fi.Mode()), shell.Quote(path))
	}
	if err := CheckSize(path, fi.Size()); err != nil {
		return nil, nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+512))
	if _, err := io.Copy(buf, f); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return buf.Bytes(), fi, nil
}

// CheckSize refuses a state file (or journal) of size bytes that is larger
// than MaxFileSize, naming it: the caller checks before reading.
func CheckSize(name string, size int64) error {
	if size <= MaxFileSize {
		return nil
	}
	return fmt.Errorf("%s is %s (%d bytes), more than the %s of state diffuser reads: it is not a file diffuser wrote "+
		"(something else was written or copied there); move it aside: a state.json's previous copy is %s, "+
		"and without a journal only the progress recorded since the last save is lost (those steps run again)",
		name, humanize.IBytes(uint64(size)), size, humanize.IBytes(uint64(MaxFileSize)), BackupFile)
}

// openNoWait opens path for reading without following a symbolic link
// and without waiting: opening a named pipe would block (every command,
// past Ctrl-C) until something wrote to it.
func openNoWait(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// Save writes st as the new state.json with the next serial, atomically and
// durably, keeps the file it replaces as state.json.backup, and retires the
// journal: everything recorded is in st, so Save is also the compaction.
// st must be the state Load returned (same lineage and serial, else a
// *LineageError or an error naming both serials); Save sets st.Serial.
//
// Crash safety: state.json is always a complete file, old or new. The
// journal is removed only after the new state.json is durable; a journal
// left behind by a crash names the serial it continued and is ignored by
// Load once state.json has moved past it.
//
// The caller must not modify st during Save.
func (s *Store) Save(st *State) error {
	if st == nil {
		return errors.New("save state: nil state")
	}
	s.acquire()
	defer s.release()
	if err := s.save(st); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

func (s *Store) save(st *State) error {
	if err := st.Writable(); err != nil {
		return err
	}
	s.mu.Lock()
	locked := s.held != nil
	s.mu.Unlock()
	switch {
	case !locked:
		return ErrNotLocked
	case !s.disk.loaded:
		return errors.New("nothing loaded: Save continues the state Load returned")
	case st.Lineage != s.disk.lineage:
		return &LineageError{File: s.path(StateFile), Disk: s.disk.lineage, Have: st.Lineage}
	case st.Serial != s.disk.serial:
		return fmt.Errorf("the state to save has serial %d but the one loaded has serial %d: save the state Load returned", st.Serial, s.disk.serial)
	}
	if err := s.checkUnchanged(); err != nil {
		return err
	}
	serial, err := NextSerial(s.disk.serial)
	if err != nil {
		return fmt.Errorf("%s: %w", s.path(StateFile), err)
	}
	next := *st // shallow: only the header fields change
	next.Version = SchemaVersion
	next.Serial = serial
	data, err := json.MarshalIndent(&next, "", "  ")
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if s.opts.key != nil {
		data = s.opts.key.seal(data, purposeState)
	}
	data = append(data, '\n')
	removeTemps(s.dir)
	fi, err := replaceFile(s.dir, StateFile, data, BackupFile)
	if err != nil {
		return err
	}
	st.Version, st.Serial = next.Version, next.Serial
	s.disk.serial = next.Serial
	s.disk.state = fi
	s.disk.sealed = s.opts.key != nil
	// The journal is folded into the new state.json. If removing it fails
	// or does not survive a crash, Load ignores it: its serial is behind.
	s.closeJournal()
	_ = os.Remove(s.path(JournalFile))
	s.disk.journal, s.disk.jview = statOrNil(s.path(JournalFile)), journalView{}
	s.jsize, s.jerr = 0, nil
	s.mu.Lock()
	s.sizes = fileSizes{state: int64(len(data))}
	s.mu.Unlock()
	return nil
}

// Current says whether state.json and the journal are still the files this
// Store last loaded or wrote, so that the State it returned or saved then
// is what Load would return now. A caller that read state before taking
// the lock uses it to skip reading it again under the lock.
func (s *Store) Current() bool {
	s.acquire()
	defer s.release()
	return s.disk.loaded && s.checkUnchanged() == nil
}

// checkUnchanged verifies that state.json and the journal are the files
// this Store loaded or wrote last.
func (s *Store) checkUnchanged() error {
	sp := s.path(StateFile)
	fi, err := os.Stat(sp)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat %s: %w", sp, err)
	}
	if err != nil {
		fi = nil
	}
	if !sameFile(fi, s.disk.state) {
		if data, _, err := readFile(sp); err == nil && data != nil {
			data, _ = open(s.opts.key, sp, 0, data, purposeState)
			if other, err := decodeState(sp, data); err == nil && other.Lineage != s.disk.lineage {
				return &LineageError{File: sp, Disk: other.Lineage, Have: s.disk.lineage}
			}
		}
		return fmt.Errorf("%w: %s is not the file loaded (serial %d); load again", ErrChanged, sp, s.disk.serial)
	}
	if s.jf != nil {
		return nil // ours, open since
	}
	jp := s.path(JournalFile)
	jfi, err := os.Stat(jp)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat %s: %w", jp, err)
	}
	if err != nil {
		jfi = nil
	}
	if !sameFile(jfi, s.disk.journal) {
		return fmt.Errorf("%w: %s is not the file loaded; load again", ErrChanged, jp)
	}
	return nil
}

// sameFile: both absent, or the same file with the same size and mtime.
func sameFile(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

func size(fi os.FileInfo) int64 {
	if fi == nil {
		return 0
	}
	return fi.Size()
}

// newLineage returns a random UUID (version 4).
func newLineage() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
