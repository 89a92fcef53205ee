"""One self-contained HTML file from a report document (document.py): inline CSS, inline SVG and a little plain
JavaScript (sort, filter), nothing fetched, so it opens offline and can be mailed or kept as a CI artifact.

Every text from the document goes through ``_text``: masked (proxy passwords) and HTML-escaped, since cluster names
and ARM messages are untrusted input. The table is rendered as HTML (readable without JavaScript, printable); the
script only hides and reorders rows.
"""
from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from ..config.findings import ERROR, WARNING, mask_secrets
from .report_document import ROLLOUT, STATES_TO_REIMAGE
from .states import DONE, FAILED, HELD, STATES, UNCHANGED

EXPIRED, EXPIRING, VALID = "expired", "expiring", "valid"
CLEAN = "clean"
_SEVERITY_RANK = {ERROR: 2, WARNING: 1, CLEAN: 0}
NAMES_PER_CERTIFICATE = 8  # clusters named under each certificate; the table's filter finds the rest
STAGE_UNSET = "(no stage)"


def _text(value: Any) -> str:
    """Masked and escaped for element content and quoted attribute values alike."""
    return html.escape(mask_secrets("" if value is None else str(value)), quote=True)


def worst_severity(cluster: Mapping[str, Any]) -> str:
    severities = {f.get("severity") for f in cluster.get("findings") or []}
    return ERROR if ERROR in severities else WARNING if WARNING in severities else CLEAN


def certificate_state(cert: Mapping[str, Any], now: datetime, horizon_days: int) -> str:
    not_after = datetime.fromisoformat(cert["notAfter"])
    if not_after < now:
        return EXPIRED
    return EXPIRING if not_after - now < timedelta(days=horizon_days) else VALID


def summary(document: Mapping[str, Any]) -> dict[str, Any]:
    """The counts at the top of the report, derived from the clusters (and the rows about no cluster)."""
    clusters = document.get("clusters") or []
    findings = Counter(f.get("severity") for c in clusters for f in c.get("findings") or [])
    findings.update(f.get("severity") for f in document.get("findings") or [])
    by_severity = Counter(worst_severity(c) for c in clusters)
    states = Counter(c.get("state") for c in clusters if c.get("state"))
    reimaged = sum(int(c.get("nodesReimaged") or 0) for c in clusters)
    to_reimage = sum(max(0, int(c.get("nodesToReimage") or 0) - int(c.get("nodesReimaged") or 0))
                     for c in clusters if document.get("kind") != ROLLOUT or c.get("state") in STATES_TO_REIMAGE)
    return {
        "clusters": len(clusters),
        "withErrors": by_severity[ERROR], "withWarningsOnly": by_severity[WARNING], "clean": by_severity[CLEAN],
        "withoutProxy": sum(1 for c in clusters if not c.get("proxy")),
        "states": {s: states[s] for s in STATES if states[s]},
        "errors": findings[ERROR], "warnings": findings[WARNING],
        "subscriptions": len(document.get("subscriptions") or []),
        "unreadableSubscriptions": sum(1 for s in document.get("subscriptions") or [] if s.get("error")),
        "nodes": sum(int(c.get("nodes") or 0) for c in clusters), "nodesReimaged": reimaged,
        "nodesToReimage": to_reimage,
    }


def render(document: Mapping[str, Any]) -> str:
    now = datetime.fromisoformat(document["generatedAt"])
    horizon = int(document.get("horizonDays") or 0)
    rollout = document.get("kind") == ROLLOUT
    parts = [_HEAD.replace("@TITLE@", _text(document.get("title") or "aksproxy report")),
             (f'<header><h1>{_text(document.get("title"))}</h1><p class="meta">Generated {_text(now.isoformat())} '
             f'by aksproxy &middot; certificates expiring within {horizon} day(s) are marked</p></header>'),
             _summary_html(summary(document), rollout)]
    if rollout:
        parts.append(_rollout_html(document))
    parts.append(_certificates_html(document, now, horizon))
    parts.append(_loose_findings_html(document.get("findings") or []))
    parts.append(_table_html(document.get("clusters") or [], rollout))
    parts.append(f"<script>{_SCRIPT}</script></body></html>\n")
    return "\n".join(p for p in parts if p)


