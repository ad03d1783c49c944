import { useEffect, useState } from "react";
import { io } from "socket.io-client";

// useWebSocket opens one Socket.IO connection to the page's own origin and
// reports its lifecycle. `state` is "connected", "reconnecting" (the client
// will retry on its own) or "disconnected" (it will not: closed by the server,
// refused at the handshake, or out of attempts). `transport` follows the
// Engine.IO upgrade from polling to websocket; `identity` is the user the
// server recognised, from its `connected` event.
export function useWebSocket(token, transports) {
  const [socket, setSocket] = useState(null);
  const [connected, setConnected] = useState(false);
  const [state, setState] = useState("disconnected");
  const [transport, setTransport] = useState(null);
  const [socketId, setSocketId] = useState(null);
  const [connectError, setConnectError] = useState(null);
  const [attempt, setAttempt] = useState(0);
  const [identity, setIdentity] = useState(null);

  // A fresh array from the caller must not reconnect the socket.
  const transportList = transports.join(",");

  useEffect(() => {
    const socket = io(window.location.origin, {
      auth: token ? { token } : {},
      transports: transportList.split(","),
      // Connecting waits for the effect below, so that every component has
      // registered its listeners before the first event can arrive.
      autoConnect: false,
    });
    const manager = socket.io;

    // The engine is replaced on every reconnection; "open" fires before any
    // upgrade probe starts, so no upgrade can be missed.
    const onOpen = () => {
      const engine = manager.engine;
      setTransport(engine.transport.name);
      engine.on("upgrade", (t) => setTransport(t.name));
    };
    const onConnect = () => {
      setConnected(true);
      setState("connected");
      setSocketId(socket.id);
      setTransport(manager.engine.transport.name);
      setConnectError(null);
      setAttempt(0);
    };
    const onDisconnect = () => {
      setConnected(false);
      setSocketId(null);
      setIdentity(null);
      setState(socket.active ? "reconnecting" : "disconnected");
    };
    const onConnectError = (err) => {
      setConnectError({ message: err.message, code: err.data?.code, at: Date.now() });
      setState(socket.active ? "reconnecting" : "disconnected");
    };
    const onReconnectAttempt = (n) => {
      setAttempt(n);
      setState("reconnecting");
    };
    const onReconnectFailed = () => setState("disconnected");
    // The welcome event arrives once per connection, right after the
    // handshake; the user it names belongs with the connection state.
    const onWelcome = (d) => setIdentity({ userId: d?.userId, clientId: d?.clientId });

    manager.on("open", onOpen);
    manager.on("reconnect_attempt", onReconnectAttempt);
    manager.on("reconnect_failed", onReconnectFailed);
    socket.on("connect", onConnect);
    socket.on("disconnect", onDisconnect);
    socket.on("connect_error", onConnectError);
    socket.on("connected", onWelcome);
    setSocket(socket);

    return () => {
      manager.off("open", onOpen);
      manager.off("reconnect_attempt", onReconnectAttempt);
      manager.off("reconnect_failed", onReconnectFailed);
      socket.off("connect", onConnect);
      socket.off("disconnect", onDisconnect);
      socket.off("connect_error", onConnectError);
      socket.off("connected", onWelcome);
      socket.disconnect();
      setSocket(null);
      setConnected(false);
      setState("disconnected");
    };
  }, [token, transportList]);

  // Runs in the same commit as the listener effects of the components that
  // received the new socket, after them.
  useEffect(() => {
    socket?.connect();
  }, [socket]);

  return { socket, connected, state, transport, socketId, identity, connectError, attempt };
}
