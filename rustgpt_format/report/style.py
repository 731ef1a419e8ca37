"""The report's stylesheet: screen (laptop and phone), dark scheme, and print."""

CSS = """
:root{--bg:#fbfbfa;--fg:#1d2430;--muted:#5b6472;--line:#dde1e6;--card:#fff;--accent:#2457c5;
--bad:#b42318;--bad-bg:#fdf0ee;--band-a:#eef3fc;--band-b:#f6f0fb;
--attn:#2457c5;--ff:#c2571a;--norm:#6b7a8f;--emb:#1a8a6a;--out:#8e3ab8}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--fg:#e5e8ec;--muted:#9aa3ae;
--line:#2c323b;
--card:#1b1f26;--accent:#7ea6ff;--bad:#ff8f85;--bad-bg:#3a1d1b;--band-a:#1c2535;
--band-b:#281f33;
--attn:#7ea6ff;--ff:#f0955a;--norm:#9aa6b8;--emb:#52c7a2;--out:#c68ae6}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header,main,footer{max-width:72rem;margin:0 auto;padding:0 1.25rem}
header{padding-top:1.5rem;padding-bottom:.5rem}
.kicker{margin:0;color:var(--muted);font-size:.8rem;letter-spacing:.06em;
text-transform:uppercase}
h1{margin:.1rem 0 .6rem;font-size:1.6rem;line-height:1.2;overflow-wrap:anywhere}
h2{font-size:1.25rem;margin:0 0 .6rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}
nav{display:flex;flex-wrap:wrap;gap:.35rem .9rem;font-size:.9rem}
nav a{color:var(--accent);text-decoration:none}
nav a:hover{text-decoration:underline}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:1rem 1.25rem;margin:1rem 0}
.problems{border-color:var(--bad);background:var(--bad-bg)}
.problems h2,.problems li{color:var(--bad)}
.problems ul{padding-left:1.2rem;margin:.3rem 0}
.problems code{font-weight:600}
.rule{color:var(--muted);font-size:.85em}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
.digest{overflow-wrap:anywhere}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:.5rem 1.2rem;
margin:0}
.fact{border-left:3px solid var(--line);padding-left:.6rem;min-width:0}
.fact dt{color:var(--muted);font-size:.78rem;text-transform:uppercase;letter-spacing:.04em}
.fact dd{margin:0;overflow-wrap:anywhere}
.note{color:var(--muted);font-size:.9rem}
.words{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:.3rem}
.words li{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem;
background:var(--bg);
border:1px solid var(--line);border-radius:4px;padding:0 .35rem;max-width:100%;
overflow-wrap:anywhere}
.pair{display:grid;grid-template-columns:minmax(26rem,1fr) auto;gap:1rem;align-items:start}
@media (max-width:64rem){.pair{grid-template-columns:minmax(0,1fr)}}
figure{margin:0}
figure.wide{max-width:50rem;margin-bottom:1rem}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.2rem 1rem;padding:0;
margin:.3rem 0 0 3.5rem;font-size:.82rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.35rem;
vertical-align:-.1rem;background:currentColor}
svg.chart{width:100%;height:auto;display:block}
svg text{fill:var(--fg);font:15px system-ui,sans-serif}
svg .tick{fill:var(--muted);font-size:13px}
svg .phase{font-weight:600;font-size:14px}
svg .grid{stroke:var(--line);stroke-width:1}
svg .axis,svg .boundary{stroke:var(--muted);stroke-width:1.2}
svg .boundary{stroke-dasharray:4 3}
svg .curve{fill:none;stroke:var(--accent);stroke-width:2.2;stroke-linejoin:round}
svg .band-a{fill:var(--band-a)}svg .band-b{fill:var(--band-b)}
svg .none{fill:none;stroke:var(--muted)}
svg.hist{width:96px;height:24px;display:block}
svg.hist rect{fill:var(--accent)}
.k-selfattention{fill:var(--attn);color:var(--attn)}.k-feedforward{fill:var(--ff);
color:var(--ff)}
.k-layernorm{fill:var(--norm);color:var(--norm)}.k-embeddings{fill:var(--emb);color:var(--emb)}
.k-outputprojection{fill:var(--out);color:var(--out)}
.scroll{overflow-x:auto;max-width:100%}
.tall{max-height:22rem;overflow-y:auto;margin-bottom:1rem}
table{border-collapse:collapse;width:100%;font-size:.86rem;font-variant-numeric:tabular-nums}
caption{text-align:left;color:var(--muted);font-size:.8rem;padding-bottom:.2rem}
th,td{padding:.25rem .5rem;border-bottom:1px solid var(--line);text-align:right;
white-space:nowrap;vertical-align:middle}
th[scope=row],th[scope=rowgroup],thead th:first-child{text-align:left}
thead th{color:var(--muted);font-weight:600;font-size:.78rem}
tr.group th{padding-top:.6rem;font-weight:600;border-bottom:none}
small{color:var(--muted)}
.layers{list-style:none;padding:0;margin:0;display:grid;gap:.45rem}
.c-selfattention{--kc:var(--attn)}.c-feedforward{--kc:var(--ff)}.c-layernorm{--kc:var(--norm)}
.c-embeddings{--kc:var(--emb)}.c-outputprojection{--kc:var(--out)}
.layers.stack{grid-template-columns:repeat(4,minmax(0,1fr));gap:.5rem}
.layers.stack li{border:1px solid var(--line);border-top:3px solid var(--kc,var(--line));
border-radius:6px;padding:.35rem .55rem;min-width:0}
.layers.stack li.whole{grid-column:1/-1}
.layers.stack .share,.layers.stack .shapes{margin-left:0}
@media (max-width:60rem){.layers.stack{grid-template-columns:repeat(2,minmax(0,1fr))}}
.layer-head{display:flex;flex-wrap:wrap;gap:.2rem .6rem;align-items:baseline}
.idx{color:var(--muted);font-variant-numeric:tabular-nums;min-width:1.6rem}
.kind{font-weight:650}
.block{font-size:.75rem;color:var(--muted);border:1px solid var(--line);border-radius:999px;
padding:0 .45rem}
.count{margin-left:auto;font-variant-numeric:tabular-nums}
.share{height:6px;background:var(--line);border-radius:3px;overflow:hidden;
margin:.15rem 0 0 2.2rem}
.share span{display:block;height:100%;background:var(--kc,var(--accent))}
.shapes{margin:.1rem 0 0 2.2rem;color:var(--muted);font-size:.82rem;overflow-wrap:anywhere}
details{margin-top:.6rem}
summary{cursor:pointer;color:var(--accent)}
.losses{columns:9rem;font-size:.82rem;font-variant-numeric:tabular-nums}
footer{color:var(--muted);font-size:.8rem;padding-bottom:2rem}
.for-narrow{display:none}
@media (max-width:40rem){.layers.stack{grid-template-columns:minmax(0,1fr)}
.for-wide{display:none}.for-narrow{display:block}body{font-size:14px}
header,main,footer{padding:0 .6rem}
section{padding:.75rem .7rem;border-radius:8px}h1{font-size:1.3rem}
.share,.shapes{margin-left:0}table{font-size:.8rem}}
@media print{:root{--bg:#fff;--card:#fff;--fg:#000;--muted:#444;--line:#bbb}
body{font-size:10pt}nav,details{display:none}header,main,footer{max-width:none;padding:0}
section{border:none;border-top:1px solid #999;border-radius:0;padding:.4rem 0;margin:.6rem 0}
.problems{background:none}h2,h3{break-after:avoid}tr,figure,li{break-inside:avoid}
.scroll{overflow:visible}.tall{max-height:none}.pair{grid-template-columns:1fr}th,td{white-space:normal}}
"""