def _tile(label: str, value: int, css: str = "", test_id: str = "") -> str:
    data = f' data-count="{_text(test_id)}"' if test_id else ""
    return f'<div class="tile {css}"{data}><b>{value}</b><span>{_text(label)}</span></div>'


def _summary_html(s: Mapping[str, Any], rollout: bool) -> str:
    tiles = [_tile("clusters", s["clusters"], "", "clusters"),
             _tile("with errors", s["withErrors"], "sev-error", "with-errors"),
             _tile("with warnings only", s["withWarningsOnly"], "sev-warning", "with-warnings"),
             _tile("clean", s["clean"], "sev-clean", "clean"),
             _tile("without an HTTP proxy", s["withoutProxy"], "", "without-proxy")]
    findings = [_tile("error findings", s["errors"], "sev-error", "errors"),
                _tile("warning findings", s["warnings"], "sev-warning", "warnings"),
                _tile("subscriptions", s["subscriptions"], "", "subscriptions")]
    if s["unreadableSubscriptions"]:
        findings.append(_tile("subscriptions unreadable", s["unreadableSubscriptions"], "sev-error", "unreadable"))
    nodes = [_tile("nodes", s["nodes"], "", "nodes"),
             _tile("nodes reimaged", s["nodesReimaged"], "", "nodes-reimaged"),
             _tile("nodes to be reimaged" if rollout else "nodes an update to the reference reimages",
                   s["nodesToReimage"], "", "nodes-to-reimage")]
    rows = [("Clusters by finding", tiles), ("Findings", findings), ("Nodes", nodes)]
    if rollout:
        rows.insert(1, ("Clusters by rollout state",
                        [_tile(state, s["states"].get(state, 0), f"st-{state}", f"state-{state}")
                         for state in STATES]))
    body = "".join(f'<div class="tiles"><h3>{_text(title)}</h3>{"".join(t)}</div>' for title, t in rows)
    return f'<section id="summary"><h2>Summary</h2>{body}</section>'


def _rollout_html(document: Mapping[str, Any]) -> str:
    info = document.get("rollout") or {}
    clusters = document.get("clusters") or []
    by_stage: dict[str, list[Mapping[str, Any]]] = {}
    for c in clusters:
        by_stage.setdefault(str(c.get("stage") or STAGE_UNSET), []).append(c)
    stage_names = [str(s.get("name")) for s in info.get("stages") or []]
    stage_names += [name for name in by_stage if name not in stage_names]
    groups = {str(s.get("name")): s.get("groups") or [] for s in info.get("stages") or []}
    waits = {str(s.get("name")): s.get("afterStageWaitSeconds") for s in info.get("stages") or []}
    rows = []
    for name in stage_names:
        members = by_stage.get(name, [])
        counts = Counter(c.get("state") for c in members)
        total = len(members) or 1
        finished = counts[DONE] + counts[UNCHANGED]
        bar = "".join(f'<span class="st-{state}" style="width:{100 * counts[state] / total:.2f}%" '
                      f'title="{counts[state]} {state}"></span>' for state in STATES if counts[state])
        legend = ", ".join(f"{counts[state]} {state}" for state in STATES if counts[state]) or "no clusters"
        wait = waits.get(name)
        rows.append(f'<tr data-stage="{_text(name)}"><td>{_text(name)}</td>'
                    f'<td>{_text(", ".join(map(str, groups.get(name, []))))}</td>'
                    f'<td class="num">{finished}/{len(members)}</td><td><div class="bar">{bar}</div>'
                    f'<small>{_text(legend)}</small></td>'
                    f'<td>{_text(f"{wait} s" if wait is not None else "")}</td></tr>')
    held = [c for c in clusters if c.get("state") == HELD]
    failed = [c for c in clusters if c.get("state") == FAILED]
    meta = (f'<p class="meta">Rollout {_text(info.get("name"))}: <b>{_text(info.get("state"))}</b>'
            + (f' &middot; concurrency {_text(info.get("concurrency"))}' if info.get("concurrency") else "") + "</p>")
    return (f'<section id="rollout"><h2>Rollout</h2>{meta}<table class="grid" id="stages"><thead><tr><th>Stage</th>'
            f'<th>Groups</th><th>Finished</th><th>Progress</th><th>Wait after</th></tr></thead><tbody>'
            f'{"".join(rows)}</tbody></table>'
            + _cluster_list(HELD, "Held clusters (never written)", held, "reason", "Reason")
            + _cluster_list(FAILED, "Failed clusters", failed, "error", "Error") + "</section>")


