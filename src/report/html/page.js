// sockwarden report: sorting and filtering of the tables. The page is complete without this
// script; it only reorders and hides rows that are already there, and never writes markup.
(function () {
  "use strict";
  function key(cell) {
    var v = cell.getAttribute("data-v");
    var t = v !== null ? v : cell.textContent.trim();
    var n = Number(t);
    return t !== "" && !isNaN(n) ? { n: n } : { s: t.toLowerCase() };
  }
  function compare(a, b) {
    if ("n" in a && "n" in b) { return a.n - b.n; }
    if ("n" in a) { return -1; }
    if ("n" in b) { return 1; }
    return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  }
  function sortable(table) {
    var body = table.tBodies[0];
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      th.setAttribute("aria-sort", "none");
      function sort() {
        var up = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows).map(function (r, i) {
          return { row: r, k: key(r.cells[col]), i: i };
        });
        rows.sort(function (a, b) { return (up ? 1 : -1) * compare(a.k, b.k) || a.i - b.i; });
        rows.forEach(function (r) { body.appendChild(r.row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  }
  function filterable(table) {
    var body = table.tBodies[0];
    var input = document.createElement("input");
    input.type = "search";
    input.className = "filter";
    var total = body.rows.length;
    input.placeholder = "Filter " + total + (total === 1 ? " row" : " rows");
    input.setAttribute("aria-label", "Filter the rows of the table below");
    var shown = document.createElement("span");
    shown.className = "filtered";
    input.addEventListener("input", function () {
      var q = input.value.toLowerCase();
      var n = 0;
      Array.prototype.forEach.call(body.rows, function (r) {
        r.hidden = q !== "" && r.textContent.toLowerCase().indexOf(q) < 0;
        if (!r.hidden) { n += 1; }
      });
      shown.textContent = q === "" ? "" : n + " of " + total + (total === 1 ? " row" : " rows");
    });
    table.parentNode.insertBefore(input, table);
    table.parentNode.insertBefore(shown, table);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.data"), function (t) {
    t.classList.add("js");
    sortable(t);
    filterable(t);
  });
}());
