package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"diffuser/engine"
	"diffuser/probe"

	"github.com/spf13/cobra"
)

func (a *app) benchCmd() *cobra.Command {
	var size string
	var threads int
	var tool string
	var keepCaches bool
	c := &cobra.Command{
		Use:   "bench RECIPE",
		Short: "Measure write and read throughput through the mounted filesystem on every client",
		Long: `bench measures the applied filesystem the way an operator would by hand, on every client of
the recipe's verify blocks (the hosts of their on, at their path) at the same time: first
-threads parallel sequential writers per client, -size in all per client, flushed to stable
storage before the clock stops; then as many parallel readers of the same amount. It uses fio
when the host has it, else dd (conv=fdatasync for writes). Reads avoid the reader's page
cache: with two or more clients each reads what another client wrote, caches are dropped where
the host allows it, and dd reads with iflag=direct where it cannot drop them. It prints MB/s
(10^6 bytes per second, as dd and fio do) per client and in aggregate (all bytes over the
phase's wall time), and removes its files at the end.`,
		Example: `  diffuser bench glusterfs
  diffuser bench glusterfs -size 4GiB -threads 8
  diffuser bench nfs -tool dd -size 256MiB`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bytes, err := parseSize(size)
			if err != nil {
				return fmt.Errorf("-size: %w", err)
			}
			if threads < 1 || threads > 256 {
				return fmt.Errorf("-threads must be between 1 and 256, not %d", threads)
			}
			ws, conn, closeConn, err := a.openApplied(cmd.Context(), args[0], "bench")
			if err != nil {
				return err
			}
			defer closeConn()
			fmt.Fprintf(a.stdout, "Benchmarking %s: %s per client in %d threads...\n", ws.loaded.Recipe.Name, fmtBytes(bytes), threads)
			rep, err := probe.Bench(cmd.Context(), ws.loaded, ws.st, probe.BenchOptions{Connector: conn, Bytes: bytes, Threads: threads, Tool: tool,
				KeepCaches: keepCaches})
			if rep != nil {
				writeBench(a, rep)
			}
			if err != nil {
				return err
			}
			for _, c := range rep.Clients {
				if c.Err != "" {
					return &shownError{1}
				}
			}
			return nil
		},
	}
	a.recipeFlags(c)
	c.Flags().StringVar(&size, "size", "1GiB", "bytes each client writes and reads (KiB, MiB, GiB, TiB; kB, MB, GB, TB)")
	c.Flags().IntVar(&threads, "threads", 4, "parallel streams per client")
	c.Flags().StringVar(&tool, "tool", "auto", "auto (fio when installed, else dd), fio or dd")
	c.Flags().BoolVar(&keepCaches, "keep-caches", false, "do not drop the clients' page caches before reading (dropping is host-wide: on the docker provider, the whole machine's); read with O_DIRECT instead")
	return c
}

// hostConnector returns how to reach the workspace's hosts: SSH with the
// workspace key, or the simulated or test connector.
func (a *app) hostConnector(ws *workspace) (engine.Connector, func(), error) {
	if s, _ := a.simulation(); s != nil {
		s.adopt(ws.cluster(), ws.st)
		return s.connector(), func() {}, nil
	}
	if a.testConnector != nil {
		return a.testConnector, func() {}, nil
	}
	keys, err := ws.keys()
	if err != nil {
		return nil, nil, err
	}
	c := newConnector(keys.PrivateKeyFile)
	return c, c.close, nil
}

func writeBench(a *app, rep *probe.BenchReport) {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "CLIENT\tPATH\tFS\tTOOL\tWRITE MB/s\tREAD MB/s\t")
	var failed []probe.BenchClient
	for _, c := range rep.Clients {
		w, r := "-", "-"
		if c.Write.Duration > 0 {
			w = fmt.Sprintf("%.1f", c.Write.MBps())
		}
		if c.Read.Duration > 0 {
			r = fmt.Sprintf("%.1f", c.Read.MBps())
		}
		tool := c.Tool
		if tool == "" {
			tool = "-"
		}
		fs := c.FSType
		if fs == "" {
			fs = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Host, c.Path, fs, tool, w, r)
		if c.Err != "" {
			failed = append(failed, c)
		}
	}
	if len(rep.Clients) > 1 {
		fmt.Fprintf(tw, "all %d clients\t\t\t\t%.1f\t%.1f\t\n", len(rep.Clients), rep.Write.MBps(), rep.Read.MBps())
	}
	_ = tw.Flush()
	fmt.Fprintf(a.stdout, "\nWrite: %s in %s (%d x %s per client, flushed to stable storage before the clock stops).\n",
		fmtBytes(rep.Write.Bytes), rep.Write.Duration.Round(10*time.Millisecond), rep.Threads, fmtBytes(rep.PerThread))
	fmt.Fprintf(a.stdout, "Read:  %s in %s.\n", fmtBytes(rep.Read.Bytes), rep.Read.Duration.Round(10*time.Millisecond))
	modes := map[string][]string{}
	for _, c := range rep.Clients {
		if c.ReadMode != "" {
			modes[c.ReadMode] = append(modes[c.ReadMode], c.Host)
		}
	}
	for _, m := range sortedKeys(modes) {
		fmt.Fprintf(a.stdout, "Reads on %s: %s.\n", strings.Join(modes[m], ", "), m)
	}
	for _, c := range failed {
		fmt.Fprintf(a.stderr, "%s: %s\n", c.Host, c.Err)
	}
}

// parseSize reads 1GiB, 512MiB, 100MB, 1G (binary when the unit has no
// "B" after a single letter, as dd reads it), or a number of bytes.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%q is not a size: write e.g. 1GiB, 512MiB or 100MB", s)
	}
	mult := map[string]float64{"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
		"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
		"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
		"t": 1 << 40, "tib": 1 << 40, "tb": 1e12}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q: unknown unit %q (KiB, MiB, GiB, TiB, kB, MB, GB, TB)", s, t[i:])
	}
	return int64(f * mult), nil
}

// fmtBytes prints a byte count in binary units.
func fmtBytes(n int64) string {
	for _, u := range []struct {
		size float64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if float64(n) >= u.size {
			return strconv.FormatFloat(math.Round(float64(n)/u.size*100)/100, 'f', -1, 64) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}
