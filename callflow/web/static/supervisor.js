// The wallboard: queues, agents, open assist requests, the day's expert figures.
import { h, label, percent, seconds } from "./lib.js";

function table(caption, headers, rows) {
  return h("table", {}, h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
}

export function supervisorView(main, api) {
  const areas = {
    queues: h("section", { "aria-label": "Queues" }),
    agents: h("section", { "aria-label": "Agents" }),
    requests: h("section", { "aria-label": "Open assist requests" }),
    experts: h("section", { "aria-label": "Expert figures today" }),
  };
  const error = h("p", { role: "alert" });
  main.append(...Object.values(areas), error);

  async function refresh() {
    try {
      const [queues, agents, requests, groups] = await Promise.all([
        api.get("/api/queues/figures"), api.get("/api/agents"),
        api.get("/api/assist/requests"), api.get("/api/groups/figures"),
      ]);
      areas.queues.replaceChildren(table("Queues",
        ["Queue", "Waiting", "Longest wait", "Service level", "Answered", "Abandoned"],
        queues.map((q) => [q.queue, q.waiting, seconds(q.longest_wait), percent(q.service_level),
                           q.answered_today, q.abandoned_today])));
      areas.agents.replaceChildren(table("Agents", ["Agent", "State", "Reason"],
        agents.data.map((a) => [a.display_name || a.name, label(a.state), a.reason || ""])));
      const open = requests.filter((r) => ["pending", "offered"].includes(r.state));
      areas.requests.replaceChildren(table("Open assist requests",
        ["Request", "Agent", "Group", "Mode", "State", "Age"],
        open.map((r) => [`#${r.id}`, r.agent, r.group, r.mode, label(r.state),
                         seconds((Date.now() - Date.parse(r.created_at)) / 1000)])));
      areas.experts.replaceChildren(table("Expert figures today",
        ["Group", "Available", "Offers", "Acceptance", "Median time to accept"],
        groups.map((g) => [g.group, g.available_experts, g.offers, percent(g.acceptance_rate),
          g.median_time_to_accept === null ? "–" : seconds(g.median_time_to_accept)])));
      error.textContent = "";
    } catch (e) { error.textContent = e.message; }
  }
  refresh();
  const timer = setInterval(refresh, 2000);
  return { onEvent: () => {}, stop: () => clearInterval(timer) };
}
