// The preview of a queued callback on the agent's console: whom the call
// will reach, and while it rings or calls the customer, cancel it or
// reschedule it with a reason (POST /api/callbacks/{id}/cancel|reschedule).
import { callerText, h } from "./lib.js";

export function callbackLine(api) {
  const status = h("p", { role: "status", "aria-live": "polite", id: "callback-status" });
  const reason = h("input", { id: "callback-reason", maxlength: 160 });
  const when = h("input", { id: "callback-when", type: "datetime-local" });
  const error = h("p", { role: "alert" });
  const cancel = h("button", { type: "button", class: "secondary",
    on: { click: () => change("cancel") } }, "Cancel callback");
  const later = h("button", { type: "button", class: "secondary",
    on: { click: () => change("reschedule") } }, "Reschedule");
  const form = h("div", {}, h("label", { for: "callback-reason" }, "Reason"), reason,
    h("label", { for: "callback-when" }, "Call again at"), when,
    h("div", { class: "actions" }, cancel, later));
  const el = h("section", { "aria-labelledby": "callback-title", hidden: "" },
    h("h2", { id: "callback-title" }, "Callback"), status, form, error);
  let call = null;

  async function change(what) {
    error.textContent = "";
    if (!call || !call.callback) return;
    const body = { reason: reason.value.trim() };
    if (what === "reschedule") {
      if (!when.value) { error.textContent = "Pick when to call again"; return; }
      body.at = new Date(when.value).toISOString();
    }
    if (!body.reason) { error.textContent = "Give a reason"; return; }
    try {
      const done = await api.post(`/api/callbacks/${call.callback}/${what}`, body);
      status.textContent = what === "cancel" ? `Callback ${done.id} cancelled`
        : `Callback ${done.id} rescheduled for ${new Date(done.due_at).toLocaleString()}`;
      reason.value = "";
    } catch (e) { error.textContent = e.message; }
  }
  function callChanged(next) {
    call = next && next.callback ? next : null;
    el.hidden = !call;
    if (!call) return;
    const whom = callerText(call.caller_name.replace(/^Callback ?/, ""), call.caller_number);
    status.textContent = call.state === "ringing" ? `Callback to ${whom}: answer to call them`
      : call.state === "calling" ? `Calling ${whom}…` : `Callback: talking to ${whom}`;
    form.hidden = call.state === "talking";
  }
  return { el, callChanged };
}
