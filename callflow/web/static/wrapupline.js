// The agent's disposition of the call they wrap up: the queue's codes, a
// note, Save. Shown while one is owed (the `disposition` frames and the
// snapshot's `disposition`); a required one holds the agent in wrap-up.
// A code keyed on the phone during the call (*8 and its digit) shows as
// `preset` until the call ends and it is saved.
import { h } from "./lib.js";

export function wrapupLine(api, me) {
  const status = h("p", { role: "status", "aria-live": "polite" });
  const code = h("select", { id: "disposition-code" });
  const note = h("textarea", { id: "disposition-note", rows: 2, maxlength: 2000 });
  const error = h("p", { role: "alert" });
  const save = h("button", { type: "button", on: { click: () => send() } }, "Save disposition");
  const form = h("div", {}, h("label", { for: "disposition-code" }, "Disposition"), code,
    h("label", { for: "disposition-note" }, "Note"), note, save);
  const el = h("section", { "aria-labelledby": "wrapup-title" },
    h("h2", { id: "wrapup-title" }, "Wrap-up"), status, form, error);
  let owed = null;

  async function send() {
    error.textContent = "";
    try {
      await api.post(`/api/agents/${me.username}/disposition`, { code: code.value, note: note.value });
      note.value = "";
    } catch (e) { error.textContent = e.message; }
  }
  function render(last) {
    form.hidden = !owed;
    if (owed) {
      code.replaceChildren(...owed.codes.map((c) => h("option", { value: c.code }, c.label)));
      status.textContent = `Call #${owed.interaction}: pick a disposition`
        + (owed.state === "waiting" ? " (you stay in wrap-up until you do)" : "")
        + (owed.default ? `; without one, "${owed.default}" is written` : "");
    } else if (last && last.state === "preset") {
      status.textContent = `Call #${last.interaction}: ${last.code} keyed on the phone;`
        + " saved when the call ends";
    } else if (last && last.state === "done") {
      status.textContent = `Call #${last.interaction}: ${last.code}`
        + (last.defaulted ? " (the queue's default)" : "") + " saved";
    } else {
      status.textContent = "Nothing to do";
    }
  }
  function onEvent(event) {
    if (event.type === "snapshot") { owed = event.disposition || null; render(null); }
    else if (event.type === "disposition") {
      owed = ["needed", "waiting"].includes(event.state) ? event : null;
      render(event);
    }
  }
  render(null);
  return { el, onEvent };
}
