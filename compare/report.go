package compare

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"diffuser/internal/strictjson"
)

// ReportVersion is the version of compare.json's schema (docs/json.md).
const ReportVersion = 1

// ReportFile is the name of the report's JSON record in its directory.
const ReportFile = "compare.json"

// Params are the measurement parameters every recipe of a comparison
// shares: a result is reused by a re-run only when they are the same.
type Params struct {
	Servers  int    `json:"servers"`  // storage servers asked for (see Result.Hosts for what each recipe has)
	Clients  int    `json:"clients"`  // client hosts
	Bytes    int64  `json:"bytes"`    // what each client writes and reads
	Threads  int    `json:"threads"`  // parallel streams per client
	Files    int    `json:"files"`    // small files per worker
	Workers  int    `json:"workers"`  // small-file workers per client
	Provider string `json:"provider"` // where hosts come from
}

// Report is a comparison: its parameters, the machine it ran from and a
// result per recipe, in the order the command named them.
type Report struct {
	Version int       `json:"version"`
	Params  Params    `json:"params"`
	Machine Machine   `json:"machine"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	Results []Result  `json:"results"`
}

// Machine describes where diffuser ran: on the docker provider, the
// machine every host shares.
type Machine struct {
	Hostname    string `json:"hostname,omitempty"`
	CPUs        int    `json:"cpus"`
	MemoryBytes int64  `json:"memory_bytes,omitempty"`
	Kernel      string `json:"kernel,omitempty"`
}

// Status says how far a recipe got.
type Status string

// A result's status: measured (every phase ran; a failed destroy is noted
// apart), failed (a phase failed: Failure says which) or stopped (the
// comparison was interrupted during this recipe).
const (
	Measured Status = "measured"
	Failed   Status = "failed"
	Stopped  Status = "stopped"
)

// Result is one recipe's row.
type Result struct {
	Label     string         `json:"label"`
	Recipe    string         `json:"recipe"`    // the recipe's name
	Source    string         `json:"source"`    // builtin:NAME or the path given
	Workspace string         `json:"workspace"` // compare-LABEL
	Key       string         `json:"key"`       // digest of recipe, variables and parameters
	Vars      []string       `json:"vars"`      // NAME=VALUE given to the recipe (sensitive ones as (sensitive))
	Hosts     map[string]int `json:"hosts"`     // hosts per group, as applied
	Notes     []string       `json:"notes,omitempty"`
	Status    Status         `json:"status"`
	Failure   *Failure       `json:"failure,omitempty"`
	Started   time.Time      `json:"started"`
	Ended     time.Time      `json:"ended"`

	// Times of the phases, in seconds (0: did not run).
	ApplySeconds   float64 `json:"apply_seconds"`
	VerifySeconds  float64 `json:"verify_seconds"`
	ReadySeconds   float64 `json:"ready_seconds"` // apply + verify: from nothing to a verified mount
	DestroySeconds float64 `json:"destroy_seconds"`
	DestroyError   string  `json:"destroy_error,omitempty"`

	// Aggregates over all clients (each phase's bytes or operations over
	// its wall time, all clients at once).
	Write  Throughput `json:"write"`
	Read   Throughput `json:"read"`
	Create OpsRate    `json:"create"`
	Stat   OpsRate    `json:"stat"`
	Delete OpsRate    `json:"delete"`

	Clients []Client `json:"clients"`
}

// Failure is where a recipe's comparison stopped.
type Failure struct {
	Phase string `json:"phase"` // load, cleanup, apply, verify, bench, smallfiles
	Step  string `json:"step,omitempty"`
	Host  string `json:"host,omitempty"`
	Error string `json:"error"`
	Tail  string `json:"tail,omitempty"` // the last lines of the failed step's output
	Log   string `json:"log,omitempty"`  // its log file
}

// Throughput is bytes moved in a phase and the rate, MB/s (10^6 bytes/s).
type Throughput struct {
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	MBps    float64 `json:"mb_per_s"`
}

// OpsRate is operations done in a phase and the rate per second.
type OpsRate struct {
	Ops       int64   `json:"ops"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_s"`
}

// Client is one client's measurements.
type Client struct {
	Host     string     `json:"host"`
	FSType   string     `json:"fstype,omitempty"`
	Tool     string     `json:"tool,omitempty"`
	ReadMode string     `json:"read_mode,omitempty"`
	Note     string     `json:"note,omitempty"` // why the tool is not fio, say
	Write    Throughput `json:"write"`
	Read     Throughput `json:"read"`
	Create   OpsRate    `json:"create"`
	Stat     OpsRate    `json:"stat"`
	Delete   OpsRate    `json:"delete"`
	Error    string     `json:"error,omitempty"`
}

// ReadReport reads dir's compare.json; a missing one is (nil, nil).
func ReadReport(dir string) (*Report, error) {
	path := filepath.Join(dir, ReportFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the previous results: %w", err)
	}
	var r Report
	// A key given twice ("results" twice: which ones are reused?), invalid
	// UTF-8, null for a value: the record was edited or damaged.
	if err := strictjson.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is not a comparison's record (%v): remove it, or run with --fresh to start over", path, strictjson.Locate(b, err))
	}
	if r.Version != ReportVersion {
		return nil, fmt.Errorf("%s has schema version %d, this diffuser writes %d: run with --fresh to start over", path, r.Version, ReportVersion)
	}
	return &r, nil
}

// CheckDir refuses a report directory holding files diffuser compare would
// replace but did not write: a ReportFile that is not a comparison's
// record (a JSON object with version, params and results), or one of
// names (the rendered reports) with no record beside it. -out . or -out
// docs replaced a project's own report.md or compare.json, even with
// --fresh. A directory that is missing or holds none of them is fine.
func CheckDir(dir string, names ...string) error {
	path := filepath.Join(dir, ReportFile)
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		for _, n := range names {
			if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
				return fmt.Errorf("%s is there and %s is not: it is not a report diffuser compare wrote, and would be replaced; "+
					"give -out a new directory, or the directory of an earlier comparison", filepath.Join(dir, n), ReportFile)
			}
		}
		return nil
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file: it is not a comparison's record; give -out a new directory", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var rec struct {
		Version *int            `json:"version"`
		Params  json.RawMessage `json:"params"`
		Results json.RawMessage `json:"results"`
	}
	if json.Unmarshal(b, &rec) != nil || rec.Version == nil || rec.Params == nil || rec.Results == nil {
		return fmt.Errorf("%s is not a comparison's record (no version, params and results) and would be replaced; "+
			"give -out a new directory, or move the file away", path)
	}
	return nil
}

// MarshalReport is compare.json's bytes: indented, ending in a newline.
func MarshalReport(r *Report) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteFile replaces path with b atomically: a temporary file beside it,
// fsync, rename. A crash leaves the old file or the new one.
func WriteFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
