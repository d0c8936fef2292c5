/* leakhunter flame graph (icicle): offline, no dependencies.
 *
 * Reads the tree from a <script type="application/json"> block named by the
 * container's data-flame attribute: {strings, root: [name#, file#, value, self,
 * shrank, [children]], unit, sample_type, diff}. Boxes are absolutely positioned
 * divs sized in percent, so the picture follows the page width without redrawing;
 * only boxes at least one pixel wide at the current zoom are created.
 * Click a box to zoom into it (click an ancestor, or "reset", to zoom out); hover
 * for values; type in the search field to highlight matching functions.
 */
(function () {
  "use strict";
  var ROW = 18;

  function decode(doc) {
    var S = doc.strings;
    var maxDepth = 0;
    function mk(a, parent, depth) {
      var n = {name: S[a[0]], file: S[a[1]], v: a[2], self: a[3], shrank: a[4],
               parent: parent, depth: depth, kids: [], x: 0};
      if (depth > maxDepth) { maxDepth = depth; }
      var off = 0;
      for (var i = 0; i < a[5].length; i++) {
        var c = mk(a[5][i], n, depth + 1);
        c.x = off;  /* offset in value units from the parent's start */
        off += c.v;
        n.kids.push(c);
      }
      return n;
    }
    var root = mk(doc.root, null, 0);
    return {root: root, maxDepth: maxDepth};
  }

  var MEM = [["B", 1], ["kB", 1024], ["MB", 1048576], ["GB", 1073741824], ["TB", 1099511627776]];
  var TIME = [["ns", 1], ["us", 1e3], ["ms", 1e6], ["s", 1e9]];
  function human(v, unit) {
    var table = unit === "bytes" ? MEM : (unit === "nanoseconds" ? TIME : null);
    var sign = v < 0 ? "-" : "";
    v = Math.abs(v);
    if (!table) { return sign + v.toLocaleString("en-US"); }
    var u = table[0];
    for (var i = 0; i < table.length; i++) { if (v >= table[i][1]) { u = table[i]; } }
    var x = v / u[1];
    var s = x >= 100 || u[1] === 1 ? x.toFixed(0) : x.toFixed(2).replace(/\.?0+$/, "");
    return sign + s + u[0];
  }
  function pct(v, total) {
    if (!total) { return "0%"; }
    var p = 100 * v / total;
    return (p >= 10 ? p.toFixed(1) : p.toPrecision(2)) + "%";
  }
  function hash(s) {
    var h = 0;
    for (var i = 0; i < s.length; i++) { h = (h * 31 + s.charCodeAt(i)) | 0; }
    return Math.abs(h);
  }
  function isStd(name) {
    /* Standard library and runtime: the first path element (or the package of a
       slash-free name) has no dot and is not main. */
    if (name.charAt(0) === "[") { return true; }
    var slash = name.indexOf("/");
    var first = slash >= 0 ? name.slice(0, slash) : name.split(".")[0];
    return first !== "main" && first.indexOf(".") < 0;
  }
  function color(n, diff) {
    var h = hash(n.name);
    if (n.name.charAt(0) === "[") { return "hsl(210, 30%, 78%)"; }
    if (isStd(n.name)) { return "hsl(" + (30 + h % 20) + ", 25%, " + (74 + h % 8) + "%)"; }
    if (diff) { return "hsl(" + (h % 14) + ", 75%, " + (62 + h % 12) + "%)"; }
    return "hsl(" + (12 + h % 38) + ", 80%, " + (60 + h % 12) + "%)";
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function Flame(container) {
    var data = JSON.parse(document.getElementById(container.getAttribute("data-flame")).textContent);
    var tree = decode(data);
    var self = this;
    this.data = data;
    this.root = tree.root;
    this.zoom = tree.root;
    this.total = tree.root.v;
    this.container = container;
    var bar = el("div", "fl-bar");
    this.search = el("input", "fl-search");
    this.search.type = "search";
    this.search.placeholder = "search function (regex)";
    this.search.setAttribute("aria-label", "search function names");
    var reset = el("button", "fl-reset", "reset zoom");
    reset.type = "button";
    this.info = el("span", "fl-info");
    bar.appendChild(this.search);
    bar.appendChild(reset);
    bar.appendChild(this.info);
    this.area = el("div", "fl-area");
    this.area.style.height = ((tree.maxDepth + 1) * ROW) + "px";
    this.tip = el("div", "fl-tip");
    this.tip.hidden = true;
    container.appendChild(bar);
    container.appendChild(this.area);
    container.appendChild(this.tip);
    reset.addEventListener("click", function () { self.zoomTo(self.root); });
    this.search.addEventListener("input", function () { self.mark(); });
    this.area.addEventListener("click", function (ev) {
      var n = self.boxNode(ev.target);
      if (n) { self.zoomTo(n); }
    });
    this.area.addEventListener("mousemove", function (ev) {
      var n = self.boxNode(ev.target);
      if (n) { self.showTip(n, ev); } else { self.tip.hidden = true; }
    });
    this.area.addEventListener("mouseleave", function () { self.tip.hidden = true; });
    this.draw();
  }

  Flame.prototype.boxNode = function (t) {
    while (t && t !== this.area) {
      if (t.__node) { return t.__node; }
      t = t.parentNode;
    }
    return null;
  };

  Flame.prototype.zoomTo = function (n) {
    this.zoom = n;
    this.draw();
  };

  Flame.prototype.draw = function () {
    var area = this.area, z = this.zoom, diff = this.data.diff;
    while (area.firstChild) { area.removeChild(area.firstChild); }
    var px = Math.max(area.clientWidth || 0, 300);
    var boxes = [];
    /* Ancestors of the zoomed box: full width, dimmed. */
    for (var a = z.parent; a; a = a.parent) { boxes.push([a, 0, 1, true]); }
    var min = z.v / px;  /* narrower than a pixel: not drawn */
    var todo = [[z, 0]];
    while (todo.length) {
      var item = todo.pop(), n = item[0], start = item[1];
      if (n.v <= 0 || n.v < min) { continue; }
      boxes.push([n, start / z.v, n.v / z.v, false]);
      for (var i = 0; i < n.kids.length; i++) { todo.push([n.kids[i], start + n.kids[i].x]); }
    }
    var deepest = 0;
    for (var k = 0; k < boxes.length; k++) { deepest = Math.max(deepest, boxes[k][0].depth); }
    area.style.height = ((deepest + 1) * ROW) + "px";
    var frag = document.createDocumentFragment();
    for (var j = 0; j < boxes.length; j++) {
      var b = boxes[j], node = b[0];
      var d = el("div", "fl-box" + (b[3] ? " fl-anc" : ""));
      d.style.left = (100 * b[1]) + "%";
      d.style.width = (100 * b[2]) + "%";
      d.style.top = (node.depth * ROW) + "px";
      d.style.background = color(node, diff);
      d.setAttribute("data-name", node.name);
      if (b[2] * px >= 28) { d.appendChild(el("span", "fl-label", node.name)); }
      d.__node = node;
      frag.appendChild(d);
    }
    area.appendChild(frag);
    this.boxes = area.childNodes;
    this.mark();
    this.container.setAttribute("data-boxes", String(boxes.length));
  };

  Flame.prototype.mark = function () {
    var q = this.search.value, rx = null;
    if (q) {
      try { rx = new RegExp(q, "i"); } catch (e) {
        rx = new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
      }
    }
    var hits = 0;
    for (var i = 0; i < this.boxes.length; i++) {
      var b = this.boxes[i], on = !!(rx && rx.test(b.__node.name));
      b.classList.toggle("fl-match", on);
      if (on) { hits++; }
    }
    var unit = this.data.unit, what = this.data.diff ? "growth" : "total";
    var line = "width = " + (this.data.diff ? "growth of " : "") + this.data.sample_type +
      "; " + what + " " + human(this.total, unit);
    if (this.root.shrank) { line += ", shrank " + human(this.root.shrank, unit); }
    if (this.zoom !== this.root) { line += "; zoomed: " + this.zoom.name + " " + human(this.zoom.v, unit); }
    if (rx) {
      var sum = matched(this.root, rx);
      line += "; search: " + hits + " box(es), " + human(sum, unit) + " (" + pct(sum, this.total) + ")";
    }
    this.info.textContent = line;
  };

  function matched(n, rx) {
    if (rx.test(n.name)) { return n.v; }
    var s = 0;
    for (var i = 0; i < n.kids.length; i++) { s += matched(n.kids[i], rx); }
    return s;
  }

  Flame.prototype.showTip = function (n, ev) {
    var unit = this.data.unit, tip = this.tip;
    while (tip.firstChild) { tip.removeChild(tip.firstChild); }
    tip.appendChild(el("div", "fl-tip-name", n.name));
    if (n.file) { tip.appendChild(el("div", "fl-tip-file", n.file)); }
    var what = this.data.diff ? "grew " : "";
    tip.appendChild(el("div", "", what + human(n.v, unit) + " (" + pct(n.v, this.total) +
      " of " + (this.data.diff ? "growth" : "total") + "), self " + human(n.self, unit)));
    if (n.shrank) { tip.appendChild(el("div", "", "shrank " + human(n.shrank, unit) + " under this path")); }
    var r = this.container.getBoundingClientRect();
    var x = ev.clientX - r.left + 12, y = ev.clientY - r.top + 14;
    tip.hidden = false;
    var w = tip.offsetWidth;
    if (x + w > r.width) { x = Math.max(0, r.width - w); }
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  };

  function renderAll() {
    var els = document.querySelectorAll("div.flame[data-flame]");
    for (var i = 0; i < els.length; i++) {
      if (!els[i].__flame) { els[i].__flame = new Flame(els[i]); }
    }
    document.body.setAttribute("data-flames", String(els.length));
  }
  window.leakhunterFlame = {render: renderAll, Flame: Flame, human: human};
  /* The script sits after the containers it draws: draw now (so later scripts see the
     boxes), and again once the document is complete for containers added after it. */
  if (document.body) { renderAll(); }
  document.addEventListener("DOMContentLoaded", renderAll);
})();
