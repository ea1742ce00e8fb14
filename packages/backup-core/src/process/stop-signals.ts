/** What a service does on SIGTERM/SIGINT: stop gracefully the first time, at once the second. */
export interface StopHandlers {
  graceful: (signal: NodeJS.Signals) => void;
  immediate: (signal: NodeJS.Signals) => void;
}

/**
 * Calls `graceful` on the first SIGTERM or SIGINT and `immediate` on a later one. A signal within
 * a second of the first is the same keypress arriving twice (Ctrl-C reaches the whole process group,
 * and a parent such as `npm start` forwards it too), so it does not turn a graceful stop into a
 * forced one. It never exits the process itself: the handlers decide.
 */
export function onStopSignals(handlers: StopHandlers, target: NodeJS.EventEmitter = process): void {
  let signals = 0;
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signals > 0 && Date.now() - firstSignalAt < 1_000) return;
    if (signals === 0) firstSignalAt = Date.now();
    signals++;
    if (signals === 1) handlers.graceful(signal);
    else handlers.immediate(signal);
  };
  target.on('SIGTERM', onSignal);
  target.on('SIGINT', onSignal);
}
