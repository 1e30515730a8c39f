package views

// timelineSrc is the timeline page's html/template: everything inline.
const timelineSrc = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
  body { font: 14px/1.4 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #222; background: #fff; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .sub { color: #666; margin-bottom: 16px; }
  .summary { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 18px; }
  .stat { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
  .stat b { display: block; font-size: 20px; }
  .stat span { color: #666; font-size: 12px; }
  .chart { overflow-x: auto; border: 1px solid #eee; border-radius: 6px; padding: 6px 0; }
  svg text { font: 12px ui-monospace, Menlo, Consolas, monospace; fill: #333; }
  svg .tick text { fill: #777; font-size: 11px; }
  svg .tick line { stroke: #e4e4e4; }
  svg .row.odd rect.band { fill: #f7f7f9; }
  svg .row rect.band { fill: #fff; }
  svg rect.bar { stroke: none; rx: 2; }
  svg rect.bar.failed { fill: #e15759 !important; }
  svg rect.bar.critical { stroke: #111; stroke-width: 2.5; }
  svg polyline.critical-path { fill: none; stroke: #111; stroke-width: 1.2; stroke-dasharray: 3 3; }
  body.only-critical svg rect.bar:not(.critical) { opacity: 0.15; }
  .legend { margin: 10px 0 18px; display: flex; flex-wrap: wrap; gap: 14px; font-size: 12px; }
  .legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -2px; margin-right: 4px; }
  .legend i.crit { background: #fff; border: 2.5px solid #111; width: 8px; height: 8px; }
  table { border-collapse: collapse; font-size: 13px; }
  th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid #eee; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  code { font: 12px ui-monospace, Menlo, Consolas, monospace; }
</style>
</head>
<body>
<h1>diffuser {{.Operation}}{{if .Recipe}} of <code>{{.Recipe}}</code>{{end}}</h1>
<div class="sub">started {{.Started}} · {{.Spans}} step instances on {{len .Rows}} hosts</div>

<div class="summary" id="summary">
  <div class="stat"><b id="wall">{{dur .Wall}}</b><span>wall time</span></div>
  <div class="stat"><b id="steptime">{{dur .StepTime}}</b><span>sum of step times</span></div>
  <div class="stat"><b id="parallelism">{{.Parallelism}}</b><span>parallelism achieved</span></div>
  <div class="stat"><b id="critical-time">{{dur .CritTime}}</b><span>critical path ({{len .Critical}} steps)</span></div>
  <div class="stat"><b>{{.Ran}}</b><span>done</span></div>
  <div class="stat"><b>{{.Failed}}</b><span>failed</span></div>
  {{if .Skipped}}<div class="stat"><b>{{.Skipped}}</b><span>skipped</span></div>{{end}}
</div>

<div class="legend">
  {{range .Kinds}}<span><i style="background: {{.Color}}"></i>{{.Name}}</span>{{end}}
  <span><i style="background: #e15759"></i>failed</span>
  <span><i class="crit"></i>critical path</span>
  <label><input type="checkbox" id="only-critical"> show only the critical path</label>
</div>

<div class="chart">
<svg id="gantt" xmlns="http://www.w3.org/2000/svg" width="{{px .Width}}" height="{{px .Height}}" viewBox="0 0 {{px .Width}} {{px .Height}}" role="img" aria-label="Gantt chart of step instances per host">
  <g class="rows">{{range .Rows}}<g class="row{{if .Odd}} odd{{end}}" data-host="{{.Host}}">
    <rect class="band" x="0" y="{{px .Y}}" width="{{px $.Width}}" height="{{px .H}}"></rect>
    <text x="8" y="{{px .TextY}}">{{.Host}}</text></g>
  {{end}}</g>
  <g class="axis">{{range .Ticks}}<g class="tick"><line x1="{{px .X}}" x2="{{px .X}}" y1="18" y2="{{px $.Height}}"></line><text x="{{px .X}}" y="13" text-anchor="middle">{{.Label}}</text></g>{{end}}</g>
  <g class="bars">{{range .Rows}}<g class="host-bars" data-host="{{.Host}}">
    {{range .Bars}}<rect class="{{.Class}}" x="{{px .X}}" y="{{px .Y}}" width="{{px .W}}" height="{{px .H}}" style="fill: {{.Color}}" data-address="{{.Addr}}"{{if .Critical}} data-critical="true"{{end}}><title>{{.Title}}</title></rect>
    {{end}}</g>
  {{end}}</g>
  {{if .CritLine}}<polyline class="critical-path" points="{{.CritLine}}"></polyline>{{end}}
</svg>
</div>

<h2>Critical path</h2>
<p>The chain of dependent steps that decided when the {{.Operation}} finished: it ends at the last step to finish and, going back, follows the prerequisites whose run times add up to the most. Making any other step faster does not make the {{.Operation}} shorter.</p>
<table id="critical">
  <thead><tr><th>step instance</th><th>host</th><th>started</th><th>took</th><th>status</th></tr></thead>
  <tbody>
  {{range .Critical}}<tr><td><code>{{.Addr}}</code></td><td>{{.Host}}</td><td class="num">+{{dur .Offset}}</td><td class="num">{{dur .Duration}}</td><td>{{.Status}}</td></tr>
  {{end}}</tbody>
</table>

<script>
  document.getElementById("only-critical").addEventListener("change", function (e) {
    document.body.classList.toggle("only-critical", e.target.checked);
  });
</script>
</body>
</html>
`
