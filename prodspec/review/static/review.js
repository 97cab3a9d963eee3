// The review page: asks the server for JSON and shows it; every text is set with textContent, never as markup.
"use strict";
const tab = Math.random().toString(36).slice(2);  // this tab's undo history on the server
const $ = (id) => document.getElementById(id);
let items = [], current = -1, details = null, offset = 0, matching = 0;

function filters() {
  const f = new FormData($("filters"));
  return new URLSearchParams([...f.entries()].filter(([, v]) => v !== ""));
}

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  return { status: response.status, body };
}

async function loadQueue(keep) {
  const query = filters();
  query.set("offset", keep ? 0 : offset);
  query.set("limit", keep ? Math.max(items.length, 50) : 50);
  const { body } = await getJSON("/api/queue?" + query);
  if (!$("f-attribute").options[1]) {
    for (const [select, values] of [["f-attribute", body.attributes], ["f-source", body.sources]]) {
      for (const value of values) {
        const option = document.createElement("option");
        option.value = value; option.textContent = value; $(select).append(option);
      }
    }
  }
  items = keep || offset === 0 ? body.items : items.concat(body.items);
  matching = body.matching;
  $("progress").textContent = `${body.reviewed} reviewed · ${body.to_review} to review · ${body.total} rows` +
    ` · ${body.matching} match the filters`;
  $("bar").max = body.total; $("bar").value = body.reviewed;
  $("more").hidden = items.length >= matching;
  drawQueue();
  loadSummary();
}

function drawQueue() {
  const list = $("queue");
  list.replaceChildren();
  items.forEach((item, k) => {
    const li = document.createElement("li");
    li.dataset.row = item.row;
    li.className = (k === current ? "current " : "") + (item.reviewed ? "done" : "");
    const conf = document.createElement("span");
    conf.className = "conf"; conf.textContent = item.confidence.toFixed(2);
    li.append(conf, `${item.entity_name}: ${item.prediction || "(no answer)"}`);
    li.addEventListener("click", () => show(k));
    list.append(li);
  });
}

async function show(k) {
  if (k < 0 || k >= items.length) return;
  current = k;
  drawQueue();
  const { status, body } = await getJSON(`/api/row/${items[k].row}`);
  if (status !== 200) { $("reason").textContent = body.error; return; }
  details = body;
  $("row").hidden = false;
  $("title").textContent = `${body.entity_name} · group ${body.group_id} · row ${body.index}`;
  $("answer").textContent = body.prediction || "(no answer)";
  $("confidence").textContent = body.confidence.toFixed(2);
  $("source").textContent = body.source || "-";
  $("note").textContent = body.note;
  $("label").textContent = body.label ? `${body.label.entity_value || "(not on the photo)"} by ${body.label.reviewer}` : "not yet";
  $("reason").textContent = "";
  $("typed").value = "";
  const list = $("candidates");
  list.replaceChildren();
  for (const c of body.candidates) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button"; button.dataset.rank = c.rank;
    button.className = "candidate" + (c.answer && c.answer === body.prediction ? " chosen" : "");
    button.disabled = !c.answer;
    button.textContent = `${c.rank}: ${c.value} ${c.unit}` + (c.share !== null ? ` (${c.share.toFixed(2)})` : "");
    button.addEventListener("click", () => act("pick", "", c.rank));
    li.append(button); list.append(li);
  }
  $("picture").hidden = !body.picture;
  if (body.picture) $("picture").src = `/api/row/${body.row}/picture`;
}

async function act(action, value, rank) {
  if (!details) return;
  const { status, body } = await getJSON("/api/action", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tab, row: details.row, action, value: value || "", rank }),
  });
  if (status !== 200) { $("reason").textContent = body.reason || body.error; return; }
  items[current].reviewed = true;
  await next();
}

async function next() {
  const row = details ? details.row : -1;
  await loadQueue(true);
  let k = items.findIndex((item) => item.row === row);
  if ($("f-reviewed").value === "no") k = items.findIndex((item, j) => j >= Math.max(k, 0) && item.row !== row);
  else k = k + 1;
  if (k >= 0 && k < items.length) show(k); else { current = -1; $("row").hidden = true; details = null; }
}

async function undo() {
  const { status, body } = await getJSON("/api/undo", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ tab }),
  });
  if (status !== 200) { $("reason").textContent = body.reason || body.error; return; }
  await loadQueue(true);
  const k = items.findIndex((item) => item.row === body.row);
  if (k >= 0) show(k);
}

async function loadSummary() {
  const { body } = await getJSON("/api/summary");
  const all = body.changed.find((g) => g.group === "all");
  $("changed").textContent = all ? `reviewer changed ${(100 * all.changed).toFixed(0)}% of ${all.reviewed} answers` : "";
  $("changed").title = body.changed.map((g) => `${g.group}: ${(100 * g.changed).toFixed(0)}% of ${g.reviewed}`).join("\n");
}

$("accept").addEventListener("click", () => act("accept"));
$("empty").addEventListener("click", () => act("empty"));
$("skip").addEventListener("click", () => show(current + 1));
$("undo").addEventListener("click", undo);
$("type-form").addEventListener("submit", (event) => { event.preventDefault(); act("type", $("typed").value); });
$("more").addEventListener("click", () => { offset = items.length; loadQueue(false); });
$("filters").addEventListener("change", () => { offset = 0; current = -1; loadQueue(false).then(() => show(0)); });
document.addEventListener("keydown", (event) => {
  if (event.target.tagName === "INPUT" || event.target.tagName === "SELECT") {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if (event.ctrlKey && event.key === "z") { undo(); return; }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const keys = { a: () => act("accept"), n: () => act("empty"), s: () => show(current + 1), u: undo,
                 j: () => show(current + 1), k: () => show(current - 1),
                 t: () => { event.preventDefault(); $("typed").focus(); } };
  if (keys[event.key]) keys[event.key]();
  else if (/^[1-9]$/.test(event.key)) act("pick", "", Number(event.key));
});
loadQueue(false).then(() => show(0));