def _cluster_list(css_id: str, title: str, clusters: list[Mapping[str, Any]], field: str, label: str) -> str:
    if not clusters:
        return ""
    rows = "".join(f'<tr><td>{_text(c.get("subscription") or c.get("subscriptionId"))}</td>'
                   f'<td>{_text(c.get("resourceGroup"))}</td><td>{_text(c.get("cluster"))}</td>'
                   f'<td>{_text(c.get("stage"))}</td><td>{_text(c.get(field))}</td></tr>' for c in clusters)
    return (f'<h3>{_text(title)}: {len(clusters)}</h3><table class="grid" id="{css_id}"><thead><tr>'
            f'<th>Subscription</th><th>Resource group</th><th>Cluster</th><th>Stage</th><th>{_text(label)}</th></tr>'
            f'</thead><tbody>{rows}</tbody></table>')


def _certificates_html(document: Mapping[str, Any], now: datetime, horizon: int) -> str:
    certificates = list(document.get("certificates") or [])
    if not certificates:
        return ('<section id="certificates"><h2>CA expiry timeline</h2><p>No cluster trusts a custom CA '
                '(trustedCa).</p></section>')
    users: dict[str, list[Mapping[str, Any]]] = {}
    for c in document.get("clusters") or []:
        for fingerprint in c.get("certificates") or []:
            users.setdefault(fingerprint, []).append(c)
    rows = []
    for cert in certificates:
        state = certificate_state(cert, now, horizon)
        using = users.get(cert["sha256Fingerprint"], [])
        names = ", ".join(_text(c.get("cluster")) for c in using[:NAMES_PER_CERTIFICATE])
        more = f" and {len(using) - NAMES_PER_CERTIFICATE} more" if len(using) > NAMES_PER_CERTIFICATE else ""
        days = (datetime.fromisoformat(cert["notAfter"]) - now).days
        rows.append(f'<tr class="ca ca-{state}" data-ca-state="{state}" data-clusters="{len(using)}">'
                    f'<td><span class="badge ca-{state}">{state}</span></td><td>{_text(cert.get("subject"))}</td>'
                    f'<td class="fp">{_text(cert["sha256Fingerprint"])}</td>'
                    f'<td>{_text(cert["notAfter"][:10])}</td><td class="num">{days}</td>'
                    f'<td class="num">{len(using)}</td><td>{names}{more}</td></tr>')
    return (f'<section id="certificates"><h2>CA expiry timeline</h2>{_timeline_svg(certificates, now, horizon)}'
            '<table class="grid" id="ca-table"><thead><tr><th>State</th><th>Subject</th><th>SHA-256 fingerprint</th>'
            '<th>Not after</th><th>Days left</th><th>Clusters</th><th>Used by</th></tr></thead><tbody>'
            f'{"".join(rows)}</tbody></table></section>')


_LABEL_W, _BAR_W, _ROW_H = 260, 640, 22


