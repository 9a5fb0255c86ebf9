import { Server, type IncomingMessage } from "node:http";
import { PEER_HEADER } from "./client-address";

const INSTALLED = Symbol.for("atelier.peerAddressHeader");

/**
 * Makes every HTTP request this process serves carry its TCP peer's address in PEER_HEADER,
 * replacing any value the client sent. Called once from instrumentation.ts (Node runtime).
 */
export function installPeerAddressHeader(): void {
  const proto = Server.prototype as Server & { [INSTALLED]?: boolean };
  if (proto[INSTALLED]) return;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept unbound on purpose: called with .call(this) below
  const emit = proto.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  proto.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "request") {
      const req = args[0] as IncomingMessage;
      req.headers[PEER_HEADER] = req.socket?.remoteAddress ?? "";
    }
    return emit.call(this, event, ...args);
  } as Server["emit"];
  proto[INSTALLED] = true;
}

/** Whether PEER_HEADER can be believed (installed in this process). */
export function peerAddressHeaderInstalled(): boolean {
  return Boolean((Server.prototype as Server & { [INSTALLED]?: boolean })[INSTALLED]);
}
