// The agent's companion to the softphone: own state, the current call,
// "Ask an expert", the request's progress, the chat, and past sessions.
import { h, label, seconds } from "./lib.js";
import { Chat } from "./chat.js";

const STATUS_TEXT = {
  offered: (e) => `Offered to ${(e.experts || []).join(", ")} (${e.group})`,
  accepted: (e) => `Accepted by ${e.expert ?? "an expert"}`,
  declined: (e) => `Declined by ${e.expert}${e.reason ? ` (${e.reason})` : ""}`,
  timed_out: (e) => `${e.expert ?? "The expert"} did not answer in time`,
  no_expert: (e) => `No expert of ${e.group} is available`,
  escalated: (e) => `Passed on to ${e.group}`,
  cancelled: () => "Cancelled",
  waiting: (e) => `Waiting for an expert of ${e.group}`,
};

export function agentView(main, api, me, live) {
  const stateText = h("p", { role: "status", "aria-live": "polite" });
  const reason = h("select", { id: "pause-reason" });  // the directory's reasons
  const stateError = h("p", { role: "alert" });
  const act = (action, extra = {}) => async () => {
    try {
      await api.post(`/api/agents/${me.username}/state`, { action, ...extra });
      await refreshState();
    } catch (error) { stateError.textContent = error.message; }
  };
  main.append(h("section", { "aria-labelledby": "state-title" },
    h("h2", { id: "state-title" }, "My state"), stateText,
    h("button", { type: "button", on: { click: () => becomeAvailable() } }, "Available"),
    h("label", { for: "pause-reason" }, "Pause reason"), reason,
    h("button", { type: "button", class: "secondary",
                  on: { click: () => act("pause", { reason: reason.value })() } }, "Pause"),
    h("button", { type: "button", class: "secondary", on: { click: act("logout") } }, "Log out"),
    stateError));

  let agentState = null;
  async function refreshState() {
    const agent = await api.get(`/api/agents/${me.username}`);
    agentState = agent.state;
    const offered = [...reason.options].map((o) => o.value).join("\n");
    if (offered !== agent.pause_reasons.join("\n")) {
      const chosen = reason.value;
      reason.replaceChildren(...agent.pause_reasons.map((r) => h("option", { value: r }, r)));
      if (agent.pause_reasons.includes(chosen)) reason.value = chosen;
    }
    stateText.textContent = agent.reason ? `${label(agent.state)} (${agent.reason})` : label(agent.state);
  }
  async function becomeAvailable() {
    await act(agentState === "paused" ? "unpause" : "login")();
  }

  // The current customer call.
  const callInfo = h("dl", { "aria-live": "polite" });
  main.append(h("section", { "aria-labelledby": "call-title" },
    h("h2", { id: "call-title" }, "Current call"), callInfo));
  let call = null;
  async function refreshCall() {
    const rows = (await api.get("/api/interactions?limit=1")).data;
    const row = rows[0];
    const live = row && row.answered_at && !row.ended_at ? row : null;
    if ((live && live.id) !== (call && call.id)) {
      call = live;
      renderPast();
    }
    callInfo.replaceChildren();
    if (!call) { callInfo.append(h("dd", { class: "muted" }, "No call")); return; }
    const entered = Date.parse(call.entered_at), answered = Date.parse(call.answered_at);  // UTC with its zone
    for (const [term, value] of [
      ["Caller", `${call.caller_name || ""} ${call.caller_number}`.trim()],
      ["Queue", call.queue],
      ["Waited", seconds((answered - entered) / 1000)],
      ["Talking", seconds((Date.now() - answered) / 1000)],
    ]) callInfo.append(h("dt", {}, term), h("dd", {}, value));
  }

  // Ask an expert.
  const groupList = h("fieldset", {}, h("legend", {}, "Expert group"));
  const counts = new Map();
  const mode = h("select", { id: "assist-mode" },
    h("option", { value: "im" }, "Instant message"), h("option", { value: "whisper" }, "Whisper"));
  const question = h("textarea", { id: "assist-message", rows: 2 });
  const progress = h("ol", { class: "log", "aria-live": "polite", "aria-label": "Request progress" });
  const askError = h("p", { role: "alert" });
  main.append(h("section", { "aria-labelledby": "ask-title" },
    h("h2", { id: "ask-title" }, "Ask an expert"), groupList,
    h("label", { for: "assist-mode" }, "Mode"), mode,
    h("label", { for: "assist-message" }, "Question"), question,
    h("button", { type: "button", on: { click: () => ask() } }, "Ask"), askError,
    h("h2", {}, "Progress"), progress));

  async function loadGroups() {
    const groups = await api.get("/api/groups");
    groupList.replaceChildren(h("legend", {}, "Expert group"));
    groups.forEach((group, i) => {
      const id = `group-${group.name}`;
      const count = h("span", { class: "muted" });
      counts.set(group.name, count);
      groupList.append(h("div", {},
        h("input", { type: "radio", name: "group", id, value: group.name, checked: i === 0 }),
        h("label", { for: id, style: "display:inline" }, ` ${group.description || group.name} `),
        count));
      setCount(group.name, group.available);
    });
  }
  function setCount(name, n) {
    const el = counts.get(name);
    if (el) el.textContent = `(${n} available)`;
  }
  async function ask() {
    askError.textContent = "";
    const chosen = groupList.querySelector("input[name=group]:checked");
    if (!chosen) { askError.textContent = "Choose an expert group."; return; }
    try {
      const request = await api.post("/api/assist/requests", {
        group: chosen.value, mode: mode.value, message: question.value,
        interaction_id: call ? call.id : null,
      });
      progress.append(h("li", {}, `Request #${request.id} to ${request.group}: ${label(request.state)}`));
      question.value = "";
    } catch (error) { askError.textContent = error.message; }
  }

  // Chats and past sessions of this call.
  const chats = new Map();
  const chatArea = h("div", {});
  const past = h("div", { "aria-live": "polite" });
  main.append(chatArea, h("section", { "aria-labelledby": "past-title" },
    h("h2", { id: "past-title" }, "Sessions of this call"), past));
  async function renderPast() {
    past.replaceChildren();
    if (!call) { past.append(h("p", { class: "muted" }, "No call")); return; }
    const detail = await api.get(`/api/interactions/${call.id}`);
    if (!detail.assist.length) past.append(h("p", { class: "muted" }, "None yet"));
    for (const item of detail.assist) {
      past.append(h("h3", {}, `${item.group} (${item.mode}) – ${label(item.state)}`),
        h("ol", { class: "log" }, item.messages.map((m) =>
          h("li", {}, h("span", { class: "from" }, `${m.sender ?? "callflow"}:`), m.body))));
    }
  }
  async function endSession(session, request) {
    try { await api.post(`/api/assist/requests/${request}/close`); }
    catch (error) { askError.textContent = error.message; }
  }

  function onEvent(event) {
    if (event.type === "groups") {
      for (const [name, n] of Object.entries(event.available)) setCount(name, n);
    } else if (event.type === "request") {
      const text = (STATUS_TEXT[event.status] || (() => event.status))(event);
      progress.append(h("li", {}, `Request #${event.request}: ${text}`));
    } else if (event.type === "session_opened") {
      progress.append(h("li", {}, `Request #${event.request}: accepted by ${event.expert}`));
      if (!chats.has(event.session)) {
        const chat = new Chat({ session: event.session, title: event.expert_name || event.expert,
          me, live, onEnd: (s) => endSession(s, event.request) });
        chats.set(event.session, chat);
        chatArea.append(chat.el);
      }
    } else if (event.type === "message") {
      const chat = chats.get(event.session);
      if (chat) chat.add(event);
    } else if (event.type === "session_closed") {
      const chat = chats.get(event.session);
      if (chat) chat.closed(event.why);
      renderPast();
    }
  }

  refreshState(); refreshCall(); loadGroups();
  const timers = [setInterval(refreshCall, 1000), setInterval(refreshState, 5000)];
  return { onEvent, stop: () => timers.forEach(clearInterval) };
}
