"""The page's inline stylesheet and its one small script (no external resources of any kind).

The script sorts tables, filters the overview, toggles chart series, shows the chosen one of a
set of charts (a load point's timeline), copies the command, shows tooltips, and recomputes the
comparison for any two runs with the same rule as ``compare.py``.
It writes page text only through ``textContent``, never as HTML.
"""

from __future__ import annotations

__all__ = ["CSS", "JS"]

CSS = """
:root{--fg:#1d1f23;--muted:#5b616b;--line:#d9dce1;--bg:#fff;--soft:#f4f6f8;--accent:#0b5cad}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg)}
main,header.top{max-width:1240px;margin:0 auto;padding:0 20px}
header.top{padding-top:18px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;padding-top:8px;
border-top:1px solid var(--line)}h3{font-size:15px;margin:16px 0 6px}
p.sub,p.intro,p.note{color:var(--muted);margin:4px 0 10px}
p.lead{font-size:16px;font-weight:600;background:#eef4fb;border-left:4px solid var(--accent);
padding:10px 14px;margin:8px 0 12px}
p.none{color:var(--muted);font-style:italic}
nav.toc{display:flex;flex-wrap:wrap;gap:4px 14px;margin:10px 0 4px;font-size:13px}
nav.toc a{color:var(--accent);text-decoration:none}nav.toc a:hover{text-decoration:underline}
.command{display:flex;gap:8px;align-items:center;margin:10px 0;flex-wrap:wrap}
.command code{background:var(--soft);border:1px solid var(--line);border-radius:4px;
padding:6px 10px;font:13px/1.4 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;
word-break:break-all;flex:1 1 480px}
button{font:inherit;cursor:pointer}
.command button{border:1px solid var(--accent);background:var(--accent);color:#fff;
border-radius:4px;padding:5px 12px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0;font-size:13px}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;word-break:break-word}
.scroll{overflow-x:auto}
table.data{border-collapse:collapse;margin:6px 0 10px;font-size:13px;min-width:50%}
table.data th,table.data td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;
vertical-align:top}
table.data td{max-width:560px;overflow-wrap:break-word}
table.data td.num{white-space:nowrap}
table.data th{background:var(--soft);font-weight:600;min-width:3.5em}
table.data th[title]{text-decoration:underline dotted var(--muted);text-underline-offset:3px}
table.data td.num,table.data th[data-kind=num]{text-align:right;font-variant-numeric:tabular-nums}
table.data tbody tr:nth-child(even){background:#fafbfc}
th button.sort{all:unset;cursor:pointer}th button.sort::after{content:"\\00a0\\2195";color:#9aa0a8}
th[aria-sort=ascending] button.sort::after{content:"\\00a0\\25B2";color:var(--fg)}
th[aria-sort=descending] button.sort::after{content:"\\00a0\\25BC";color:var(--fg)}
th button.sort:focus-visible{outline:2px solid var(--accent)}
.filters{display:flex;gap:14px;align-items:center;flex-wrap:wrap;margin:6px 0}
.filters select{font:inherit;padding:2px 4px}.filters .count{color:var(--muted);font-size:12px}
figure.chart{margin:14px 0 18px;padding:10px 12px;border:1px solid var(--line);border-radius:6px;
background:#fff;max-width:100%;overflow-x:auto}
figcaption{font-weight:600;margin-bottom:6px}
.better{display:inline-block;font-weight:500;font-size:12px;color:#124b1f;background:#e4f3e7;
border:1px solid #b6dcbf;border-radius:10px;padding:0 8px;margin-left:8px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:0 16px}
svg.plot{display:block;max-width:100%;height:auto;font-family:inherit}
svg .grid{stroke:#e8eaee}svg .axis{stroke:#8a9099}svg .zero{stroke:#333;stroke-dasharray:3 3}
svg .tick{font-size:11px;fill:#5b616b}svg .axis-title{font-size:12px;font-weight:600;fill:#1d1f23;
cursor:help}svg text{font-size:12px;fill:#1d1f23}svg .direct{font-size:11px;fill:#3a3f46}
svg .rowline{stroke:#eef0f3}svg .median{stroke:#111;stroke-width:3}
svg .line{fill:none;stroke-width:2}svg .errbar{stroke-width:1.5;opacity:.7}
svg .whisker{stroke-width:1.6}svg .vline{stroke:#444;stroke-dasharray:5 4;stroke-width:1.3}
svg .vlabel{font-size:11px;font-weight:600}svg .flag{fill:none;stroke:#111;stroke-width:1.6}
svg .flagtext{font-size:11px;font-weight:700}svg .series.off{display:none}
.legend{display:flex;flex-wrap:wrap;gap:6px;margin:0 0 6px}
.series-toggle{display:inline-flex;align-items:center;gap:4px;border:1px solid var(--line);
background:#fff;border-radius:14px;padding:1px 10px 1px 4px;font-size:12px}
.series-toggle[aria-pressed=false]{opacity:.45;text-decoration:line-through}
details.data{margin-top:6px}details.data summary{cursor:pointer;color:var(--accent);font-size:13px}
ul.facts{margin:6px 0 10px;padding-left:20px}ul.facts li{margin:3px 0}
.tooltip{position:fixed;z-index:10;max-width:380px;background:#1d1f23;color:#fff;font-size:12px;
line-height:1.4;padding:6px 9px;border-radius:4px;pointer-events:none;
box-shadow:0 2px 8px rgba(0,0,0,.25)}
footer{color:var(--muted);font-size:12px;margin:30px 0 20px}
.badge{display:inline-block;font-size:11px;font-weight:600;border:1px solid var(--line);
border-radius:9px;padding:0 7px;background:var(--soft);white-space:nowrap;cursor:help}
.badge.warn{color:#7a3b00;background:#fff1dc;border-color:#e8b46b}
table.data tr[data-distorted] td{background:#fff8ee}
table.data[id$=load-table] td:first-child{white-space:nowrap}
.flag-note{display:block;font-size:12px;color:var(--muted);min-width:12em}
ul.facts.distorted li{color:#7a3b00}
svg .hline{stroke:#b3261e;stroke-dasharray:6 3;stroke-width:1.4}
svg .hlabel{font-size:11px;font-weight:600;fill:#b3261e}
svg .band{fill:#0b5cad;fill-opacity:.08}svg .leader{stroke:#9aa0a8;stroke-width:1}
svg .plabel{font-size:11px;fill:#1d1f23}
svg .plabel,svg .hlabel,svg .vlabel{paint-order:stroke;stroke:#fff;stroke-width:3px}
svg .ptitle{font-size:11px;font-weight:600;fill:#3a3f46;cursor:help}
svg .col{fill:#0b5cad;fill-opacity:0}svg .col:hover{fill-opacity:.12}
"""

