import { useEffect, useLayoutEffect, useRef } from "react";

// useSocketEvent listens to one server event for the lifetime of the socket.
// The handler may change on every render without re-registering.
export function useSocketEvent(socket, event, handler) {
  const latest = useRef(handler);
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    if (!socket) return undefined;
    const listener = (...args) => latest.current(...args);
    socket.on(event, listener);
    return () => {
      socket.off(event, listener);
    };
  }, [socket, event]);
}
