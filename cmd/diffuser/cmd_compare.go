package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"diffuser/compare"
	"diffuser/engine"
	"diffuser/views"
	"diffuser/workspace"

	"github.com/spf13/cobra"
)

func (a *app) compareCmd() *cobra.Command {
	var p compare.Params
	var size, out string
	var keep, fresh bool
	c := &cobra.Command{
		Use:   "compare RECIPE...",
		Short: "Deploy several filesystems on the same shape of hosts, measure each the same way, report side by side",
		Long: `compare deploys each recipe in turn, in its own workspace (compare-LABEL), on the same shape of
hosts: -servers storage servers (the recipe's servers, osds or chunkservers variable; a recipe
without one keeps its own number, as nfs's single server) and -clients clients. For each it
measures the time from nothing to a verified mount (apply plus verify), sequential write and
read throughput per client and in aggregate (as diffuser bench: fio, installed on the clients
when missing, -size per client in -threads streams, all clients at once), and small-file
operations per second (mdtest-like: -workers per client each create, stat and delete -files
empty files, all clients at once); then it destroys the cluster (unless -keep).

The report goes to -out: report.md, report.csv, report.html (charts, self-contained) and
compare.json, rewritten after every recipe. A recipe that fails is recorded with the phase,
step, host and the tail of its log, its cluster is destroyed, and the next recipe starts. Run
the same command again to resume: recipes already measured with the same recipe, variables and
parameters are kept (-fresh measures everything again); failed ones are tried again, from
nothing (what an earlier attempt left in their workspace is destroyed first).

A recipe is a built-in name or a path; LABEL=RECIPE names its row (compare one recipe with
itself under other variables). -var NAME=VALUE goes to every recipe that declares NAME,
-var LABEL.NAME=VALUE to one; both win over -servers and -clients. Exit status 1 when any
recipe was not measured. docs/compare.md says what the numbers mean and what containers on one
machine can and cannot show.`,
		Example: `  diffuser compare glusterfs ceph moosefs nfs -var nfs.server=ganesha -var nfs.mount=libnfs
  diffuser compare glusterfs nfs -servers 2 -clients 2 -size 256MiB -out compare-small
  diffuser compare repl2=glusterfs repl1=glusterfs -var repl1.replica=1 -servers 2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := compare.ParseEntries(args)
			if err != nil {
				return err
			}
			if p.Bytes, err = parseSize(size); err != nil {
				return fmt.Errorf("--size: %w", err)
			}
			switch {
			case p.Servers < 1 || p.Servers > 64:
				return fmt.Errorf("--servers must be between 1 and 64, not %d", p.Servers)
			case p.Clients < 1 || p.Clients > 64:
				return fmt.Errorf("--clients must be between 1 and 64, not %d", p.Clients)
			case p.Threads < 1 || p.Threads > 256:
				return fmt.Errorf("--threads must be between 1 and 256, not %d", p.Threads)
			case p.Workers < 1 || p.Workers > 256:
				return fmt.Errorf("--workers must be between 1 and 256, not %d", p.Workers)
			case p.Files < 1 || p.Files > 1_000_000:
				return fmt.Errorf("--files must be between 1 and 1000000, not %d", p.Files)
			case out == "":
				return fmt.Errorf("--out must name the report's directory")
			}
			if a.flags.parallelism < 0 {
				return fmt.Errorf("--parallelism is %d: give a positive number, or 0 for no limit", a.flags.parallelism)
			}
			if a.flags.stepTimeout < 0 {
				return fmt.Errorf("--step-timeout is %s: give a positive duration such as 45m, or 0 for no limit", a.flags.stepTimeout)
			}
			if err := compare.CheckDir(out, views.CompareMarkdownFile, views.CompareCSVFile, views.CompareHTMLFile); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			p.Provider = a.flags.provider
			env := a.workspaceEnv()
			start := time.Now()
			rep, err := env.Compare(cmd.Context(), workspace.CompareOptions{Entries: entries, Params: p, Vars: a.flags.vars, Site: a.flags.site,
				Dir: out, Keep: keep, Fresh: fresh, StepTimeout: a.flags.stepTimeout, Parallelism: a.flags.parallelism, Command: a.args,
				OnEvent: func(e workspace.CompareEvent) {
					views.WriteCompareEvent(a.stdout, e.Label, e.Phase, e.State, e.Elapsed, e.Detail)
				},
				OnReport: func(rep *compare.Report) error { return writeCompareReport(out, rep) }})
			if rep != nil && len(rep.Results) > 0 {
				views.WriteCompareSummary(a.stdout, rep, out)
				fmt.Fprintf(a.stdout, "Took %s.\n", time.Since(start).Round(time.Second))
			}
			if errors.Is(err, workspace.ErrCompareFailed) {
				return &shownError{1}
			}
			return err
		},
	}
	f := c.Flags()
	f.IntVar(&p.Servers, "servers", 2, "storage servers per recipe (its servers, osds or chunkservers variable)")
	f.IntVar(&p.Clients, "clients", 2, "client hosts per recipe (its clients variable)")
	f.StringVar(&size, "size", "1GiB", "bytes each client writes and reads in the sequential phases (KiB, MiB, GiB; kB, MB, GB)")
	f.IntVar(&p.Threads, "threads", 4, "parallel sequential streams per client")
	f.IntVar(&p.Workers, "workers", 4, "parallel small-file workers per client")
	f.IntVar(&p.Files, "files", 1000, "small files each worker creates, stats and deletes")
	f.StringVar(&out, "out", "compare-report", "directory of the report (report.md, report.csv, report.html, compare.json)")
	f.BoolVar(&keep, "keep", false, "leave each cluster running after its measurements (destroy it with diffuser destroy RECIPE -workspace compare-LABEL)")
	f.BoolVar(&fresh, "fresh", false, "measure every recipe again, even those the report already has with the same parameters")
	f.StringArrayVar(&a.flags.vars, "var", nil, "set a variable: NAME=VALUE for every recipe that declares it, LABEL.NAME=VALUE for one (repeatable)")
	f.StringVar(&a.flags.site, "site", "", "site file with provider settings (default ./diffuser.hcl when present)")
	f.StringVar(&a.flags.provider, "provider", "", "where hosts come from: docker, aws or static (default: the site's default_provider, else docker)")
	f.IntVar(&a.flags.parallelism, "parallelism", 64, "most step instances running at once in each apply (0 = no limit)")
	f.DurationVar(&a.flags.stepTimeout, "step-timeout", engine.DefaultStepTimeout,
		"longest one attempt of a step without its own `timeout` may run before it fails (0 = no limit)")
	a.lockFlag(c)
	return c
}

// writeCompareReport renders the report's markdown, CSV and HTML into dir
// (compare.json is the workspace layer's).
func writeCompareReport(dir string, rep *compare.Report) error {
	var md, csv, html bytes.Buffer
	views.WriteCompareMarkdown(&md, rep)
	if err := views.WriteCompareCSV(&csv, rep); err != nil {
		return err
	}
	if err := views.WriteCompareHTML(&html, rep); err != nil {
		return err
	}
	for name, b := range map[string][]byte{views.CompareMarkdownFile: md.Bytes(), views.CompareCSVFile: csv.Bytes(), views.CompareHTMLFile: html.Bytes()} {
		if err := compare.WriteFile(filepath.Join(dir, name), b); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
	}
	return nil
}
