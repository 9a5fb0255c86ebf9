export function nextBackend(alive: boolean[], last: number): number | null;
export function sessionIdOf(url: string | undefined): string | null;
export function handshakeSessionId(body: string): string | null;

export interface LoadBalancerOptions {
  backends: { name: string; host?: string; port: number }[];
  /** 0 or unset: a free port */
  port?: number;
  host?: string;
  healthEveryMs?: number;
  log?: (message: string) => void;
}

export interface LoadBalancer {
  port: number;
  url: string;
  status(): { name: string; port: number; alive: boolean; served: number }[];
  close(): Promise<void>;
}

export function startLoadBalancer(options: LoadBalancerOptions): Promise<LoadBalancer>;
