/**
 * The terminal facade: import terminals from here.
 *
 * A browser's terminal is a bridge (bridge.ts: the browser's protocol and
 * flow control) over a connection a transport opened (transport.ts: the
 * interface; agent.ts and api-exec.ts the two ways into a toolbox, each with
 * its own hang-up), running one of the toolbox's scripts (toolbox-scripts.ts);
 * warm-pool labs get theirs opened ahead of time (park.ts).
 */
export type {
  TerminalCommand,
  TerminalConn,
  TerminalShell,
  TerminalSize,
  TerminalTarget,
  TerminalTransport,
} from "./transport.ts";
export { bridgeTerminal, type TerminalBridgeOptions, type TerminalSession } from "./bridge.ts";
export { apiExecTransport, type ExecClient, type ExecSocket } from "./api-exec.ts";
export { agentTransport, type AgentAddress, type AgentTransportOptions } from "./agent.ts";
export { createTerminalPark, type ParkedTerminal, type TerminalPark } from "./park.ts";
export {
  attachCommand,
  endShellCommand,
  START_MAIN_SESSION,
  VIEW_ID,
  watchCommand,
  WORK_DIR,
} from "./toolbox-scripts.ts";
