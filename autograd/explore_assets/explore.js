// chainrule explorer: renders the graph from the embedded JSON and replays the backward/forward pass.
// No network, no libraries: plain DOM and SVG. Every user-supplied string goes in through textContent.
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("explore-data").textContent);
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.getElementById("graph");
  const view = document.getElementById("viewport");
  const $ = (id) => document.getElementById(id);
  const slider = $("slider"), counter = $("counter"), formula = $("formula");
  const current = $("current-node"), inspector = $("inspector");

  function el(tag, attrs, parent, ns) {
    const e = ns === false ? document.createElement(tag) : document.createElementNS(NS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  // -- arrow heads ----------------------------------------------------------------------------
  const defs = el("defs", {}, svg);
  [["arrow", "#9ca3af"], ["arrow-hot", "#dc2626"], ["arrow-fwd", "#2563eb"]].forEach(([id, color]) => {
    const m = el("marker", {id: id, viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7",
                            markerHeight: "7", orient: "auto-start-reverse"}, defs);
    el("path", {d: "M0,0L10,5L0,10z", fill: color}, m);
  });

  // -- drawing ----------------------------------------------------------------------------------
  const clusterLayer = el("g", {id: "clusters"}, view);
  const edgeLayer = el("g", {id: "edges"}, view);
  const proxyLayer = el("g", {id: "proxies"}, view);
  const nodeLayer = el("g", {id: "nodes"}, view);
  const N = D.nodes.length;
  // max_nodes: the "… K more" node is the last; the D.far nodes before it (from D.kept on) are folded
  // into it, and drawn left of the rest (in D.far_box) when it is clicked.
  const MORE = D.kept < D.total ? N - 1 : -1;
  const isFar = (i) => i >= D.kept && i < D.kept + D.far;
  let unfolded = false;
  const nodeEls = [], gradEls = [], dataEls = [], edgeEls = [], members = D.clusters.map(() => []);
  const incident = Array.from({length: N}, () => []);

  D.edges.forEach(([s, t, d], k) => {
    const path = el("path", {d: d, class: "edge" + (D.nodes[s][2] === "more" ? " more" : ""),
                             "data-edge": k, "data-from": s, "data-to": t}, edgeLayer);
    edgeEls.push(path);
    incident[s].push(k);
    incident[t].push(k);
  });
  D.nodes.forEach((n, i) => {
    const [name, op, role, x, y, w, h, c, dataText] = n;
    const g = el("g", {class: "node role-" + role, "data-id": i, transform: `translate(${x},${y})`}, nodeLayer);
    el("rect", {width: w, height: h}, g);
    const title = el("text", {x: 8, y: 15, class: "title"}, g);
    const full = op ? `${name} · ${op}` : name;
    title.textContent = full.length > 24 ? full.slice(0, 23) + "…" : full;
    el("title", {}, g).textContent = `${full} (node ${i})`;
    const data = el("text", {x: 8, y: 30, class: "data"}, g);
    data.textContent = dataText;
    const grad = el("text", {x: 8, y: 44, class: "grad"}, g);
    nodeEls.push(g); dataEls.push(data); gradEls.push(grad);
    if (c >= 0) members[c].push(i);
    g.addEventListener("click", (ev) => {
      ev.stopPropagation();
      if (i === MORE && D.far) toggleFar();
      inspect(i);
    });
  });

  // -- module clusters: click the name (or the folded box) to collapse / expand -------------------
  const clusterOf = new Array(N).fill(-1);
  const clusterEls = D.clusters.map(([name, x, y, w, h], k) => {
    members[k].forEach((i) => { clusterOf[i] = k; });
    const g = el("g", {class: "cluster", "data-cluster": k}, clusterLayer);
    g._box = [x, y, w, h];
    g._rect = el("rect", {x: x, y: y, width: w, height: h}, g);
    const label = el("text", {x: x + 8, y: y + 15}, g);
    label.textContent = `▾ ${name}`;
    g._label = label; g._name = name; g._collapsed = false;
    label.addEventListener("click", (ev) => { ev.stopPropagation(); toggleCluster(k); });
    g.addEventListener("click", (ev) => { if (g._collapsed) { ev.stopPropagation(); toggleCluster(k); } });
    return g;
  });

  // -- the far part (max_nodes): click "… K more" to unfold it, the frame's name to fold it again ----
  const farFrame = D.far_box ? el("g", {class: "cluster fold hidden", "data-fold": ""}, clusterLayer) : null;
  if (farFrame) {
    const [x, y, w, h] = D.far_box;
    el("rect", {x: x, y: y, width: w, height: h}, farFrame);
    const label = el("text", {x: x + 8, y: y + 15}, farFrame);
    label.textContent = `▾ ${D.far} far node${D.far === 1 ? "" : "s"} (click to fold them back)`;
    label.addEventListener("click", (ev) => { ev.stopPropagation(); toggleFar(); });
  }
  const foldHidden = (i) => (isFar(i) && !unfolded) || (i === MORE && unfolded);
  const drawn = () => N - (unfolded ? 1 : D.far);  // the nodes the fold does not hide

  function toggleFar() {
    unfolded = !unfolded;
    farFrame.classList.toggle("hidden", !unfolded);
    redrawFolding();
    if (drawn() <= 300) fit();
    else {  // too many to read at once: 1:1 around where the far part meets the rest
      const r = svg.getBoundingClientRect(), [cx, cy] = anchor(unfolded ? D.kept : MORE);
      setBox([cx - r.width / 2, cy - r.height / 2, r.width, r.height]);
    }
  }

  function hiddenNode(i) { return foldHidden(i) || (clusterOf[i] >= 0 && clusterEls[clusterOf[i]]._collapsed); }

  function toggleCluster(k) {
    const g = clusterEls[k];
    g._collapsed = !g._collapsed;
    g.classList.toggle("collapsed", g._collapsed);
    g._label.textContent = (g._collapsed ? "▸ " : "▾ ") + g._name +
      (g._collapsed ? ` (${members[k].length} nodes)` : "");
    const [x, y, w, h] = g._box;  // folded: a small box at the cluster's centre
    const r = g._collapsed ? [x + w / 2 - 75, y + h / 2 - 18, 150, 36] : [x, y, w, h];
    ["x", "y", "width", "height"].forEach((a, q) => g._rect.setAttribute(a, r[q]));
    g._label.setAttribute("x", r[0] + 8);
    g._label.setAttribute("y", r[1] + (g._collapsed ? 22 : 15));
    redrawFolding();
  }

  function anchor(i) {
    if (isFar(i) && !unfolded) i = MORE;  // a folded node is where "… K more" is
    if (clusterOf[i] >= 0 && hiddenNode(i)) {
      const [x, y, w, h] = clusterEls[clusterOf[i]]._box;
      return [x + w / 2, y + h / 2];
    }
    const n = D.nodes[i];
    return [n[3] + n[5] / 2, n[4] + n[6] / 2];
  }

  function redrawFolding() {
    nodeEls.forEach((g, i) => g.classList.toggle("hidden", hiddenNode(i)));
    while (proxyLayer.firstChild) proxyLayer.removeChild(proxyLayer.firstChild);
    D.edges.forEach(([s, t], k) => {
      const hs = hiddenNode(s), ht = hiddenNode(t);
      edgeEls[k].classList.toggle("hidden", hs || ht);
      // a folded module is joined by a line to its neighbours; the far part is joined by "… K more"
      if ((hs || ht) && clusterOf[s] !== clusterOf[t] && !foldHidden(s) && !foldHidden(t)) {
        const [ax, ay] = anchor(s), [bx, by] = anchor(t);
        el("line", {x1: ax, y1: ay, x2: bx, y2: by, class: "proxy"}, proxyLayer);
      }
    });
    show();
  }

  // -- zoom and pan (viewBox) ---------------------------------------------------------------------
  let box = [0, 0, D.size[0], D.size[1]], cullQueued = false;
  function setBox(b) {
    box = b;
    svg.setAttribute("viewBox", b.join(" "));
    if (!cullQueued) { cullQueued = true; requestAnimationFrame(cull); }
  }
  // Big graphs: SVG relayout costs grow with the element count, so only what is near the view is
  // displayed, and at a zoom too far out to read, the text is left out.
  const edgeBox = D.edges.map(([s, t]) => {
    const a = D.nodes[s], b = D.nodes[t];
    return [Math.min(a[3], b[3]), Math.min(a[4], b[4]), Math.max(a[3] + a[5], b[3] + b[5]), Math.max(a[4] + a[6], b[4] + b[6])];
  });
  const nodeOff = new Array(N).fill(false), edgeOff = new Array(D.edges.length).fill(false);
  function cull() {
    cullQueued = false;
    const r = svg.getBoundingClientRect();
    const scale = r.width ? Math.max(box[2] / r.width, box[3] / r.height) : 1;
    svg.classList.toggle("far", drawn() > 300 && scale > 2.5);
    if (N <= 300) return;
    const mx = box[2] * 0.5, my = box[3] * 0.5;
    const x0 = box[0] - mx, y0 = box[1] - my, x1 = box[0] + box[2] + mx, y1 = box[1] + box[3] + my;
    for (let i = 0; i < N; i++) {
      const n = D.nodes[i];
      const off = n[3] > x1 || n[3] + n[5] < x0 || n[4] > y1 || n[4] + n[6] < y0;
      if (off !== nodeOff[i]) { nodeOff[i] = off; if (off) nodeEls[i].remove(); else nodeLayer.appendChild(nodeEls[i]); }
    }
    edgeBox.forEach((b, k) => {
      const off = b[0] > x1 || b[2] < x0 || b[1] > y1 || b[3] < y0;
      if (off !== edgeOff[k]) { edgeOff[k] = off; if (off) edgeEls[k].remove(); else edgeLayer.appendChild(edgeEls[k]); }
    });
  }
  function fit() {  // all that is drawn: with the far part when it is unfolded (left of the rest)
    const [x0, y0] = unfolded ? [D.far_box[0] - 10, Math.min(0, D.far_box[1] - 10)] : [0, 0];
    const y1 = unfolded ? Math.max(D.size[1], D.far_box[1] + D.far_box[3] + 10) : D.size[1];
    setBox([x0, y0, Math.max(D.size[0] - x0, 200), Math.max(y1 - y0, 150)]);
  }
  function home() {  // small graphs: all of it; big ones: the root's neighbourhood at 1:1 (paints fast)
    const r = svg.getBoundingClientRect();
    if (drawn() <= 300 || !r.width) { fit(); return; }
    const [cx, cy] = anchor(0);
    setBox([cx - r.width + 100, cy - r.height / 2, r.width, r.height]);
  }
  if (N <= 1500) document.body.classList.add("animate");  // a moving dash repaints everything: small graphs only
  home();
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  svg.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = svg.getBoundingClientRect();
    const f = ev.deltaY > 0 ? 1.15 : 1 / 1.15;
    const scale = Math.max(box[2] / r.width, box[3] / r.height);
    const px = box[0] + (ev.clientX - r.left) * scale, py = box[1] + (ev.clientY - r.top) * scale;
    setBox([px - (px - box[0]) * f, py - (py - box[1]) * f, box[2] * f, box[3] * f]);
  }, {passive: false});
  let drag = null;
  svg.addEventListener("mousedown", (ev) => { drag = [ev.clientX, ev.clientY, box.slice()]; });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", (ev) => {
    if (!drag) return;
    const r = svg.getBoundingClientRect();
    const scale = Math.max(box[2] / r.width, box[3] / r.height);
    const [x0, y0, b] = drag;
    setBox([b[0] - (ev.clientX - x0) * scale, b[1] - (ev.clientY - y0) * scale, b[2], b[3]]);
  });
  $("fit").addEventListener("click", fit);

  function follow(i) {  // keep the current node in view (at the same zoom)
    const [cx, cy] = anchor(i);
    if (cx < box[0] || cx > box[0] + box[2] || cy < box[1] || cy > box[1] + box[3]) {
      setBox([cx - box[2] / 2, cy - box[3] / 2, box[2], box[3]]);
    }
  }

  // -- the pass ----------------------------------------------------------------------------------
  let mode = "backward", pos = 0, timer = null;
  const steps = () => (mode === "backward" ? D.steps : D.forward);
  const stepNode = (s) => s[0];
  const stepEdges = (s) => (mode === "backward" ? s[2] : s[1]);
  let lit = [], litNode = -1, litCluster = -1, litMore = false;

  function reset() {
    for (let i = 0; i < N; i++) {
      nodeEls[i].classList.remove("done", "current");
      const dataText = D.nodes[i][8];
      if (mode === "backward") {
        dataEls[i].textContent = dataText;
        gradEls[i].textContent = "";
        nodeEls[i].classList.remove("pending");
      } else {
        dataEls[i].textContent = dataText ? "data ?" : "";
        gradEls[i].textContent = "";
        nodeEls[i].classList.add("pending");
      }
    }
    if (mode === "backward" && N) gradEls[0].textContent = D.seed;
  }

  const undo = [];  // per applied step: the texts it replaced, so that "back" is one step of work
  function apply(s) {
    const i = stepNode(s), old = [];
    nodeEls[i].classList.add("done");
    if (mode === "backward") {
      s[3].forEach(([j, text]) => { old.push([gradEls[j], gradEls[j].textContent]); gradEls[j].textContent = text; });
    } else {
      old.push([dataEls[i], dataEls[i].textContent]);
      dataEls[i].textContent = D.nodes[i][8];
      nodeEls[i].classList.remove("pending");
    }
    undo.push(old);
  }
  function unapply(s) {
    const i = stepNode(s);
    nodeEls[i].classList.remove("done");
    if (mode === "forward") nodeEls[i].classList.add("pending");
    undo.pop().reverse().forEach(([e, text]) => { e.textContent = text; });
  }

  function goTo(k) {
    const list = steps();
    k = Math.max(0, Math.min(k, list.length));
    if (k === 0 || 2 * k < pos) { reset(); undo.length = 0; pos = 0; }
    for (; pos > k; pos--) unapply(list[pos - 1]);
    for (; pos < k; pos++) apply(list[pos]);
    show();
  }

  function show() {
    const list = steps();
    lit.forEach((k) => edgeEls[k].classList.remove("flow", "forward"));
    if (litNode >= 0) nodeEls[litNode].classList.remove("current");
    if (litCluster >= 0) clusterEls[litCluster].classList.remove("current");
    if (litMore) nodeEls[MORE].classList.remove("current");
    lit = []; litNode = -1; litCluster = -1; litMore = false;
    slider.max = list.length;
    slider.value = pos;
    counter.textContent = `${mode} step ${pos} / ${list.length}`;
    if (pos === 0) {
      current.textContent = "";
      current.dataset.node = "";
      formula.textContent = mode === "backward"
        ? `Backward pass: ${list.length} steps in the engine's order.\n${D.nodes[0][0]}.grad = ${D.seed.replace("grad ", "")} (the seed).\nPress step (→) to begin.`
        : `Forward pass: ${list.length} steps, parents before children. Press step (→) to begin.`;
      return;
    }
    const s = list[pos - 1];
    const i = stepNode(s);
    litNode = i;
    nodeEls[i].classList.add("current");
    if (isFar(i) && !unfolded) { litMore = true; nodeEls[MORE].classList.add("current"); }
    else if (hiddenNode(i)) { litCluster = clusterOf[i]; clusterEls[litCluster].classList.add("current"); }
    lit = stepEdges(s).slice();
    lit.forEach((k) => { edgeEls[k].classList.add("flow"); if (mode === "forward") edgeEls[k].classList.add("forward"); });
    current.textContent = `${D.nodes[i][0]} (node ${i})`;
    current.dataset.node = String(i);
    const fwd = D.nodes[i][9];
    formula.textContent = mode === "backward"
      ? [s[1][0], "  forward  " + fwd].concat(s[1].slice(1)).join("\n") : fwd;
    follow(i);
  }

  function play() {
    if (timer) { clearInterval(timer); timer = null; $("play").textContent = "▶ play"; return; }
    if (pos >= steps().length) goTo(0);
    $("play").textContent = "⏸ pause";
    timer = setInterval(() => {
      if (pos >= steps().length) { play(); return; }
      goTo(pos + 1);
    }, 700);
  }

  $("step").addEventListener("click", () => goTo(pos + 1));
  $("back").addEventListener("click", () => goTo(pos - 1));
  $("first").addEventListener("click", () => goTo(0));
  $("last").addEventListener("click", () => goTo(steps().length));
  $("play").addEventListener("click", play);
  slider.addEventListener("input", () => goTo(parseInt(slider.value, 10)));
  document.querySelectorAll('input[name="mode"]').forEach((r) => r.addEventListener("change", () => {
    mode = r.value; pos = 0; undo.length = 0; reset(); show();
  }));
  document.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "INPUT" && ev.target.type !== "radio") return;
    if (ev.target.tagName === "BUTTON" && (ev.key === " " || ev.key === "Enter")) return;  // the button's own
    if (ev.key === "ArrowRight") goTo(pos + 1);
    else if (ev.key === "ArrowLeft") goTo(pos - 1);
    else if (ev.key === "Home") goTo(0);
    else if (ev.key === "End") goTo(steps().length);
    else if (ev.key === " ") { ev.preventDefault(); play(); }
    else return;
  });

  // -- node inspector --------------------------------------------------------------------------------
  let selected = -1;
  function row(table, key, value) {
    const tr = el("tr", {}, table, false);
    el("td", {}, tr, false).textContent = key;
    el("td", {}, tr, false).textContent = value;
  }
  function fmt(x) {
    if (typeof x !== "number") return String(x);
    return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : String(+x.toFixed(4));
  }
  function heat(parent, h) {
    const vals = h.v.filter((v) => typeof v === "number");
    const m = Math.max(1e-300, ...vals.map(Math.abs));
    const grid = el("div", {class: "heat"}, parent, false);
    grid.style.gridTemplateColumns = `repeat(${h.cols}, 12px)`;
    h.v.forEach((v) => {
      const c = el("div", {}, grid, false);
      if (typeof v !== "number") { c.style.background = "#d946ef"; c.title = v; return; }
      const t = Math.min(1, Math.abs(v) / m);
      c.style.background = v >= 0 ? `rgba(220,38,38,${t})` : `rgba(37,99,235,${t})`;
      c.title = fmt(v);
    });
    if (h.blocked) el("div", {class: "hint"}, parent, false).textContent = "(block means; red > 0, blue < 0)";
  }
  function summary(parent, title, s) {
    el("h4", {}, parent, false).textContent = title;
    const t = el("table", {}, parent, false);
    row(t, "shape", s.shape.length ? `(${s.shape.join(", ")})` : "() scalar");
    row(t, "dtype", s.dtype);
    row(t, s.size > s.first.length ? `first ${s.first.length}` : "entries", s.first.map(fmt).join(", "));
    if (s.size) {
      row(t, "norm (L2)", fmt(s.norm));
      row(t, "max |x|", fmt(s.max_abs));
      row(t, "mean / min / max", `${fmt(s.mean)} / ${fmt(s.min)} / ${fmt(s.max)}`);
      heat(parent, s.heat);
    }
  }
  function inspect(i) {
    if (selected >= 0) nodeEls[selected].classList.remove("selected");
    selected = i;
    nodeEls[i].classList.add("selected");
    const n = D.nodes[i], info = D.info[i];
    inspector.textContent = "";
    inspector.dataset.node = String(i);
    el("h3", {}, inspector, false).textContent = `${n[0]} (node ${i})`;
    if (info.more) {
      el("p", {}, inspector, false).textContent = info.opens
        ? `${info.more} nodes farther from the root are folded here (max_nodes): click this node to unfold ` +
          "them (drawn on the left), the frame's name to fold them back. Their steps highlight this node while folded."
        : `${info.more} nodes farther from the root are folded here (max_nodes); the whole graph is too big ` +
          "for one page, so they are not in it and their steps are not shown.";
      return;
    }
    const t = el("table", {}, inspector, false);
    row(t, "op", n[1] || "leaf");
    row(t, "role", n[2]);
    row(t, "forward", n[9]);
    if (D.kind === "value") {
      row(t, "data", fmt(info.data));
      row(t, "grad (pass so far)", gradEls[i].textContent.replace("grad ", "") || "not reached yet");
      row(t, "grad (after the pass)", info.grad === null ? "none" : fmt(info.grad));
      row(t, "complete at", `step ${info.step}`);
    } else {
      row(t, "requires_grad", String(info.requires_grad));
      summary(inspector, "value", info.value);
      if (info.grad) summary(inspector, `gradient (after the pass; complete at step ${info.step})`, info.grad);
      else el("p", {class: "hint"}, inspector, false).textContent = "no gradient flows here";
    }
  }
  svg.addEventListener("click", () => {});

  // -- start ---------------------------------------------------------------------------------------
  const notes = [`${D.total} nodes`, `layout: ${D.layout === "dot" ? "Graphviz dot" : "layers"}`];
  if (D.far) notes.push(`${D.far} far nodes folded (max_nodes): click "… ${D.far} more" to unfold them`);
  else if (D.kept < D.total) notes.push(`${D.total - D.kept} far nodes folded (max_nodes); ${D.hidden_steps} of their steps hidden`);
  if (D.clusters.length) notes.push("click a module's name to fold it");
  if (D.dropped_clusters) notes.push(`${D.dropped_clusters} module clusters overlap in the layered layout and are not drawn`);
  $("note").textContent = notes.join(" · ") + ". Keys: ← → step, space play, wheel zoom, drag pan.";
  reset();
  redrawFolding();  // hides the far part (max_nodes), then shows step 0
})();