def _timeline_svg(certificates: list[Mapping[str, Any]], now: datetime, horizon: int) -> str:
    """One bar per certificate from notBefore to notAfter, on one time axis with today and the horizon marked."""
    starts = [datetime.fromisoformat(c["notBefore"]) for c in certificates]
    ends = [datetime.fromisoformat(c["notAfter"]) for c in certificates]
    lo = min([*starts, now - timedelta(days=30)])
    hi = max([*ends, now + timedelta(days=max(horizon, 30))])
    span = (hi - lo).total_seconds() or 1.0

    def x(when: datetime) -> float:
        return _LABEL_W + _BAR_W * (when - lo).total_seconds() / span

    height = _ROW_H * len(certificates) + 30
    out = [(f'<svg class="timeline" role="img" aria-label="CA expiry timeline" viewBox="0 0 {_LABEL_W + _BAR_W + 10} '
           f'{height}" width="100%">')]
    for year in range(lo.year + 1, hi.year + 1):
        tick = x(lo.replace(year=year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0))
        out.append(f'<line x1="{tick:.1f}" x2="{tick:.1f}" y1="0" y2="{height - 16}" class="tick"/>'
                   f'<text x="{tick:.1f}" y="{height - 4}" class="axis">{year}</text>')
    for i, (cert, start, end) in enumerate(zip(certificates, starts, ends)):
        y = i * _ROW_H + 4
        state = certificate_state(cert, now, horizon)
        subject = str(cert.get("subject") or "")
        label = subject if len(subject) <= 38 else subject[:37] + "\u2026"
        out.append(f'<g class="ca-{state}"><title>{_text(subject)}: until {_text(cert["notAfter"][:10])} '
                   f'({state})</title><text x="0" y="{y + 13}" class="label">{_text(label)}</text>'
                   f'<rect x="{x(start):.1f}" y="{y}" width="{max(2.0, x(end) - x(start)):.1f}" height="{_ROW_H - 8}" '
                   f'rx="3" class="bar-{state}"/></g>')
    # "today" left of its line, the horizon right of its own: they are often a few pixels apart.
    for when, css, text, dx, anchor in ((now, "today", "today", -3, "end"),
                                        (now + timedelta(days=horizon), "horizon", f"+{horizon} d", 3, "start")):
        out.append(f'<line x1="{x(when):.1f}" x2="{x(when):.1f}" y1="0" y2="{height - 16}" class="{css}"/>'
                   f'<text x="{x(when) + dx:.1f}" y="{height - 18}" text-anchor="{anchor}" class="axis {css}">'
                   f'{text}</text>')
    out.append("</svg>")
    return "".join(out)


def _loose_findings_html(findings: list[Mapping[str, Any]]) -> str:
    if not findings:
        return ""
    items = "".join(f'<li class="sev-{_text(f.get("severity"))}">{_text(f.get("subscription") or f.get("subscriptionId"))}'
                    f': {_finding_html(f)}</li>' for f in findings)
    return f'<section id="subscription-findings"><h2>Subscriptions</h2><ul class="findings">{items}</ul></section>'


def _finding_html(f: Mapping[str, Any]) -> str:
    got = f' (got <code>{_text(f.get("value"))}</code>)' if f.get("value") is not None else ""
    return (f'<b class="code">{_text(f.get("code"))}</b> <span class="sev">{_text(f.get("severity"))}</span> '
            f'<code>{_text(f.get("path"))}</code>: {_text(f.get("message"))}{got}'
            f'<div class="fix">Fix: {_text(f.get("fix"))}</div><div class="src">Source: {_text(f.get("source"))}</div>')


def _codes_cell(findings: list[Mapping[str, Any]]) -> str:
    if not findings:
        return '<td class="codes"></td>'
    codes = ", ".join(dict.fromkeys(_text(f.get("code")) for f in findings))
    items = "".join(f'<li class="sev-{_text(f.get("severity"))}">{_finding_html(f)}</li>' for f in findings)
    return f'<td class="codes"><details><summary>{codes}</summary><ol class="findings">{items}</ol></details></td>'


