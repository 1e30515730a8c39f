package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"diffuser/probe"
	"diffuser/views"

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
phase's wall time), and removes its files at the end. -json prints the report as JSON
(docs/json.md).`,
		Example: `  diffuser bench glusterfs
  diffuser bench glusterfs -json
  diffuser bench glusterfs -size 4GiB -threads 8
  diffuser bench nfs -tool dd -size 256MiB`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.flags.simulate {
				// Simulated hosts have no filesystem: every probe would fail.
				return errors.New("bench measures a mounted filesystem's real throughput, and --simulate has none to measure: " +
					"diffuser verify --simulate checks a simulated workspace; bench a real one")
			}
			bytes, err := parseSize(size)
			if err != nil {
				return fmt.Errorf("--size: %w", err)
			}
			if threads < 1 || threads > 256 {
				return fmt.Errorf("--threads must be between 1 and 256, not %d", threads)
			}
			ws, conn, closeConn, err := a.workspaceEnv().OpenApplied(cmd.Context(), a.inputs(args[0]), "bench")
			if err != nil {
				return err
			}
			defer closeConn()
			if !a.flags.json {
				views.WriteRemembered(a.stdout, remembered(ws))
				fmt.Fprintf(a.stdout, "Benchmarking %s: %s per client in %d threads...\n", ws.Loaded.Recipe.Name, views.FmtBytes(bytes), threads)
			}
			rep, err := probe.Bench(cmd.Context(), ws.Loaded, ws.State, probe.BenchOptions{Connector: conn, Bytes: bytes, Threads: threads, Tool: tool,
				KeepCaches: keepCaches})
			switch {
			case rep != nil && a.flags.json:
				if werr := views.WriteJSON(a.stdout, views.NewBenchJSON(ws.Loaded.Recipe.Name, rep)); werr != nil {
					return werr
				}
			case rep != nil:
				views.WriteBench(a.stdout, a.stderr, rep)
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
	c.Flags().BoolVar(&a.flags.json, "json", false, "print the report as JSON (docs/json.md)")
	c.Flags().BoolVar(&keepCaches, "keep-caches", false, "do not drop the clients' page caches before reading (dropping is host-wide: on the docker provider, the whole machine's); read with O_DIRECT instead")
	return c
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
	// A float past 2^63 converts to no int64 (amd64 gives a negative
	// one, which bench took for its default); under 1 to none at all.
	switch n := f * mult; {
	case n >= math.MaxInt64:
		return 0, fmt.Errorf("%q is more bytes than a size holds: write e.g. 1GiB, 512MiB or 100MB", s)
	case n < 1:
		return 0, fmt.Errorf("%q is less than one byte: write e.g. 1GiB, 512MiB or 100MB", s)
	default:
		return int64(n), nil
	}
}
