"use strict";
// The review page: reads the JSON in #review-data and shows it.  Every value is set as
// textContent (never as HTML), and rows are rendered a page at a time per group, so 10,000 rows
// open and filter quickly.
(function () {
  var PAGE = 200;
  var data = JSON.parse(document.getElementById("review-data").textContent);
  var rows = data.rows;
  var isApply = data.kind === "apply";
  var groupBy = isApply ? "status" : "action";
  var summary = data.summary;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function ordered(known, present) {
    var seen = {}, out = [];
    known.concat(Object.keys(present).sort()).forEach(function (name) {
      if (present[name] && !seen[name]) { seen[name] = true; out.push(name); }
    });
    return out;
  }

  function counts(name) {
    var out = {};
    rows.forEach(function (row) { out[row[name]] = (out[row[name]] || 0) + 1; });
    return out;
  }

  // ---------------------------------------------------------------- the summary
  function showSummary() {
    var list = document.getElementById("summary");
    function item(term, value) {
      if (value === undefined || value === null || value === "") return;
      var div = el("div");
      div.appendChild(el("dt", null, term));
      div.appendChild(el("dd", null, value));
      list.appendChild(div);
    }
    function countsText(table) {
      return Object.keys(table || {}).map(function (k) { return k + " " + table[k]; }).join(", ");
    }
    item("provider", summary.provider);
    item("catalog", summary.catalog);
    item("base URL", summary.base_url);
    item("mode", summary.mode);
    item(isApply ? "started" : "created", summary.created);
    item("run", summary.run_id);
    item("rows", rows.length);
    item("actions", countsText(summary.action));
    if (isApply) {
      item("statuses", countsText(summary.status));
      item("requests", summary.requests);
      item("seconds", summary.seconds);
      item("stopped", summary.stopped);
    }
    var notes = document.getElementById("notes");
    data.notes.forEach(function (note) { notes.appendChild(el("li", null, note)); });
  }

  // ---------------------------------------------------------------- the filters
  var actions = ordered(data.actions, counts("action"));
  var statuses = isApply ? ordered(data.statuses, counts("status")) : [];
  var wanted = { action: {}, status: {} };
  var search = document.getElementById("search");

  function checkboxes(fieldset, name, values, present) {
    values.forEach(function (value) {
      wanted[name][value] = true;
      var label = el("label");
      var box = el("input");
      box.type = "checkbox";
      box.checked = true;
      box.name = name;
      box.value = value;
      box.addEventListener("change", function () { wanted[name][value] = box.checked; refresh(); });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + value + " (" + present[value] + ")"));
      fieldset.appendChild(label);
    });
  }

  function matches(row, needle) {
    if (!wanted.action[row.action]) return false;
    if (isApply && !wanted.status[row.status]) return false;
    if (!needle) return true;
    return String(row.key).toLowerCase().indexOf(needle) >= 0 ||
      String(row.label).toLowerCase().indexOf(needle) >= 0;
  }

  // ---------------------------------------------------------------- one row
  function cell(className, value) {
    var td = el("td", "cell " + className, value);
    if (value === "") td.className += " empty";
    return td;
  }

  function table(className, heads, body) {
    var t = el("table", className);
    var head = el("thead"), tr = el("tr");
    heads.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    head.appendChild(tr);
    t.appendChild(head);
    var tbody = el("tbody");
    Object.keys(body).forEach(function (name) {
      var line = el("tr");
      line.dataset.field = name;
      line.appendChild(el("th", "field", name));
      body[name].forEach(function (td) { line.appendChild(td); });
      tbody.appendChild(line);
    });
    t.appendChild(tbody);
    return t;
  }

  function changesTable(fields) {
    var body = {};
    Object.keys(fields).forEach(function (name) {
      body[name] = [cell("old changed", fields[name][0]), el("td", "arrow", "→"), cell("new changed", fields[name][1])];
    });
    return table("changes", ["field", "old", "", "new"], body);
  }

  function conflictsTable(conflicts) {
    var body = {};
    Object.keys(conflicts).forEach(function (name) {
      var c = conflicts[name];
      body[name] = [cell("base", c[0]), cell("sheet changed", c[1]), cell("remote changed", c[2])];
    });
    return table("conflicts", ["conflict", "base (pulled)", "sheet", "remote"], body);
  }

  function remoteTable(changed) {
    var body = {};
    Object.keys(changed).forEach(function (name) {
      body[name] = [cell("base", changed[name][0]), cell("remote", changed[name][1])];
    });
    return table("remote-changed", ["changed remotely (kept)", "base (pulled)", "remote"], body);
  }

  function renderRow(row) {
    var article = el("article", "row a-" + row.action + (isApply ? " s-" + row.status : ""));
    article.dataset.key = row.key;
    article.dataset.action = row.action;
    if (isApply) article.dataset.status = row.status;
    var head = el("div", "row-head");
    head.appendChild(el("span", "num", row.row === null ? "remote record" : "row " + row.row));
    head.appendChild(el("span", "key", row.key));
    if (row.label) head.appendChild(el("span", "label", row.label));
    head.appendChild(el("span", "badge b-" + row.action, row.action));
    if (isApply) head.appendChild(el("span", "badge b-" + row.status, row.status));
    if (row.remote_id) head.appendChild(el("span", "rid", "id " + row.remote_id));
    article.appendChild(head);
    if (row.reason) article.appendChild(el("p", "reason", row.reason));
    if (row.error || row.error_code) {
      article.appendChild(el("p", "error", (row.error_code ? row.error_code + ": " : "") + (row.error || "")));
    }
    if (row.fields) article.appendChild(changesTable(row.fields));
    if (row.conflicts) article.appendChild(conflictsTable(row.conflicts));
    if (row.remote_changed) article.appendChild(remoteTable(row.remote_changed));
    return article;
  }

  // ---------------------------------------------------------------- groups, a page at a time
  var groups = (isApply ? statuses : actions).map(function (name) {
    var section = el("section", "group");
    section.dataset.group = name;
    var h2 = el("h2");
    h2.appendChild(el("span", "badge b-" + name, name));
    var count = el("span", "count");
    h2.appendChild(count);
    section.appendChild(h2);
    var list = el("div", "rows");
    section.appendChild(list);
    var more = el("button", "more");
    more.type = "button";
    section.appendChild(more);
    var group = { name: name, section: section, list: list, count: count, more: more, matched: [], shown: 0 };
    more.addEventListener("click", function () { showMore(group); });
    document.getElementById("groups").appendChild(section);
    return group;
  });

  function showMore(group) {
    var end = Math.min(group.shown + PAGE, group.matched.length);
    var fragment = document.createDocumentFragment();
    for (var i = group.shown; i < end; i++) fragment.appendChild(renderRow(group.matched[i]));
    group.list.appendChild(fragment);
    group.shown = end;
    var left = group.matched.length - end;
    group.more.hidden = left <= 0;
    group.more.textContent = "Show " + Math.min(PAGE, left) + " more (" + left + " not shown)";
  }

  function refresh() {
    var needle = search.value.trim().toLowerCase();
    var byName = {};
    groups.forEach(function (g) { g.matched = []; g.shown = 0; byName[g.name] = g; });
    var total = 0;
    for (var i = 0; i < rows.length; i++) {
      if (matches(rows[i], needle)) { byName[rows[i][groupBy]].matched.push(rows[i]); total++; }
    }
    groups.forEach(function (g) {
      g.list.textContent = "";
      g.count.textContent = g.matched.length + " of " + counts_[g.name];
      g.section.hidden = g.matched.length === 0;
      showMore(g);
    });
    document.getElementById("shown").textContent = "showing " + total + " of " + rows.length + " rows";
  }

  var counts_ = counts(groupBy);
  showSummary();
  checkboxes(document.getElementById("filter-action"), "action", actions, counts("action"));
  if (isApply) {
    var fieldset = document.getElementById("filter-status");
    fieldset.hidden = false;
    checkboxes(fieldset, "status", statuses, counts("status"));
  }
  search.addEventListener("input", refresh);
  refresh();
  document.body.dataset.ready = "true";
})();
