// The dashboard: one self-contained HTML document (inline CSS and script, no CDN, nothing fetched but
// the API), usable at 1280×800 and on a phone. Its Content-Security-Policy allows exactly this script
// and style (by hash) and requests to this server only: inline event handlers, which an injected
// `<img onerror=…>` would need, never run even if markup slipped through.
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './page-script.js';

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2933;background:#f5f7fa}
header{display:flex;gap:1em;align-items:baseline;padding:.6em 1em;background:#1f2933;color:#fff}header h1{font-size:1.1em;margin:0}
header small{opacity:.7}main{display:grid;grid-template-columns:minmax(300px,1fr) 2.2fr;gap:1em;padding:1em}
section{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:.6em .8em;overflow:auto}h2{font-size:1em;margin:.2em 0 .5em}h3{font-size:.95em;margin:.4em 0}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{text-align:left;padding:2px 6px;border-bottom:1px solid #eef2f6;white-space:nowrap}
td.err,td.detail{white-space:normal;word-break:break-word;font-family:ui-monospace,monospace;font-size:.85em}
#runs tbody tr{cursor:pointer}#runs tr.sel{background:#e0ecff}
.st-done{color:#16a34a}.st-failed{color:#dc2626}.st-running{color:#3b82f6}.st-pending{color:#52606d}
#shardmap{display:block;cursor:crosshair;image-rendering:pixelated}#spark{width:100%;height:40px;display:block}
#tip{position:absolute;background:#1f2933;color:#fff;padding:4px 8px;border-radius:4px;font-size:.85em;max-width:420px;pointer-events:none;white-space:pre-wrap}
#banner{background:#fde8e8;color:#9b1c1c;padding:.5em 1em}.filters{display:flex;gap:.5em;flex-wrap:wrap;margin-bottom:.4em}
.filters input,.filters select{font:inherit;padding:2px 4px}button{font:inherit;padding:4px 10px;border-radius:4px;border:1px solid #dc2626;background:#fff;color:#dc2626;cursor:pointer}
.legend span{display:inline-block;width:.8em;height:.8em;margin:0 .2em 0 .6em;vertical-align:middle}
.grid2{display:grid;grid-template-columns:3fr 2fr;gap:1em}
@media (max-width:900px){main{grid-template-columns:1fr}.grid2{grid-template-columns:1fr}}
`;

const BODY = `
<header><h1>bigproc</h1><small id="manifests"></small></header>
<div id="banner" role="alert" hidden></div>
<main>
  <section id="runs-box"><h2>Runs</h2>
    <table id="runs"><thead><tr><th>run</th><th>op</th><th>state</th><th>shards</th><th>hosts</th><th>rate</th><th>ETA</th></tr></thead><tbody></tbody></table>
  </section>
  <div id="detail" hidden>
    <section><h2 id="title"></h2>
      <div class="legend"><span class="sw-pending"></span>pending<span class="sw-running"></span>running<span class="sw-done"></span>done<span class="sw-failed"></span>failed<span class="sw-expired"></span>expired lease — <b id="legend"></b></div>
      <canvas id="shardmap" width="600" height="40" aria-label="shard map: one cell per shard in file order"></canvas>
      <div><small>throughput, last minute: <b id="rate"></b></small><canvas id="spark"></canvas></div>
      <div id="history"></div>
    </section>
    <div class="grid2">
      <section><h2>Hosts</h2><table id="hosts"><thead><tr><th>host</th><th>pid</th><th></th><th>heard</th><th>shards</th><th>bytes</th><th>rate</th><th>holding</th></tr></thead><tbody></tbody></table></section>
      <section id="failures-box"><h2>Failures <button id="retry" hidden>Retry failed shards</button></h2><p id="failures-empty">none</p>
        <table id="failures"><thead><tr><th>shard</th><th>state</th><th>attempts</th><th>last error</th></tr></thead><tbody></tbody></table></section>
    </div>
    <section><h2>Event trail</h2>
      <div class="filters"><select id="f-type"><option value="">all types</option>${['created', 'claimed', 'renewed_late', 'committed', 'commit_rejected', 'failed', 'expired', 'released', 'merged', 'retried'].map((t) => `<option>${t}</option>`).join('')}</select>
        <input id="f-host" placeholder="host"><input id="f-shard" placeholder="shard" inputmode="numeric" size="6"></div>
      <table id="trail"><thead><tr><th>#</th><th>time</th><th>type</th><th>shard</th><th>token</th><th>host</th><th>detail</th></tr></thead><tbody></tbody></table>
    </section>
  </div>
</main>
<div id="tip" hidden></div>`;

/** The legend's swatches, coloured by class (the script's COLORS, repeated here for the static part). */
const SWATCHES = Object.entries({
  pending: '#8b95a3',
  running: '#3b82f6',
  done: '#16a34a',
  failed: '#dc2626',
  expired: '#f59e0b',
})
  .map(([k, v]) => `.sw-${k}{background:${v}}`)
  .join('');

const css = STYLE + SWATCHES;
const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export const PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>bigproc serve</title><style>${css}</style></head>
<body>${BODY}<script>${PAGE_SCRIPT}</script></body></html>
`;

export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hash(PAGE_SCRIPT)}`,
  `style-src ${hash(css)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
