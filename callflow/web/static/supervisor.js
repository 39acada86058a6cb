// The wallboard: queue tiles (service level against target, callers waiting,
// longest wait), the callers waiting with what they require now (skills and
// escalation step), agents by state (with listen / whisper / barge beside each
// call, monitor.js), open assist requests, expert figures and today's charts.
// Everything arrives on the socket: a snapshot on connect, then each change.
// The page keeps no timer but a one-second clock for the waits it shows; it
// makes no request after sign-in but the reports and monitoring asked for.
import { callerText, h, label, percent, personName, seconds } from "./lib.js";
import { charts } from "./charts.js";
import { monitorPanel } from "./monitor.js";
import { reportsView } from "./reports.js";
import { callsView } from "./calls.js";

const TARGET = 0.8;  // the service-level target shown against each queue (80 % in threshold)
const AGENT_ORDER = ["available", "ringing", "on_call", "wrap_up", "paused", "logged_out"];

function table(caption, headers, rows) {
  return h("table", {}, h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
}

function level(value) {
  if (value === null || value === undefined) return "none";
  if (value >= TARGET) return "good";
  return value >= TARGET - 0.1 ? "near" : "bad";
}

export function supervisorView(main, api) {
  const areas = {
    tiles: h("section", { "aria-label": "Queues now", class: "wide" }),
    queues: h("section", { "aria-label": "Queues", class: "wide" }),
    callers: h("section", { "aria-label": "Callers waiting", class: "wide" }),
    agents: h("section", { "aria-label": "Agents", class: "wide" }),
    monitor: h("section", { "aria-label": "Monitoring" }),
    requests: h("section", { "aria-label": "Open assist requests" }),
    experts: h("section", { "aria-label": "Expert figures today" }),
    charts: h("section", { "aria-label": "Today by 15 minutes", class: "wide" }),
    reports: h("section", { "aria-label": "Reports", class: "wide" }),
    calls: h("section", { "aria-label": "Call records", class: "wide" }),
  };
  main.append(...Object.values(areas));
  const board = { queues: new Map(), agents: new Map(), requests: new Map(),
                  groups: new Map(), experts: new Map() };
  const received = new Map();  // queue -> when its figures arrived (ms)
  const plots = charts(areas.charts);
  reportsView(areas.reports, api);
  callsView(areas.calls, api);
  const agentName = (name) => {
    const agent = board.agents.get(name);
    return personName(agent && agent.display_name, name);
  };
  const monitor = monitorPanel(areas.monitor, api, agentName);
  let pending = false;

  function longestWait(q) {
    return q.waiting ? q.longest_wait + (Date.now() - received.get(q.queue)) / 1000 : 0;
  }

  function renderTiles() {
    areas.tiles.replaceChildren(h("h2", {}, "Queues now"), h("div", { class: "tiles" },
      [...board.queues.values()].map((q) => {
        const wait = longestWait(q);
        const late = q.waiting > 0 && wait > q.service_level_threshold;
        return h("article", { class: "tile", "aria-label": `Queue ${q.queue}` },
          h("h3", {}, q.queue),
          h("p", { class: `big sl-${level(q.service_level)}`, title: "service level today" },
            percent(q.service_level)),
          h("p", { class: "muted" }, `target ${percent(TARGET)} in ${q.service_level_threshold} s`),
          h("p", { class: late ? "alarm" : "" }, `${q.waiting} waiting`),
          h("p", { class: "nowrap", title: "callbacks not made yet" },
            `${q.callbacks || 0} callback${q.callbacks === 1 ? "" : "s"}`),
          h("p", { class: "nowrap" }, `longest ${seconds(wait)}`),
          h("p", { class: "nowrap", title: "what a caller joining now is told" },
            `next caller waits ~${seconds(q.estimated_wait || 0)}`));
      })));
  }

  function render() {
    pending = false;
    renderTiles();
    areas.queues.replaceChildren(table("Queues",
      ["Queue", "Waiting", "Longest wait", "Service level", "Offered", "Answered", "Abandoned",
       "Avg. answer", "Available", "Busy", "Paused", "Expected wait", "Callbacks"],
      [...board.queues.values()].map((q) => [q.queue, q.waiting, seconds(longestWait(q)),
        percent(q.service_level), q.offered_today, q.answered_today, q.abandoned_today,
        q.average_speed_of_answer === null ? "–" : seconds(q.average_speed_of_answer),
        q.agents_available, q.agents_busy, q.agents_paused, seconds(q.estimated_wait || 0),
        q.callbacks || 0])));
    const callers = [...board.queues.values()].flatMap((q) =>
      (q.waiting_callers || []).map((c) => [q, c]));
    // the server's clock when the figures left: the oldest caller's wait is known
    const waited = (q, c) => q.oldest_waiting_since + q.longest_wait - c.waiting_since +
      (Date.now() - received.get(q.queue)) / 1000;
    areas.callers.replaceChildren(table("Callers waiting",
      ["Queue", "Caller", "Waiting", "Priority", "Requires now", "Step"],
      callers.map(([q, c]) => [q.queue, c.caller || "unknown",
        seconds(Math.max(0, waited(q, c))), c.priority,
        (c.requirement || "any member") +
          (c.also_queues.length ? ` (also ${c.also_queues.join(", ")})` : ""),
        c.step ? `step ${c.step}` : "–"])));
    const agents = [...board.agents.values()];
    const counts = AGENT_ORDER.map((s) => `${label(s)}: ${agents.filter((a) => a.state === s).length}`);
    areas.agents.replaceChildren(h("h2", {}, "Agents now"),
      h("p", { class: "counts" }, counts.join(" · ")),
      table("Agents", ["Agent", "State", "Reason", "Call", "Monitor"],
        agents.map((a) => [personName(a.display_name, a.name), label(a.state), a.reason || "",
          a.call ? `${callerText(a.call.caller_name, a.call.caller_number)} (${a.call.queue})` : "",
          a.state === "on_call" && a.call ? monitor.buttons(a.name) : ""])));
    const open = [...board.requests.values()].filter((r) => ["pending", "offered"].includes(r.state));
    areas.requests.replaceChildren(table("Open assist requests",
      ["Request", "Agent", "Group", "Mode", "State", "Age"],
      open.map((r) => [`#${r.id}`, personName(r.agent_name, r.agent), r.group, r.mode, label(r.state),
                       seconds((Date.now() - Date.parse(r.created_at)) / 1000)])));
    areas.experts.replaceChildren(table("Expert figures today",
      ["Group", "Available", "Requests", "Offers", "Acceptance", "Median time to accept"],
      [...board.groups.values()].map((g) => [g.group, g.available_experts, g.requests, g.offers,
        percent(g.acceptance_rate),
        g.median_time_to_accept === null ? "–" : seconds(g.median_time_to_accept)])));
  }
  function later() {
    if (!pending) { pending = true; requestAnimationFrame(render); }
  }

  function keep(map, key, value) { map.set(key, value); later(); }

  function onEvent(event) {
    if (event.type === "snapshot") {
      for (const map of Object.values(board)) map.clear();
      event.queues.forEach((q) => { received.set(q.queue, Date.now()); board.queues.set(q.queue, q); });
      event.agents.forEach((a) => board.agents.set(a.name, a));
      event.requests.forEach((r) => board.requests.set(r.id, r));
      event.groups.forEach((g) => board.groups.set(g.group, g));
      event.experts.forEach((e) => board.experts.set(e.user, e));
      plots.update(event.charts);
      later();
    } else if (event.type === "queue") {
      received.set(event.queue, Date.now());
      keep(board.queues, event.queue, event);
    } else if (event.type === "agent") keep(board.agents, event.name, event);
    else if (event.type === "request_state") keep(board.requests, event.id, event);
    else if (event.type === "group_figures") keep(board.groups, event.group, event);
    else if (event.type === "groups") {  // experts available now, pushed on every presence change
      for (const [name, n] of Object.entries(event.available)) {
        const group = board.groups.get(name);
        if (group) keep(board.groups, name, { ...group, available_experts: n });
      }
    }
    else if (event.type === "presence") keep(board.experts, event.user, event);
    else if (event.type === "charts") plots.update(event);
    monitor.onEvent(event);  // after the agents: it shows their names
  }
  const ticker = setInterval(renderTiles, 1000);  // the clock only: no request
  return { onEvent, stop: () => clearInterval(ticker) };
}
