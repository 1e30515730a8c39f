package views

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"diffuser/compare"
	"diffuser/engine"
)

// The comparison page is self-contained like the timeline: inline CSS,
// one inline SVG bar chart per measurement, a few lines of script that
// note each bar's drawn width (a test reads them back from the browser),
// nothing fetched.

var compareTmpl = template.Must(template.New("compare").Funcs(template.FuncMap{
	"px": func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
}).Parse(compareSrc))

// Chart layout, in SVG user units.
const (
	cmpLabelW = 150.0
	cmpBarW   = 460.0
	cmpValueW = 110.0
	cmpRowH   = 28.0
	cmpBarH   = 18.0
	cmpPad    = 8.0
)

type comparePage struct {
	Params, Machine, Started, Updated string
	Rows                              []cmpRow
	Charts                            []cmpChart
	Clients                           []cmpClientRow
	Failures                          []cmpFailure
	Recipes                           []string
	LabelW, BarH                      float64
}

type cmpRow struct {
	Label, Status, Hosts                              string
	Ready, Write, Read, Create, Stat, Delete, Destroy string
	Failed                                            bool
}

type cmpClientRow struct {
	Label, Host, FSType, Tool, Write, Read, Create, Stat, Delete, Reads, Error string
}

type cmpFailure struct {
	Label, Phase, Where, Error, Log, Tail, Destroy string
}

type cmpChart struct {
	ID, Title, Unit, Better string
	Width, Height           float64
	Bars                    []cmpBar
}

type cmpBar struct {
	Label        string
	Value        string // as data: the number the bar stands for
	Text         string // as shown
	Missing      string // why there is no bar
	Y, W, TextY  float64
	BarY, ValueX float64
	LabelTextY   float64
	Color        string
}

var cmpColors = []string{"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#e15759", "#bab0ac"}

// WriteCompareHTML writes the report as a self-contained HTML page.
func WriteCompareHTML(w io.Writer, rep *compare.Report) error {
	p := comparePage{LabelW: cmpLabelW, BarH: cmpBarH, Params: paramsText(rep.Params), Machine: machineText(rep.Machine),
		Started: rep.Started.Format("2006-01-02 15:04:05 MST"), Updated: rep.Updated.Format("2006-01-02 15:04:05 MST")}
	for _, r := range rep.Results {
		p.Rows = append(p.Rows, cmpRow{Label: r.Label, Status: statusText(r), Hosts: hostsText(r.Hosts), Ready: fmtNum(r.ReadySeconds, 1),
			Write: fmtNum(r.Write.MBps, 1), Read: fmtNum(r.Read.MBps, 1), Create: fmtNum(r.Create.OpsPerSec, 0), Stat: fmtNum(r.Stat.OpsPerSec, 0),
			Delete: fmtNum(r.Delete.OpsPerSec, 0), Destroy: fmtNum(r.DestroySeconds, 1), Failed: r.Status != compare.Measured})
		for _, c := range r.Clients {
			p.Clients = append(p.Clients, cmpClientRow{Label: r.Label, Host: c.Host, FSType: orDash(c.FSType), Tool: orDash(c.Tool),
				Write: fmtNum(c.Write.MBps, 1), Read: fmtNum(c.Read.MBps, 1), Create: fmtNum(c.Create.OpsPerSec, 0), Stat: fmtNum(c.Stat.OpsPerSec, 0),
				Delete: fmtNum(c.Delete.OpsPerSec, 0), Reads: orDash(c.ReadMode), Error: clientNotes(c)})
		}
		if f := r.Failure; f != nil || r.DestroyError != "" {
			cf := cmpFailure{Label: r.Label, Destroy: r.DestroyError}
			if f != nil {
				cf.Phase, cf.Error, cf.Log, cf.Tail = f.Phase, strings.TrimSpace(engine.TrimTail(f.Error, f.Tail)), f.Log, strings.TrimRight(f.Tail, "\n")
				switch {
				case f.Step != "" && f.Host != "":
					cf.Where = f.Step + " on " + f.Host
				case f.Step != "":
					cf.Where = f.Step
				default:
					cf.Where = f.Host
				}
			} else {
				cf.Phase = "destroy"
			}
			p.Failures = append(p.Failures, cf)
		}
		vars := strings.Join(r.Vars, " ")
		if vars == "" {
			vars = "defaults"
		}
		line := fmt.Sprintf("%s: %s in workspace %s, %s", r.Label, r.Source, r.Workspace, vars)
		for _, n := range r.Notes {
			line += "; " + n
		}
		p.Recipes = append(p.Recipes, line)
	}
	metric := func(id, title, unit, better string, prec int, v func(compare.Result) float64) cmpChart {
		c := cmpChart{ID: id, Title: title, Unit: unit, Better: better, Width: cmpLabelW + cmpBarW + cmpValueW}
		top := 0.0
		for _, r := range rep.Results {
			top = max(top, v(r))
		}
		for i, r := range rep.Results {
			y := cmpPad + float64(i)*cmpRowH
			b := cmpBar{Label: r.Label, BarY: y + (cmpRowH-cmpBarH)/2, LabelTextY: y + cmpRowH/2 + 4, Color: cmpColors[i%len(cmpColors)]}
			val := v(r)
			if val > 0 && top > 0 {
				b.W = val / top * cmpBarW
				b.Value = strconv.FormatFloat(val, 'f', prec, 64)
				b.Text = b.Value + " " + unit
				b.ValueX = cmpLabelW + b.W + 6
			} else {
				b.ValueX = cmpLabelW + 6
				b.Missing = "not measured"
				if r.Failure != nil && r.Status != compare.Measured {
					b.Missing = string(r.Status) + ": " + r.Failure.Phase
				}
			}
			c.Bars = append(c.Bars, b)
		}
		c.Height = 2*cmpPad + float64(len(rep.Results))*cmpRowH
		return c
	}
	p.Charts = []cmpChart{
		metric("ready", "Time from nothing to a verified mount (apply + verify)", "s", "shorter is better", 1, func(r compare.Result) float64 { return r.ReadySeconds }),
		metric("write", "Sequential write, all clients at once", "MB/s", "higher is better", 1, func(r compare.Result) float64 { return r.Write.MBps }),
		metric("read", "Sequential read, all clients at once", "MB/s", "higher is better", 1, func(r compare.Result) float64 { return r.Read.MBps }),
		metric("create", "Small files created per second, all clients", "ops/s", "higher is better", 0, func(r compare.Result) float64 { return r.Create.OpsPerSec }),
		metric("stat", "Small files stat'ed per second, all clients", "ops/s", "higher is better", 0, func(r compare.Result) float64 { return r.Stat.OpsPerSec }),
		metric("delete", "Small files deleted per second, all clients", "ops/s", "higher is better", 0, func(r compare.Result) float64 { return r.Delete.OpsPerSec }),
	}
	printablePage(&p)
	return compareTmpl.Execute(w, p)
}