JS = r"""
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  function all(root, sel) { return Array.prototype.slice.call(root.querySelectorAll(sel)); }

  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) { return numeric ? -Infinity : ""; }
    var raw = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent;
    if (numeric) { var n = parseFloat(raw); return isNaN(n) ? -Infinity : n; }
    return raw.toLowerCase();
  }
  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.getAttribute("data-kind") === "num";
    var asc = th.getAttribute("aria-sort") !== "ascending";
    all(table, "thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("th button.sort") : null;
    if (button) { sortBy(button.closest("table"), button.closest("th")); }
  });

  all(document, ".filters[data-table]").forEach(function (bar) {
    var table = document.getElementById(bar.getAttribute("data-table"));
    if (!table) { return; }
    var count = bar.querySelector(".count");
    function apply() {
      var rows = Array.prototype.slice.call(table.tBodies[0].rows), shown = 0;
      rows.forEach(function (row) {
        var ok = all(bar, "select[data-filter]").every(function (s) {
          return !s.value || row.getAttribute("data-" + s.getAttribute("data-filter")) === s.value;
        });
        row.hidden = !ok; shown += ok ? 1 : 0;
      });
      if (count) { count.textContent = shown + " of " + rows.length + " rows"; }
    }
    bar.addEventListener("change", apply);
    apply();
  });

  all(document, ".series-toggle").forEach(function (button) {
    button.addEventListener("click", function () {
      var on = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", on ? "true" : "false");
      var fig = button.closest("figure");
      all(fig, "svg [data-series]").forEach(function (g) {
        if (g.getAttribute("data-series") === button.getAttribute("data-series")) {
          g.classList.toggle("off", !on);
        }
      });
    });
  });

  all(document, "select[data-pick]").forEach(function (select) {
    var box = document.getElementById(select.getAttribute("data-pick"));
    if (!box) { return; }
    function pick() {
      all(box, "[data-choice]").forEach(function (el) {
        el.hidden = el.getAttribute("data-choice") !== select.value;
      });
    }
    select.addEventListener("change", pick);
    pick();
  });

  var copy = document.getElementById("copy-command");
  if (copy) {
    copy.addEventListener("click", function () {
      var code = document.getElementById("command");
      var status = document.getElementById("copy-status");
      function done(ok) { status.textContent = ok ? "copied" : "select the text and copy it"; }
      function fallback() {
        var range = document.createRange(); range.selectNodeContents(code);
        var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
        done(ok);
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(code.textContent).then(function () { done(true); }, fallback);
      } else { fallback(); }
    });
  }

  var box = document.createElement("div");
  box.className = "tooltip"; box.setAttribute("role", "tooltip"); box.hidden = true;
  document.body.appendChild(box);
  var held = null;
  function findTip(el) {
    for (; el && el.nodeType === 1; el = el.parentNode) {
      if (held && el === held.el) { return held; }
      var t = el.getAttribute("title");
      if (t) { return { el: el, text: t }; }
      var first = el.namespaceURI === SVGNS ? el.firstElementChild : null;
      if (first && first.localName === "title") {
        return { el: el, node: first, text: first.textContent };
      }
      if (el.localName === "svg") { return null; }
    }
    return null;
  }
  function release() {
    if (!held) { return; }
    if (held.node) { held.el.insertBefore(held.node, held.el.firstChild); }
    else { held.el.setAttribute("title", held.text); }
    held = null; box.hidden = true;
  }
  function place(x, y) {
    var w = box.offsetWidth, h = box.offsetHeight;
    box.style.left = Math.max(4, Math.min(x + 14, window.innerWidth - w - 8)) + "px";
    box.style.top = (y + 18 + h > window.innerHeight ? y - h - 10 : y + 18) + "px";
  }
  function show(target, x, y) {
    var found = findTip(target);
    if (found && held === found) { place(x, y); return; }
    release();
    if (!found || !found.text) { return; }
    held = found;
    if (found.node) { found.el.removeChild(found.node); }
    else { found.el.removeAttribute("title"); }
    box.textContent = found.text; box.hidden = false; place(x, y);
  }
  document.addEventListener("mouseover", function (e) { show(e.target, e.clientX, e.clientY); });
  document.addEventListener("mousemove", function (e) {
    if (held) { place(e.clientX, e.clientY); }
  });
  document.addEventListener("focusin", function (e) {
    var r = e.target.getBoundingClientRect(); show(e.target, r.left, r.bottom - 10);
  });
  document.addEventListener("focusout", release);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { release(); } });

  var dataNode = document.getElementById("compare-data");
  if (!dataNode) { return; }
  var data = JSON.parse(dataNode.textContent);
  var pickA = document.getElementById("compare-a"), pickB = document.getElementById("compare-b");
  function commas(s) { return s.replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) { return "\u2014"; }
    var s = Math.abs(v);
    if (s >= 1000 || (Number.isInteger(v) && s < 1e15)) { return commas(v.toFixed(0)); }
    if (s >= 10) { return v.toFixed(1); }
    if (s >= 1) { return v.toFixed(2); }
    return String(Number(v.toPrecision(3)));
  }
  function signed(p) { return p === null ? "\u2014" : (p >= 0 ? "+" : "") + p.toFixed(1) + " %"; }
  function noise(a, b) {
    var dof = 0, sum = 0;
    [a, b].forEach(function (s) {
      if (s[3] !== null && s[4] >= 2) { dof += s[4] - 1; sum += (s[4] - 1) * s[3] * s[3]; }
    });
    return dof ? 2 * Math.sqrt(sum / dof) : null;
  }
  function judge(metric, a, b) {
    var delta = b[0] - a[0], base = Math.abs(a[0]);
    var pct = base ? delta / base * 100 : null, band = noise(a, b);
    var threshold = band !== null ? Math.max(band, base * data.rule.floor / 100)
      : base * data.rule.noSpread / 100;
    var bandPct = base ? threshold / base * 100 : null;
    if (Math.abs(delta) <= threshold) { return [pct, bandPct, "within spread"]; }
    return [pct, bandPct, delta * metric.better > 0 ? "improved" : "regressed"];
  }
  function spread(s) {
    if (!s) { return "\u2014"; }
    if (s[1] === null || s[2] === null || s[4] < 2) { return fmt(s[0]) + " (n " + s[4] + ")"; }
    return fmt(s[0]) + " (" + fmt(s[1]) + "\u2013" + fmt(s[2]) + ")";
  }
  function most(items, word) {
    if (!items.length) { return "nothing " + word; }
    var top = items[0];
    items.forEach(function (c) {
      if (Math.abs(c.pct || 0) > Math.abs(top.pct || 0)) { top = c; }
    });
    return items.length + " " + word + ", most " + top.label + " " + top.metric.label + " by " +
      Math.abs(top.pct || 0).toFixed(1) + " % (" + fmt(top.a[0]) + " \u2192 " + fmt(top.b[0]) +
      " " + top.metric.unit + ")";
  }
  function cell(row, text, value, numeric) {
    var td = row.insertCell(-1); td.textContent = text;
    if (value !== null && value !== undefined) { td.setAttribute("data-v", String(value)); }
    if (numeric) { td.className = "num"; }
  }
  function render() {
    var ia = +pickA.value, ib = +pickB.value, found = [];
    data.groups.forEach(function (g) {
      if (!g.present[ia] || !g.present[ib]) { return; }
      data.metrics.forEach(function (m) {
        var a = g.stats[m.key][ia], b = g.stats[m.key][ib];
        if (!a && !b) { return; }
        var j = a && b ? judge(m, a, b) : [null, null, "no data"];
        found.push({ label: g.label, metric: m, a: a || [null], b: b || [null], sa: a, sb: b,
          pct: j[0], band: j[1], verdict: j[2] });
      });
    });
    var text, la = data.runs[ia], lb = data.runs[ib];
    function only(v) { return found.filter(function (c) { return c.verdict === v; }); }
    if (!found.length) {
      text = lb + " vs " + la + ": no target \u00d7 tier was measured in both runs.";
    } else if (!only("improved").length && !only("regressed").length) {
      var top = found[0];
      found.forEach(function (c) {
        if (Math.abs(c.pct || 0) > Math.abs(top.pct || 0)) { top = c; }
      });
      text = lb + " vs " + la + ": nothing improved or regressed beyond run-to-run spread (" +
        only("within spread").length + " comparisons; largest move " + top.label + " " +
        top.metric.label + " " + signed(top.pct) + ").";
    } else {
      text = lb + " vs " + la + ": " + most(only("improved"), "improved") + "; " +
        most(only("regressed"), "regressed") + "; " + only("within spread").length +
        " within run-to-run spread.";
    }
    document.getElementById("compare-sentence").textContent = text;
    var table = document.getElementById("compare-table"), body = table.tBodies[0];
    all(table, "thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    while (body.rows.length) { body.deleteRow(0); }
    var arrows = { improved: "\u25B2 improved", regressed: "\u25BC regressed" };
    found.forEach(function (c) {
      var row = body.insertRow(-1), m = c.metric;
      cell(row, c.label);
      cell(row, m.label + " (" + m.unit + ", " + (m.better > 0 ? "higher" : "lower") +
        " is better)");
      cell(row, spread(c.sa)); cell(row, spread(c.sb));
      cell(row, signed(c.pct), c.pct, true);
      cell(row, c.band === null ? "\u2014" : "\u00b1" + c.band.toFixed(1) + " %", c.band, true);
      cell(row, arrows[c.verdict] || c.verdict);
    });
  }
  pickA.addEventListener("change", render);
  pickB.addEventListener("change", render);
})();
"""