def _table_html(clusters: Iterable[Mapping[str, Any]], rollout: bool) -> str:
    rows = []
    for c in clusters:
        sev = worst_severity(c)
        findings = c.get("findings") or []
        search = " ".join(str(v or "") for v in (c.get("subscription"), c.get("subscriptionId"), c.get("resourceGroup"),
                                                 c.get("cluster"), sev, c.get("stage"), c.get("state"),
                                                 *(f.get("code") for f in findings),
                                                 *(c.get("certificates") or []))).lower()
        cells = [f'<td>{_text(c.get("subscription") or c.get("subscriptionId"))}</td>',
                 f'<td>{_text(c.get("resourceGroup"))}</td>', f'<td class="name">{_text(c.get("cluster"))}</td>',
                 f'<td data-v="{_SEVERITY_RANK[sev]}"><span class="badge sev-{sev}">{sev}</span></td>',
                 _codes_cell(findings), f'<td class="num">{int(c.get("nodes") or 0)}</td>']
        if rollout:
            detail = c.get("reason") or c.get("error")
            cells += [f'<td>{_text(c.get("stage"))}</td>',
                      f'<td><span class="badge st-{_text(c.get("state"))}">{_text(c.get("state"))}</span>'
                      + (f'<div class="why">{_text(detail)}</div>' if detail else "") + "</td>"]
        rows.append(f'<tr data-sev="{sev}" data-state="{_text(c.get("state"))}" data-s="{_text(search)}">'
                    f'{"".join(cells)}</tr>')
    headers = ["Subscription", "Resource group", "Cluster", "Worst severity", "Codes", "Nodes"]
    headers += ["Stage", "State"] if rollout else []
    head = "".join(f'<th data-col="{i}" tabindex="0">{h}</th>' for i, h in enumerate(headers))
    states = "".join(f'<option value="{s}">{s}</option>' for s in STATES)
    state_filter = (f'<label>State <select id="state-filter"><option value="">any</option>{states}</select></label>'
                    if rollout else "")
    total = len(rows)
    return (f'<section id="clusters"><h2>Clusters</h2><div class="controls">'
            f'<label>Filter <input id="filter" type="search" placeholder="name, group, subscription, code, '
            f'fingerprint"></label> <label>Severity <select id="severity-filter"><option value="">any</option>'
            f'<option value="error">error</option><option value="warning">warning</option>'
            f'<option value="clean">clean</option></select></label> {state_filter} '
            f'<span id="shown" data-total="{total}">{total} of {total} clusters</span></div>'
            f'<table class="grid sortable" id="cluster-table"><thead><tr>{head}</tr></thead><tbody>'
            f'{"".join(rows)}</tbody></table></section>')


