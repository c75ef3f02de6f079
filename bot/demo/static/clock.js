// The demo clock control (issue 6): jump to the meeting's start, to its end, or one hour ahead,
// so that reminders show at once. Talks to /api/demo/clock; fills the #demo-clock panel.
"use strict";

(() => {
  const panel = document.getElementById("demo-clock");
  const demo = window.distansmoteDemo;
  if (!panel || !demo) return;

  const now = document.createElement("p");
  const meeting = document.createElement("p");
  meeting.className = "hint";
  const buttons = document.createElement("div");
  buttons.className = "shortcuts";
  const jumps = [
    ["start", "Till mötets start"],
    ["end", "Till mötets slut"],
    ["hour", "En timme framåt"],
  ];
  for (const [to, label] of jumps) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "shortcut";
    button.dataset.jump = to;
    button.textContent = label;
    button.addEventListener("click", () => jump(to));
    buttons.append(button);
  }
  panel.append(now, meeting, buttons);

  function show(state) {
    now.textContent = `Demotid: ${state.now}`;
    meeting.textContent = state.meeting
      ? `${state.meeting.room}: ${state.meeting.starts} – ${state.meeting.ends.slice(11)}`
      : "Skapa ett möte för att kunna hoppa till dess start och slut.";
    for (const button of buttons.querySelectorAll("[data-jump='start'], [data-jump='end']")) {
      button.disabled = !state.meeting;
    }
  }

  async function call(options) {
    const user = encodeURIComponent(demo.currentUser() || "");
    const response = await fetch(`/api/demo/clock?user=${user}`, { headers: { Accept: "application/json" }, ...options });
    if (response.ok) show(await response.json());
  }

  async function jump(to) {
    await call({
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify({ user: demo.currentUser(), to }),
    });
    demo.refreshRooms();
  }

  panel.hidden = false;
  call({}).catch((error) => console.error("the demo clock could not be read", error));
  setInterval(() => call({}).catch(() => {}), 5000);
})();
