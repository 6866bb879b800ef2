/* Shared by the dashboard's pages: number formatting and the live stream (/ws/stream/) with reconnection. */
"use strict";

const Dashboard = (() => {
  const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 });

  function num(value) {
    return value === null || value === undefined || value === "" ? null : Number(value);
  }

  function price(value) {
    const n = num(value);
    if (n === null || Number.isNaN(n)) return "–";
    const digits = Math.abs(n) >= 1000 ? 2 : Math.abs(n) >= 1 ? 4 : 8;
    return n.toLocaleString("en-US", { maximumFractionDigits: digits });
  }

  function big(value) {
    const n = num(value);
    return n === null || Number.isNaN(n) ? "–" : compact.format(n);
  }

  function fixed(value, digits = 2) {
    const n = num(value);
    return n === null || Number.isNaN(n) ? "–" : n.toFixed(digits);
  }

  function percent(value) {
    const n = num(value);
    return n === null || Number.isNaN(n) ? "–" : `${n > 0 ? "+" : ""}${n.toFixed(2)}%`;
  }

  /* A WebSocket to `path` that reconnects with exponential backoff (1 s up to 30 s, with jitter) and shows the
     "disconnected" banner while it is down. onOpen(socket) after each (re)connect, onFrame(frame) per JSON frame. */
  function reconnecting(path, onOpen, onFrame) {
    const banner = document.getElementById("banner");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}${path}`;
    let delay = 1000;

    function connect() {
      const socket = new WebSocket(url);
      socket.addEventListener("open", () => {
        delay = 1000;
        banner.hidden = true;
        document.body.dataset.live = "connected";
        onOpen(socket);
      });
      socket.addEventListener("message", (event) => {
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch {
          return;
        }
        onFrame(frame);
      });
      socket.addEventListener("close", () => {
        banner.hidden = false;
        document.body.dataset.live = "disconnected";
        const wait = delay * (0.75 + Math.random() / 2);
        delay = Math.min(delay * 2, 30000);
        setTimeout(connect, wait);
      });
    }

    connect();
  }

  /* The live stream (/ws/stream/) subscribed to `streams`: onUpdate(stream, data) per update. */
  function liveStream(streams, onUpdate) {
    reconnecting(
      "/ws/stream/",
      (socket) => socket.send(JSON.stringify({ action: "subscribe", streams })),
      (frame) => {
        if (frame.type === "update") onUpdate(frame.stream, frame.data);
      },
    );
  }

  return { num, price, big, fixed, percent, reconnecting, liveStream };
})();