_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
:root{--err:#c62828;--warn:#b26a00;--ok:#2e7d32;--mute:#666;--line:#ddd}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.6em;margin:0}h2{border-bottom:2px solid var(--line);padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1em;margin:.6em 0 .3em}.meta{color:var(--mute);margin:.2em 0}
.tiles{display:flex;flex-wrap:wrap;gap:.5em;align-items:stretch;margin-bottom:.4em}
.tiles h3{width:100%}
.tile{border:1px solid var(--line);border-radius:6px;padding:.4em .8em;min-width:8em;background:#fafafa}
.tile b{display:block;font-size:1.6em}.tile span{color:var(--mute)}
.tile.sev-error b{color:var(--err)}.tile.sev-warning b{color:var(--warn)}.tile.sev-clean b{color:var(--ok)}
.tile.st-failed b{color:var(--err)}.tile.st-held b,.tile.st-drifted b,.tile.st-gone b,.tile.st-unverified b{color:var(--warn)}
.tile.st-done b{color:var(--ok)}.tile.st-running b{color:#1565c0}
table.grid{border-collapse:collapse;width:100%;margin:.4em 0}
.grid th,.grid td{border-bottom:1px solid var(--line);padding:.25em .5em;text-align:left;vertical-align:top}
.grid th{background:#f3f3f3;position:sticky;top:0}.sortable th{cursor:pointer;user-select:none}
.sortable th[aria-sort=ascending]::after{content:" \\25B2"}.sortable th[aria-sort=descending]::after{content:" \\25BC"}
.num{text-align:right}.fp{font-family:monospace;font-size:.8em;word-break:break-all}
.badge{display:inline-block;border-radius:3px;padding:0 .4em;color:#fff;background:#888;font-size:.85em}
.badge.sev-error,.badge.ca-expired,.badge.st-failed{background:var(--err)}
.badge.sev-warning,.badge.ca-expiring,.badge.st-held,.badge.st-drifted,.badge.st-gone,.badge.st-unverified{background:var(--warn)}
.badge.sev-clean,.badge.ca-valid,.badge.st-done{background:var(--ok)}.badge.st-running{background:#1565c0}
.badge.st-pending,.badge.st-unchanged{background:#888}
tr.ca-expired td{background:#fdecea}tr.ca-expiring td{background:#fff4e5}
.bar-expired{fill:var(--err)}.bar-expiring{fill:#f0a020}.bar-valid{fill:#66bb6a}
.timeline .label,.timeline .axis{font-size:11px;fill:#333}.timeline .tick{stroke:#eee}
.timeline .today{stroke:#000;fill:#000}.timeline .horizon{stroke:#f0a020;stroke-dasharray:4 3;fill:#b26a00}
.timeline{max-width:920px}
.bar{display:flex;height:.9em;width:16em;background:#eee;border-radius:3px;overflow:hidden}
.bar span{display:block;height:100%}.bar .st-done{background:var(--ok)}.bar .st-unchanged{background:#a5d6a7}
.bar .st-running{background:#1565c0}.bar .st-pending{background:#ccc}.bar .st-failed{background:var(--err)}
.bar .st-held,.bar .st-drifted,.bar .st-gone,.bar .st-unverified{background:#f0a020}
.findings{margin:.2em 0;padding-left:1.4em}.findings li{margin:.3em 0}
.findings .sev-error .code{color:var(--err)}.findings .sev-warning .code{color:var(--warn)}
.fix{color:#333}.src,.why{color:var(--mute);font-size:.9em}.sev{color:var(--mute)}
#cluster-table td{white-space:nowrap}#cluster-table td.codes{white-space:normal;width:100%}
details summary{cursor:pointer}.controls{margin:.4em 0}.controls label{margin-right:1em}#shown{color:var(--mute)}
@media print{body{margin:0;font-size:10pt}.controls{display:none}.grid th{position:static}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}tr,.tile,svg{break-inside:avoid}
 h2{break-after:avoid}a{color:inherit;text-decoration:none}}
</style></head><body>"""

# Sort on a header click (numbers by data-v or value), filter by text, severity and state, and keep the filter in
# the address's #fragment so a filtered view can be bookmarked or passed on. Printing opens every finding.
_SCRIPT = r"""
(function(){
var table=document.getElementById('cluster-table');if(!table)return;
var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows),shown=document.getElementById('shown');
var q=document.getElementById('filter'),sev=document.getElementById('severity-filter'),
    st=document.getElementById('state-filter');
function apply(){
  var text=q.value.trim().toLowerCase(),s=sev.value,t=st?st.value:'',n=0;
  var words=text?text.split(/\s+/):[];
  for(var i=0;i<rows.length;i++){var r=rows[i],hay=r.getAttribute('data-s'),ok=(!s||r.getAttribute('data-sev')===s)
    &&(!t||r.getAttribute('data-state')===t);
    for(var w=0;ok&&w<words.length;w++){ok=hay.indexOf(words[w])>=0;}
    r.hidden=!ok;if(ok)n++;}
  shown.textContent=n+' of '+rows.length+' clusters';shown.setAttribute('data-shown',n);
  var h=[];if(text)h.push('q='+encodeURIComponent(text));if(s)h.push('severity='+s);if(t)h.push('state='+t);
  if(history.replaceState)history.replaceState(null,'',h.length?'#'+h.join('&'):location.pathname+location.search);
}
function fromHash(){
  location.hash.replace(/^#/,'').split('&').forEach(function(p){var kv=p.split('=');var v=decodeURIComponent(kv[1]||'');
    if(kv[0]==='q')q.value=v;else if(kv[0]==='severity')sev.value=v;else if(kv[0]==='state'&&st)st.value=v;});
}
function key(r,c){var td=r.cells[c],v=td.getAttribute('data-v');if(v!==null)return +v;
  var x=td.textContent.trim();return td.className.indexOf('num')>=0?+x:x.toLowerCase();}
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th){
  function sort(){var c=+th.getAttribute('data-col'),dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(o){o.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',dir>0?'ascending':'descending');
    rows.sort(function(a,b){var x=key(a,c),y=key(b,c);return x<y?-dir:x>y?dir:0;});
    var f=document.createDocumentFragment();rows.forEach(function(r){f.appendChild(r);});body.appendChild(f);}
  th.addEventListener('click',sort);th.addEventListener('keydown',function(e){if(e.key==='Enter')sort();});
});
q.addEventListener('input',apply);sev.addEventListener('change',apply);if(st)st.addEventListener('change',apply);
window.addEventListener('beforeprint',function(){Array.prototype.forEach.call(
  document.querySelectorAll('details'),function(d){d.open=true;});});
fromHash();apply();
})();
"""
