// imgaudit HTML report: the explorer. Lays out a zoomable treemap of the
// final filesystem from the explorer model inlined in the page as JSON (no
// network), with search, a layer selector, details on hover or selection and
// deep links (#path=/usr/lib, #q=libcublas, #layer=2). It only draws: every
// figure comes from the model.
(function () {
  "use strict";
  window.addEventListener("error", function (e) {
    document.body.setAttribute("data-js-error", String(e.message));
  });
  function human(b) {
    var u = ["B", "kB", "MB", "GB", "TB", "PB"], i = 0, v = b;
    if (b < 1000) return b + " B";
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
    return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " " + u[i];
  }
  function plural(n, w) { return n + " " + w + (n === 1 ? "" : "s"); }
  function worst(row, side) {
    var s = 0, mx = 0, mn = Infinity;
    row.forEach(function (q) { s += q.a; mx = Math.max(mx, q.a); mn = Math.min(mn, q.a); });
    return Math.max(side * side * mx / (s * s), (s * s) / (side * side * mn));
  }
  function squarify(items, x, y, w, h) {
    var out = [], total = 0;
    items.forEach(function (i) { total += i.v; });
    if (total <= 0 || w <= 0 || h <= 0) return out;
    var scale = w * h / total;
    var rest = items.filter(function (i) { return i.v > 0; })
      .map(function (i) { return { n: i.n, a: i.v * scale }; });
    while (rest.length) {
      var side = Math.min(w, h), row = [rest[0]], k = 1;
      while (k < rest.length && worst(row.concat([rest[k]]), side) <= worst(row, side)) { row.push(rest[k]); k++; }
      rest = rest.slice(k);
      var s = 0; row.forEach(function (q) { s += q.a; });
      if (w >= h) {
        var cw = s / h, yy = y;
        row.forEach(function (q) { var hh = q.a / cw; out.push({ n: q.n, x: x, y: yy, w: cw, h: hh }); yy += hh; });
        x += cw; w -= cw;
      } else {
        var rh = s / w, xx = x;
        row.forEach(function (q) { var ww = q.a / rh; out.push({ n: q.n, x: xx, y: y, w: ww, h: rh }); xx += ww; });
        y += rh; h -= rh;
      }
    }
    return out;
  }
  // Model arrays: [0, name, bytes, files, children, download] a directory,
  // [1, name, bytes, layer, category, package, modified, download] a file,
  // [2, name, bytes, files, download] folded small files (-1: none);
  // download: the stored (compressed) bytes attributed to the files.
  function load(a, parent, index) {
    var n = { t: a[0], name: a[1], bytes: a[2], parent: parent, kids: [], cats: {} };
    n.download = a[0] === 0 ? a[5] : a[0] === 1 ? a[7] : a[4];
    n.path = !parent ? "/" : (parent.path === "/" ? "/" : parent.path + "/") + n.name;
    if (n.t === 0) {
      n.files = a[3];
      a[4].forEach(function (c) {
        var k = load(c, n, index);
        n.kids.push(k);
        for (var id in k.cats) n.cats[id] = (n.cats[id] || 0) + k.cats[id];
      });
      index.dirs[n.path] = n;
    } else if (n.t === 1) {
      n.layer = a[3]; n.cat = a[4]; n.pkg = a[5]; n.mod = a[6] === 1; n.files = 1;
      if (n.cat >= 0) n.cats[n.cat] = n.bytes;
      index.files.push(n);
    } else {
      n.files = a[3];
    }
    return n;
  }
  function dominant(n) {
    var best = -1, bb = -1;
    for (var id in n.cats) if (n.cats[id] > bb) { bb = n.cats[id]; best = +id; }
    return best;
  }
  function globRe(q) {
    var re = q.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*/g, "\u0000")
      .replace(/\*/g, "[^/]*").replace(/\u0000/g, ".*").replace(/\?/g, "[^/]");
    return new RegExp((q.charAt(0) === "/" ? "^" : "(^|/)") + re + "$");
  }
  function hashParams() {
    var out = {}, h = location.hash.replace(/^#/, "");
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) {
        try { out[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); } catch (e) { /* ignore */ }
      }
    });
    return out;
  }

  function Explorer(box) {
    var el = box.querySelector(".treemap");
    var raw = JSON.parse(document.getElementById(box.getAttribute("data-tree")).textContent);
    if (!raw) { el.textContent = "No file tree (analysed with --sizes-only, or several images)"; this.drawn = 0; return; }
    var index = { dirs: {}, files: [] };
    var root = load(raw.root, null, index);
    var cats = raw.categories, colors = raw.colors, pkgs = raw.packages, layers = raw.layers;
    var crumbs = box.querySelector(".crumbs"), details = box.querySelector(".details");
    var q = box.querySelector(".q"), total = box.querySelector(".total");
    var sel = box.querySelector(".layer"), panel = box.querySelector(".layer-panel");
    var cur = root, selected = null, hits = null, mark = null, self = this;
    self.drawn = 0;

    var all = document.createElement("option");
    all.value = ""; all.textContent = "all layers";
    sel.appendChild(all);
    layers.forEach(function (l) {
      var o = document.createElement("option");
      o.value = String(l.index);
      o.textContent = "layer " + l.index + " · " + human(l.file_bytes) +
        (l.wasted_bytes ? " (" + human(l.wasted_bytes) + " wasted)" : "") +
        " · download " + human(l.download_bytes) +
        (l.created_by ? " · " + l.created_by.slice(0, 70) : "");
      sel.appendChild(o);
    });

    function colorOf(n) {
      if (n.t === 2) return "var(--small)";
      var c = n.t === 1 ? n.cat : dominant(n);
      return c >= 0 ? colors[c] : "var(--nocat)";
    }
    function describe(n) {
      var lines = [[n.t === 0 ? "directory" : n.t === 1 ? "file" : "folded", n.path]];
      lines.push(["bytes", human(n.bytes) + " (" + n.bytes.toLocaleString("en") + " B)"]);
      if (typeof n.download === "number") lines.push(["download", human(n.download) + " (" + n.download.toLocaleString("en") + " B stored, as pulled)"]);
      if (n.t === 1) {
        var l = layers[n.layer];
        lines.push(["layer", n.layer + (l && l.created_by ? " · " + l.created_by : "")]);
        lines.push(["package", n.pkg >= 0 ? pkgs[n.pkg] : "none"]);
        lines.push(["category", n.cat >= 0 ? cats[n.cat] : "none (not a regular file)"]);
        if (n.mod) lines.push(["modified", "replaces a lower layer's file"]);
      } else {
        lines.push(["files", String(n.files)]);
        var top = Object.keys(n.cats).sort(function (a, b) { return n.cats[b] - n.cats[a]; }).slice(0, 4);
        if (top.length) lines.push(["categories", top.map(function (c) { return cats[c] + " " + human(n.cats[c]); }).join(", ")]);
      }
      if (n.waste) lines.push(["hidden below", human(n.waste) + " written by this layer and hidden by later layers"]);
      return lines;
    }
    function show(n) {
      details.innerHTML = "";
      if (!n) return;
      details.setAttribute("data-path", n.path);
      describe(n).forEach(function (kv) {
        var row = document.createElement("div"), k = document.createElement("span"), v = document.createElement("span");
        k.className = "k"; k.textContent = kv[0]; v.textContent = kv[1];
        row.appendChild(k); row.appendChild(v); details.appendChild(row);
      });
    }
    function classes(n) {
      var c = "tm" + (n.t === 0 ? " dir" : n.t === 2 ? " small" : "");
      if (hits) c += n.hit ? " hit" : " dim";
      if (mark !== null) {
        if (n.t === 1 && n.layer === mark) c += n.mod ? " modified" : " added";
        else if (n.t === 0 && n.inLayer) c += " touched";
        else if (!n.waste) c += " dim";
        if (n.waste) c += " waste";
      }
      if (n === selected) c += " selected";
      return c;
    }
    function tile(n, r, parent, level, dx, dy) {
      var d = document.createElement("div");
      d.className = classes(n);
      d.style.left = (dx + r.x) + "px"; d.style.top = (dy + r.y) + "px";
      d.style.width = Math.max(r.w, 0) + "px"; d.style.height = Math.max(r.h, 0) + "px";
      d.style.background = colorOf(n);
      d.setAttribute("data-path", n.path);
      d.title = describe(n).map(function (kv) { return kv[0] + ": " + kv[1]; }).join("\n");
      if (level === 0) { d.tabIndex = 0; d.setAttribute("role", "treeitem"); d.setAttribute("aria-label", n.path + " " + human(n.bytes)); }
      if (r.w > 40 && r.h > 14) {
        var l = document.createElement("div"); l.className = "lbl";
        l.textContent = n.name + " " + human(n.bytes); d.appendChild(l);
      }
      d.addEventListener("mouseenter", function () { show(n); });
      d.addEventListener("click", function (e) {
        e.stopPropagation();
        if (n.t === 0) zoom(n.path); else { selected = n; draw(); show(n); }
      });
      d.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); d.click(); }
      });
      parent.appendChild(d); self.drawn++;
      if (n.t === 0 && level < 2 && r.w > 30 && r.h > 30) {
        squarify(items(n), 0, 0, r.w - 4, r.h - 17).forEach(function (c) { tile(c.n, c, d, level + 1, 1, 15); });
      }
    }
    function items(n) {
      return n.kids.map(function (k) { return { v: k.bytes, n: k }; });
    }
    function draw() {
      // Keyboard users keep the focus inside the map across redraws.
      var focused = el.contains(document.activeElement);
      el.innerHTML = ""; crumbs.innerHTML = ""; self.drawn = 0;
      var chain = [], p = cur;
      while (p) { chain.unshift(p); p = p.parent; }
      chain.forEach(function (c, i) {
        var last = i + 1 === chain.length, a = document.createElement(last ? "span" : "a");
        a.textContent = (i === 0 ? "/" : c.name + "/") + (last ? "  (" + human(c.bytes) + ")" : "");
        if (!last) { a.href = "#path=" + encodeURIComponent(c.path); a.addEventListener("click", function (e) { e.preventDefault(); zoom(c.path); }); }
        crumbs.appendChild(a);
      });
      el.setAttribute("data-path", cur.path);
      squarify(items(cur), 0, 0, el.clientWidth, el.clientHeight).forEach(function (r) { tile(r.n, r, el, 0, 0, 0); });
      box.setAttribute("data-boxes", String(self.drawn));
      if (focused && el.firstChild) el.firstChild.focus();
    }
    function setHash() {
      var parts = [];
      if (cur !== root) parts.push("path=" + encodeURIComponent(cur.path));
      if (q.value) parts.push("q=" + encodeURIComponent(q.value));
      if (mark !== null) parts.push("layer=" + mark);
      var h = parts.length ? "#" + parts.join("&") : "";
      if (h !== location.hash && !(h === "" && location.hash === "")) history.replaceState(null, "", h || location.pathname);
    }
    function zoom(path) {
      var n = index.dirs[path];
      // A file or folded path opens its directory, selected.
      while (!n && path.lastIndexOf("/") > 0) { path = path.slice(0, path.lastIndexOf("/")); n = index.dirs[path]; }
      cur = n || root;
      draw(); show(cur); setHash();
    }
    function walkClear(n, f) { f(n); n.kids.forEach(function (k) { walkClear(k, f); }); }
    function search(text) {
      walkClear(root, function (n) { n.hit = false; });
      if (!text) { hits = null; total.textContent = ""; total.removeAttribute("data-count"); total.removeAttribute("data-bytes"); draw(); setHash(); return; }
      var test;
      if (/[*?]/.test(text)) { var re = globRe(text); test = function (p) { return re.test(p); }; }
      else { var lo = text.toLowerCase(); test = function (p) { return p.toLowerCase().indexOf(lo) >= 0; }; }
      var count = 0, bytes = 0;
      hits = [];
      index.files.forEach(function (f) {
        if (test(f.path)) {
          hits.push(f); count++; bytes += f.bytes;
          for (var p = f; p; p = p.parent) p.hit = true;
        }
      });
      total.setAttribute("data-count", String(count));
      total.setAttribute("data-bytes", String(bytes));
      total.textContent = count + (count === 1 ? " match · " : " matches · ") + human(bytes);
      draw(); setHash();
    }
    function table(title, set, cls, other) {
      var wrap = document.createElement("div"), h = document.createElement("h4");
      wrap.className = "lp " + cls;
      wrap.setAttribute("data-count", String(set.count));
      wrap.setAttribute("data-bytes", String(set.bytes));
      h.textContent = title + ": " + plural(set.count, "file") + ", " + human(set.bytes) +
        (set.count > set.paths.length ? " (largest " + set.paths.length + " listed)" : "");
      wrap.appendChild(h);
      if (set.paths.length) {
        var ul = document.createElement("ul");
        set.paths.slice(0, 12).forEach(function (p) {
          var li = document.createElement("li"), a = document.createElement("a");
          a.textContent = p[0]; a.href = "#path=" + encodeURIComponent(p[0]);
          a.addEventListener("click", function (e) { e.preventDefault(); zoom(p[0]); });
          li.appendChild(a);
          li.appendChild(document.createTextNode(" " + human(p[1]) + (p[2] >= 0 ? " · " + other + " " + p[2] : "")));
          ul.appendChild(li);
        });
        wrap.appendChild(ul);
      }
      panel.appendChild(wrap);
    }
    function nearest(path) {
      for (;;) {
        if (index.dirs[path]) return index.dirs[path];
        var i = path.lastIndexOf("/");
        if (i <= 0) return root;
        path = path.slice(0, i);
      }
    }
    function layer(v) {
      walkClear(root, function (n) { n.inLayer = false; n.waste = 0; });
      panel.innerHTML = "";
      mark = v === "" || v === undefined || isNaN(+v) ? null : +v;
      var l = mark === null ? null : layers[mark];
      if (!l) { mark = null; sel.value = ""; draw(); setHash(); return; }
      sel.value = String(mark);
      index.files.forEach(function (f) {
        if (f.layer === mark) for (var p = f.parent; p && !p.inLayer; p = p.parent) p.inLayer = true;
      });
      if (l.paths) {
        // Hidden files are not in the final tree: mark the nearest directory that is.
        l.paths.hidden.paths.forEach(function (h) {
          for (var p = nearest(h[0].slice(0, h[0].lastIndexOf("/")) || "/"); p; p = p.parent) p.waste += h[1];
        });
        table("added", l.paths.added, "added", "");
        table("modified", l.paths.modified, "modified", "replaced layer");
        table("removed", l.paths.removed, "removed", "from layer");
        table("hidden by later layers (wasted)", l.paths.hidden, "hidden", "hidden by layer");
      } else {
        panel.textContent = "No per-layer paths in this report.";
      }
      draw(); setHash();
    }
    function apply() {
      var h = hashParams();
      if (h.q !== undefined && h.q !== q.value) { q.value = h.q; search(h.q); }
      if (h.layer !== undefined && String(mark) !== h.layer) layer(h.layer);
      if (h.path !== undefined && h.path !== cur.path) zoom(h.path);
    }
    var timer = null;
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { search(q.value); }, 120); });
    q.addEventListener("keydown", function (e) { if (e.key === "Enter") { clearTimeout(timer); search(q.value); } });
    sel.addEventListener("change", function () { layer(sel.value); });
    box.addEventListener("keydown", function (e) {
      if (e.target === q) return;
      if ((e.key === "Backspace" || e.key === "Escape") && cur.parent) { e.preventDefault(); zoom(cur.parent.path); }
      if (e.key === "/" && e.target.tagName !== "SELECT") { e.preventDefault(); q.focus(); }
    });
    window.addEventListener("hashchange", apply);
    window.addEventListener("resize", draw);
    draw();
    apply();
    self.api = { zoom: zoom, search: search, layer: layer };
  }
  var total = 0, boxes = document.querySelectorAll(".explorer"), list = [];
  for (var i = 0; i < boxes.length; i++) { var x = new Explorer(boxes[i]); list.push(x); total += x.drawn; }
  window.imgauditExplorers = list;
  document.body.setAttribute("data-treemap-boxes", String(total));
  document.body.setAttribute("data-treemap-ready", "1");
  // Milliseconds from navigation start to the explorer drawn (the bench reads it).
  document.body.setAttribute("data-ready-ms", String(Math.round(performance.now())));
})();
