package views

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WorkspaceJSON is one element of `diffuser workspace list -json`.
type WorkspaceJSON struct {
	Name      string    `json:"name"`
	Recipe    string    `json:"recipe"`
	Provider  string    `json:"provider"`
	Cluster   string    `json:"cluster,omitempty"`
	Hosts     int       `json:"hosts"`
	Instances int       `json:"instances"`
	Outputs   int       `json:"outputs"`
	Serial    uint64    `json:"serial"`
	Modified  time.Time `json:"modified"` // RFC 3339: the last change to state.json or its journal
	// Expires is the cluster's deadline (absent: none); Expired says it
	// has passed: diffuser destroy --expired sweeps it.
	Expires  *time.Time `json:"expires,omitempty"`
	Expired  bool       `json:"expired,omitempty"`
	LockedBy *LockJSON  `json:"locked_by,omitempty"`
	Error    string     `json:"error,omitempty"` // the state cannot be read; counts are 0
}

// LockJSON names the process holding a workspace's lock.
type LockJSON struct {
	PID      int       `json:"pid"`
	User     string    `json:"user"`
	Hostname string    `json:"hostname"`
	Command  string    `json:"command"`
	Since    time.Time `json:"since"`
}

// WriteWorkspaces prints the workspace list as a table; state that cannot
// be read and locks held now follow it.
func WriteWorkspaces(w io.Writer, list []WorkspaceJSON, dataDir string) {
	if len(list) == 0 {
		fmt.Fprintf(w, "No workspaces under %s.\n", dataDir)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRECIPE\tPROVIDER\tHOSTS\tINSTANCES\tSERIAL\tMODIFIED\tEXPIRES")
	for _, in := range list {
		recipe, provider := orDash(in.Recipe), orDash(in.Provider)
		modified := "-"
		if !in.Modified.IsZero() {
			modified = in.Modified.Local().Format("2006-01-02 15:04:05")
		}
		if in.Error != "" {
			fmt.Fprintf(tw, "%s\t?\t?\t?\t?\t?\t%s\t?\n", in.Name, modified)
			continue
		}
		expires := "-"
		if in.Expires != nil {
			expires = in.Expires.Local().Format("2006-01-02 15:04:05")
			if in.Expired {
				expires += " (due)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", in.Name, recipe, provider, in.Hosts, in.Instances, in.Serial, modified, expires)
	}
	_ = tw.Flush()
	for _, in := range list {
		if in.Error != "" {
			fmt.Fprintf(w, "\n%s: cannot read its state: %s\n", in.Name, in.Error)
		}
		if h := in.LockedBy; h != nil {
			fmt.Fprintf(w, "\n%s is locked by pid %d (%s@%s) running %q since %s.\n", in.Name, h.PID, h.User, h.Hostname, h.Command,
				h.Since.Local().Format(time.RFC3339))
		}
	}
	for _, in := range list {
		if in.Expired {
			fmt.Fprintf(w, "\n%s is past its deadline: diffuser destroy --expired --all-workspaces sweeps it.\n", in.Name)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