// printablePage shows every text of the page that hosts, errors, paths or
// variables can put there with control and bidi characters as escapes
// (Printable): html/template makes markup of nothing, but an RLO (U+202E)
// in an error reversed the text after it on the page.
func printablePage(p *comparePage) {
	for _, s := range []*string{&p.Params, &p.Machine} {
		*s = Printable(*s)
	}
	for i := range p.Rows {
		r := &p.Rows[i]
		for _, s := range []*string{&r.Label, &r.Status, &r.Hosts} {
			*s = Printable(*s)
		}
	}
	for i := range p.Clients {
		c := &p.Clients[i]
		for _, s := range []*string{&c.Label, &c.Host, &c.FSType, &c.Tool, &c.Reads, &c.Error} {
			*s = Printable(*s)
		}
	}
	for i := range p.Failures {
		f := &p.Failures[i]
		for _, s := range []*string{&f.Label, &f.Phase, &f.Where, &f.Error, &f.Log, &f.Tail, &f.Destroy} {
			*s = Printable(*s)
		}
	}
	for i := range p.Recipes {
		p.Recipes[i] = Printable(p.Recipes[i])
	}
	for i := range p.Charts {
		for j := range p.Charts[i].Bars {
			b := &p.Charts[i].Bars[j]
			b.Label, b.Missing = Printable(b.Label), Printable(b.Missing)
		}
	}
}

