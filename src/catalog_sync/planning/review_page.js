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
  // filters unticked when the page opens (the terminal hides them too; one click shows them)
  var HIDDEN_AT_FIRST = { unchanged: true };

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
      wanted[name][value] = !HIDDEN_AT_FIRST[value];
      var label = el("label");
      var box = el("input");
      box.type = "checkbox";
      box.checked = wanted[name][value];
      box.name = name;
      box.value = value;
      box.addEventListener("change", function () { wanted[name][value] = box.checked; refresh(); });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + value + " (" + present[value] + ")"));
      fieldset.appendChild(label);
    });
  }

  // every value of the row, lower-cased once: key, name, id, cells, old/new and conflict sides
  function searchText(row) {
    if (row._text === undefined) {
      var parts = [row.key, row.label, row.remote_id || "", row.error || ""];
      [row.values, row.fields, row.conflicts, row.remote_changed].forEach(function (table) {
        Object.keys(table || {}).forEach(function (name) { parts = parts.concat(table[name]); });
      });
      row._text = parts.join("\n").toLowerCase();
    }
    return row._text;
  }

  function matches(row, needle) {
    if (!wanted.action[row.action]) return false;
    if (isApply && !wanted.status[row.status]) return false;
    return !needle || searchText(row).indexOf(needle) >= 0;
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

  // a create: the values it sends, one "field: value" line each (empty fields left out)
  function valuesTable(fields) {
    var body = {};
    Object.keys(fields).forEach(function (name) {
      if (fields[name][1] !== "") body[name] = [cell("new value", fields[name][1])];
    });
    return table("values", ["field", "value"], body);
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
    if (row.fields) article.appendChild(row.action === "create" ? valuesTable(row.fields) : changesTable(row.fields));
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
    showCount();
  }

  function number(n) { return n.toLocaleString("en-US"); }

  // the header says what is shown: "200 shown of 5,000; 4,800 more behind 'show more'; …"
  function showCount() {
    var shown = 0, matched = 0;
    groups.forEach(function (g) { shown += g.shown; matched += g.matched.length; });
    var text = number(shown) + " shown of " + number(rows.length);
    if (matched > shown) text += "; " + number(matched - shown) + " more behind 'show more'";
    if (rows.length > matched) text += "; " + number(rows.length - matched) + " hidden by the filters or search";
    document.getElementById("shown").textContent = text;
  }

  function refresh() {
    var needle = search.value.trim().toLowerCase();
    var byName = {};
    groups.forEach(function (g) { g.matched = []; g.shown = 0; byName[g.name] = g; });
    for (var i = 0; i < rows.length; i++) {
      if (matches(rows[i], needle)) byName[rows[i][groupBy]].matched.push(rows[i]);
    }
    groups.forEach(function (g) {
      g.list.textContent = "";
      g.count.textContent = g.matched.length + " of " + counts_[g.name];
      g.section.hidden = g.matched.length === 0;
      showMore(g);
    });
    showCount();
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
