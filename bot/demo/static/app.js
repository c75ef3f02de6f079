// The local demo chat page: one 1:1 chat with the bot per demo user.
// Messages come from a long-poll of /api/demo/messages; cards are rendered by Microsoft's
// adaptivecards package, and their Action.Submit data (inputs merged in) goes to /api/demo/submit.
"use strict";

(() => {
  const AC = window.AdaptiveCards;
  const POLL_WAIT_SECONDS = 25;
  const RETRY_MS = 2000;
  // Reminders can change rooms without a message from this page's user: refresh now and then.
  const ROOMS_REFRESH_MS = 5000;
  const STORED_USER = "distansmote-demo-user";

  const el = {
    user: document.getElementById("user"),
    userRole: document.getElementById("user-role"),
    messages: document.getElementById("messages"),
    empty: document.getElementById("empty"),
    status: document.getElementById("status"),
    composer: document.getElementById("composer"),
    text: document.getElementById("text"),
    rooms: document.getElementById("rooms"),
    roomsEmpty: document.getElementById("rooms-empty"),
    roomsCount: document.getElementById("rooms-count"),
  };

  const state = { users: new Map(), user: null, lastId: 0, poll: null, rooms: new Set() };

  // -- Adaptive Cards host --------------------------------------------------------------------

  const INK = "#1f2328";
  const SUBTLE = "#57606a";

  function foreground(overrides) {
    const colors = {
      default: { default: INK, subtle: SUBTLE },
      dark: { default: INK, subtle: SUBTLE },
      light: { default: SUBTLE, subtle: SUBTLE },
      accent: { default: "#0b5cad", subtle: "#0b5cad" },
      good: { default: "#116329", subtle: "#116329" },
      warning: { default: "#7a4a00", subtle: "#7a4a00" },
      attention: { default: "#b42318", subtle: "#b42318" },
    };
    return Object.assign(colors, overrides);
  }

  const HOST_CONFIG = new AC.HostConfig({
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
    supportsInteractivity: true,
    spacing: { small: 4, default: 8, medium: 16, large: 24, extraLarge: 32, padding: 16 },
    separator: { lineThickness: 1, lineColor: "#d0d7de" },
    fontSizes: { small: 13, default: 15, medium: 17, large: 20, extraLarge: 24 },
    fontWeights: { lighter: 300, default: 400, bolder: 600 },
    lineHeights: { small: 18, default: 21, medium: 24, large: 27, extraLarge: 32 },
    containerStyles: {
      default: { backgroundColor: "#ffffff", foregroundColors: foreground({}) },
      emphasis: { backgroundColor: "#f3f6f9", foregroundColors: foreground({}) },
      accent: { backgroundColor: "#e8f1fb", foregroundColors: foreground({}) },
      good: { backgroundColor: "#e9f6ec", foregroundColors: foreground({}) },
      attention: { backgroundColor: "#fdecea", foregroundColors: foreground({}) },
      warning: { backgroundColor: "#fff4ce", foregroundColors: foreground({}) },
    },
    actions: {
      maxActions: 6,
      spacing: "medium",
      buttonSpacing: 8,
      showCard: { actionMode: "inline", inlineTopMargin: 12, style: "emphasis" },
      actionsOrientation: "horizontal",
      actionAlignment: "left",
    },
    adaptiveCard: { allowCustomStyle: true },
    factSet: {
      title: { color: "default", size: "default", isSubtle: true, weight: "bolder", wrap: true, maxWidth: 160 },
      value: { color: "default", size: "default", isSubtle: false, weight: "default", wrap: true },
      spacing: 8,
    },
    inputs: {
      label: {
        inputSpacing: "small",
        requiredInputs: { weight: "bolder", suffix: " *", suffixColor: "attention" },
        optionalInputs: { weight: "bolder" },
      },
      errorMessage: { size: "small", color: "attention", weight: "bolder" },
    },
  });

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  // The small Markdown subset Webex and Teams show: bold, italics, links, line breaks.
  // The text is escaped first, so only these tags can ever reach the page.
  function markdownToHtml(text) {
    return escapeHtml(text)
      .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
      .replace(/(^|\s)_([^_\n]+)_(?=\s|[.,:;!?]|$)/g, "$1<em>$2</em>")
      .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, '<a href="$2" target="_blank" rel="noopener noreferrer">$1</a>')
      .replace(/\n/g, "<br>");
  }

  AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
    result.outputHtml = markdownToHtml(text);
    result.didProcess = true;
  };

  // Webex hands the bot every input as a string; do the same.
  function asInputs(data) {
    const inputs = {};
    for (const [key, value] of Object.entries(data || {})) {
      if (value === undefined || value === null) inputs[key] = "";
      else inputs[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return inputs;
  }

  function renderCard(payload) {
    const card = new AC.AdaptiveCard();
    card.hostConfig = HOST_CONFIG;
    card.onExecuteAction = (action) => {
      if (action instanceof AC.SubmitAction) {
        send("/api/demo/submit", { user: state.user, inputs: asInputs(action.data) });
      } else if (action instanceof AC.OpenUrlAction && /^https?:/.test(action.url || "")) {
        window.open(action.url, "_blank", "noopener,noreferrer");
      }
    };
    card.parse(payload);
    return card.render();
  }

  // -- the chat -------------------------------------------------------------------------------

  function senderName(message) {
    return message.from === "bot" ? "Distansmöte" : state.users.get(state.user).name;
  }

  function renderBody(message) {
    if (message.card) {
      try {
        const rendered = renderCard(message.card);
        if (rendered) return rendered;
      } catch (error) {
        console.error("card could not be rendered", error);
      }
    }
    const text = document.createElement("div");
    text.className = "text";
    text.innerHTML = markdownToHtml(message.text);
    return text;
  }

  function renderMessage(message) {
    const item = document.createElement("li");
    item.className = `message from-${message.from}${message.card ? " has-card" : ""}`;
    item.dataset.id = String(message.id);
    const sender = document.createElement("p");
    sender.className = "sender";
    sender.textContent = senderName(message);
    const bubble = document.createElement("div");
    bubble.className = message.card ? "bubble has-card" : "bubble";
    bubble.appendChild(renderBody(message));
    item.append(sender, bubble);
    return item;
  }

  function show(messages) {
    const fresh = messages.filter((m) => m.id > state.lastId);
    if (!fresh.length) return;
    for (const message of fresh) {
      el.messages.appendChild(renderMessage(message));
      state.lastId = message.id;
    }
    el.empty.hidden = true;
    el.messages.lastElementChild.scrollIntoView({ block: "nearest" });
    if (fresh.some((m) => m.from === "bot")) refreshRooms();
  }

  function setStatus(text) {
    el.status.textContent = text;
  }

  async function api(path, options = {}) {
    const response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const failure = new Error(body.error || `HTTP ${response.status}`);
      failure.messages = body.messages; // the bot's own answer to a failure (its database down)
      throw failure;
    }
    return body;
  }

  async function send(path, body) {
    el.messages.setAttribute("aria-busy", "true");
    try {
      const answer = await api(path, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      // The answer belongs to the user who sent it; the page may have switched meanwhile.
      if (body.user === state.user) show(answer.messages);
      setStatus("");
    } catch (error) {
      if (error.messages) {
        // The bot answered the failure itself (its database down): shown like any answer.
        if (body.user === state.user) show(error.messages);
        setStatus("");
      } else {
        setStatus("Det gick inte att skicka till boten. Försök igen.");
        console.error(error);
      }
    } finally {
      el.messages.removeAttribute("aria-busy");
    }
  }

  async function poll(user, signal) {
    while (!signal.aborted) {
      const query = new URLSearchParams({ user, after: String(state.lastId), wait: String(POLL_WAIT_SECONDS) });
      try {
        const answer = await api(`/api/demo/messages?${query}`, { signal });
        if (!signal.aborted) show(answer.messages);
        setStatus("");
      } catch (error) {
        if (signal.aborted) return;
        setStatus("Ingen kontakt med demon. Försöker igen …");
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  function switchUser(userId) {
    if (state.poll) state.poll.abort();
    state.user = userId;
    state.lastId = 0;
    localStorage.setItem(STORED_USER, userId);
    el.messages.replaceChildren();
    el.empty.hidden = false;
    const user = state.users.get(userId);
    el.userRole.textContent = user.role;
    state.poll = new AbortController();
    poll(userId, state.poll.signal);
  }

  // -- the side panel -------------------------------------------------------------------------

  function renderRoom(room) {
    const item = document.createElement("li");
    item.className = state.rooms.has(room.id) ? "room" : "room is-new";
    const name = document.createElement("p");
    name.className = "room-name";
    name.textContent = room.name;
    const facts = document.createElement("dl");
    for (const [label, value] of [["Videoadress", room.uri], ["Samtals-ID", room.callId]]) {
      const term = document.createElement("dt");
      term.textContent = label;
      const detail = document.createElement("dd");
      detail.textContent = value || "–";
      facts.append(term, detail);
    }
    // Try the active-call warning: a call as if people had dialled in to the simulated room.
    const call = document.createElement("button");
    call.type = "button";
    call.className = "shortcut room-call";
    call.dataset.room = room.id;
    call.textContent = room.inCall ? "Avsluta samtalet" : "Starta ett samtal";
    call.addEventListener("click", () => switchCall(room.id, !room.inCall));
    const status = document.createElement("p");
    status.className = room.inCall ? "room-in-call" : "hint";
    status.textContent = room.inCall ? "Samtal pågår i rummet" : "Inget samtal i rummet";
    item.classList.toggle("in-call", Boolean(room.inCall));
    // Let one more participant in, by each way the routine names: as "har alla anslutit?" counts them.
    const joined = room.joined || {};
    const count = document.createElement("p");
    count.className = "room-joined";
    const total = (joined.video || 0) + (joined.browser || 0) + (joined.phone || 0);
    count.textContent = `${total} ${total === 1 ? "ansluten" : "anslutna"}: ${joined.video || 0} via videosystem, ` +
      `${joined.browser || 0} via webbläsare, ${joined.phone || 0} via telefon`;
    const ways = document.createElement("div");
    ways.className = "room-ways";
    for (const [way, label] of [["video", "Anslut via videosystem"], ["browser", "Anslut via webbläsare"],
                                ["phone", "Ring in"]]) {
      const join = document.createElement("button");
      join.type = "button";
      join.className = "shortcut room-join";
      join.textContent = label;
      join.addEventListener("click", () => joinRoom(room.id, way));
      ways.append(join);
    }
    item.append(name, facts, status, call, count, ways);
    return item;
  }

  // A side-panel button: tell the simulated meeting server, then show the rooms as they are now.
  async function playInRoom(path, body) {
    try {
      await api(path, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
    } catch (error) {
      console.error(`${path} failed`, error);
    }
    refreshRooms();
  }

  const joinRoom = (roomId, way) => playInRoom("/api/demo/join", { room: roomId, way });
  const switchCall = (roomId, active) => playInRoom("/api/demo/call", { room: roomId, active });

  async function refreshRooms() {
    try {
      const { rooms } = await api("/api/demo/rooms");
      el.rooms.replaceChildren(...rooms.map(renderRoom));
      state.rooms = new Set(rooms.map((room) => room.id));
      el.roomsEmpty.hidden = rooms.length > 0;
      el.roomsCount.textContent = String(rooms.length);
    } catch (error) {
      console.error("rooms could not be read", error);
    }
  }

  // -- start ----------------------------------------------------------------------------------

  async function start() {
    const { users } = await api("/api/demo/users");
    for (const user of users) {
      state.users.set(user.id, user);
      el.user.add(new Option(`${user.name}${user.isAdmin ? " (administratör)" : ""}`, user.id));
    }
    const stored = localStorage.getItem(STORED_USER);
    el.user.value = state.users.has(stored) ? stored : users[0].id;
    el.user.addEventListener("change", () => switchUser(el.user.value));

    el.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = el.text.value.trim();
      if (!text) return;
      el.text.value = "";
      send("/api/demo/message", { user: state.user, text });
    });
    for (const button of document.querySelectorAll("[data-command]")) {
      button.addEventListener("click", () => send("/api/demo/message", { user: state.user, text: button.dataset.command }));
    }

    switchUser(el.user.value);
    refreshRooms();
    setInterval(refreshRooms, ROOMS_REFRESH_MS);
  }

  // For the demo clock control (issue 6): who is chatting, and a way to redraw the rooms.
  window.distansmoteDemo = { currentUser: () => state.user, refreshRooms };

  start().catch((error) => {
    setStatus("Demon kunde inte starta. Ladda om sidan.");
    console.error(error);
  });
})();