const compareSrc = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>diffuser compare</title>
<style>
  body { font: 14px/1.4 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #222; background: #fff; max-width: 1100px; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  h2 { font-size: 16px; margin: 26px 0 8px; }
  .sub { color: #666; margin-bottom: 16px; }
  .charts { display: flex; flex-wrap: wrap; gap: 18px; }
  figure { margin: 0; border: 1px solid #eee; border-radius: 6px; padding: 8px 10px; }
  figcaption { font-weight: 600; font-size: 13px; }
  figcaption span { font-weight: normal; color: #777; }
  svg text { font: 12px ui-monospace, Menlo, Consolas, monospace; fill: #333; }
  svg text.missing { fill: #c0392b; }
  table { border-collapse: collapse; font-size: 13px; }
  th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid #eee; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.failed td { color: #c0392b; }
  pre { background: #f7f7f9; border: 1px solid #eee; padding: 8px; overflow-x: auto; font-size: 12px; }
  code { font: 12px ui-monospace, Menlo, Consolas, monospace; }
</style>
</head>
<body>
<h1>diffuser compare</h1>
<div class="sub">{{.Params}}<br>run from {{.Machine}} · started {{.Started}} · updated {{.Updated}}</div>

<table id="summary">
  <thead><tr><th>filesystem</th><th>status</th><th>hosts</th><th class="num">ready (s)</th><th class="num">write MB/s</th><th class="num">read MB/s</th><th class="num">create/s</th><th class="num">stat/s</th><th class="num">delete/s</th><th class="num">destroy (s)</th></tr></thead>
  <tbody>
  {{range .Rows}}<tr{{if .Failed}} class="failed"{{end}} data-label="{{.Label}}"><td>{{.Label}}</td><td>{{.Status}}</td><td>{{.Hosts}}</td><td class="num">{{.Ready}}</td><td class="num">{{.Write}}</td><td class="num">{{.Read}}</td><td class="num">{{.Create}}</td><td class="num">{{.Stat}}</td><td class="num">{{.Delete}}</td><td class="num">{{.Destroy}}</td></tr>
  {{end}}</tbody>
</table>

<h2>Charts</h2>
<div class="charts">
{{range .Charts}}<figure>
  <figcaption>{{.Title}} <span>({{.Unit}}, {{.Better}})</span></figcaption>
  <svg class="chart" id="chart-{{.ID}}" data-metric="{{.ID}}" xmlns="http://www.w3.org/2000/svg" width="{{px .Width}}" height="{{px .Height}}" viewBox="0 0 {{px .Width}} {{px .Height}}" role="img" aria-label="{{.Title}}">
  {{range .Bars}}<g class="row" data-label="{{.Label}}">
    <text x="6" y="{{px .LabelTextY}}">{{.Label}}</text>
    {{if .Value}}<rect class="bar" x="{{px $.LabelW}}" y="{{px .BarY}}" width="{{px .W}}" height="{{px $.BarH}}" style="fill: {{.Color}}" data-value="{{.Value}}"><title>{{.Label}}: {{.Text}}</title></rect>
    <text class="value" x="{{px .ValueX}}" y="{{px .LabelTextY}}">{{.Text}}</text>{{else}}<text class="missing" x="{{px .ValueX}}" y="{{px .LabelTextY}}">{{.Missing}}</text>{{end}}
  </g>
  {{end}}</svg>
</figure>
{{end}}</div>

<h2>Per client</h2>
<table id="clients">
  <thead><tr><th>filesystem</th><th>client</th><th>fs type</th><th>tool</th><th class="num">write MB/s</th><th class="num">read MB/s</th><th class="num">create/s</th><th class="num">stat/s</th><th class="num">delete/s</th><th>reads</th><th>notes</th></tr></thead>
  <tbody>
  {{range .Clients}}<tr><td>{{.Label}}</td><td>{{.Host}}</td><td>{{.FSType}}</td><td>{{.Tool}}</td><td class="num">{{.Write}}</td><td class="num">{{.Read}}</td><td class="num">{{.Create}}</td><td class="num">{{.Stat}}</td><td class="num">{{.Delete}}</td><td>{{.Reads}}</td><td>{{.Error}}</td></tr>
  {{end}}</tbody>
</table>
<p>ready: apply plus verify, from no host to a verified mount. write, read: all clients at once, every byte over the phase's wall time. create, stat, delete: small-file operations per second, all clients at once. docs/compare.md says what each number can and cannot show.</p>
{{if .Failures}}
<h2>Failures</h2>
{{range .Failures}}<section class="failure" data-label="{{.Label}}">
  <h3>{{.Label}}: {{.Phase}}</h3>
  {{if .Error}}<p>{{if .Where}}<code>{{.Where}}</code>: {{end}}{{.Error}}</p>{{end}}
  {{if .Log}}<p>log: <code>{{.Log}}</code></p>{{end}}
  {{if .Tail}}<pre>{{.Tail}}</pre>{{end}}
  {{if .Destroy}}<p>destroy: {{.Destroy}}</p>{{end}}
</section>
{{end}}{{end}}
<h2>Recipes</h2>
<ul>
{{range .Recipes}}<li>{{.}}</li>
{{end}}</ul>

<script>
  // Each bar's drawn width, for a reader (or a test) to check against
  // its value.
  document.querySelectorAll("rect.bar").forEach(function (r) {
    r.setAttribute("data-drawn-width", r.getBBox().width.toFixed(1));
  });
  document.body.setAttribute("data-bars", document.querySelectorAll("rect.bar").length);
</script>
</body>
</html>
`
