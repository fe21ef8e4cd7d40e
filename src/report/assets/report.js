// imgaudit HTML report: lays out the treemap of the final filesystem from
// the JSON tree data in the page (inlined at build time; no network).
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
      .map(function (i) { return { n: i, a: i.v * scale }; });
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
  function items(node) {
    var v = node.children.map(function (c) { return { v: c.bytes, node: c }; });
    if (node.rest > 0) v.push({ v: node.rest, node: null });
    v.sort(function (a, b) { return b.v - a.v; });
    return v;
  }
  function drawTreemap(el) {
    var data = JSON.parse(document.getElementById(el.getAttribute("data-tree")).textContent);
    if (!data) { el.textContent = "No directory tree (analysed with --sizes-only?)"; return 0; }
    var cats = data.categories, colors = data.colors, path = [data.root];
    var crumbs = el.previousElementSibling;
    function colorOf(n) {
      if (!n || !n.categories.length) return "#ddd";
      return colors[n.categories[0][0]] || "#ccc";
    }
    function tip(n, prefix) {
      var t = prefix + "  " + human(n.bytes);
      n.categories.slice(0, 4).forEach(function (c) { t += "\n  " + cats[c[0]] + ": " + human(c[1]); });
      return t;
    }
    function render() {
      var node = path[path.length - 1], W = el.clientWidth, H = el.clientHeight, drawn = 0;
      el.innerHTML = "";
      crumbs.innerHTML = "";
      path.forEach(function (p, i) {
        var a = document.createElement(i + 1 < path.length ? "a" : "span");
        a.textContent = (i === 0 ? "/" : p.name + "/") + (i + 1 === path.length ? "  (" + human(p.bytes) + ")" : "");
        if (i + 1 < path.length) a.addEventListener("click", function () { path = path.slice(0, i + 1); render(); });
        crumbs.appendChild(a);
      });
      var prefix = path.slice(1).map(function (p) { return p.name; }).join("/");
      squarify(items(node), 0, 0, W, H).forEach(function (r) {
        var d = document.createElement("div"), n = r.n.node;
        d.className = "tm" + (n && n.children.length ? " dir" : "");
        d.style.left = r.x + "px"; d.style.top = r.y + "px";
        d.style.width = r.w + "px"; d.style.height = r.h + "px";
        d.style.background = colorOf(n);
        var name = n ? n.name : "(smaller entries)";
        d.title = n ? tip(n, "/" + (prefix ? prefix + "/" : "") + name) : name + "  " + human(r.n.v);
        if (r.w > 40 && r.h > 14) {
          var l = document.createElement("div"); l.className = "lbl";
          l.textContent = name + " " + human(r.n.v); d.appendChild(l);
        }
        if (n && n.children.length) {
          d.addEventListener("click", function () { path.push(n); render(); });
          if (r.w > 30 && r.h > 30) {
            squarify(items(n), 0, 0, r.w - 4, r.h - 18).forEach(function (c) {
              var s = document.createElement("div"), cn = c.n.node;
              s.className = "tm"; s.style.left = (1 + c.x) + "px"; s.style.top = (15 + c.y) + "px";
              s.style.width = c.w + "px"; s.style.height = c.h + "px"; s.style.background = colorOf(cn);
              s.style.pointerEvents = "none";
              d.appendChild(s); drawn++;
            });
          }
        }
        el.appendChild(d); drawn++;
      });
      return drawn;
    }
    return render();
  }
  var total = 0, maps = document.querySelectorAll(".treemap");
  for (var i = 0; i < maps.length; i++) total += drawTreemap(maps[i]);
  document.body.setAttribute("data-treemap-boxes", String(total));
  document.body.setAttribute("data-treemap-ready", "1");
})();
